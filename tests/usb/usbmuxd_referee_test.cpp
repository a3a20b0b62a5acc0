// Debian's real usbmuxd (1.1.1), idevice_id and iproxy against an emulated iPhone on the
// umockdev bus, its usbmux interface served by phonesim/usb/usbmux_server with an echo
// ServiceHost: the device is found and listed, TCP connections carry data both ways within
// usbmuxd's window, refusals and unplugs end connections without hurting usbmuxd.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/sha256.hpp"
#include "phonesim/usb/emulated_bus.hpp"
#include "phonesim/usb/usbmux_server.hpp"
#include "tests/support/echo_service_host.hpp"
#include "tests/support/process.hpp"
#include "tests/support/usbmuxd_runner.hpp"

namespace exhibit {
namespace {

using namespace std::chrono_literals;
using testing::EchoServiceHost;
using testing::Process;
using testing::UsbmuxdRunner;
using usbsim::EmulatedBus;
using usbsim::EmulatedDevice;

constexpr const char* kSerial = "00008030001A2B3C4D5E6F70";
constexpr std::uint64_t kStreamBytes = 64ull << 20;
constexpr std::size_t kEchoBytes = 16u << 20;

template <class F>
bool eventually(F&& f, std::chrono::milliseconds timeout) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!f()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::sleep_for(20ms);
    }
    return true;
}

