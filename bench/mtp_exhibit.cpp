// Benchmark driver: extracts an MTP phone's files (photos and videos by default) into a fresh
// evidence store, exactly as an extraction session does (libmtp's OpenSession, the walk, each
// object streamed through SHA-256 into spool, blob, catalog and audit), and prints items,
// bytes and seconds. Used by bench/mtp_read; not installed. It runs under
// `exhibit-phonesim --usb --interfaces mtp`, whose emulated bus holds the phone at 1-1.
//
// By default the MTP session runs in exhibit-driver-host, as exhibitd runs it (the child's
// frames carry the bytes to this process, which hashes and stores them); --in-process runs
// libmtp in this process, as exhibitd did before, to measure what the child costs.
//
//   exhibit-bench-mtp [--in-process] STATE_DIR [categories,comma,separated]
#include <libusb.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string_view>

#include "bench/bench_extraction.hpp"
#include "drivers/host/hosted_driver.hpp"
#include "drivers/mtp/mtp_driver.hpp"
#include "drivers/usb/usb_context.hpp"
#include "drivers/usb/usb_identity.hpp"
#include "drivers/usb/usb_port.hpp"

using namespace exhibit;

int main(int argc, char** argv) {
    bool in_process = argc > 1 && std::string_view(argv[1]) == "--in-process";
    if (in_process)
        --argc, ++argv;
    if (argc < 2) {
        std::fprintf(stderr, "usage: exhibit-bench-mtp [--in-process] STATE_DIR [categories]\n");
        return 2;
    }
    const auto scope = bench::scope_of(argc > 2 ? argv[2] : "photos,videos");
    auto store = store::Store::open({.state_directory = argv[1], .kiosk_id = "bench"});
    if (!store)
        return std::fprintf(stderr, "%s\n", store.error().describe().c_str()), 1;
    auto start = std::chrono::steady_clock::now();
    auto usb = usb::UsbContext::create();
    if (!usb)
        return std::fprintf(stderr, "%s\n", usb.error().describe().c_str()), 1;
    auto found = usb::find_device(**usb, "1-1");
    if (!found)
        return std::fprintf(stderr, "%s\n", found.error().describe().c_str()), 1;
    libusb_device_descriptor descriptor{};
    libusb_get_device_descriptor(found->get(), &descriptor);
    drivers::Device device{.id = "d1",
                           .functions = {mtp::usb_function()},
                           .address = "usb:1-1",
                           .vendor_id = descriptor.idVendor,
                           .product_id = descriptor.idProduct,
                           .usb = std::make_shared<usb::UsbPort>(*usb, std::move(*found), "1-1")};
    std::unique_ptr<drivers::Driver> driver = std::make_unique<mtp::MtpDriver>();
    if (!in_process) {
        auto self = std::filesystem::read_symlink("/proc/self/exe");
        driver = std::make_unique<host::HostedDriver>(
            std::move(driver),
            host::HostedDriverOptions{.program = self.parent_path().parent_path() / "bin" /
                                                 "exhibit-driver-host"});
    }
    auto opened = driver->open(device, {});
    if (!opened)
        return std::fprintf(stderr, "%s\n", opened.error().describe().c_str()), 1;
    return bench::extract_and_report(**store, **opened, scope, start);
}
