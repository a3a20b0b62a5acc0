#include "phonesim/usb/usbmux_engine.hpp"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

namespace exhibit::usbsim::usbmux {

namespace {

std::uint16_t be16(std::span<const std::byte> p, std::size_t at) {
    return static_cast<std::uint16_t>((std::to_integer<unsigned>(p[at]) << 8) |
                                      std::to_integer<unsigned>(p[at + 1]));
}

std::uint32_t be32(std::span<const std::byte> p, std::size_t at) {
    return (std::uint32_t{be16(p, at)} << 16) | be16(p, at + 2);
}

void put16(std::vector<std::byte>& out, std::uint16_t v) {
    out.push_back(static_cast<std::byte>(v >> 8));
    out.push_back(static_cast<std::byte>(v & 0xff));
}

void put32(std::vector<std::byte>& out, std::uint32_t v) {
    put16(out, static_cast<std::uint16_t>(v >> 16));
    put16(out, static_cast<std::uint16_t>(v & 0xffff));
}

// Sequence arithmetic modulo 2^32: how far `to` is ahead of `from`.
std::uint32_t ahead(std::uint32_t from, std::uint32_t to) {
    return to - from;
}

}  // namespace

Header parse_header(std::span<const std::byte> p) {
    Header h;
    if (p.size() < kHeaderV1)
        return h;
    h.protocol = be32(p, 0);
    h.length = be32(p, 4);
    if (p.size() >= kHeaderV2) {
        h.magic = be32(p, 8);
        h.tx_seq = be16(p, 12);
        h.rx_seq = be16(p, 14);
    }
    return h;
}

TcpHeader parse_tcp(std::span<const std::byte> p) {
    TcpHeader h;
    if (p.size() < kTcpHeader)
        return h;
    h.sport = be16(p, 0);
    h.dport = be16(p, 2);
    h.seq = be32(p, 4);
    h.ack = be32(p, 8);
    h.offset = static_cast<std::uint8_t>(std::to_integer<unsigned>(p[12]) >> 4);
    h.flags = std::to_integer<std::uint8_t>(p[13]);
    h.window = be16(p, 14);
    return h;
}

std::vector<std::byte> make_tcp(const TcpHeader& h, std::span<const std::byte> payload) {
    std::vector<std::byte> out;
    out.reserve(kTcpHeader + payload.size());
    put16(out, h.sport);
    put16(out, h.dport);
    put32(out, h.seq);
    put32(out, h.ack);
    out.push_back(static_cast<std::byte>((h.offset ? h.offset : 5) << 4));
    out.push_back(static_cast<std::byte>(h.flags));
    put16(out, h.window);
    put32(out, 0);  // checksum and urgent pointer: unused by usbmux
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

std::vector<std::byte> make_packet(std::uint32_t protocol, std::uint16_t tx_seq,
                                   std::uint16_t rx_seq, std::span<const std::byte> body) {
    std::vector<std::byte> out;
    out.reserve(kHeaderV2 + body.size());
    put32(out, protocol);
    put32(out, static_cast<std::uint32_t>(kHeaderV2 + body.size()));
    put32(out, kMagic);
    put16(out, tx_seq);
    put16(out, rx_seq);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

// ------------------------------------------------------------------ connections

struct Engine::Conn {
    std::uint16_t sport = 0;  // the host's port
    std::uint16_t dport = 0;  // the device's (the service's)
    std::condition_variable cv;
    // host to device
    std::vector<std::byte> inbox;
    std::size_t inbox_off = 0;
    std::uint32_t rx_next = 0;  // the host's next sequence number: our ACK
    std::uint32_t adv_end = 0;  // how far the host may send, as last advertised
    // device to host
    std::uint32_t tx_next = 0;
    std::uint32_t peer_ack = 0;
    std::uint32_t peer_win = 0;
    std::uint32_t max_win = 0;
    bool host_fin = false;    // reads end after what is buffered
    bool host_reset = false;  // the host closed the connection: reads end, writes fail
    bool broken = false;      // reset by the device (an error)
    bool dead = false;        // the engine closed (unplugged, host gone)

    std::size_t buffered() const { return inbox.size() - inbox_off; }
    std::uint32_t sendable() const {
        const std::uint32_t in_flight = ahead(peer_ack, tx_next);
        return peer_win > in_flight ? peer_win - in_flight : 0;
    }
    bool writable() const { return !host_reset && !broken && !dead; }
};

class Engine::MuxStream final : public phonesim::ios::Stream {
  public:
    MuxStream(Engine& engine, std::shared_ptr<Conn> conn)
        : engine_(engine), conn_(std::move(conn)) {}

    Result<std::size_t> read_some(std::span<std::byte> buffer) override {
        if (buffer.empty())
            return 0;
        bool update = false;
        std::size_t n = 0;
        {
            std::unique_lock lock(engine_.mutex_);
            auto& c = *conn_;
            c.cv.wait(lock, [&] {
                return c.buffered() > 0 || c.host_fin || c.host_reset || c.broken || c.dead;
            });
            if (c.buffered() == 0) {
                if (c.dead)
                    return fail(Errc::io, "the usbmux connection ended (device unplugged or host gone)");
                if (c.broken)
                    return fail(Errc::protocol, "the usbmux connection was reset");
                return 0;  // the host closed its side
            }
            n = std::min(buffer.size(), c.buffered());
            std::memcpy(buffer.data(), c.inbox.data() + c.inbox_off, n);
            c.inbox_off += n;
            if (c.inbox_off == c.inbox.size()) {
                c.inbox.clear();
                c.inbox_off = 0;
            } else if (c.inbox_off > engine_.options_.receive_window) {
                c.inbox.erase(c.inbox.begin(),
                              c.inbox.begin() + static_cast<std::ptrdiff_t>(c.inbox_off));
                c.inbox_off = 0;
            }
            update = engine_.ack_due(c) && c.writable();
        }
        if (update)
            (void)engine_.send_tcp(*conn_, kAck, {});
        return n;
    }

    Status write_all(std::span<const std::byte> bytes) override {
        // 16383 bytes a frame: no multiple of any bulk packet size, so no zero-length packet
        // follows (one IN transfer a frame instead of two).
        const std::size_t max_payload = kMaxFrame - 1 - kHeaderV2 - kTcpHeader;
        while (!bytes.empty()) {
            std::size_t n = 0;
            bool probe = false;
            {
                std::unique_lock lock(engine_.mutex_);
                auto& c = *conn_;
                auto ready = [&] { return !c.writable() || c.sendable() > 0; };
                if (engine_.options_.probe_interval.count() > 0) {
                    probe = !c.cv.wait_for(lock, engine_.options_.probe_interval, ready);
                } else {
                    c.cv.wait(lock, ready);
                }
                if (!c.writable())
                    return fail(c.dead ? Errc::io : Errc::protocol,
                                c.dead ? "the usbmux connection ended (device unplugged or host gone)"
                                       : "the usbmux connection was reset");
                if (!probe)
                    n = std::min<std::size_t>({bytes.size(), c.sendable(), max_payload});
            }
            if (probe) {
                engine_.count_probe();
                if (auto s = engine_.send_tcp(*conn_, kAck, {}); !s)
                    return s;
                continue;
            }
            if (auto s = engine_.send_tcp(*conn_, kAck, bytes.first(n)); !s)
                return s;
            bytes = bytes.subspan(n);
        }
        return {};
    }

  private:
    Engine& engine_;
    std::shared_ptr<Conn> conn_;
};

// ------------------------------------------------------------------ engine

Engine::Engine(std::shared_ptr<phonesim::ios::ServiceHost> host, Sender send, Options options)
    : host_(std::move(host)), send_(std::move(send)), options_(options) {}

Engine::~Engine() {
    close();
}

Stats Engine::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

std::size_t Engine::open_connections() const {
    std::lock_guard lock(mutex_);
    return conns_.size();
}

void Engine::count_probe() {
    std::lock_guard lock(mutex_);
    ++stats_.probes;
}

void Engine::close() {
    std::vector<std::jthread> threads;
    {
        std::lock_guard lock(mutex_);
        closed_ = true;
        for (auto& [port, c] : conns_) {
            c->dead = true;
            c->cv.notify_all();
        }
        for (auto& c : serving_) {
            c->dead = true;
            c->cv.notify_all();
        }
        conns_.clear();
        for (auto& [conn, t] : threads_)
            threads.push_back(std::move(t));
        threads_.clear();
        for (auto& t : ended_)
            threads.push_back(std::move(t));
        ended_.clear();
    }
    for (auto& t : threads)
        if (t.joinable())
            t.join();
}

std::uint16_t Engine::window_field(const Conn& c) const {
    const std::size_t free =
        options_.receive_window > c.buffered() ? options_.receive_window - c.buffered() : 0;
    return static_cast<std::uint16_t>(std::min<std::size_t>(free >> 8, 0xffff));
}

// Whether an ACK would let the host send noticeably more than it may now.
bool Engine::ack_due(const Conn& c) const {
    const std::uint32_t window = static_cast<std::uint32_t>(window_field(c)) << 8;
    const std::uint32_t new_end = c.rx_next + window;
    const std::uint32_t credit = ahead(c.rx_next, c.adv_end);
    const std::uint32_t gain = ahead(c.adv_end, new_end);
    if (gain == 0 || gain > 0x80000000u)
        return false;
    return gain >= options_.receive_window / 4 || credit < kMaxFrame;
}

Status Engine::send_packet(std::uint32_t protocol, std::span<const std::byte> body,
                           bool v1_header) {
    std::vector<std::byte> frame;
    if (v1_header) {
        put32(frame, protocol);
        put32(frame, static_cast<std::uint32_t>(kHeaderV1 + body.size()));
        frame.insert(frame.end(), body.begin(), body.end());
    } else {
        std::uint16_t rx = 0;
        {
            std::lock_guard lock(mutex_);
            rx = rx_seq_;
            ++stats_.frames_out;
        }
        frame = make_packet(protocol, tx_seq_++, rx, body);
    }
    return send_(std::move(frame));
}

Status Engine::send_tcp(Conn& c, std::uint8_t flags, std::span<const std::byte> payload) {
    std::lock_guard send_lock(send_mutex_);
    TcpHeader h;
    {
        std::lock_guard lock(mutex_);
        if (c.dead)
            return fail(Errc::io, "the usbmux connection ended (device unplugged or host gone)");
        h = {.sport = c.dport, .dport = c.sport, .seq = c.tx_next, .ack = c.rx_next,
             .offset = 5, .flags = flags, .window = window_field(c)};
        c.adv_end = c.rx_next + (static_cast<std::uint32_t>(h.window) << 8);
        c.tx_next += static_cast<std::uint32_t>(payload.size()) + ((flags & kSyn) ? 1u : 0u);
        stats_.bytes_to_host += payload.size();
        if (flags & kRst)
            ++stats_.resets_sent;
    }
    return send_packet(kProtoTcp, make_tcp(h, payload));
}

Status Engine::send_raw_tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq,
                            std::uint32_t ack, std::uint8_t flags, std::uint16_t window,
                            std::span<const std::byte> payload) {
    std::lock_guard send_lock(send_mutex_);
    return send_packet(kProtoTcp, make_tcp({.sport = sport, .dport = dport, .seq = seq, .ack = ack,
                                            .offset = 5, .flags = flags, .window = window},
                                           payload));
}

void Engine::on_transfer(std::span<const std::byte> transfer) {
    while (!transfer.empty()) {
        const std::size_t header = versioned_ ? kHeaderV2 : kHeaderV1;
        auto h = parse_header(transfer);
        const bool bad = transfer.size() < header || h.length < header ||
                         h.length > transfer.size() || h.length > kMaxHostPacket ||
                         (versioned_ && h.magic != kMagic);
        if (bad) {
            malformed(transfer);
            return;
        }
        on_packet(transfer.first(h.length));
        transfer = transfer.subspan(h.length);
    }
}

void Engine::malformed(std::span<const std::byte> packet) {
    {
        std::lock_guard lock(mutex_);
        ++stats_.malformed;
    }
    reset_named_by(packet);
}

void Engine::on_packet(std::span<const std::byte> packet) {
    const auto h = parse_header(packet);
    if (!versioned_) {
        // Before the handshake only the version packet (8-byte header) means anything.
        if (h.protocol != kProtoVersion || packet.size() < kHeaderV1 + 12) {
            malformed(packet);
            return;
        }
        std::vector<std::byte> reply;
        put32(reply, 2);  // major
        put32(reply, 0);  // minor
        put32(reply, 0);  // padding
        std::lock_guard send_lock(send_mutex_);
        if (send_packet(kProtoVersion, reply, true))
            versioned_ = true;
        return;
    }
    {
        std::lock_guard lock(mutex_);
        rx_seq_ = h.tx_seq;
    }
    const auto body = packet.subspan(kHeaderV2);
    switch (h.protocol) {
        case kProtoVersion:  // a repeated version packet: already answered
        case kProtoControl:
        case kProtoSetup:
            return;
        case kProtoTcp:
            break;
        default:
            malformed(packet);
            return;
    }
    const auto th = parse_tcp(body);
    if (body.size() < kTcpHeader || th.offset < 5 || th.offset * 4u > body.size()) {
        malformed(packet);
        return;
    }
    on_tcp(th, body.subspan(th.offset * 4u));
}

void Engine::on_tcp(const TcpHeader& th, std::span<const std::byte> payload) {
    std::shared_ptr<Conn> c;
    {
        std::lock_guard lock(mutex_);
        if (auto it = conns_.find(th.sport); it != conns_.end() && it->second->dport == th.dport)
            c = it->second;
    }
    if (th.flags == kSyn) {
        if (c)
            reset(c);  // a new connection on a port still in use: the old one is gone
        on_syn(th);
        return;
    }
    if (!c) {
        // Like usbmuxd: anything but a RST for no connection is answered with a RST.
        if (!(th.flags & kRst))
            (void)send_raw_tcp(th.dport, th.sport, th.ack, th.seq, kRst, 0, {});
        return;
    }
    if (th.flags & kRst) {
        std::lock_guard lock(mutex_);
        c->host_reset = true;
        conns_.erase(c->sport);
        c->cv.notify_all();
        return;
    }
    if ((th.flags & ~kFin) != kAck) {  // data frames carry ACK exactly; FIN|ACK ends reads
        reset(c);
        return;
    }
    bool ack_now = false, bad = false;
    {
        std::lock_guard lock(mutex_);
        c->peer_ack = th.ack;
        c->peer_win = static_cast<std::uint32_t>(th.window) << 8;
        c->max_win = std::max(c->max_win, c->peer_win);
        if (!payload.empty()) {
            const std::size_t free = options_.receive_window > c->buffered()
                                         ? options_.receive_window - c->buffered()
                                         : 0;
            if (th.seq != c->rx_next || payload.size() > free) {
                bad = true;  // a gap (no retransmission here) or past the window
            } else {
                c->inbox.insert(c->inbox.end(), payload.begin(), payload.end());
                c->rx_next += static_cast<std::uint32_t>(payload.size());
                stats_.bytes_from_host += payload.size();
                ack_now = ack_due(*c);
            }
        }
        if (th.flags & kFin) {
            c->host_fin = true;
            c->rx_next += 1;
            ack_now = true;
        }
        c->cv.notify_all();
    }
    if (bad) {
        reset(c);
        return;
    }
    if (ack_now)
        (void)send_tcp(*c, kAck, {});
}

void Engine::join_ended() {
    std::vector<std::jthread> ended;
    {
        std::lock_guard lock(mutex_);
        ended.swap(ended_);
    }
    for (auto& t : ended)
        t.join();  // each is past its last use of the engine's state
}

void Engine::on_syn(const TcpHeader& th) {
    join_ended();
    if (!host_ || !host_->listens(th.dport)) {
        {
            std::lock_guard lock(mutex_);
            ++stats_.refused;
        }
        (void)send_raw_tcp(th.dport, th.sport, 0, th.seq + 1, kRst | kAck, 0, {});
        return;
    }
    auto c = std::make_shared<Conn>();
    c->sport = th.sport;
    c->dport = th.dport;
    c->rx_next = th.seq + 1;
    c->peer_win = c->max_win = static_cast<std::uint32_t>(th.window) << 8;
    {
        std::lock_guard lock(mutex_);
        if (closed_)
            return;
        conns_[th.sport] = c;
        ++stats_.accepted;
    }
    if (!send_tcp(*c, kSyn | kAck, {})) {
        std::lock_guard lock(mutex_);
        conns_.erase(th.sport);
        return;
    }
    {
        std::lock_guard lock(mutex_);
        c->peer_ack = c->tx_next;  // the host's ACK of the SYN is implied by its first frame
        serving_.push_back(c);
        threads_.emplace(c.get(), std::jthread([this, c] { run_service(c); }));
    }
}

void Engine::reset_named_by(std::span<const std::byte> packet) {
    if (packet.size() < kHeaderV2 + 4)
        return;
    const std::uint16_t sport = be16(packet, kHeaderV2);
    const std::uint16_t dport = be16(packet, kHeaderV2 + 2);
    std::shared_ptr<Conn> c;
    {
        std::lock_guard lock(mutex_);
        if (auto it = conns_.find(sport); it != conns_.end() && it->second->dport == dport)
            c = it->second;
    }
    if (c)
        reset(c);
}

void Engine::reset(const std::shared_ptr<Conn>& c) {
    {
        std::lock_guard lock(mutex_);
        if (c->dead || c->host_reset)
            return;
        c->broken = true;
        if (auto it = conns_.find(c->sport); it != conns_.end() && it->second == c)
            conns_.erase(it);
        c->cv.notify_all();
    }
    (void)send_tcp(*c, kRst, {});
}

void Engine::run_service(std::shared_ptr<Conn> c) {
    MuxStream stream(*this, c);
    try {
        host_->serve(c->dport, stream);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "usbmux: the service on port %u failed: %s\n", c->dport, e.what());
    } catch (...) {
        std::fprintf(stderr, "usbmux: the service on port %u failed\n", c->dport);
    }
    // usbmuxd drops what it still buffers for its client when the connection resets: wait
    // until the host took every byte and its window is whole again, then reset.
    const auto deadline = std::chrono::steady_clock::now() + options_.drain_timeout;
    for (;;) {
        bool probe = false;
        {
            std::unique_lock lock(mutex_);
            auto drained = [&] {
                return !c->writable() || (c->peer_ack == c->tx_next && c->peer_win >= c->max_win);
            };
            const auto step = options_.probe_interval.count() > 0
                                  ? options_.probe_interval
                                  : std::chrono::milliseconds(100);
            probe = !c->cv.wait_for(lock, step, drained);
            if (!probe || std::chrono::steady_clock::now() >= deadline)
                break;
        }
        if (options_.probe_interval.count() > 0) {
            count_probe();
            (void)send_tcp(*c, kAck, {});
        }
    }
    bool rst = false;
    {
        std::lock_guard lock(mutex_);
        rst = c->writable();
        if (auto it = conns_.find(c->sport); it != conns_.end() && it->second == c)
            conns_.erase(it);
        std::erase(serving_, c);
        if (auto it = threads_.find(c.get()); it != threads_.end()) {
            ended_.push_back(std::move(it->second));
            threads_.erase(it);
        }
    }
    if (rst)
        (void)send_tcp(*c, kRst, {});
}

}  // namespace exhibit::usbsim::usbmux