class Socket {
  public:
    explicit Socket(int fd = -1) : fd_(fd) {}
    Socket(Socket&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    ~Socket() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

Socket connect_local(std::uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        ::close(fd);
        return Socket();
    }
    timeval tv{60, 0};  // a stalled transfer fails the test instead of hanging it
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return Socket(fd);
}

std::uint16_t free_port() {
    Socket s(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(s.get(), reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

bool send_all(int fd, std::span<const std::byte> data) {
    while (!data.empty()) {
        ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
        if (n <= 0)
            return false;
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return true;
}

// Whether a socket listens on 127.0.0.1:port (/proc/net/tcp: local address, state 0A).
bool tcp_listening(std::uint16_t port) {
    char local[16];
    std::snprintf(local, sizeof local, "0100007F:%04X", port);
    std::ifstream in("/proc/net/tcp");
    std::string line;
    std::getline(in, line);  // the header
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string slot, address, remote, state;
        fields >> slot >> address >> remote >> state;
        if (address == local && state == "0A")
            return true;
    }
    return false;
}

// iproxy LOCAL:DEVICE through `usbmuxd`, started and stopped by PID.
struct Iproxy {
    Process process;
    std::uint16_t local = 0;
};

Iproxy start_iproxy(const UsbmuxdRunner& usbmuxd, std::uint16_t device_port) {
    Iproxy p;
    p.local = free_port();
    p.process = Process::start({"iproxy", std::to_string(p.local) + ":" + std::to_string(device_port)},
                               usbmuxd.client_env(), false, false);
    // Ready once its socket listens, seen in /proc/net/tcp, not by connecting: iproxy
    // (libusbmuxd 2.0.2) selects on its two sockets with nfds = usbmuxd socket + 1, so a
    // client whose socket got a higher descriptor than its usbmuxd socket (as when a probe
    // connection still held the lower ones when it was accepted) is never read: its bytes
    // stay unread in iproxy and nothing reaches the device. Each connection must therefore
    // be alone in iproxy while it starts.
    eventually([&] { return tcp_listening(p.local) || !p.process.running(); }, 10s);
    return p;
}

class UsbmuxdReferee : public ::testing::Test {
  protected:
    void SetUp() override {
        if (!UsbmuxdRunner::available())
            GTEST_SKIP() << "usbmuxd (Debian package usbmuxd) is not installed";
        auto bus = EmulatedBus::create();
        ASSERT_TRUE(bus) << bus.error().describe();
        bus_ = std::move(*bus);
        host_ = std::make_shared<EchoServiceHost>(kStreamBytes);
        plug();
        std::string why;
        auto u = UsbmuxdRunner::start({.umockdev_dir = bus_->root(), .preflight = preflight()},
                                      &why);
        ASSERT_TRUE(u) << why;
        usbmuxd_.emplace(std::move(*u));
    }

    virtual bool preflight() const { return false; }  // usbmuxd -p: no lockdownd needed

    void TearDown() override {
        usbmuxd_.reset();  // before the bus goes: it has the device open
        bus_.reset();
    }

    void plug() {
        auto d = bus_->plug(usbsim::iphone_spec(kSerial), 1, {}, {}, usbsim::usbmux_server(host_));
        ASSERT_TRUE(d) << d.error().describe();
        device_ = *d;
    }

    std::string udid() const { return usbsim::udid_of_serial(kSerial); }

    std::unique_ptr<EmulatedBus> bus_;
    std::shared_ptr<EchoServiceHost> host_;
    EmulatedDevice* device_ = nullptr;
    std::optional<UsbmuxdRunner> usbmuxd_;
};

TEST_F(UsbmuxdReferee, IdeviceIdListsTheIphone) {
    ASSERT_EQ(udid(), "00008030-001A2B3C4D5E6F70");
    ASSERT_TRUE(usbmuxd_->wait_listed(udid(), true, 20s)) << usbmuxd_->log();
    // usbmuxd switched to configuration 4 (min(bNumConfigurations, 4)) and found usbmux there.
    EXPECT_NE(usbmuxd_->log().find(", from 1 to 4"), std::string::npos) << usbmuxd_->log();
    EXPECT_NE(usbmuxd_->log().find("Found interface 1 with"), std::string::npos);
    EXPECT_NE(usbmuxd_->log().find("Connected to v2.0 device"), std::string::npos);
}

TEST_F(UsbmuxdReferee, IproxyEchoes16MiBByteForByte) {
    ASSERT_TRUE(usbmuxd_->wait_listed(udid(), true, 20s)) << usbmuxd_->log();
    auto proxy = start_iproxy(*usbmuxd_, EchoServiceHost::kEcho);
    ASSERT_TRUE(proxy.process.running());
    auto s = connect_local(proxy.local);
    ASSERT_GE(s.get(), 0);
    std::vector<std::byte> data(kEchoBytes);
    std::uint64_t state = 7;
    testing::pseudo_random(state, data);
    const auto start = std::chrono::steady_clock::now();
    // Writes in uneven pieces while reading back: fragmentation both ways. The writer keeps
    // at most kAhead bytes unechoed: iproxy forwards both directions on one thread and stops
    // reading from usbmuxd while a write to it waits, so a flood both ways at once deadlocks
    // any echo behind it (seen: iproxy with 64 KiB unread from usbmuxd, usbmuxd with 50 KiB
    // unread from iproxy, the device's window shut). 192 KiB still fills usbmuxd's 128 KiB
    // window for the device.
    constexpr std::size_t kAhead = 192 * 1024;
    std::atomic<std::size_t> echoed{0};
    std::atomic<bool> failed{false};
    std::thread writer([&] {
        std::size_t off = 0, piece = 1;
        while (off < data.size() && !failed) {
            piece = piece * 7 % 100003 + 1;
            auto n = std::min({piece, data.size() - off, kAhead});
            for (auto e = echoed.load(); off + n - e > kAhead && !failed; e = echoed.load())
                echoed.wait(e);
            if (!send_all(s.get(), std::span(data).subspan(off, n)))
                return;
            off += n;
        }
    });
    std::vector<std::byte> back(kEchoBytes);
    std::size_t got = 0;
    while (got < back.size()) {
        ssize_t n = ::recv(s.get(), back.data() + got, back.size() - got, 0);
        if (n <= 0)
            break;
        got += static_cast<std::size_t>(n);
        echoed = got;
        echoed.notify_all();
    }
    failed = got < back.size();
    echoed.store(kEchoBytes + kAhead);  // wakes the writer for good
    echoed.notify_all();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ::shutdown(s.get(), SHUT_RDWR);
    writer.join();
    ASSERT_EQ(got, kEchoBytes) << usbmuxd_->log().substr(0, 4000);
    EXPECT_TRUE(back == data) << "the echo differs";
    std::printf("echo: 16 MiB each way in %.2f s (%.1f MiB/s each way)\n", secs, 16 / secs);
}

TEST_F(UsbmuxdReferee, IproxyStreams64MiBWithTheRightDigest) {
    ASSERT_TRUE(usbmuxd_->wait_listed(udid(), true, 20s)) << usbmuxd_->log();
    Sha256 expected;
    {
        std::uint64_t state = 1;
        std::vector<std::byte> buf(64 * 1024);
        for (std::uint64_t left = kStreamBytes; left > 0; left -= buf.size()) {
            testing::pseudo_random(state, buf);
            expected.update(buf);
        }
    }
    auto proxy = start_iproxy(*usbmuxd_, EchoServiceHost::kStream);
    auto s = connect_local(proxy.local);
    ASSERT_GE(s.get(), 0);
    const auto start = std::chrono::steady_clock::now();
    Sha256 actual;
    std::uint64_t total = 0;
    std::vector<std::byte> buf(256 * 1024);
    for (;;) {
        ssize_t n = ::recv(s.get(), buf.data(), buf.size(), 0);
        if (n <= 0)
            break;
        actual.update(std::span(buf).first(static_cast<std::size_t>(n)));
        total += static_cast<std::uint64_t>(n);
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(total, kStreamBytes);
    EXPECT_EQ(to_hex(actual.finish()), to_hex(expected.finish()));
    EXPECT_LT(secs, 120.0);
    std::printf("stream: 64 MiB in %.2f s (%.1f MiB/s)\n", secs, 64 / secs);
}

TEST_F(UsbmuxdReferee, AConnectionToAClosedPortIsRefusedAndUsbmuxdCarriesOn) {
    ASSERT_TRUE(usbmuxd_->wait_listed(udid(), true, 20s)) << usbmuxd_->log();
    auto closed = start_iproxy(*usbmuxd_, 4321);
    auto s = connect_local(closed.local);
    ASSERT_GE(s.get(), 0);
    char c;
    EXPECT_LE(::recv(s.get(), &c, 1, 0), 0);  // iproxy closes it: the device refused
    EXPECT_TRUE(usbmuxd_->wait_for_log("Connection refused by device", 10s)) << usbmuxd_->log();
    EXPECT_EQ(host_->served(), 0);
    // usbmuxd still lists the device and connects to an open port.
    ASSERT_TRUE(usbmuxd_->running());
    EXPECT_TRUE(usbmuxd_->wait_listed(udid(), true, 10s));
    auto echo = start_iproxy(*usbmuxd_, EchoServiceHost::kEcho);
    auto e = connect_local(echo.local);
    ASSERT_GE(e.get(), 0);
    const std::string ping = "ping";
    ASSERT_TRUE(send_all(e.get(), std::as_bytes(std::span(ping))));
    char back[4];
    std::size_t got = 0;
    while (got < 4) {
        ssize_t n = ::recv(e.get(), back + got, 4 - got, 0);
        if (n <= 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    ASSERT_EQ(got, 4u);
    EXPECT_EQ(std::string(back, 4), ping);
}

TEST_F(UsbmuxdReferee, UnplugEndsTheTransferAndReplugListsItAgain) {
    ASSERT_TRUE(usbmuxd_->wait_listed(udid(), true, 20s)) << usbmuxd_->log();
    auto proxy = start_iproxy(*usbmuxd_, EchoServiceHost::kStream);
    auto s = connect_local(proxy.local);
    ASSERT_GE(s.get(), 0);
    std::vector<std::byte> buf(64 * 1024);
    std::uint64_t total = 0;
    while (total < (1u << 20)) {  // the transfer is under way
        ssize_t n = ::recv(s.get(), buf.data(), buf.size(), 0);
        ASSERT_GT(n, 0);
        total += static_cast<std::uint64_t>(n);
    }
    // usbmuxd keeps 3 bulk IN transfers submitted (NUM_RX_LOOPS). Pulled while one of them is
    // in usbmuxd's hands, reaped with data, usbmuxd 1.1.1 hangs for good: its rx_callback
    // resubmits without looking at the ENODEV, and usb_disconnect then waits for that
    // transfer, serving no client (docs/usb.md, "usbmuxd and an unplug"). The phone is
    // pulled while all 3 are on the bus, the moment usbmuxd survives.
    bus_->unplug(*device_, 3);
    for (;;) {  // the client sees the connection end
        ssize_t n = ::recv(s.get(), buf.data(), buf.size(), 0);
        if (n <= 0)
            break;
        total += static_cast<std::uint64_t>(n);
    }
    EXPECT_LT(total, kStreamBytes);
    EXPECT_TRUE(usbmuxd_->wait_listed(udid(), false, 10s)) << usbmuxd_->log();
    EXPECT_TRUE(usbmuxd_->running());
    EXPECT_TRUE(eventually([&] { return host_->active() == 0; }, 10s));  // the service ended too
    plug();
    EXPECT_TRUE(usbmuxd_->wait_listed(udid(), true, 20s)) << usbmuxd_->log();
    EXPECT_TRUE(usbmuxd_->running());
}

// usbmuxd with the device open polls its node; the node is a FIFO kept full while nothing is
// reapable (emulated_device.hpp), so an idle usbmuxd sleeps instead of spinning (ios-facts
// §1.4 measured 27% of a core on umockdev's plain node).
TEST_F(UsbmuxdReferee, IdleUsbmuxdCostsAlmostNothing) {
    ASSERT_TRUE(usbmuxd_->wait_listed(udid(), true, 20s)) << usbmuxd_->log();
    auto cpu_ticks = [&] {
        std::ifstream in("/proc/" + std::to_string(usbmuxd_->pid()) + "/stat");
        std::string stat;
        std::getline(in, stat);
        std::istringstream fields(stat.substr(stat.rfind(')') + 2));
        std::string f;
        long ticks = 0;
        for (int i = 3; i <= 15 && fields >> f; ++i)
            if (i == 14 || i == 15)  // utime, stime
                ticks += std::stol(f);
        return ticks;
    };
    const long before = cpu_ticks();
    const auto start = std::chrono::steady_clock::now();
    std::this_thread::sleep_for(2s);  // the measurement window
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double share = static_cast<double>(cpu_ticks() - before) /
                         static_cast<double>(::sysconf(_SC_CLK_TCK)) / secs;
    std::printf("idle usbmuxd: %.1f%% of a core\n", 100 * share);
    EXPECT_LT(share, 0.05);
}

// Without -p, usbmuxd's preflight talks to lockdownd (port 62078) before it shows the
// device to clients; this host has no lockdownd, so the device stays hidden.
class UsbmuxdPreflight : public UsbmuxdReferee {
  protected:
    bool preflight() const override { return true; }
};

TEST_F(UsbmuxdPreflight, WithoutLockdowndTheIphoneStaysHidden) {
    ASSERT_TRUE(usbmuxd_->wait_for_log("Could not connect to lockdownd", 20s)) << usbmuxd_->log();
    EXPECT_NE(usbmuxd_->log().find("Connection refused by device 1 (1->62078)"), std::string::npos);
    auto listed = usbmuxd_->list_udids();
    EXPECT_TRUE(std::find(listed.begin(), listed.end(), udid()) == listed.end());
    EXPECT_TRUE(usbmuxd_->running());
}

}  // namespace
}  // namespace exhibit
