// The host side of one ADB connection: handshake (CNXN, AUTH) and multiplexed streams
// (OPEN/OKAY/WRTE/CLSE). Classic flow control: one unacknowledged WRTE per stream and
// direction.
//
// Thread-bound: a connection and its streams are used from one thread (the session worker).
// Any blocking call services every stream: packets for other streams are buffered (bounded:
// their OKAY is held back while their buffer is full). Transport::shutdown() from another
// thread cancels whatever is blocked.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "drivers/adb/adb_protocol.hpp"
#include "drivers/adb/android_pubkey.hpp"
#include "drivers/adb/transport.hpp"

namespace exhibit::adb {

enum class AuthState {
    signing,           // the device asked for a signature; we answered with our key
    waiting_for_user,  // the device does not know our key: the person must allow this kiosk
};

struct ConnectOptions {
    const AdbAuthKey* key = nullptr;  // required if the device asks for AUTH
    // Called when the handshake needs the person holding the phone.
    std::function<void(AuthState)> on_auth_state;
    // How long to wait for the person to allow the kiosk on the phone.
    std::chrono::milliseconds user_wait{std::chrono::minutes(2)};
    std::uint32_t max_payload = kMaxPayload;
};

class Connection;

// One stream; closing (or destroying) sends CLSE.
class Stream {
  public:
    Stream() = default;
    Stream(Stream&& other) noexcept;
    Stream& operator=(Stream&& other) noexcept;
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    ~Stream();

    // Sends bytes as WRTE messages of at most the negotiated payload size.
    Status write(std::span<const std::byte> data);
    // Returns what is buffered (at least one byte), waiting if nothing is; 0 once the device
    // closed the stream and everything was read.
    Result<std::size_t> read_some(std::span<std::byte> buffer);
    // Fills `buffer` completely; a close before that is Errc::protocol.
    Status read_exact(std::span<std::byte> buffer);
    // Reads until the device closes the stream, up to `limit` bytes (Errc::protocol beyond).
    Result<std::string> read_to_end(std::size_t limit);
    // Up to `max` received bytes, in place (waiting if nothing is buffered; empty once the
    // device closed the stream and everything was read). The view stays valid until the next
    // call on this stream or its connection; consume() what was used.
    Result<std::span<const std::byte>> peek(std::size_t max);
    Status consume(std::size_t n);
    void close();
    bool is_open() const;
    std::uint32_t local_id() const { return local_id_; }

  private:
    friend class Connection;
    Stream(Connection* c, std::uint32_t id) : conn_(c), local_id_(id) {}
    Connection* conn_ = nullptr;
    std::uint32_t local_id_ = 0;
};

class Connection {
  public:
    // Performs the handshake. Fails with Errc::crypto if the device rejects our key
    // signature and Errc::timeout if the person did not allow the kiosk in time.
    static Result<std::unique_ptr<Connection>> open(std::unique_ptr<Transport> transport,
                                                    const ConnectOptions& options);
    ~Connection();

    Result<Stream> open_stream(std::string_view service);

    const Banner& device_banner() const { return banner_; }
    std::uint32_t max_payload() const { return max_payload_; }
    std::uint32_t version() const { return version_; }
    bool has_feature(std::string_view feature) const;
    Transport& transport() { return *transport_; }
    // False once a call failed on the link itself (it stays unusable).
    bool healthy() const { return broken_.has_value(); }

    // Features this host announces.
    static const std::set<std::string>& host_features();

  private:
    friend class Stream;
    struct StreamState {
        std::uint32_t remote_id = 0;
        std::deque<std::vector<std::byte>> inbox;  // received payloads not yet read
        std::size_t inbox_offset = 0;              // consumed bytes of inbox.front()
        std::size_t inbox_bytes = 0;
        bool remote_closed = false;
        bool ack_owed = false;    // a WRTE we have not acknowledged yet (buffer was full)
        bool write_ready = true;  // the device acknowledged our last WRTE
    };

    explicit Connection(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {}
    Status handshake(const ConnectOptions& options);
    Status send(std::uint32_t command, std::uint32_t arg0, std::uint32_t arg1,
                std::span<const std::byte> payload = {});
    Result<Message> receive(std::uint32_t max_payload);
    // Reads and dispatches one message.
    Status pump();
    void dispatch_close(std::uint32_t local_id);
    StreamState* find(std::uint32_t local_id);
    // Waits until the stream has something buffered; null when the device closed it first.
    Result<StreamState*> wait_readable(std::uint32_t local_id);
    void release(std::uint32_t local_id);

    std::unique_ptr<Transport> transport_;
    Banner banner_;
    std::uint32_t version_ = kVersionMin;
    bool online_ = false;  // the device's CNXN arrived
    std::uint32_t max_payload_ = kMaxPayloadV1;
    std::uint32_t next_id_ = 1;
    std::map<std::uint32_t, StreamState> streams_;
    // The last payload read to its end, kept to receive the next one into: no allocation
    // and no zero-filling per message.
    std::vector<std::byte> spare_;
    Status broken_;  // set once the connection failed; every later call returns it
};

}  // namespace exhibit::adb
