// Benchmark driver for bench/usb_throughput (never run by ctest): ADB over the emulated USB
// bus (umockdev, real libusb, the bulk transport) against the same device side over a
// loopback TCP socket, in one run.
//
//   exhibit-bench-usb WORK_DIR [--mib N] [--files N]
//
// 1. Bulk IN: the stream server sends N MiB as ADB messages of 16 KiB to 1 MiB; the host
//    reads header and payload as the protocol code does and checks every byte.
// 2. Extraction: phonesim's engine serves a tree (one large file; many 100 KiB files) and a
//    real extraction session pulls it into a fresh store (hash, spool, blob, catalog).
// Prints MB/s for USB and TCP and their ratio.
#include <endian.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "daemon/extract/extraction.hpp"
#include "drivers/adb/adb_driver.hpp"
#include "drivers/adb/connection.hpp"
#include "drivers/adb/usb_transport.hpp"
#include "drivers/usb/usb_identity.hpp"
#include "phonesim/device_engine.hpp"
#include "phonesim/phone_setup.hpp"
#include "phonesim/usb/emulated_bus.hpp"
#include "phonesim/usb/test_servers.hpp"

using namespace exhibit;
namespace fsys = std::filesystem;
using Seconds = std::chrono::duration<double>;

namespace {

[[noreturn]] void die(const std::string& what) {
    std::fprintf(stderr, "exhibit-bench-usb: %s\n", what.c_str());
    std::exit(1);
}

template <class T>
T must(Result<T> r, const char* what) {
    if (!r)
        die(fmt::format("{}: {}", what, r.error().describe()));
    return std::move(*r);
}

// A TCP peer on 127.0.0.1 whose one connection is served by `server` on a thread.
class TcpPeer {
  public:
    explicit TcpPeer(usbsim::AdbServer server) {
        UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof sa;
        if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&sa), len) != 0 ||
            ::listen(listener.get(), 1) != 0 ||
            ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&sa), &len) != 0)
            die("cannot listen on 127.0.0.1");
        port_ = ntohs(sa.sin_port);
        thread_ = std::thread([l = std::move(listener), server = std::move(server)] {
            int fd = ::accept4(l.get(), nullptr, nullptr, SOCK_CLOEXEC);
            if (fd < 0)
                return;
            adb::TcpTransport t(UniqueFd(fd), "bench-host");
            t.set_read_timeout(std::chrono::minutes(10));
            server(t);
        });
    }
    ~TcpPeer() { thread_.join(); }
    std::unique_ptr<adb::Transport> connect() {
        auto t = adb::TcpTransport::connect("127.0.0.1", port_, std::chrono::seconds(5));
        return must(std::move(t), "connect");
    }

  private:
    std::uint16_t port_ = 0;
    std::thread thread_;
};

// Asks for `mib` MiB in messages of `chunk` bytes and reads them all; seconds taken.
double stream(adb::Transport& t, std::uint32_t chunk, std::uint32_t mib) {
    std::array<std::byte, 24> h{};
    for (auto [offset, value] : {std::pair{0, usbsim::kStreamRequest}, {4, chunk}, {8, mib}}) {
        auto le = htole32(value);
        std::memcpy(h.data() + offset, &le, 4);
    }
    std::vector<std::byte> buf(chunk), want(chunk);
    auto t0 = std::chrono::steady_clock::now();
    if (!t.write_message(h, {}))
        die("stream request");
    for (std::uint64_t at = 0; at < (std::uint64_t{mib} << 20); at += chunk) {
        if (!t.read_exact(h) || !t.read_exact(buf))
            die("stream read");
        usbsim::stream_pattern(at, want);
        if (buf != want)
            die(fmt::format("stream data differs at {}", at));
    }
    return Seconds(std::chrono::steady_clock::now() - t0).count();
}

void print_row(const std::string& label, double bytes, double usb_s, double tcp_s) {
    double usb = bytes / usb_s / 1e6, tcp = bytes / tcp_s / 1e6;
    fmt::print("{:<34} usb {:8.1f} MB/s   tcp {:8.1f} MB/s   usb/tcp {:.2f}\n", label, usb, tcp,
               usb / tcp);
    std::fflush(stdout);
}

void bench_bulk(usbsim::EmulatedBus& bus, std::uint32_t mib) {
    auto* device =
        must(bus.plug(usbsim::DeviceSpec{.serial = "BENCH",
                                         .interfaces = {usbsim::interface_preset("adb").value()}},
                      1, usbsim::stream_server()),
             "plug");
    auto ctx = must(usb::UsbContext::create(), "libusb");
    auto dev = must(usb::find_device(*ctx, device->bus_path()), "find");
    auto usb = must(adb::UsbBulkTransport::open(ctx, dev.get()), "open");
    for (std::uint32_t chunk : {16u << 10, 64u << 10, 256u << 10, 1u << 20}) {
        double u = stream(*usb, chunk, mib);
        TcpPeer peer(usbsim::stream_server());
        auto tcp = peer.connect();
        double t = stream(*tcp, chunk, mib);
        tcp->shutdown();
        tcp.reset();
        print_row(fmt::format("bulk IN, {:>4} KiB messages", chunk >> 10),
                  static_cast<double>(std::uint64_t{mib} << 20), u, t);
    }
    usb.reset();
    ctx.reset();
    bus.unplug(*device);
}

