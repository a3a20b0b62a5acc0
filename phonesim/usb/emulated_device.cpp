#include "phonesim/usb/emulated_device.hpp"

// <sys/ioctl.h> must come before <linux/usbdevice_fs.h> for the USBDEVFS_* values.
#include <sys/ioctl.h>
//
#include <linux/usbdevice_fs.h>
#include <umockdev.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstddef>
#include <cstring>
#include <set>

#include <fmt/format.h>

namespace exhibit::usbsim {

namespace {

using Data = UMockdevIoctlData;
using Client = UMockdevIoctlClient;

constexpr std::uint8_t kUrbControl = USBDEVFS_URB_TYPE_CONTROL;
constexpr std::uint8_t kUrbBulk = USBDEVFS_URB_TYPE_BULK;
constexpr std::uint8_t kUrbInterrupt = USBDEVFS_URB_TYPE_INTERRUPT;

// Copies `length` bytes of client memory at the pointer stored at `offset` of `parent`; the
// pointer then refers to the copy, which is written back when the ioctl completes.
GObjectPtr<Data> resolve(Data* parent, std::size_t offset, std::size_t length) {
    return GObjectPtr<Data>(umockdev_ioctl_data_resolve(parent, offset, length, nullptr));
}

std::optional<std::uint32_t> read_u32(Data* arg) {
    auto v = resolve(arg, 0, sizeof(std::uint32_t));
    if (!v || v->data_len < 4)
        return std::nullopt;
    std::uint32_t out;
    std::memcpy(&out, v->data, sizeof out);
    return out;
}

}  // namespace

void unref_gobject(void* object) noexcept {
    g_object_unref(object);
}

struct EmulatedDevice::Urb {
    const void* client = nullptr;  // identity only: holding a reference outlives the testbed
    GObjectPtr<Data> urb;          // the resolved struct usbdevfs_urb
    GObjectPtr<Data> buffer;       // its resolved buffer, when needed
    std::uint8_t type = 0;
    std::uint8_t endpoint = 0;
    std::size_t length = 0;
    int status = 0;
    std::size_t actual = 0;
    std::vector<std::uint8_t> reply;  // control IN: the data after the setup packet
    bool awaiting_data = false;       // bulk or interrupt IN not filled yet
};

EmulatedDevice::EmulatedDevice(DeviceSpec spec, BuiltDescriptors descriptors, std::uint8_t bus,
                               std::uint8_t port, std::uint8_t address, AdbServer server,
                               PipeServer mtp, PipeServer usbmux)
    : spec_(std::move(spec)),
      descriptors_(std::move(descriptors)),
      bus_(bus),
      port_(port),
      address_(address),
      devnode_(fmt::format("/dev/bus/usb/{:03}/{:03}", bus, address)) {
    for (const auto& e : descriptors_.endpoints)
        endpoints_[e.address] = {e.interface, e.kind, e.max_packet, false};
    configuration_ = spec_.plugged_configuration();
    if (server)
        add_channel(descriptors_.adb_interface, descriptors_.adb_in, descriptors_.adb_out,
                    adb_pipe_server(std::move(server)));
    add_channel(descriptors_.mtp_interface, descriptors_.mtp_in, descriptors_.mtp_out,
                std::move(mtp));
    add_channel(descriptors_.usbmux_interface, descriptors_.usbmux_in, descriptors_.usbmux_out,
                std::move(usbmux));
    for (auto& ch : channels_)
        ch->thread = std::jthread([this, c = ch.get()](std::stop_token stop) { serve(*c, stop); });
}

void EmulatedDevice::add_channel(std::optional<std::uint8_t> interface, std::uint8_t in,
                                 std::uint8_t out, PipeServer server) {
    if (!server || !interface)
        return;
    auto ch = std::make_unique<Channel>();
    ch->interface = *interface;
    ch->in = in;
    ch->out = out;
    ch->server = std::move(server);
    channels_.push_back(std::move(ch));
}

EmulatedDevice::~EmulatedDevice() {
    {
        std::lock_guard lock(mutex_);
        gone_ = true;
        for (auto& ch : channels_)
            if (ch->connection)
                ch->connection->open = false;
    }
    stop_server();
    {
        std::lock_guard lock(mutex_);
        for (const void* client : clients_)
            g_object_weak_unref(static_cast<GObject*>(const_cast<void*>(client)),
                                &EmulatedDevice::on_client_finalized, this);
        clients_.clear();
    }
    handler_.reset();
}

std::string EmulatedDevice::bus_path() const {
    return fmt::format("{}-{}", bus_, port_);
}

bool EmulatedDevice::plugged() const {
    std::lock_guard lock(mutex_);
    return !gone_;
}

DeviceStats EmulatedDevice::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

// ------------------------------------------------------------------ ioctl dispatch

int EmulatedDevice::on_ioctl(void*, void* client, void* self) noexcept {
    auto* d = static_cast<EmulatedDevice*>(self);
    Reply reply{-1, EIO};
    std::unique_ptr<Urb> keep;  // a reaped URB: its data is written back by complete()
    try {
        auto req = static_cast<std::uint32_t>(
            umockdev_ioctl_client_get_request(static_cast<Client*>(client)));
        Data* arg = umockdev_ioctl_client_get_arg(static_cast<Client*>(client));
        std::lock_guard lock(d->mutex_);
        if (d->gone_ && req != USBDEVFS_REAPURBNDELAY && req != USBDEVFS_REAPURB &&
            req != USBDEVFS_DISCARDURB) {
            reply = {-1, ENODEV};
        } else {
            switch (req) {
                case USBDEVFS_SUBMITURB:
                    reply = d->submit_urb(client, arg);
                    break;
                case USBDEVFS_REAPURB:  // libusb only reaps without waiting; same here
                case USBDEVFS_REAPURBNDELAY:
                    reply = d->reap_urb(client, arg, keep);
                    break;
                case USBDEVFS_DISCARDURB:
                    reply = d->discard_urb(client, arg);
                    break;
                default:
                    reply = d->other_ioctl(client, req, arg);
                    break;
            }
        }
        d->update_ready();
    } catch (...) {
        reply = {-1, EIO};  // bad_alloc; the host sees an I/O error, not a hang
    }
    umockdev_ioctl_client_complete(static_cast<Client*>(client), reply.result, reply.error);
    return 1;  // handled
}

EmulatedDevice::Reply EmulatedDevice::other_ioctl(void* client, std::uint32_t req, Data* arg) {
    switch (req) {
        case USBDEVFS_GET_CAPABILITIES: {
            // One URB per transfer, no 16 KiB splitting, zero-length packets on request.
            auto v = resolve(arg, 0, sizeof(std::uint32_t));
            if (!v)
                return {-1, EFAULT};
            std::uint32_t caps = USBDEVFS_CAP_ZERO_PACKET | USBDEVFS_CAP_BULK_CONTINUATION |
                                 USBDEVFS_CAP_NO_PACKET_SIZE_LIM |
                                 USBDEVFS_CAP_BULK_SCATTER_GATHER |
                                 USBDEVFS_CAP_REAP_AFTER_DISCONNECT;
            std::memcpy(v->data, &caps, sizeof caps);
            return {};
        }
        case USBDEVFS_CLAIMINTERFACE:
        case USBDEVFS_DISCONNECT_CLAIM:  // libusb's claim with auto-detach; the interface first
        case USBDEVFS_RELEASEINTERFACE:
            return claim(client, arg, req != USBDEVFS_RELEASEINTERFACE);
        case USBDEVFS_GETDRIVER:  // no kernel driver is bound
        case USBDEVFS_IOCTL:      // so there is none to detach either
            return {-1, ENODATA};
        case USBDEVFS_GET_SPEED:
            return {spec_.speed == Speed::full ? 2 : spec_.speed == Speed::high ? 3 : 5, 0};
        case USBDEVFS_CLEAR_HALT: {
            auto ep = read_u32(arg);
            if (!ep)
                return {-1, EFAULT};
            auto it = endpoints_.find(static_cast<std::uint8_t>(*ep));
            if (it == endpoints_.end())
                return {-1, ENOENT};
            it->second.halted = false;
            ++stats_.clear_halts;
            return {};
        }
        case USBDEVFS_SETCONFIGURATION:
            return set_configuration(arg);
        case USBDEVFS_SETINTERFACE:
        case USBDEVFS_RESETEP:
        case USBDEVFS_RESET:
            return {};
        default:
            return {-1, ENOTTY};
    }
}

// The kernel's usbfs: a new configuration (or 0, unconfigured), and sysfs says so — libusb
// reads bConfigurationValue there rather than asking the device.
EmulatedDevice::Reply EmulatedDevice::set_configuration(Data* arg) {
    auto value = read_u32(arg);
    if (!value)
        return {-1, EFAULT};
    // libusb sends -1 for "unconfigured"; the kernel takes it as 0 too.
    const auto v = static_cast<std::int32_t>(*value) < 0 ? 0u : *value;
    if (v > spec_.served_configuration())
        return {-1, EINVAL};
    if (!claims_.empty() && v != configuration_)
        return {-1, EBUSY};  // the kernel refuses while interfaces are claimed
    configuration_ = static_cast<std::uint8_t>(v);
    if (testbed_)
        umockdev_testbed_set_attribute(static_cast<UMockdevTestbed*>(testbed_), syspath_.c_str(),
                                       "bConfigurationValue", fmt::format("{}\n", v).c_str());
    return {};
}

EmulatedDevice::Reply EmulatedDevice::claim(void* client, Data* arg, bool claiming) {
    auto number = read_u32(arg);
    if (!number)
        return {-1, EFAULT};
    if (configuration_ != spec_.served_configuration() && claiming)
        return {-1, ENOENT};  // only the served configuration's interfaces exist here
    if (*number >= spec_.interfaces.size())
        return {-1, ENOENT};  // libusb: NOT_FOUND
    auto itf = static_cast<std::uint8_t>(*number);
    Channel* ch = channel_of_interface(itf);
    auto it = claims_.find(itf);
    if (claiming) {
        if (it != claims_.end() && it->second != client)
            return {-1, EBUSY};
        claims_[itf] = client;
        if (ch)
            start_connection(*ch, client, false);
        return {};
    }
    if (it != claims_.end() && it->second == client) {
        claims_.erase(it);
        if (ch && ch->connection && ch->connection->owner == client)
            ch->connection->open = false;
        cv_.notify_all();
    }
    return {};
}

EmulatedDevice::Reply EmulatedDevice::submit_urb(void* client, Data* arg) {
    auto urb_data = resolve(arg, 0, sizeof(usbdevfs_urb));
    if (!urb_data)
        return {-1, EFAULT};
    const auto* urb = reinterpret_cast<const usbdevfs_urb*>(urb_data->data);
    if (urb->buffer_length < 0)
        return {-1, EINVAL};
    auto u = std::make_unique<Urb>();
    u->client = client;
    u->type = urb->type;
    u->endpoint = urb->endpoint;
    u->length = static_cast<std::size_t>(urb->buffer_length);
    ++stats_.submits;
    if (u->type == kUrbControl) {
        if (u->length < 8)
            return {-1, EINVAL};
        u->buffer = resolve(urb_data.get(), offsetof(usbdevfs_urb, buffer), u->length);
        if (!u->buffer)
            return {-1, EFAULT};
        answer_control(*u, std::span(u->buffer->data, 8));
        u->urb = std::move(urb_data);
        done_.push_back(std::move(u));
        return {};
    }
    if (u->type != kUrbBulk && u->type != kUrbInterrupt)
        return {-1, EINVAL};  // isochronous: not emulated
    auto ep = endpoints_.find(u->endpoint);
    if (ep == endpoints_.end())
        return {-1, ENOENT};
    u->urb = std::move(urb_data);
    if (ep->second.halted) {
        u->status = -EPIPE;
        done_.push_back(std::move(u));
        return {};
    }
    if (u->endpoint & 0x80) {
        u->awaiting_data = true;  // the buffer is resolved when data is there, at reap time
        pending_.push_back(std::move(u));
        return {};
    }
    std::vector<std::byte> data;
    if (u->length > 0) {
        auto buffer = resolve(u->urb.get(), offsetof(usbdevfs_urb, buffer), u->length);
        if (!buffer)
            return {-1, EFAULT};
        auto* p = reinterpret_cast<const std::byte*>(buffer->data);
        data.assign(p, p + u->length);
    }
    u->actual = u->length;
    if (Channel* ch = channel_of_endpoint(u->endpoint); ch && u->endpoint == ch->out) {
        ++stats_.out_transfers;
        stats_.zero_length_out += u->length == 0 ? 1 : 0;
        stats_.bytes_out += u->length;
        if (ch->connection && ch->connection->open && ch->connection->owner == client) {
            ch->connection->out.push_back(std::move(data));
            cv_.notify_all();
        }
    }
    done_.push_back(std::move(u));
    return {};
}

void EmulatedDevice::answer_control(Urb& u, std::span<const std::uint8_t> setup) {
    const std::uint8_t type = setup[0], request = setup[1];
    const auto value = static_cast<std::uint16_t>(setup[2] | (setup[3] << 8));
    const auto length = static_cast<std::size_t>(setup[6] | (setup[7] << 8));
    std::optional<std::vector<std::uint8_t>> r;
    if (type == 0x80 && request == 0x06) {  // GET_DESCRIPTOR
        const auto kind = static_cast<std::uint8_t>(value >> 8);
        const auto index = static_cast<std::uint8_t>(value & 0xff);
        if (kind == 1)
            r = descriptors_.device;
        else if (kind == 2 && descriptors_.config_at(index))
            r = *descriptors_.config_at(index);
        else if (kind == 3 && index == 0)
            r = std::vector<std::uint8_t>{4, 0x03, 0x09, 0x04};  // English (US)
        else if (kind == 3 && index <= descriptors_.strings.size())
            r = string_descriptor(descriptors_.strings[index - 1u]);
    } else if ((type & 0xfc) == 0x80 && request == 0x00) {  // GET_STATUS
        r = std::vector<std::uint8_t>{0, 0};
    } else if (type == 0x80 && request == 0x08) {  // GET_CONFIGURATION
        r = std::vector<std::uint8_t>{configuration_};
    } else if ((type & 0x80) == 0) {  // SET_*, and every request without data: accepted
        u.status = 0;
        return;
    }
    if (!r) {
        u.status = -EPIPE;  // a real device stalls what it does not know
        return;
    }
    r->resize(std::min(r->size(), std::min(length, u.length - 8)));
    u.actual = r->size();
    u.reply = std::move(*r);
}

// ------------------------------------------------------------------ reaping

EmulatedDevice::Reply EmulatedDevice::reap_urb(void* client, Data* arg,
                                               std::unique_ptr<Urb>& keep) {
    auto u = take_reapable(client);
    if (!u) {
        ++stats_.empty_reaps;
        return {-1, gone_ ? ENODEV : EAGAIN};
    }
    if (u->awaiting_data) {
        u->awaiting_data = false;
        if (u->length > 0)
            u->buffer = resolve(u->urb.get(), offsetof(usbdevfs_urb, buffer), u->length);
        auto* dst = u->buffer ? reinterpret_cast<std::byte*>(u->buffer->data) : nullptr;
        Channel* ch = channel_of_endpoint(u->endpoint);
        auto fill =
            ch ? fill_in(*ch, endpoints_[u->endpoint].max_packet, u->length, dst) : std::nullopt;
        u->actual = fill ? fill->bytes : 0;
        u->status = fill ? fill->status : -EPROTO;
        stats_.bytes_in += u->actual;
        cv_.notify_all();  // room for the device to send more
    }
    if (!u->reply.empty() && u->buffer)
        std::memcpy(u->buffer->data + 8, u->reply.data(), u->reply.size());
    auto* urb = reinterpret_cast<usbdevfs_urb*>(u->urb->data);
    urb->status = u->status;
    urb->actual_length = static_cast<int>(u->actual);
    // REAPURB's argument is where the kernel stores the URB's address: point it at ours.
    auto where = resolve(arg, 0, sizeof(void*));
    if (!where)
        return {-1, EFAULT};
    umockdev_ioctl_data_set_ptr(where.get(), 0, u->urb.get());
    ++stats_.reaps;
    keep = std::move(u);
    return {};
}

std::unique_ptr<EmulatedDevice::Urb> EmulatedDevice::take_reapable(const void* client) {
    for (auto it = done_.begin(); it != done_.end(); ++it)
        if ((*it)->client == client) {
            auto u = std::move(*it);
            done_.erase(it);
            return u;
        }
    if (gone_)
        return nullptr;
    // Transfers on one endpoint complete in the order they were submitted.
    std::set<std::uint8_t> seen;
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if ((*it)->client != client || !seen.insert((*it)->endpoint).second)
            continue;
        if (can_fill(**it)) {
            auto u = std::move(*it);
            pending_.erase(it);
            return u;
        }
    }
    return nullptr;
}

