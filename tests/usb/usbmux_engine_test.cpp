// The usbmux engine (phonesim/usb/usbmux_engine) driven directly as usbmuxd would: version
// handshake, SYN/SYN|ACK/RST, data both ways within the host's window, and ill-formed host
// packets, which reset the connection they name and crash nothing.
#include "phonesim/usb/usbmux_engine.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <random>
#include <string>

#include "tests/support/echo_service_host.hpp"

namespace exhibit::usbsim::usbmux {
namespace {

using namespace std::chrono_literals;
using testing::EchoServiceHost;

std::vector<std::byte> bytes(std::string_view s) {
    auto b = std::as_bytes(std::span(s));
    return {b.begin(), b.end()};
}

std::vector<std::byte> version_packet() {
    std::vector<std::byte> p(20);
    p[7] = std::byte{20};   // length
    p[11] = std::byte{2};   // major 2
    return p;
}

struct Frame {
    Header header;
    TcpHeader tcp;
    std::vector<std::byte> payload;
};

class Harness {
  public:
    explicit Harness(std::uint64_t stream_bytes = 1000, Options options = {})
        : host_(std::make_shared<EchoServiceHost>(stream_bytes)),
          engine_(host_,
                  [this](std::vector<std::byte> f) -> Status {
                      std::lock_guard lock(m_);
                      frames_.push_back(std::move(f));
                      cv_.notify_all();
                      return {};
                  },
                  options) {}

    Engine& engine() { return engine_; }
    EchoServiceHost& host() { return *host_; }

    std::optional<std::vector<std::byte>> next_raw(std::chrono::milliseconds timeout = 5s) {
        std::unique_lock lock(m_);
        if (!cv_.wait_for(lock, timeout, [&] { return !frames_.empty(); }))
            return std::nullopt;
        auto f = std::move(frames_.front());
        frames_.pop_front();
        return f;
    }
    // The next TCP frame, skipping those of other connections when `sport` is given.
    std::optional<Frame> next(std::chrono::milliseconds timeout = 5s) {
        auto raw = next_raw(timeout);
        if (!raw)
            return std::nullopt;
        Frame f;
        f.header = parse_header(*raw);
        EXPECT_EQ(f.header.magic, kMagic);
        EXPECT_EQ(f.header.length, raw->size());
        EXPECT_LE(raw->size(), kMaxFrame);
        auto body = std::span(*raw).subspan(kHeaderV2);
        f.tcp = parse_tcp(body);
        f.payload.assign(body.begin() + kTcpHeader, body.end());
        return f;
    }

    void handshake() {
        engine_.on_transfer(version_packet());
        auto reply = next_raw();
        ASSERT_TRUE(reply);
        ASSERT_EQ(reply->size(), 20u);
        EXPECT_EQ(parse_header(*reply).protocol, kProtoVersion);
        EXPECT_EQ(parse_header(*reply).length, 20u);
        EXPECT_EQ(std::to_integer<int>((*reply)[11]), 2);  // major 2
        std::vector<std::byte> setup{std::byte{7}};
        engine_.on_transfer(make_packet(kProtoSetup, 0, 0xffff, setup));
    }

    void send_tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq, std::uint32_t ack,
                  std::uint8_t flags, std::span<const std::byte> payload = {},
                  std::uint16_t window = 512) {
        engine_.on_transfer(make_packet(
            kProtoTcp, tx_++, 0,
            make_tcp({.sport = sport, .dport = dport, .seq = seq, .ack = ack, .offset = 5,
                      .flags = flags, .window = window},
                     payload)));
    }

    // SYN to `dport` from `sport`; returns the answer.
    std::optional<Frame> connect(std::uint16_t sport, std::uint16_t dport,
                                 std::uint16_t window = 512) {
        send_tcp(sport, dport, 0, 0, kSyn, {}, window);
        auto f = next();
        if (f && f->tcp.flags == (kSyn | kAck))
            send_tcp(sport, dport, 1, 1, kAck, {}, window);
        return f;
    }

