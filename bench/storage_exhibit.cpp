// Benchmark driver: extracts everything in scope from a disk image (standing for a USB stick)
// into a fresh evidence store, exactly as an extraction session does (libtsk, hash, spool,
// blob, catalog, audit), and prints items, bytes and seconds. Used by bench/stick_read and
// bench/driver_host_cost; not installed.
//
//   exhibit-bench-storage [--hosted DRIVER_HOST] IMAGE STATE_DIR [categories,comma,separated]
//
// --hosted: the family runs as exhibitd runs it, in exhibit-driver-host (drivers/host/): a
// child given the image opened read-only, its bytes framed over a socket to this process,
// which hashes and stores them. Without it, in this process.
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "bench/bench_extraction.hpp"
#include "drivers/host/hosted_driver.hpp"
#include "drivers/storage/storage_driver.hpp"

using namespace exhibit;

int main(int argc, char** argv) {
    std::string hosted;
    if (argc > 2 && std::strcmp(argv[1], "--hosted") == 0) {
        hosted = argv[2];
        argc -= 2;
        argv += 2;
    }
    if (argc < 3) {
        std::fprintf(stderr, "usage: exhibit-bench-storage [--hosted DRIVER_HOST] IMAGE "
                             "STATE_DIR [categories]\n");
        return 2;
    }
    const auto scope = bench::scope_of(argc > 3 ? argv[3] : "photos,videos,audio,documents");
    auto store = store::Store::open({.state_directory = argv[2], .kiosk_id = "bench"});
    if (!store)
        return std::fprintf(stderr, "%s\n", store.error().describe().c_str()), 1;
    auto start = std::chrono::steady_clock::now();
    std::unique_ptr<drivers::Driver> driver = std::make_unique<storage::StorageDriver>();
    if (!hosted.empty())
        driver = std::make_unique<host::HostedDriver>(
            std::move(driver), host::HostedDriverOptions{
                                   .program = hosted,
                                   .open_device = &storage::StorageDriver::open_node});
    drivers::Device device{.id = "d1",
                           .functions = {storage::block_function()},
                           .address = std::string(storage::kAddressPrefix) + argv[1]};
    auto opened = driver->open(device, {});
    if (!opened)
        return std::fprintf(stderr, "%s\n", opened.error().describe().c_str()), 1;
    return bench::extract_and_report(**store, **opened, scope, start);
}
