// The device side of Apple's usbmux protocol (version 2), independent of USB: host packets
// in (one bulk OUT transfer each), device packets out through a sender (one bulk IN
// transfer each, at most 16384 bytes with headers, as one IN URB of usbmuxd holds).
//
//   - Version: the host's 8-byte-header version packet is answered with major 2; later
//     packets carry the 16-byte header {protocol, length, magic 0xfeedface, tx_seq, rx_seq}.
//     SETUP (2) and control (1) packets from the host are ignored.
//   - TCP (6): a SYN to a port the ServiceHost listens on gets SYN|ACK and a connection served
//     by host->serve() on a thread of its own; otherwise RST. Data frames carry flags == ACK
//     exactly; the device never sends more than the host's window (th_win << 8) allows and
//     advertises its own (a 256 KiB receive buffer). There is no retransmission: a sequence
//     gap, a flag other than ACK on a connected connection or data past the window resets the
//     connection (RST). usbmuxd has no half-close: a client's close reaches the device as RST,
//     which the service reads as end of stream (0).
//   - An ill-formed packet (bad magic, length too short or longer than the transfer, unknown
//     protocol, short TCP header) is dropped; the connection its TCP ports name, if any, is
//     reset. Nothing a host sends crashes the engine.
//   - When blocked by the host's window, the device sends zero-length ACKs ("window probes")
//     every probe_interval: usbmuxd answers them with its pending ACK, which it may otherwise
//     only send when its poll times out.
//   - When a service returns, the device waits (bounded) until the host has taken every byte
//     and reopened its window — usbmuxd drops what it still buffers for its client when a
//     connection resets — and then sends RST.
//   - close() (host gone, device unplugged): every stream's read and write fail.
//
// Thread-safe: on_transfer() from one reader thread, streams from their service threads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "phonesim/ios/service_host.hpp"

namespace exhibit::usbsim::usbmux {

inline constexpr std::uint32_t kProtoVersion = 0;
inline constexpr std::uint32_t kProtoControl = 1;
inline constexpr std::uint32_t kProtoSetup = 2;
inline constexpr std::uint32_t kProtoTcp = 6;
inline constexpr std::uint32_t kMagic = 0xfeedface;
inline constexpr std::size_t kHeaderV1 = 8;
inline constexpr std::size_t kHeaderV2 = 16;
inline constexpr std::size_t kTcpHeader = 20;
inline constexpr std::size_t kMaxFrame = 16384;  // one usbmuxd IN URB
inline constexpr std::size_t kMaxHostPacket = 65536;
inline constexpr std::uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;

// Parses the 16-byte v2 header; for tests.
struct Header {
    std::uint32_t protocol = 0;
    std::uint32_t length = 0;
    std::uint32_t magic = 0;
    std::uint16_t tx_seq = 0;
    std::uint16_t rx_seq = 0;
};
Header parse_header(std::span<const std::byte> packet);

struct TcpHeader {
    std::uint16_t sport = 0;
    std::uint16_t dport = 0;
    std::uint32_t seq = 0;
    std::uint32_t ack = 0;
    std::uint8_t offset = 0;  // in 32-bit words
    std::uint8_t flags = 0;
    std::uint16_t window = 0;
};
TcpHeader parse_tcp(std::span<const std::byte> tcp);
// A TCP header (20 bytes, network order) with `payload` after it.
std::vector<std::byte> make_tcp(const TcpHeader& h, std::span<const std::byte> payload);
// A v2 packet: the 16-byte header (length filled in) and `body`.
std::vector<std::byte> make_packet(std::uint32_t protocol, std::uint16_t tx_seq,
                                   std::uint16_t rx_seq, std::span<const std::byte> body);

struct Options {
    std::chrono::milliseconds probe_interval{10};  // 0: never probe (wait for the host's ACK)
    std::chrono::milliseconds drain_timeout{10000};
    std::size_t receive_window = 256 * 1024;
};

struct Stats {
    std::uint64_t accepted = 0;
    std::uint64_t refused = 0;         // SYNs answered with RST
    std::uint64_t resets_sent = 0;     // connections reset by the device (errors, closes)
    std::uint64_t malformed = 0;       // host packets dropped as ill-formed
    std::uint64_t probes = 0;          // zero-length ACKs sent while window-blocked
    std::uint64_t frames_out = 0;
    std::uint64_t bytes_to_host = 0;   // TCP payload
    std::uint64_t bytes_from_host = 0;
};

// Sends one device-to-host packet (one IN transfer). Fails once the host is gone.
using Sender = std::function<Status(std::vector<std::byte> frame)>;

class Engine {
  public:
    Engine(std::shared_ptr<phonesim::ios::ServiceHost> host, Sender send, Options options = {});
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;
    ~Engine();  // close(), then joins every service thread

    // One host-to-device transfer; zero-length transfers (ZLPs) carry nothing.
    void on_transfer(std::span<const std::byte> transfer);
    // The host went away: every stream fails; service threads are joined.
    void close();
    Stats stats() const;
    std::size_t open_connections() const;

  private:
    struct Conn;
    class MuxStream;
    void on_packet(std::span<const std::byte> packet);
    void on_tcp(const TcpHeader& th, std::span<const std::byte> payload);
    void on_syn(const TcpHeader& th);
    void malformed(std::span<const std::byte> packet);
    void count_probe();
    void reset_named_by(std::span<const std::byte> packet);
    void reset(const std::shared_ptr<Conn>& c);
    void run_service(std::shared_ptr<Conn> c);
    Status send_tcp(Conn& c, std::uint8_t flags, std::span<const std::byte> payload);
    Status send_raw_tcp(std::uint16_t sport, std::uint16_t dport, std::uint32_t seq,
                        std::uint32_t ack, std::uint8_t flags, std::uint16_t window,
                        std::span<const std::byte> payload);
    Status send_packet(std::uint32_t protocol, std::span<const std::byte> body,
                       bool v1_header = false);
    // Conn helpers, with mutex_ held.
    std::uint16_t window_field(const Conn& c) const;
    bool ack_due(const Conn& c) const;

    const std::shared_ptr<phonesim::ios::ServiceHost> host_;
    const Sender send_;
    const Options options_;

    mutable std::mutex send_mutex_;  // one frame at a time, in sequence order
    std::uint16_t tx_seq_ = 0;       // guarded by send_mutex_

    mutable std::mutex mutex_;  // guards everything below and every Conn
    std::condition_variable cv_;
    bool versioned_ = false;  // touched by the reader thread only
    bool closed_ = false;
    std::uint16_t rx_seq_ = 0xffff;
    std::map<std::uint16_t, std::shared_ptr<Conn>> conns_;  // by the host's port
    std::vector<std::shared_ptr<Conn>> serving_;            // those with a service running
    std::map<const Conn*, std::jthread> threads_;  // services running
    std::vector<std::jthread> ended_;              // services that returned, to be joined
    void join_ended();
    Stats stats_;
};

}  // namespace exhibit::usbsim::usbmux