bool EmulatedDevice::can_fill(const Urb& u) {
    Channel* ch = channel_of_endpoint(u.endpoint);
    return ch && u.endpoint == ch->in && ch->connection && ch->connection->open &&
           ch->connection->owner == u.client &&
           fill_in(*ch, endpoints_[u.endpoint].max_packet, u.length, nullptr).has_value();
}

bool EmulatedDevice::any_reapable() {
    if (!done_.empty())
        return true;
    if (gone_)
        return false;
    for (auto& ch : channels_) {
        const auto& c = ch->connection;
        if (!c || !c->open || c->in.empty())
            continue;
        for (const auto& u : pending_)
            if (u->endpoint == ch->in && u->client == c->owner) {
                if (can_fill(*u))  // only the oldest one can complete next
                    return true;
                break;
            }
    }
    return false;
}

// Fills an IN transfer of `length` bytes packet by packet from what the device sent, as a
// host controller does; nullopt while it would still be waiting. With `dst` null nothing is
// consumed (a dry run).
std::optional<EmulatedDevice::Fill> EmulatedDevice::fill_in(Channel& ch, std::uint16_t max_packet,
                                                            std::size_t length, std::byte* dst) {
    if (!ch.connection)
        return std::nullopt;
    auto& c = *ch.connection;
    const std::size_t mps = std::max<std::size_t>(max_packet, 1);
    Fill f;
    std::size_t space = length, consumed = 0, off = c.in_offset;
    auto it = c.in.begin();
    bool complete = false;
    auto take = [&](const std::vector<std::byte>& t, std::size_t n, bool keep) {
        if (dst && keep)
            std::memcpy(dst + f.bytes, t.data() + off, n);
        f.bytes += keep ? n : 0;
        space -= keep ? n : 0;
        off += n;
        consumed += n;
    };
    while (!complete && space > 0 && it != c.in.end()) {
        const auto& t = *it;
        if (t.empty()) {  // a zero-length packet ends the transfer
            ++it;
            off = 0;
            complete = true;
            break;
        }
        std::size_t rem = t.size() - off;
        std::size_t whole = std::min(rem / mps, space / mps) * mps;
        take(t, whole, true);
        rem -= whole;
        if (rem == 0) {  // ended on a packet boundary: no short packet, the next one follows
            ++it;
            off = 0;
            continue;
        }
        if (space == 0)
            break;  // full
        std::size_t packet = std::min(rem, mps);
        if (packet > space) {
            take(t, packet, false);  // babble: the packet is lost and the transfer fails
            f.status = -EOVERFLOW;
        } else {
            take(t, packet, true);  // the short packet that ends the device's transfer
        }
        if (off == t.size()) {
            ++it;
            off = 0;
        }
        complete = true;
    }
    if (!complete && space > 0)
        return std::nullopt;
    if (dst) {
        c.in.erase(c.in.begin(), it);
        c.in_offset = off;
        c.in_bytes -= consumed;
    }
    return f;
}

