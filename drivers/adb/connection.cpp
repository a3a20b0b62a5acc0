#include "connection.hpp"

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

namespace exhibit::adb {

namespace {
// Received bytes buffered per stream before we stop acknowledging (the device then waits).
constexpr std::size_t kInboxLimit = 4 * 1024 * 1024;
}  // namespace

const std::set<std::string>& Connection::host_features() {
    static const std::set<std::string> features = {"shell_v2", "cmd", "stat_v2", "ls_v2",
                                                   "sendrecv_v2"};
    return features;
}

bool Connection::has_feature(std::string_view feature) const {
    std::string f(feature);
    return banner_.features.contains(f) && host_features().contains(f);
}

Connection::~Connection() = default;

Status Connection::send(std::uint32_t command, std::uint32_t arg0, std::uint32_t arg1,
                        std::span<const std::byte> payload) {
    if (!broken_)
        return broken_;
    auto header = encode_header(command, arg0, arg1, payload, version_);
    auto s = transport_->write_message(header, payload);
    if (!s)
        broken_ = s;
    return s;
}

Result<Message> Connection::receive(std::uint32_t max_payload) {
    if (!broken_)
        return std::unexpected(broken_.error());
    auto fail_with = [&](Error e) -> Result<Message> {
        broken_ = std::unexpected(e);
        return std::unexpected(std::move(e));
    };
    std::array<std::byte, kHeaderSize> raw{};
    if (auto s = transport_->read_exact(raw); !s)
        return fail_with(s.error());
    auto header = decode_header(raw, max_payload);
    if (!header)
        return fail_with(header.error());
    Message m;
    m.header = *header;
    if (header->data_length > 0)
        m.payload = std::move(spare_);
    m.payload.resize(header->data_length);
    if (auto s = transport_->read_exact(m.payload); !s)
        return fail_with(s.error());
    // A modern peer writes no checksum once it knows our version, even before its CNXN tells
    // us its own: verify only what an old (pre-2017) peer is known to send.
    const std::uint32_t check_version = m.command() == kCmdCnxn ? std::min(m.arg0(), kVersion)
                                        : online_               ? version_
                                                                : kVersion;
    if (auto s = check_payload(m.header, m.payload, check_version); !s)
        return fail_with(s.error());
    return m;
}

Result<std::unique_ptr<Connection>> Connection::open(std::unique_ptr<Transport> transport,
                                                     const ConnectOptions& options) {
    std::unique_ptr<Connection> c(new Connection(std::move(transport)));
    if (auto s = c->handshake(options); !s)
        return std::unexpected(s.error());
    return c;
}

Status Connection::handshake(const ConnectOptions& options) {
    Banner host{.system_type = "host"};
    host.features = host_features();
    if (auto s = send(kCmdCnxn, kVersion, options.max_payload, as_bytes(format_banner(host))); !s)
        return s;

    bool signed_once = false, offered_key = false;
    auto user_deadline = std::chrono::steady_clock::time_point::max();
    for (;;) {
        auto m = receive(kMaxHandshakePayload);
        if (!m) {
            // While the person decides, silence is expected: keep waiting until the deadline.
            if (m.error().code == Errc::timeout && offered_key &&
                std::chrono::steady_clock::now() < user_deadline) {
                broken_ = {};
                continue;
            }
            if (m.error().code == Errc::timeout && offered_key)
                return fail(Errc::timeout,
                            "the person did not allow this kiosk on the phone in time");
            return std::unexpected(m.error());
        }
        if (m->command() == kCmdCnxn) {
            online_ = true;
            version_ = std::min(m->arg0(), kVersion);
            max_payload_ =
                std::clamp(m->arg1(), kMaxPayloadV1, std::min(options.max_payload, kMaxPayload));
            auto banner = parse_banner(m->payload_text());
            if (!banner)
                return std::unexpected(banner.error());
            if (banner->system_type != "device")
                return fail(Errc::unsupported,
                            fmt::format("the phone is in {} mode, not a normal boot "
                                        "(ADB extraction needs a booted phone)",
                                        banner->system_type));
            banner_ = std::move(*banner);
            return {};
        }
        if (m->command() == kCmdStls)
            return fail(
                Errc::unsupported,
                "the phone asks for TLS (wireless debugging), which this kiosk does not speak");
        if (m->command() != kCmdAuth)
            continue;  // nothing else is meaningful before CNXN
        if (m->arg0() != kAuthToken)
            return fail(Errc::protocol, fmt::format("unexpected AUTH type {}", m->arg0()));
        if (m->payload.size() != kAuthTokenSize)
            return fail(Errc::protocol, fmt::format("AUTH token has {} bytes, expected {}",
                                                    m->payload.size(), kAuthTokenSize));
        if (!options.key)
            return fail(Errc::crypto,
                        "the phone requires authorization but no ADB host key is configured");
        if (!signed_once) {
            signed_once = true;
            if (options.on_auth_state)
                options.on_auth_state(AuthState::signing);
            auto sig = options.key->sign_token(m->payload);
            if (!sig)
                return std::unexpected(sig.error());
            if (auto s = send(kCmdAuth, kAuthSignature, 0, *sig); !s)
                return s;
        } else if (!offered_key) {
            // The phone does not know our key: offer it and wait for the person to allow it.
            offered_key = true;
            auto offered = options.key->offered_key();
            if (!offered)
                return std::unexpected(offered.error());
            std::string line = std::move(*offered);
            line.push_back('\0');
            if (auto s = send(kCmdAuth, kAuthRsaPublicKey, 0, as_bytes(line)); !s)
                return s;
            user_deadline = std::chrono::steady_clock::now() + options.user_wait;
            if (options.on_auth_state)
                options.on_auth_state(AuthState::waiting_for_user);
        }
    }
}

Connection::StreamState* Connection::find(std::uint32_t local_id) {
    auto it = streams_.find(local_id);
    return it == streams_.end() ? nullptr : &it->second;
}

void Connection::release(std::uint32_t local_id) {
    auto* s = find(local_id);
    if (!s)
        return;
    if (!s->remote_closed && s->remote_id != 0)
        (void)send(kCmdClse, local_id, s->remote_id);
    streams_.erase(local_id);
}

Status Connection::pump() {
    auto m = receive(max_payload_);
    if (!m)
        return std::unexpected(m.error());
    const std::uint32_t remote = m->arg0(), local = m->arg1();
    switch (m->command()) {
        case kCmdWrte: {
            auto* s = find(local);
            if (!s || s->remote_closed)
                return {};  // data for a stream we closed: dropped
            s->inbox_bytes += m->payload.size();
            s->inbox.push_back(std::move(m->payload));
            if (s->inbox_bytes < kInboxLimit)
                return send(kCmdOkay, local, s->remote_id);
            s->ack_owed = true;
            return {};
        }
        case kCmdOkay: {
            auto* s = find(local);
            if (!s)
                return send(kCmdClse, 0, remote);
            if (s->remote_id == 0)
                s->remote_id = remote;
            s->write_ready = true;
            return {};
        }
        case kCmdClse: {
            if (auto* s = find(local))
                s->remote_closed = true;
            return {};
        }
        case kCmdCnxn:
        case kCmdAuth:
            broken_ = fail(Errc::protocol, "the phone restarted the ADB connection");
            return broken_;
        default:
            return {};  // unknown commands are ignored, as adbd does
    }
}

Result<Stream> Connection::open_stream(std::string_view service) {
    if (service.size() >= kMaxHandshakePayload)
        return fail(Errc::invalid_argument, "service name too long");
    const std::uint32_t id = next_id_++;
    streams_[id] = StreamState{};
    std::string name(service);
    name.push_back('\0');
    if (auto s = send(kCmdOpen, id, 0, as_bytes(name)); !s) {
        streams_.erase(id);
        return std::unexpected(s.error());
    }
    for (;;) {
        auto* st = find(id);
        if (!st)
            return fail(Errc::internal, "stream state lost");
        if (st->remote_id != 0)
            return Stream(this, id);
        if (st->remote_closed) {
            streams_.erase(id);
            return fail(Errc::unsupported, fmt::format("the phone refused the service \"{}\"",
                                                       service.substr(0, service.find(':') + 1)));
        }
        if (auto s = pump(); !s)
            return std::unexpected(s.error());
    }
}

Stream::Stream(Stream&& o) noexcept
    : conn_(std::exchange(o.conn_, nullptr)), local_id_(o.local_id_) {}
Stream& Stream::operator=(Stream&& o) noexcept {
    if (this != &o) {
        close();
        conn_ = std::exchange(o.conn_, nullptr);
        local_id_ = o.local_id_;
    }
    return *this;
}
Stream::~Stream() {
    close();
}

void Stream::close() {
    if (conn_)
        conn_->release(local_id_);
    conn_ = nullptr;
}

bool Stream::is_open() const {
    if (!conn_)
        return false;
    auto* s = conn_->find(local_id_);
    return s && !s->remote_closed;
}

Status Stream::write(std::span<const std::byte> data) {
    if (!conn_)
        return fail(Errc::invalid_argument, "stream is closed");
    while (!data.empty()) {
        for (;;) {
            auto* s = conn_->find(local_id_);
            if (!s || s->remote_closed)
                return fail(Errc::protocol, "the phone closed the stream");
            if (s->write_ready)
                break;
            if (auto p = conn_->pump(); !p)
                return p;
        }
        auto* s = conn_->find(local_id_);
        if (!s)
            return fail(Errc::internal, "stream state lost");
        auto chunk = data.first(std::min<std::size_t>(data.size(), conn_->max_payload_));
        s->write_ready = false;
        if (auto w = conn_->send(kCmdWrte, local_id_, s->remote_id, chunk); !w)
            return w;
        data = data.subspan(chunk.size());
    }
    return {};
}

Result<Connection::StreamState*> Connection::wait_readable(std::uint32_t local_id) {
    for (;;) {
        auto* s = find(local_id);
        if (!s)
            return fail(Errc::internal, "stream state lost");
        if (s->inbox_bytes > 0)
            return s;
        if (s->remote_closed)
            return nullptr;
        if (auto p = pump(); !p)
            return std::unexpected(p.error());
    }
}

Result<std::span<const std::byte>> Stream::peek(std::size_t max) {
    if (!conn_)
        return fail(Errc::invalid_argument, "stream is closed");
    auto readable = conn_->wait_readable(local_id_);
    if (!readable)
        return std::unexpected(readable.error());
    auto* s = *readable;
    if (!s || s->inbox.empty())
        return std::span<const std::byte>{};
    const auto& front = s->inbox.front();
    return std::span(front).subspan(s->inbox_offset, std::min(max, front.size() - s->inbox_offset));
}

Status Stream::consume(std::size_t n) {
    auto* s = conn_ ? conn_->find(local_id_) : nullptr;
    if (!s || n > s->inbox_bytes)
        return fail(Errc::internal, "consumed more than the stream received");
    while (n > 0 && !s->inbox.empty()) {
        auto& front = s->inbox.front();
        const std::size_t take = std::min(n, front.size() - s->inbox_offset);
        s->inbox_offset += take;
        s->inbox_bytes -= take;
        n -= take;
        if (s->inbox_offset == front.size()) {
            conn_->spare_ = std::move(front);
            s->inbox.pop_front();
            s->inbox_offset = 0;
        }
    }
    // The device waits for our OKAY once we hold kInboxLimit bytes: send it when below.
    if (s->ack_owed && s->inbox_bytes < kInboxLimit && !s->remote_closed) {
        s->ack_owed = false;
        if (auto w = conn_->send(kCmdOkay, local_id_, s->remote_id); !w)
            return std::unexpected(w.error());
    }
    return {};
}

Result<std::size_t> Stream::read_some(std::span<std::byte> buffer) {
    if (!conn_)
        return fail(Errc::invalid_argument, "stream is closed");
    std::size_t copied = 0;
    while (copied < buffer.size()) {
        if (const auto* s = conn_->find(local_id_); copied > 0 && (!s || s->inbox_bytes == 0))
            break;  // what was buffered is read: do not wait for more
        auto view = peek(buffer.size() - copied);
        if (!view)
            return std::unexpected(view.error());
        if (view->empty())
            break;
        std::memcpy(buffer.data() + copied, view->data(), view->size());
        copied += view->size();
        if (auto s = consume(view->size()); !s)
            return std::unexpected(s.error());
    }
    return copied;
}

Status Stream::read_exact(std::span<std::byte> buffer) {
    while (!buffer.empty()) {
        auto n = read_some(buffer);
        if (!n)
            return std::unexpected(n.error());
        if (*n == 0)
            return fail(Errc::protocol, "the phone closed the stream in the middle of a reply");
        buffer = buffer.subspan(*n);
    }
    return {};
}

Result<std::string> Stream::read_to_end(std::size_t limit) {
    std::string out;
    std::byte buf[65536];
    for (;;) {
        auto n = read_some(buf);
        if (!n)
            return std::unexpected(n.error());
        if (*n == 0)
            return out;
        if (out.size() + *n > limit)
            return fail(Errc::protocol, fmt::format("the phone sent more than {} bytes", limit));
        out.append(reinterpret_cast<const char*>(buf), *n);
    }
}

}  // namespace exhibit::adb
