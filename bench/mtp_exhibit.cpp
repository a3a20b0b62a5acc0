// Benchmark driver: extracts an MTP phone's files (photos and videos by default) into a fresh
// evidence store, exactly as an extraction session does (libmtp's OpenSession, the walk, each
// object streamed through SHA-256 into spool, blob, catalog and audit), and prints items,
// bytes and seconds. Used by bench/mtp_read; not installed. It runs under
// `exhibit-phonesim --usb --interfaces mtp`, whose emulated bus holds that one phone: the
// phone is the bus's only device.
//
//   exhibit-bench-mtp STATE_DIR [categories,comma,separated]
#include <libusb.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "bench/bench_extraction.hpp"
#include "drivers/mtp/mtp_driver.hpp"

using namespace exhibit;

namespace {

struct UsbPlace {
    std::uint8_t bus = 0, address = 0;
    std::uint16_t vendor_id = 0, product_id = 0;
};

// Where the emulated bus's one device sits, or nothing when the bus holds no device.
std::optional<UsbPlace> the_phone() {
    libusb_context* ctx = nullptr;
    if (libusb_init(&ctx) != 0)
        return std::nullopt;
    std::optional<UsbPlace> place;
    libusb_device** list = nullptr;
    auto n = libusb_get_device_list(ctx, &list);
    for (ssize_t i = 0; i < n && !place; ++i) {
        libusb_device_descriptor d{};
        if (libusb_get_device_descriptor(list[i], &d) == 0)
            place = UsbPlace{libusb_get_bus_number(list[i]), libusb_get_device_address(list[i]),
                             d.idVendor, d.idProduct};
    }
    if (n >= 0)
        libusb_free_device_list(list, 1);
    libusb_exit(ctx);
    return place;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: exhibit-bench-mtp STATE_DIR [categories]\n");
        return 2;
    }
    const auto scope = bench::scope_of(argc > 2 ? argv[2] : "photos,videos");
    auto store = store::Store::open({.state_directory = argv[1], .kiosk_id = "bench"});
    if (!store)
        return std::fprintf(stderr, "%s\n", store.error().describe().c_str()), 1;
    auto start = std::chrono::steady_clock::now();
    auto place = the_phone();
    if (!place)
        return std::fprintf(stderr, "no USB device on the bus\n"), 1;
    auto device =
        mtp::MtpDevice::open(place->bus, place->address, place->vendor_id, place->product_id);
    if (!device)
        return std::fprintf(stderr, "%s\n", device.error().describe().c_str()), 1;
    mtp::MtpSession session(std::move(*device), {});
    return bench::extract_and_report(**store, session, scope, start);
}
