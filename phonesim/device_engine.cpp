#include "device_engine.hpp"

#include <openssl/rand.h>

#include <fmt/format.h>

#include "phonesim/services.hpp"

namespace exhibit::phonesim {

using namespace adb;

struct DeviceEngine::Stream {
    std::uint32_t remote_id = 0;
    std::unique_ptr<Service> service;
    bool remote_ready = true;  // the host acknowledged our last WRTE
};

DeviceEngine::DeviceEngine(const PhoneOptions& options) : options_(options), fs_(options.root) {}
DeviceEngine::~DeviceEngine() = default;

Status DeviceEngine::send(std::uint32_t command, std::uint32_t arg0, std::uint32_t arg1,
                          std::span<const std::byte> payload) {
    auto header = encode_header(command, arg0, arg1, payload, version_);
    return transport_->write_message(header, payload);
}

std::string DeviceEngine::banner() const {
    // adbd's order: name, model, device, then the features (reference §2).
    std::string features;
    for (const auto& f : options_.features)
        features += (features.empty() ? "" : ",") + f;
    return fmt::format(
        "device::ro.product.name={};ro.product.model={};ro.product.device={};features={}",
        options_.product, options_.model, options_.device, features);
}

Status DeviceEngine::go_online() {
    online_ = true;
    waiting_key_.reset();
    // Like adbd: always its own version; the negotiated one only decides the checksum.
    return send(kCmdCnxn, kVersion, max_payload_, as_bytes(banner()));
}

Status DeviceEngine::send_token() {
    if (RAND_bytes(reinterpret_cast<unsigned char*>(token_.data()),
                   static_cast<int>(token_.size())) != 1)
        return fail(Errc::crypto, "no random bytes for the AUTH token");
    return send(kCmdAuth, kAuthToken, 0, token_);
}

Status DeviceEngine::on_cnxn(const Message& m) {
    version_ = std::min(m.arg0(), kVersion);
    max_payload_ = std::min(m.arg1(), options_.max_payload);
    if (!options_.require_auth)
        return go_online();
    online_ = false;
    return send_token();
}

Status DeviceEngine::on_auth(const Message& m) {
    if (!options_.require_auth || online_)
        return {};
    if (m.arg0() == kAuthSignature) {
        if (options_.keys && options_.keys->verify(token_, m.payload))
            return go_online();
        return send_token();  // wrong or unknown key: a new token for the next key
    }
    if (m.arg0() == kAuthRsaPublicKey) {
        std::string line(m.payload_text());
        while (!line.empty() && (line.back() == '\0' || line.back() == '\n'))
            line.pop_back();
        if (options_.keys && options_.keys->offer(line))
            return go_online();
        waiting_key_ = line;  // silent until the person allows it (control FIFO: allow)
    }
    return {};
}

Status DeviceEngine::on_open(const Message& m) {
    if (m.arg0() == 0)
        return {};  // 0 is never a valid stream id: adbd drops such an OPEN
    std::string name(m.payload_text());
    while (!name.empty() && name.back() == '\0')
        name.pop_back();
    std::unique_ptr<Service> service;
    if (name == "sync:") {
        service = std::make_unique<SyncService>(fs_, options_.scenario.get());
    } else if (name.starts_with("shell")) {
        auto colon = name.find(':');
        if (colon != std::string::npos) {
            auto args = name.substr(0, colon);
            bool v2 = args.find(",v2") != std::string::npos;
            service = std::make_unique<ShellService>(name.substr(colon + 1), v2, options_.identity,
                                                     options_.records);
        }
    } else if (name.starts_with("exec:")) {
        service = std::make_unique<ShellService>(name.substr(5), false, options_.identity,
                                                 options_.records);
    }
    if (!service)
        return send(kCmdClse, 0, m.arg0());  // unknown service: refused
    auto id = next_id_++;
    auto stream = std::make_unique<Stream>();
    stream->remote_id = m.arg0();
    stream->service = std::move(service);
    streams_[id] = std::move(stream);
    return send(kCmdOkay, id, m.arg0());
}

Status DeviceEngine::handle(const Message& m) {
    switch (m.command()) {
        case kCmdCnxn:
            return on_cnxn(m);
        case kCmdAuth:
            return on_auth(m);
        default:
            break;
    }
    if (!online_)
        return {};  // nothing else is served before the connection is up
    auto it = streams_.find(m.arg1());
    switch (m.command()) {
        case kCmdOpen:
            return on_open(m);
        case kCmdWrte:
            if (it == streams_.end())
                return {};
            it->second->service->input(m.payload);
            return send(kCmdOkay, it->first, it->second->remote_id);
        case kCmdOkay:
            if (it != streams_.end())
                it->second->remote_ready = true;
            return {};
        case kCmdClse:
            if (it != streams_.end())
                streams_.erase(it);
            return {};
        default:
            return {};
    }
}

Status DeviceEngine::pump_output() {
    auto& out = out_;
    out.reserve(max_payload_ + 64);
    for (auto it = streams_.begin(); it != streams_.end();) {
        auto& s = *it->second;
        if (!s.remote_ready) {
            ++it;
            continue;
        }
        out.clear();
        s.service->produce(out, max_payload_);
        switch (s.service->action()) {
            case ConnectionAction::none:
                break;
            case ConnectionAction::disconnect:
                if (!out.empty())
                    (void)send(kCmdWrte, it->first, s.remote_id, out);
                transport_->shutdown();
                return fail(Errc::cancelled, "scenario: disconnected");
            case ConnectionAction::oversized_message: {
                // A header announcing far more than the negotiated payload size.
                std::vector<std::byte> fake(16);
                auto header = encode_header(kCmdWrte, it->first, s.remote_id, fake, version_);
                std::uint32_t huge = max_payload_ * 64 + 1;
                for (int i = 0; i < 4; ++i)
                    header[12 + static_cast<std::size_t>(i)] =
                        static_cast<std::byte>(huge >> (8 * i));
                (void)transport_->write_message(header, fake);
                transport_->shutdown();
                return fail(Errc::cancelled, "scenario: oversized message sent");
            }
            case ConnectionAction::bad_magic: {
                std::vector<std::byte> payload(8);
                auto header = encode_header(kCmdWrte, it->first, s.remote_id, payload, version_);
                header[20] ^= std::byte{0x55};
                (void)transport_->write_message(header, payload);
                transport_->shutdown();
                return fail(Errc::cancelled, "scenario: bad magic sent");
            }
        }
        if (!out.empty()) {
            s.remote_ready = false;
            if (auto r = send(kCmdWrte, it->first, s.remote_id, out); !r)
                return r;
            ++it;
        } else if (s.service->done()) {
            if (auto r = send(kCmdClse, it->first, s.remote_id); !r)
                return r;
            it = streams_.erase(it);
        } else {
            ++it;
        }
    }
    return {};
}

Status DeviceEngine::serve(Transport& transport) {
    transport_ = &transport;
    for (;;) {
        if (auto s = pump_output(); !s)
            return s.error().code == Errc::cancelled ? Status{} : s;
        if (waiting_key_) {
            // Silent until the person allows the key; the host sends nothing meanwhile.
            auto readable = transport.wait_readable(std::chrono::milliseconds(100));
            if (!readable)
                return {};
            if (!*readable) {
                if (options_.keys && options_.keys->is_authorised(*waiting_key_))
                    if (auto s = go_online(); !s)
                        return s;
                continue;
            }
        }
        std::array<std::byte, kHeaderSize> raw{};
        if (auto s = transport.read_exact(raw); !s)
            return {};  // the host went away
        auto header = decode_header(raw, std::max(max_payload_, kMaxHandshakePayload));
        if (!header)
            return std::unexpected(header.error());
        Message m;
        m.header = *header;
        m.payload.resize(header->data_length);
        if (auto s = transport.read_exact(m.payload); !s)
            return {};
        // Only a host speaking the original version (0x01000000) fills data_check, and its
        // CNXN tells us so; modern adbd never verifies.
        auto check_version = m.command() == kCmdCnxn ? std::min(m.arg0(), kVersion) : version_;
        if (auto s = check_payload(m.header, m.payload, check_version); !s)
            return s;
        if (auto s = handle(m); !s)
            return s;
    }
}

}  // namespace exhibit::phonesim
