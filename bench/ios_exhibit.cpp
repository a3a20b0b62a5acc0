// Benchmark driver: extracts an iPhone's camera roll (photos and videos) through the system's
// usbmuxd (USBMUXD_SOCKET_ADDRESS) into a fresh evidence store, exactly as an extraction
// session does (lockdown, AFC, hash, spool, blob, catalog, audit), and prints items, bytes and
// seconds. Used by bench/iphone_read; not installed. The phone must be paired already (the
// benchmark pairs it once with idevicepair): the pairing is kept, as every contender uses it.
//
//   exhibit-bench-ios [--hosted DRIVER_HOST] UDID STATE_DIR
//
// --hosted: the family runs as exhibitd runs it, in exhibit-driver-host (drivers/host/), its
// usbmuxd calls relayed to this process (drivers/ios/hosted_ios.hpp).
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "bench/bench_extraction.hpp"
#include "drivers/ios/hosted_ios.hpp"
#include "drivers/ios/ios_driver.hpp"

using namespace exhibit;

int main(int argc, char** argv) {
    std::string hosted;
    if (argc > 2 && std::strcmp(argv[1], "--hosted") == 0) {
        hosted = argv[2];
        argv += 2;
        argc -= 2;
    }
    if (argc != 3) {
        std::fprintf(stderr, "usage: exhibit-bench-ios [--hosted DRIVER_HOST] UDID STATE_DIR\n");
        return 2;
    }
    const std::string udid = argv[1];
    const auto scope = bench::scope_of("photos,videos");
    auto store = store::Store::open({.state_directory = argv[2], .kiosk_id = "bench"});
    if (!store)
        return std::fprintf(stderr, "%s\n", store.error().describe().c_str()), 1;
    auto start = std::chrono::steady_clock::now();
    const ios::IosDriverOptions options{.user_wait = std::chrono::seconds(10),
                                        .keep_pairing = true};
    std::unique_ptr<drivers::Driver> driver;
    if (hosted.empty())
        driver = std::make_unique<ios::IosDriver>(options);
    else
        driver = ios::hosted_ios_driver({.program = hosted, .options = options});
    // usbmuxd names a phone by the UDID its USB serial gives (the hyphen of a new-style UDID
    // is not in the serial).
    std::string serial = udid;
    if (serial.size() == 25 && serial[8] == '-')
        serial.erase(8, 1);
    drivers::Device device{.id = "d1",
                           .functions = {ios::usb_function()},
                           .vendor_id = 0x05ac,
                           .serial = serial};
    auto opened = driver->open(device, {});
    if (!opened)
        return std::fprintf(stderr, "%s\n", opened.error().describe().c_str()), 1;
    return bench::extract_and_report(**store, **opened, scope, start);
}