  private:
    std::shared_ptr<EchoServiceHost> host_;
    std::mutex m_;
    std::condition_variable cv_;
    std::deque<std::vector<std::byte>> frames_;
    Engine engine_;
    std::uint16_t tx_ = 1;
};

template <class F>
bool eventually(F&& f, std::chrono::milliseconds timeout = 5s) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (!f()) {
        if (std::chrono::steady_clock::now() > end)
            return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

TEST(UsbmuxEngine, AnswersTheVersionAndAcceptsOnlyListenedPorts) {
    Harness h;
    h.handshake();
    auto refused = h.connect(7, 9999);
    ASSERT_TRUE(refused);
    EXPECT_TRUE(refused->tcp.flags & kRst);
    EXPECT_EQ(refused->tcp.sport, 9999);
    EXPECT_EQ(refused->tcp.dport, 7);
    auto accepted = h.connect(8, EchoServiceHost::kEcho);
    ASSERT_TRUE(accepted);
    EXPECT_EQ(accepted->tcp.flags, kSyn | kAck);
    EXPECT_EQ(accepted->tcp.ack, 1u);
    EXPECT_TRUE(eventually([&] { return h.host().served() == 1; }));
    EXPECT_EQ(h.engine().stats().refused, 1u);
}

TEST(UsbmuxEngine, EchoesDataWithinTheHostsWindow) {
    Harness h;
    h.handshake();
    ASSERT_EQ(h.connect(8, EchoServiceHost::kEcho)->tcp.flags, kSyn | kAck);
    // 4 KiB to the device, in one frame; the host's window is 1 KiB (4 << 8).
    std::vector<std::byte> data(4096);
    std::uint64_t state = 5;
    testing::pseudo_random(state, data);
    h.send_tcp(8, EchoServiceHost::kEcho, 1, 1, kAck, data, 4);
    std::vector<std::byte> got;
    std::uint32_t acked = 1;
    while (got.size() < data.size()) {
        auto f = h.next();
        ASSERT_TRUE(f) << "stalled at " << got.size();
        ASSERT_EQ(f->tcp.flags, kAck);
        if (f->payload.empty())
            continue;  // an ACK of our data or a window probe
        ASSERT_EQ(f->tcp.seq, acked + (got.size() - (acked - 1)));
        got.insert(got.end(), f->payload.begin(), f->payload.end());
        EXPECT_LE(got.size() - (acked - 1), 1024u) << "more in flight than the window";
        if (got.size() - (acked - 1) == 1024) {  // window full: ACK it all
            acked = static_cast<std::uint32_t>(got.size() + 1);
            h.send_tcp(8, EchoServiceHost::kEcho, 4097, acked, kAck, {}, 4);
        }
    }
    EXPECT_EQ(got, data);
}

TEST(UsbmuxEngine, ProbesWhenTheWindowStaysShut) {
    Harness h(100000);
    h.handshake();
    ASSERT_EQ(h.connect(8, EchoServiceHost::kStream, 1)->tcp.flags, kSyn | kAck);
    std::size_t received = 0;
    while (received < 256) {  // the whole window, 256 bytes
        auto f = h.next();
        ASSERT_TRUE(f);
        received += f->payload.size();
    }
    EXPECT_EQ(received, 256u);
    auto probe = h.next();  // nothing more may come but a zero-length ACK
    ASSERT_TRUE(probe);
    EXPECT_TRUE(probe->payload.empty());
    EXPECT_EQ(probe->tcp.flags, kAck);
    EXPECT_GE(h.engine().stats().probes, 1u);
}

TEST(UsbmuxEngine, TheHostsResetEndsTheServiceAndCloseFailsStreams) {
    Harness h;
    h.handshake();
    ASSERT_TRUE(h.connect(8, EchoServiceHost::kEcho));
    ASSERT_TRUE(h.connect(9, EchoServiceHost::kEcho));
    ASSERT_TRUE(eventually([&] { return h.host().active() == 2; }));
    h.send_tcp(8, EchoServiceHost::kEcho, 1, 1, kRst);
    EXPECT_TRUE(eventually([&] { return h.host().finished() == 1; }));
    EXPECT_EQ(h.host().failures(), 0);  // a close, read as end of stream
    h.engine().close();                 // unplug: the other one's read fails
    EXPECT_EQ(h.host().finished(), 2);
    EXPECT_EQ(h.host().failures(), 1);
}

// Each ill-formed packet names connection 8 in its TCP header; each must reset it.
TEST(UsbmuxEngine, IllFormedPacketsResetTheirConnection) {
    struct Case {
        const char* what;
        std::function<void(std::vector<std::byte>&)> spoil;
    };
    const std::vector<Case> cases = {
        {"wrong magic", [](auto& p) { p[8] = std::byte{0xde}; }},
        {"length below the header", [](auto& p) { p[4] = p[5] = p[6] = std::byte{0}; p[7] = std::byte{8}; }},
        {"length past the transfer", [](auto& p) { p[6] = std::byte{0x40}; }},
        {"unknown protocol", [](auto& p) { p[3] = std::byte{9}; }},
        {"short TCP header", [](auto& p) { p.resize(kHeaderV2 + 12); p[7] = std::byte{kHeaderV2 + 12}; }},
        {"TCP offset below 5", [](auto& p) { p[kHeaderV2 + 12] = std::byte{0x20}; }},
        {"SYN|FIN on a connection", [](auto& p) { p[kHeaderV2 + 13] = std::byte{kSyn | kFin}; }},
        {"sequence gap", [](auto& p) { p[kHeaderV2 + 7] = std::byte{99}; }},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        Harness h;
        h.handshake();
        ASSERT_EQ(h.connect(8, EchoServiceHost::kEcho)->tcp.flags, kSyn | kAck);
        ASSERT_TRUE(eventually([&] { return h.host().active() == 1; }));
        auto hello = bytes("hello");
        auto p = make_packet(kProtoTcp, 3, 0,
                             make_tcp({.sport = 8, .dport = EchoServiceHost::kEcho, .seq = 1,
                                       .ack = 1, .offset = 5, .flags = kAck, .window = 512},
                                      hello));
        c.spoil(p);
        h.engine().on_transfer(p);
        auto f = h.next();
        ASSERT_TRUE(f);
        EXPECT_TRUE(f->tcp.flags & kRst);
        EXPECT_EQ(f->tcp.dport, 8);
        EXPECT_TRUE(eventually([&] { return h.host().finished() == 1; }));
        EXPECT_EQ(h.host().failures(), 1);  // the service's read failed: reset
        EXPECT_EQ(h.engine().open_connections(), 0u);
        // The engine still works.
        auto again = h.connect(10, EchoServiceHost::kEcho);
        ASSERT_TRUE(again);
        EXPECT_EQ(again->tcp.flags, kSyn | kAck);
    }
}

TEST(UsbmuxEngine, GarbageCrashesNothing) {
    Harness h;
    h.handshake();
    ASSERT_TRUE(h.connect(8, EchoServiceHost::kEcho));
    std::mt19937 rng(42);
    for (int i = 0; i < 20000; ++i) {
        std::vector<std::byte> p(rng() % 80);
        for (auto& b : p)
            b = static_cast<std::byte>(rng());
        if (p.size() >= 16 && rng() % 2) {  // plausible headers too
            auto good = make_packet(kProtoTcp, 0, 0, std::span(p).subspan(16));
            std::copy(good.begin(), good.begin() + 12, p.begin());
        }
        h.engine().on_transfer(p);
    }
    h.engine().on_transfer({});
    auto again = h.connect(11, EchoServiceHost::kEcho);
    // Frames from the garbage may come first; find the answer to this SYN.
    bool answered = again && again->tcp.dport == 11 && again->tcp.flags == (kSyn | kAck);
    while (!answered) {
        auto f = h.next(1s);
        ASSERT_TRUE(f) << "no SYN|ACK after the garbage";
        answered = f->tcp.dport == 11 && f->tcp.flags == (kSyn | kAck);
    }
}

TEST(UsbmuxEngine, NothingBeforeTheVersionPacket) {
    Harness h;
    h.engine().on_transfer(make_packet(kProtoTcp, 0, 0, make_tcp({.sport = 1, .dport = 1234, .flags = kSyn}, {})));
    EXPECT_FALSE(h.next_raw(200ms));
    EXPECT_EQ(h.engine().stats().malformed, 1u);
}

}  // namespace
}  // namespace exhibit::usbsim::usbmux
