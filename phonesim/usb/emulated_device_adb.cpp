// The device side of an emulated device: host connections on the ADB interface, the byte
// pipe the server reads and writes, and plugging glue for EmulatedBus.
#include <umockdev.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <fmt/format.h>

#include "phonesim/usb/emulated_device.hpp"

namespace exhibit::usbsim {

namespace {

// One host connection as an adb::Transport for the server: the host's OUT transfers are a
// byte stream (zero-length packets carry nothing); each message goes out as two IN
// transfers, header then payload, never padded with a zero-length packet.
class EndpointPipe final : public adb::Transport {
  public:
    EndpointPipe(EmulatedDevice& device, std::uint64_t connection)
        : device_(device), connection_(connection) {}

    Status read_exact(std::span<std::byte> buffer) override {
        while (!buffer.empty()) {
            if (offset_ == pending_.size()) {
                auto next = device_.receive(connection_);
                if (!next)
                    return std::unexpected(next.error());
                pending_ = std::move(*next);
                offset_ = 0;
                continue;
            }
            auto n = std::min(buffer.size(), pending_.size() - offset_);
            std::memcpy(buffer.data(), pending_.data() + offset_, n);
            offset_ += n;
            buffer = buffer.subspan(n);
        }
        return {};
    }

    Status write_message(std::span<const std::byte> header,
                         std::span<const std::byte> payload) override {
        if (auto s = device_.send(connection_, {header.begin(), header.end()}); !s)
            return s;
        if (payload.empty())
            return {};
        return device_.send(connection_, {payload.begin(), payload.end()});
    }

    Result<bool> wait_readable(std::chrono::milliseconds timeout) override {
        if (offset_ < pending_.size())
            return true;
        return device_.wait_receivable(connection_, timeout);
    }

    void shutdown() override { device_.end_connection(connection_); }
    std::string describe() const override {
        return fmt::format("usb-device:{}", device_.bus_path());
    }

  private:
    EmulatedDevice& device_;
    std::uint64_t connection_;
    std::vector<std::byte> pending_;
    std::size_t offset_ = 0;
};

}  // namespace

PipeServer adb_pipe_server(AdbServer server) {
    return [server = std::move(server)](EmulatedDevice& device, std::uint64_t connection) {
        EndpointPipe pipe(device, connection);
        server(pipe);
    };
}

EmulatedDevice::Channel* EmulatedDevice::channel_of_interface(std::uint8_t itf) {
    for (auto& ch : channels_)
        if (ch->interface == itf)
            return ch.get();
    return nullptr;
}

EmulatedDevice::Channel* EmulatedDevice::channel_of_endpoint(std::uint8_t ep) {
    for (auto& ch : channels_)
        if (ch->in == ep || ch->out == ep)
            return ch.get();
    return nullptr;
}

EmulatedDevice::Channel* EmulatedDevice::channel_of_connection(std::uint64_t connection) const {
    for (const auto& ch : channels_)
        if (ch->connection && ch->connection->id == connection)
            return ch.get();
    return nullptr;
}

// A claim of the ADB interface by a new host starts a connection; so does the end of a
// server run while the same host still holds the claim (adbd restarts the same way). What
// the device already sent stays queued for the host when `carry_in`.
void EmulatedDevice::start_connection(Channel& ch, const void* owner, bool carry_in) {
    auto& current = ch.connection;
    if (current && current->open && current->owner == owner)
        return;
    Connection next{.id = next_connection_++, .owner = owner};
    if (carry_in && current) {
        next.in = std::move(current->in);
        next.in_offset = current->in_offset;
        next.in_bytes = current->in_bytes;
    }
    current = std::move(next);
    ++stats_.connections;
    cv_.notify_all();
}

bool EmulatedDevice::usable(std::uint64_t connection) const {
    const Channel* ch = channel_of_connection(connection);
    return !gone_ && ch && ch->connection->open;
}

EmulatedDevice::Connection* EmulatedDevice::live(std::uint64_t connection) {
    Channel* ch = usable(connection) ? channel_of_connection(connection) : nullptr;
    return ch && ch->connection ? &*ch->connection : nullptr;
}

void EmulatedDevice::end_connection(std::uint64_t connection) {
    std::lock_guard lock(mutex_);
    Channel* ch = channel_of_connection(connection);
    if (!ch)
        return;
    auto& c = *ch->connection;
    const bool restart =
        c.open && !gone_ && claims_.contains(ch->interface) && claims_[ch->interface] == c.owner;
    c.open = false;
    if (restart)
        start_connection(*ch, c.owner, true);
    cv_.notify_all();
    update_ready();
}

Result<std::vector<std::byte>> EmulatedDevice::receive(std::uint64_t connection) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] {
        auto* c = live(connection);
        return !c || !c->out.empty();
    });
    auto* c = live(connection);
    if (!c)
        return fail(Errc::protocol,
                    gone_ ? "the device was unplugged" : "the host closed the USB connection");
    auto t = std::move(c->out.front());
    c->out.pop_front();
    return t;
}

Result<bool> EmulatedDevice::wait_receivable(std::uint64_t connection,
                                             std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, timeout, [&] {
        auto* c = live(connection);
        return !c || !c->out.empty();
    });
    auto* c = live(connection);
    if (!c)
        return fail(Errc::protocol, "the USB connection ended");
    return !c->out.empty();
}

Status EmulatedDevice::send(std::uint64_t connection, std::vector<std::byte> transfer) {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] {
        auto* c = live(connection);
        return !c || c->in_bytes < kMaxQueuedIn;
    });
    auto* c = live(connection);
    if (!c)
        return fail(Errc::protocol,
                    gone_ ? "the device was unplugged" : "the host closed the USB connection");
    c->in_bytes += transfer.size();
    c->in.push_back(std::move(transfer));
    update_ready();
    return {};
}

void EmulatedDevice::serve(Channel& ch, const std::stop_token& stop) {
    std::uint64_t served = 0;
    for (;;) {
        std::uint64_t id = 0;
        {
            std::unique_lock lock(mutex_);
            cv_.wait(lock, [&] {
                return stop.stop_requested() || gone_ ||
                       (ch.connection && ch.connection->open && ch.connection->id != served);
            });
            if (stop.stop_requested() || gone_)
                return;
            id = ch.connection->id;
        }
        served = id;
        try {
            ch.server(*this, id);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "usbsim: %s: server failed: %s\n", bus_path().c_str(), e.what());
        }
        end_connection(id);
    }
}

void EmulatedDevice::stop_server() {
    for (auto& ch : channels_)
        if (ch->thread.joinable())
            ch->thread.request_stop();
    cv_.notify_all();
    for (auto& ch : channels_)
        if (ch->thread.joinable())
            ch->thread.join();
}

void* EmulatedDevice::make_handler() {
    handler_.reset(umockdev_ioctl_base_new());
    auto flags = static_cast<GConnectFlags>(0);
    g_signal_connect_data(handler_.get(), "handle-ioctl",
                          reinterpret_cast<GCallback>(&EmulatedDevice::on_ioctl), this, nullptr,
                          flags);
    g_signal_connect_data(handler_.get(), "client-connected",
                          reinterpret_cast<GCallback>(&EmulatedDevice::on_client_connected), this,
                          nullptr, flags);
    return handler_.get();
}

void EmulatedDevice::set_node_fifo(UniqueFd fifo) {
    std::lock_guard lock(mutex_);
    fifo_ = std::move(fifo);
    ready_ = false;  // the bus hands it over full
    update_ready();
}

}  // namespace exhibit::usbsim