// One extraction of everything under `root` into a new store in `state`; seconds taken.
double extract(std::unique_ptr<adb::Transport> transport, const fsys::path& state,
               std::uint64_t* bytes) {
    fsys::remove_all(state);
    auto store = must(store::Store::open({.state_directory = state, .kiosk_id = "bench"}), "store");
    auto key = must(adb::AdbHostKey::load_or_create(state / "keys/adb", "exhibit@bench"), "key");
    auto t0 = std::chrono::steady_clock::now();
    adb::AdbSession conn(
        must(adb::Connection::open(std::move(transport), {.key = key.get()}), "connect"),
        Clock::system());
    drivers::Scope scope{.categories = {drivers::Category::photos, drivers::Category::videos}};
    auto case_id = must(
        store->catalog().create_case(
            {.case_reference = "BENCH", .exhibit_reference = "B", .officer_id = "bench"}, "bench"),
        "case");
    auto session = must(store->catalog().create_session(case_id, {}, std::nullopt,
                                                        store::Priority::normal, "bench"),
                        "session");
    std::stop_source stop;
    auto outcome = extract::run_extraction(*store, conn, session, scope, stop.get_token());
    if (outcome.state != store::SessionState::completed)
        die("extraction: " + outcome.reason.value_or("failed"));
    *bytes = outcome.progress.bytes_done;
    return Seconds(std::chrono::steady_clock::now() - t0).count();
}

void bench_extraction(usbsim::EmulatedBus& bus, const fsys::path& work, const std::string& label,
                      const fsys::path& root) {
    auto phone = std::make_shared<phonesim::PhoneOptions>(
        must(phonesim::make_phone({.root = root, .serial = "BENCHPHONE"}), "phone"));
    auto serve = [phone](adb::Transport& t) {
        phonesim::DeviceEngine engine(*phone);
        (void)engine.serve(t);
    };
    usbsim::DeviceSpec spec;
    spec.serial = "BENCHPHONE";
    spec.interfaces = {usbsim::interface_preset("adb").value()};
    auto* device = must(bus.plug(spec, 2, serve), "plug");
    std::uint64_t bytes = 0;
    double usb_s = 0;
    {
        auto ctx = must(usb::UsbContext::create(), "libusb");
        auto dev = must(usb::find_device(*ctx, device->bus_path()), "find");
        usb_s = extract(must(adb::UsbBulkTransport::open(ctx, dev.get()), "open"), work / "state",
                        &bytes);
    }
    bus.unplug(*device);
    TcpPeer peer(serve);
    double tcp_s = extract(peer.connect(), work / "state", &bytes);
    print_row(label, static_cast<double>(bytes), usb_s, tcp_s);
}

void write_random(const fsys::path& p, std::size_t size, std::mt19937_64& rng) {
    fsys::create_directories(p.parent_path());
    std::vector<std::uint64_t> data((size + 7) / 8);
    for (auto& w : data)
        w = rng();
    std::ofstream(p, std::ios::binary)
        .write(reinterpret_cast<const char*>(data.data()), static_cast<std::streamsize>(size));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: exhibit-bench-usb WORK_DIR [--mib N] [--files N]\n");
        return 2;
    }
    fsys::path work = argv[1];
    std::uint32_t mib = 256, files = 2000;
    for (int i = 2; i + 1 < argc; i += 2) {
        std::string opt = argv[i];
        auto value = static_cast<std::uint32_t>(std::stoul(argv[i + 1]));
        if (opt == "--mib")
            mib = value;
        else if (opt == "--files")
            files = value;
    }
    auto bus = must(usbsim::EmulatedBus::create(), "emulated bus");
    fmt::print("emulated bus in {}; {} MiB per bulk case\n", bus->root(), mib);
    bench_bulk(*bus, mib);

    std::mt19937_64 rng(42);
    write_random(work / "large/Movies/long.mp4", std::size_t{mib} << 20, rng);
    bench_extraction(*bus, work, fmt::format("extraction, 1 x {} MiB", mib), work / "large");
    for (std::uint32_t i = 0; i < files; ++i)
        write_random(work / fmt::format("small/DCIM/Camera/IMG_{:05}.jpg", i), 100 * 1024, rng);
    bench_extraction(*bus, work, fmt::format("extraction, {} x 100 KiB", files), work / "small");
    return 0;
}
