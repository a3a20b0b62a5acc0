// The libusb bulk transport for ADB against an emulated phone on a umockdev bus, through the
// real libusb code path: framing, zero-length packets, several transfers in flight, timeouts,
// shutdown, stalls, unplug and the idle cost.
#include "drivers/adb/usb_transport.hpp"
#include "drivers/usb/usb_identity.hpp"

#include <endian.h>
#include <gtest/gtest.h>
#include <time.h>

#include <chrono>
#include <cstring>
#include <future>
#include <thread>

#include "phonesim/usb/emulated_bus.hpp"
#include "phonesim/usb/test_servers.hpp"

namespace exhibit {
namespace {

using namespace std::chrono_literals;
using adb::UsbBulkTransport;
using usbsim::EmulatedBus;

std::array<std::byte, 24> header(std::uint32_t command, std::uint32_t arg0, std::uint32_t arg1,
                                 std::uint32_t length) {
    std::array<std::byte, 24> h{};
    for (auto [offset, value] : {std::pair{0, command}, {4, arg0}, {8, arg1}, {12, length}}) {
        auto le = htole32(value);
        std::memcpy(h.data() + offset, &le, 4);
    }
    return h;
}

std::vector<std::byte> pattern(std::size_t n, unsigned seed) {
    std::vector<std::byte> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<std::byte>((i * 131 + seed * 7) & 0xff);
    return v;
}

double cpu_seconds() {
    timespec t{};
    ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

usbsim::DeviceSpec phone(std::vector<std::string> interfaces = {"adb"}) {
    usbsim::DeviceSpec spec;
    spec.serial = "BULK0001";
    for (const auto& name : interfaces)
        spec.interfaces.push_back(usbsim::interface_preset(name).value());
    return spec;
}

class UsbBulk : public ::testing::Test {
  protected:
    void SetUp() override {
        auto bus = EmulatedBus::create();
        ASSERT_TRUE(bus) << bus.error().describe();
        bus_ = std::move(*bus);
        auto d = bus_->plug(phone(), 1, usbsim::stream_server());
        ASSERT_TRUE(d) << d.error().describe();
        device_ = *d;
        auto ctx = usb::UsbContext::create();  // after the bus: libusb reads $UMOCKDEV_DIR
        ASSERT_TRUE(ctx) << ctx.error().describe();
        context_ = std::move(*ctx);
    }

    std::unique_ptr<UsbBulkTransport> open(adb::BulkTransportOptions options = {},
                                           std::string bus_path = "1-1") {
        auto device = usb::find_device(*context_, bus_path);
        EXPECT_TRUE(device) << device.error().describe();
        if (!device)
            return nullptr;
        auto t = UsbBulkTransport::open(context_, device->get(), options);
        EXPECT_TRUE(t) << t.error().describe();
        return t ? std::move(*t) : nullptr;
    }

    // Sends one message and reads the echo back.
    static void round_trip(adb::Transport& t, std::size_t size, unsigned seed) {
        auto payload = pattern(size, seed);
        auto h = header(0x45545257, seed, 0, static_cast<std::uint32_t>(size));
        ASSERT_TRUE(t.write_message(h, payload)) << size;
        std::array<std::byte, 24> back_header{};
        auto r = t.read_exact(back_header);
        ASSERT_TRUE(r) << size << ": " << r.error().describe();
        EXPECT_EQ(back_header, h);
        std::vector<std::byte> back(size);
        r = t.read_exact(back);
        ASSERT_TRUE(r) << size << ": " << r.error().describe();
        EXPECT_TRUE(back == payload) << "payload of " << size << " bytes differs";
    }

    std::unique_ptr<EmulatedBus> bus_;  // first: outlives libusb
    usbsim::EmulatedDevice* device_ = nullptr;
    std::shared_ptr<usb::UsbContext> context_;
};

TEST_F(UsbBulk, EchoesMessagesOfEverySizeWithZeroLengthPacketsWhereDue) {
    auto t = open({.transfer_size = 64 * 1024});
    ASSERT_TRUE(t);
    EXPECT_EQ(t->describe(), "usb:1-1");
    EXPECT_EQ(t->endpoints().out_max_packet, 512);
    const std::size_t sizes[] = {0,    1,    24,    511,   512,    513,
                                 1024, 4096, 65536, 65537, 262144, 1 << 20};
    std::uint64_t due = 0;
    unsigned seed = 1;
    for (auto size : sizes) {
        ASSERT_NO_FATAL_FAILURE(round_trip(*t, size, seed++));
        due += size > 0 && size % 512 == 0;
    }
    EXPECT_EQ(t->stats().zero_length_packets, due);
    EXPECT_EQ(device_->stats().zero_length_out, due)
        << "the phone saw exactly one zero-length packet after each whole-packet payload";
}

TEST_F(UsbBulk, ReadsInArbitraryPiecesKeepTheStreamInOrder) {
    auto t = open();
    ASSERT_TRUE(t);
    auto payload = pattern(3000, 9);
    auto h = header(1, 2, 3, 3000);
    ASSERT_TRUE(t->write_message(h, payload));
    std::vector<std::byte> all(24 + 3000);
    std::size_t done = 0;
    for (std::size_t piece : {10, 14, 1000, 1, 1999}) {
        auto r = t->read_exact(std::span(all).subspan(done, piece));
        ASSERT_TRUE(r) << r.error().describe();
        done += piece;
    }
    EXPECT_TRUE(std::equal(h.begin(), h.end(), all.begin()));
    EXPECT_TRUE(std::equal(payload.begin(), payload.end(), all.begin() + 24));
    ASSERT_NO_FATAL_FAILURE(round_trip(*t, 777, 3)) << "usable afterwards";
}

TEST_F(UsbBulk, StreamsLargeDataIntactWithSeveralTransfersInFlight) {
    auto t = open();
    ASSERT_TRUE(t);
    constexpr std::uint32_t kChunk = 1 << 20, kMiB = 64;
    ASSERT_TRUE(t->write_message(header(usbsim::kStreamRequest, kChunk, kMiB, 0), {}));
    std::vector<std::byte> buf(kChunk), want(kChunk);
    std::uint64_t offset = 0;
    auto t0 = std::chrono::steady_clock::now();
    while (offset < (std::uint64_t{kMiB} << 20)) {
        std::array<std::byte, 24> h{};
        ASSERT_TRUE(t->read_exact(h));
        std::uint32_t length;
        std::memcpy(&length, h.data() + 12, 4);
        ASSERT_EQ(le32toh(length), kChunk);
        ASSERT_TRUE(t->read_exact(buf));
        usbsim::stream_pattern(offset, want);
        ASSERT_TRUE(buf == want) << "data differs at " << offset;
        offset += kChunk;
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("bulk IN: %u MiB in %.2f s = %.1f MB/s\n", kMiB, s,
                static_cast<double>(offset) / s / 1e6);
    EXPECT_GE(t->stats().in_transfers, 2u * kMiB) << "headers and payloads came as transfers";
}

TEST_F(UsbBulk, ReadTimeoutLeavesTheTransportUsable) {
    auto t = open({.read_timeout = 200ms});
    ASSERT_TRUE(t);
    std::array<std::byte, 24> h{};
    auto t0 = std::chrono::steady_clock::now();
    auto r = t->read_exact(h);
    auto waited = std::chrono::steady_clock::now() - t0;
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::timeout) << r.error().describe();
    EXPECT_GE(waited, 190ms);
    EXPECT_LT(waited, 2s);
    ASSERT_NO_FATAL_FAILURE(round_trip(*t, 4096, 5)) << "a phone waiting for its owner is silent";
}

TEST_F(UsbBulk, ShutdownUnblocksAReadFromAnotherThread) {
    auto t = open();
    ASSERT_TRUE(t);
    auto reader = std::async(std::launch::async, [&] {
        std::array<std::byte, 24> h{};
        return t->read_exact(h);
    });
    std::this_thread::sleep_for(100ms);
    t->shutdown();
    ASSERT_EQ(reader.wait_for(2s), std::future_status::ready) << "read still blocked";
    auto r = reader.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::cancelled);
    auto w = t->write_message(header(1, 0, 0, 0), {});
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().code, Errc::cancelled);
}

TEST_F(UsbBulk, StallIsAProtocolErrorAndTheHaltIsCleared) {
    auto t = open();
    ASSERT_TRUE(t);
    device_->halt(t->endpoints().in);
    std::array<std::byte, 24> h{};
    auto r = t->read_exact(h);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::protocol);
    EXPECT_NE(r.error().message.find("stalled"), std::string::npos) << r.error().describe();
    EXPECT_EQ(t->stats().halts_cleared, 1u);
    EXPECT_EQ(device_->stats().clear_halts, 1u);
    auto again = t->read_exact(h);
    ASSERT_FALSE(again) << "a stall breaks the ADB stream: the connection must start over";
    EXPECT_EQ(again.error().message, r.error().message);
}