EmulatedDevice::Reply EmulatedDevice::discard_urb(void* client, Data* arg) {
    ++stats_.discards;
    if (arg->data_len < static_cast<int>(sizeof(gulong)))
        return {-1, EINVAL};
    gulong address;  // the argument is the URB's address in the client
    std::memcpy(&address, arg->data, sizeof address);
    for (auto it = pending_.begin(); it != pending_.end(); ++it) {
        if ((*it)->client != client || (*it)->urb->client_addr != address)
            continue;
        auto u = std::move(*it);
        pending_.erase(it);
        u->awaiting_data = false;
        u->status = -ENOENT;  // libusb: CANCELLED
        done_.push_back(std::move(u));
        return {};
    }
    return {-1, EINVAL};  // already completed
}

// ------------------------------------------------------------------ clients

void EmulatedDevice::on_client_connected(void*, void* client, void* self) noexcept {
    g_signal_connect_data(client, "notify::connected",
                          reinterpret_cast<GCallback>(&EmulatedDevice::on_client_notify), self,
                          nullptr, static_cast<GConnectFlags>(0));
    // umockdev 0.17 (Debian 12) never notifies "connected" when a host process dies (a
    // SIGKILLed exhibitd, say): it only drops the client object. That drop is the host's
    // close as the kernel sees it, so its claims are released there, as the kernel would.
    auto* device = static_cast<EmulatedDevice*>(self);
    {
        std::lock_guard lock(device->mutex_);
        device->clients_.insert(client);
    }
    g_object_weak_ref(static_cast<GObject*>(client), &EmulatedDevice::on_client_finalized, self);
}

void EmulatedDevice::on_client_finalized(void* self, GObject* client) noexcept {
    auto* device = static_cast<EmulatedDevice*>(self);
    {
        std::lock_guard lock(device->mutex_);
        device->clients_.erase(client);
    }
    try {
        device->client_gone(client);
    } catch (...) {
        // only bad_alloc can get here; the client is gone either way
    }
}

void EmulatedDevice::on_client_notify(void* client, void*, void* self) noexcept {
    if (umockdev_ioctl_client_get_connected(static_cast<Client*>(client)))
        return;
    try {
        static_cast<EmulatedDevice*>(self)->client_gone(client);
    } catch (...) {
        // only bad_alloc can get here; the client is gone either way
    }
}

void EmulatedDevice::client_gone(const void* client) {
    std::lock_guard lock(mutex_);
    std::erase_if(pending_, [&](const auto& u) { return u->client == client; });
    std::erase_if(done_, [&](const auto& u) { return u->client == client; });
    std::erase_if(claims_, [&](const auto& c) { return c.second == client; });
    for (auto& ch : channels_)
        if (ch->connection && ch->connection->owner == client)
            ch->connection->open = false;
    cv_.notify_all();
    update_ready();
}

void EmulatedDevice::mark_unplugged(std::size_t once_in_flight) {
    std::unique_lock lock(mutex_);
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    auto in_flight = [&] {
        return static_cast<std::size_t>(
            std::ranges::count_if(pending_, [](const auto& u) { return u->awaiting_data; }));
    };
    while (in_flight() < once_in_flight && std::chrono::steady_clock::now() < until) {
        lock.unlock();
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        lock.lock();
    }
    gone_ = true;
    // The kernel kills what is in flight on disconnect: libusb sees NO_DEVICE.
    for (auto& u : pending_) {
        u->awaiting_data = false;
        u->status = -ESHUTDOWN;
        done_.push_back(std::move(u));
    }
    pending_.clear();
    for (auto& ch : channels_)
        if (ch->connection)
            ch->connection->open = false;
    cv_.notify_all();
    update_ready();
}