TEST_F(UsbBulk, UnplugFailsABlockedReadAsDeviceDisconnected) {
    auto t = open();
    ASSERT_TRUE(t);
    ASSERT_NO_FATAL_FAILURE(round_trip(*t, 100, 1));
    auto reader = std::async(std::launch::async, [&] {
        std::array<std::byte, 24> h{};
        return t->read_exact(h);
    });
    std::this_thread::sleep_for(100ms);
    auto t0 = std::chrono::steady_clock::now();
    bus_->unplug(*device_);
    ASSERT_EQ(reader.wait_for(1s), std::future_status::ready) << "no disconnect within 1 s";
    std::printf(
        "disconnect seen after %.1f ms\n",
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    auto r = reader.get();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::io);
    EXPECT_EQ(r.error().describe(), "device disconnected");
    auto w = t->write_message(header(1, 0, 0, 4), pattern(4, 1));
    ASSERT_FALSE(w);
    EXPECT_EQ(w.error().describe(), "device disconnected");
}

TEST_F(UsbBulk, HeaderAndPayloadInOneTransferAreStillRead) {
    // Some phones send a whole message as one transfer; reads are whole packets, so nothing
    // overflows and the surplus waits for the next read.
    auto d = bus_->plug(phone(), 2, [](adb::Transport& t) {
        std::array<std::byte, 24> h{};
        std::vector<std::byte> p;
        while (t.read_exact(h)) {
            std::uint32_t n;
            std::memcpy(&n, h.data() + 12, 4);
            p.resize(le32toh(n));
            if (!t.read_exact(p))
                return;
            std::vector<std::byte> joined(h.begin(), h.end());
            joined.insert(joined.end(), p.begin(), p.end());
            if (!t.write_message(joined, {}))
                return;
        }
    });
    ASSERT_TRUE(d);
    auto t = open({}, "1-2");
    ASSERT_TRUE(t);
    for (std::size_t size : {1000, 488, 0, 5000, 100})
        ASSERT_NO_FATAL_FAILURE(round_trip(*t, size, static_cast<unsigned>(size)));
}

TEST_F(UsbBulk, TheInterfaceHasOneOwnerAtATime) {
    auto first = open();
    ASSERT_TRUE(first);
    auto device = usb::find_device(*context_, "1-1");
    ASSERT_TRUE(device);
    auto second = UsbBulkTransport::open(context_, device->get());
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error().code, Errc::exists) << second.error().describe();
    first.reset();
    auto third = open();
    ASSERT_TRUE(third) << "released when the first one closed";
    ASSERT_NO_FATAL_FAILURE(round_trip(*third, 10, 1));
    EXPECT_EQ(device_->stats().connections, 2u) << "each owner is a new connection";
}

TEST_F(UsbBulk, DeviceWithoutAdbIsRefused) {
    ASSERT_TRUE(bus_->plug(phone({"mtp"}), 3));
    auto device = usb::find_device(*context_, "1-3");
    ASSERT_TRUE(device);
    auto t = UsbBulkTransport::open(context_, device->get());
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().code, Errc::unsupported);
    EXPECT_NE(t.error().message.find("no ADB interface"), std::string::npos);
    EXPECT_FALSE(usb::find_device(*context_, "1-9"));
}

TEST_F(UsbBulk, AnOpenIdleTransportCostsNothing) {
    auto t = open();
    ASSERT_TRUE(t);
    ASSERT_NO_FATAL_FAILURE(round_trip(*t, 10, 1));  // a header read is now queued
    auto before = device_->stats();
    double cpu0 = cpu_seconds();
    std::this_thread::sleep_for(1s);
    double cpu = cpu_seconds() - cpu0;
    auto after = device_->stats();
    std::printf("idle second: %.3f s CPU, %llu empty reaps\n", cpu,
                static_cast<unsigned long long>(after.empty_reaps - before.empty_reaps));
    EXPECT_LT(after.empty_reaps - before.empty_reaps, 20u) << "the event thread polls busily";
    EXPECT_LT(cpu, 0.1) << "idle CPU";
}

}  // namespace
}  // namespace exhibit