void EmulatedDevice::halt(std::uint8_t endpoint) {
    std::lock_guard lock(mutex_);
    auto ep = endpoints_.find(endpoint);
    if (ep == endpoints_.end())
        return;
    ep->second.halted = true;
    for (auto it = pending_.begin(); it != pending_.end();) {
        if ((*it)->endpoint != endpoint) {
            ++it;
            continue;
        }
        (*it)->awaiting_data = false;
        (*it)->status = -EPIPE;
        done_.push_back(std::move(*it));
        it = pending_.erase(it);
    }
    update_ready();
}

// ------------------------------------------------------------------ poll readiness

// libusb waits for reapable URBs with poll(POLLOUT) on the node. umockdev's node is a plain
// file, always writable, so every host event loop would spin on REAPURBNDELAY. The node is
// a FIFO instead, kept full while nothing is reapable and one page short when something is.
void EmulatedDevice::update_ready() {
    if (!fifo_)
        return;
    bool want = any_reapable();
    if (want == ready_)
        return;
    if (want) {
        // Fails only with EAGAIN, when the FIFO is already short of full: ready as wanted.
        [[maybe_unused]] ssize_t drained = ::read(fifo_.get(), page_.data(), page_.size());
    } else {
        while (::write(fifo_.get(), page_.data(), page_.size()) > 0) {
        }
    }
    ready_ = want;
}

}  // namespace exhibit::usbsim
