#include "drivers/adb/usb_transport.hpp"

#include <endian.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "common/log.hpp"
#include "drivers/adb/message_ids.hpp"
#include "drivers/usb/usb_error.hpp"
#include "drivers/usb/usb_identity.hpp"

namespace exhibit::adb {

using usb::BulkEndpoints;
using usb::HandlePtr;
using usb::transfer_error;
using usb::usb_error;
using usb::UsbContext;

namespace {

constexpr std::size_t kHeaderSize = 24;
constexpr std::size_t kLengthOffset = 12;  // data_length in the ADB message header
// libusb takes a buffer even for a zero-length packet.
constexpr std::byte kNothing[1] = {};

std::size_t round_to_packets(std::size_t size, std::uint16_t packet) {
    std::size_t p = packet == 0 ? 512 : packet;
    return std::max(p, size / p * p);
}

Error cancelled_error(std::string_view name) {
    return Error{Errc::cancelled, fmt::format("{}: transport was shut down", name), 0};
}

Result<HandlePtr> open_handle(libusb_device* device, const BulkEndpoints& ep,
                              const std::string& name) {
    libusb_device_handle* raw = nullptr;
    if (int rc = libusb_open(device, &raw); rc != 0) {
        if (rc == LIBUSB_ERROR_ACCESS)
            return fail(Errc::io, fmt::format("{}: no permission to open the device (is the "
                                              "exhibit udev rule installed?)",
                                              name));
        return std::unexpected(usb_error(rc, fmt::format("{}: open", name)));
    }
    HandlePtr handle(raw);
    (void)libusb_set_auto_detach_kernel_driver(handle.get(), 1);  // unsupported: nothing bound
    if (int rc = libusb_claim_interface(handle.get(), ep.interface); rc != 0) {
        if (rc == LIBUSB_ERROR_BUSY)
            return fail(Errc::exists, fmt::format("{}: another program (an adb server?) holds "
                                                  "the phone's ADB interface",
                                                  name));
        return std::unexpected(usb_error(rc, fmt::format("{}: claim interface", name)));
    }
    if (ep.alternate != 0) {
        int rc = libusb_set_interface_alt_setting(handle.get(), ep.interface, ep.alternate);
        if (rc != 0) {
            (void)libusb_release_interface(handle.get(), ep.interface);
            return std::unexpected(usb_error(rc, fmt::format("{}: select interface", name)));
        }
    }
    return handle;
}

}  // namespace

Result<std::unique_ptr<UsbBulkTransport>> UsbBulkTransport::open(
    std::shared_ptr<UsbContext> context, libusb_device* device, BulkTransportOptions options) {
    auto set = usb::cached_descriptors(device);
    if (!set)
        return std::unexpected(set.error());
    auto name = fmt::format("usb:{}", usb::bus_path_of(device));
    // ADB over USB is one bulk IN and one bulk OUT endpoint on the ADB interface.
    auto ep = usb::find_bulk_pair(*set, usb::UsbFunction::adb);
    if (!ep)
        return fail(Errc::unsupported, fmt::format("{} ({:04x}:{:04x}) has no ADB interface", name,
                                                   set->vendor_id, set->product_id));
    auto handle = open_handle(device, *ep, name);
    if (!handle)
        return std::unexpected(handle.error());
    std::unique_ptr<UsbBulkTransport> t(new UsbBulkTransport(std::move(context), std::move(*handle),
                                                             *ep, std::move(name), options));
    std::lock_guard lock(t->mutex_);
    if (auto s = t->submit_lookahead(); !s)
        return std::unexpected(s.error());
    return t;
}

UsbBulkTransport::UsbBulkTransport(std::shared_ptr<UsbContext> context, HandlePtr handle,
                                   BulkEndpoints endpoints, std::string name,
                                   BulkTransportOptions options)
    : context_(std::move(context)),
      handle_(std::move(handle)),
      endpoints_(endpoints),
      name_(std::move(name)),
      options_(options),
      in_chunk_(round_to_packets(options.transfer_size, endpoints.in_max_packet)),
      out_chunk_(round_to_packets(options.transfer_size, endpoints.out_max_packet)) {
    options_.max_in_flight = std::max<std::size_t>(options_.max_in_flight, 1);
}

UsbBulkTransport::~UsbBulkTransport() {
    {
        Lock lock(mutex_);
        shut_ = true;
        std::vector<Slot*> all;
        for (auto& s : slots_)
            all.push_back(s.get());
        drain(lock, all);
    }
    (void)libusb_release_interface(handle_.get(), endpoints_.interface);
}

void LIBUSB_CALL UsbBulkTransport::on_transfer_done(libusb_transfer* transfer) noexcept {
    auto* slot = static_cast<Slot*>(transfer->user_data);
    auto* owner = slot->owner;
    try {
        std::lock_guard lock(owner->mutex_);
        slot->in_flight = false;
        slot->status = transfer->status;
        slot->actual = static_cast<std::size_t>(std::max(transfer->actual_length, 0));
    } catch (...) {
        // std::mutex::lock only throws on a broken system; nothing sensible is left to do.
    }
    owner->cv_.notify_all();
}

UsbBulkTransport::Slot& UsbBulkTransport::acquire() {
    for (auto& s : slots_)
        if (!s->busy) {
            s->busy = true;
            return *s;
        }
    auto s = std::make_unique<Slot>();
    s->owner = this;
    s->transfer.reset(libusb_alloc_transfer(0));
    if (!s->transfer)
        throw std::bad_alloc();
    s->busy = true;
    slots_.push_back(std::move(s));
    return *slots_.back();
}

Status UsbBulkTransport::submit(Slot& slot, std::uint8_t endpoint, const std::byte* data,
                                std::size_t length, std::chrono::milliseconds timeout) {
    // libusb never writes to the buffer of an OUT transfer.
    auto* buffer = reinterpret_cast<unsigned char*>(const_cast<std::byte*>(data ? data : kNothing));
    libusb_fill_bulk_transfer(slot.transfer.get(), handle_.get(), endpoint, buffer,
                              static_cast<int>(length), &UsbBulkTransport::on_transfer_done, &slot,
                              static_cast<unsigned>(timeout.count()));
    slot.in_flight = true;
    slot.actual = 0;
    if (int rc = libusb_submit_transfer(slot.transfer.get()); rc != 0) {
        slot.in_flight = false;
        return std::unexpected(usb_error(rc, fmt::format("{}: submit", name_)));
    }
    return {};
}

UsbBulkTransport::Wait UsbBulkTransport::wait_done(Lock& lock, const Slot& slot,
                                                   std::chrono::steady_clock::time_point deadline) {
    while (slot.in_flight) {
        if (shut_)
            return Wait::shut;
        if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && slot.in_flight)
            return shut_ ? Wait::shut : Wait::timeout;
    }
    return Wait::done;
}

void UsbBulkTransport::drain(Lock& lock, std::span<Slot* const> slots) {
    for (auto* s : slots)
        if (s->in_flight)
            (void)libusb_cancel_transfer(s->transfer.get());  // NOT_FOUND: completing anyway
    // libusb calls back every submitted transfer, cancelled or not; the buffers stay valid
    // until then.
    auto started = std::chrono::steady_clock::now();
    bool warned = false;
    while (std::ranges::any_of(slots, [](const Slot* s) { return s->in_flight; })) {
        cv_.wait_for(lock, std::chrono::milliseconds(500));
        if (!warned && std::chrono::steady_clock::now() - started > std::chrono::seconds(5)) {
            log::event(log::Level::warning, message_id::kTransfersStuck,
                       fmt::format("{}: still waiting for cancelled USB transfers", name_),
                       {{"EXHIBIT_USB_BUS_PATH", name_.substr(name_.find(':') + 1)},
                        log::field::device_class("android_adb"),
                        log::field::error_class(Errc::timeout)});
            warned = true;
        }
    }
}

std::size_t UsbBulkTransport::take_carry(std::span<std::byte> out) {
    std::size_t n = std::min(out.size(), carry_.size());
    if (n == 0)
        return 0;
    std::memcpy(out.data(), carry_.data(), n);
    carry_.erase(carry_.begin(), carry_.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
}

// Queues an IN transfer for `length` bytes at `target` (null: a bounce buffer), rounded up
// to whole packets through a bounce buffer when it is not.
Status UsbBulkTransport::submit_read(std::byte* target, std::size_t length, bool lookahead) {
    const std::size_t packet = std::max<std::size_t>(endpoints_.in_max_packet, 1);
    Read r{.target = target, .length = length, .lookahead = lookahead};
    if (!target || length % packet != 0) {
        r.bounce.resize((length + packet - 1) / packet * packet);
        r.target = r.bounce.data();
        r.length = r.bounce.size();
    }
    auto& slot = acquire();
    if (auto s = submit(slot, endpoints_.in, r.target, r.length, std::chrono::milliseconds(0));
        !s) {
        slot.busy = false;
        return s;
    }
    r.slot = &slot;
    reads_.push_back(std::move(r));
    return {};
}

// While a header is due, one header-sized read waits in the queue ahead of the caller.
Status UsbBulkTransport::submit_lookahead() {
    if (lookahead_queued_ || !carry_.empty() || expect_ != Expect::header || shut_)
        return {};
    if (auto s = submit_read(nullptr, kHeaderSize, true); !s)
        return s;
    lookahead_queued_ = true;
    return {};
}

Status UsbBulkTransport::submit_reads(std::span<std::byte> buffer, std::size_t filled,
                                      bool payload_read) {
    std::size_t offset = filled;
    while (offset < buffer.size() && reads_.size() < options_.max_in_flight) {
        std::size_t length = std::min(in_chunk_, buffer.size() - offset);
        if (auto s = submit_read(buffer.data() + offset, length, false); !s)
            return s;
        offset += length;
    }
    // The next header follows this payload's last transfer: ask for it now.
    if (offset == buffer.size() && payload_read && carry_.empty()) {
        expect_ = Expect::header;
        auto s = submit_lookahead();
        expect_ = Expect::payload;
        return s;
    }
    return {};
}

Status UsbBulkTransport::read_exact(std::span<std::byte> buffer) {
    if (buffer.empty())
        return {};
    Lock lock(mutex_);
    if (!broken_)
        return broken_;
    if (shut_)
        return std::unexpected(cancelled_error(name_));
    const bool payload_read = expect_ == Expect::payload && buffer.size() == payload_length_;
    std::size_t filled = take_carry(buffer);
    auto deadline = std::chrono::steady_clock::now() + options_.read_timeout;
    while (filled < buffer.size()) {
        if (reads_.empty())
            if (auto s = submit_reads(buffer, filled, payload_read); !s)
                return abandon_read(lock, buffer, filled, s.error());
        if (auto w = wait_done(lock, *reads_.front().slot, deadline); w != Wait::done) {
            bool only_lookahead = std::ranges::all_of(reads_, [](auto& r) { return r.lookahead; });
            if (only_lookahead && filled == 0)  // nothing taken yet: keep the look-ahead queued
                return w == Wait::shut
                           ? std::unexpected(cancelled_error(name_))
                           : fail(Errc::timeout, fmt::format("{}: no data for {} ms", name_,
                                                             options_.read_timeout.count()));
            return abandon_read(lock, buffer, filled,
                                w == Wait::shut ? cancelled_error(name_)
                                                : Error{Errc::timeout,
                                                        fmt::format("{}: no data for {} ms", name_,
                                                                    options_.read_timeout.count()),
                                                        0});
        }
        Read head = std::move(reads_.front());
        reads_.pop_front();
        head.slot->busy = false;
        if (head.lookahead)
            lookahead_queued_ = false;
        if (head.slot->status != LIBUSB_TRANSFER_COMPLETED) {
            auto e = endpoint_failed(lock, *head.slot, endpoints_.in);
            return abandon_read(lock, buffer, filled, std::move(e));
        }
        std::size_t got = head.slot->actual;
        ++stats_.in_transfers;
        stats_.bytes_in += got;
        if (!head.bounce.empty()) {
            carry_.insert(carry_.end(), head.target, head.target + got);
            filled += take_carry(buffer.subspan(filled));
        } else {
            if (head.target != buffer.data() + filled)  // an earlier transfer came back short
                std::memmove(buffer.data() + filled, head.target, got);
            filled += got;
        }
        deadline = std::chrono::steady_clock::now() + options_.read_timeout;
    }
    note_read(buffer);
    if (auto s = submit_lookahead(); !s)
        broken_ = s;  // reported by the next call; this read is whole
    return {};
}

// Tracks the ADB framing so that exactly one header-sized read is queued while a header is
// due (the phone never pads a transfer, so a larger read could swallow the next message).
void UsbBulkTransport::note_read(std::span<const std::byte> buffer) {
    switch (expect_) {
        case Expect::header:
            if (buffer.size() != kHeaderSize) {
                expect_ = Expect::unknown;
                break;
            }
            std::memcpy(&payload_length_, buffer.data() + kLengthOffset, 4);
            payload_length_ = le32toh(payload_length_);
            expect_ = payload_length_ == 0 ? Expect::header : Expect::payload;
            break;
        case Expect::payload:
            expect_ = buffer.size() == payload_length_ ? Expect::header : Expect::unknown;
            break;
        case Expect::unknown:
            break;
    }
}

// Cancels every queued read and keeps what arrived (in stream order) for the next read.
Status UsbBulkTransport::abandon_read(Lock& lock, std::span<std::byte> buffer, std::size_t filled,
                                      Error why) {
    std::vector<Slot*> queued;
    for (auto& r : reads_)
        queued.push_back(r.slot);
    drain(lock, queued);
    std::vector<std::byte> kept(buffer.begin(),
                                buffer.begin() + static_cast<std::ptrdiff_t>(filled));
    for (auto& r : reads_) {
        if (r.slot->status == LIBUSB_TRANSFER_COMPLETED ||
            r.slot->status == LIBUSB_TRANSFER_CANCELLED)
            kept.insert(kept.end(), r.target, r.target + r.slot->actual);
        r.slot->busy = false;
    }
    reads_.clear();
    lookahead_queued_ = false;
    kept.insert(kept.end(), carry_.begin(), carry_.end());
    carry_ = std::move(kept);
    if (why.code != Errc::timeout && why.code != Errc::cancelled)
        broken_ = std::unexpected(why);
    return std::unexpected(std::move(why));
}

Error UsbBulkTransport::endpoint_failed(Lock& lock, const Slot& slot, std::uint8_t endpoint) {
    auto what = fmt::format("{} endpoint {:#04x}", name_, endpoint);
    auto e = transfer_error(slot.status, what);
    if (slot.status == LIBUSB_TRANSFER_STALL) {
        lock.unlock();
        int rc = libusb_clear_halt(handle_.get(), endpoint);
        lock.lock();
        if (rc == 0)
            ++stats_.halts_cleared;
        else
            e.message += fmt::format(" (clearing the halt failed: {})", libusb_strerror(rc));
    }
    return e;
}

Status UsbBulkTransport::write_message(std::span<const std::byte> header,
                                       std::span<const std::byte> payload) {
    struct Piece {
        const std::byte* data;
        std::size_t length;
    };
    std::vector<Piece> pieces{{header.data(), header.size()}};
    for (std::size_t off = 0; off < payload.size(); off += out_chunk_)
        pieces.push_back({payload.data() + off, std::min(out_chunk_, payload.size() - off)});
    const bool zlp = !payload.empty() && payload.size() % endpoints_.out_max_packet == 0;
    if (zlp)
        pieces.push_back({nullptr, 0});

    Lock lock(mutex_);
    if (!broken_)
        return broken_;
    if (shut_)
        return std::unexpected(cancelled_error(name_));
    std::deque<std::pair<Slot*, std::size_t>> flying;  // slot, expected length
    auto fail_write = [&](Error e) -> Status {
        std::vector<Slot*> slots;
        for (auto& [s, n] : flying)
            slots.push_back(s);
        drain(lock, slots);
        for (auto* s : slots)
            s->busy = false;
        broken_ = std::unexpected(e);  // part of a message may have gone out
        return std::unexpected(std::move(e));
    };
    // Beyond libusb's own timeout on each transfer, in case a completion never comes.
    const auto grace = options_.write_timeout + std::chrono::seconds(5);
    std::size_t next = 0;
    while (next < pieces.size() || !flying.empty()) {
        while (next < pieces.size() && flying.size() < options_.max_in_flight) {
            auto& slot = acquire();
            flying.emplace_back(&slot, pieces[next].length);
            if (auto s = submit(slot, endpoints_.out, pieces[next].data, pieces[next].length,
                                options_.write_timeout);
                !s) {
                flying.pop_back();
                slot.busy = false;
                return fail_write(s.error());
            }
            ++next;
        }
        auto [slot, expected] = flying.front();
        auto w = wait_done(lock, *slot, std::chrono::steady_clock::now() + grace);
        if (w == Wait::shut)
            return fail_write(cancelled_error(name_));
        if (w == Wait::timeout)
            return fail_write(
                Error{Errc::timeout, fmt::format("{}: write never completed", name_), 0});
        flying.pop_front();
        slot->busy = false;
        if (slot->status != LIBUSB_TRANSFER_COMPLETED)
            return fail_write(endpoint_failed(lock, *slot, endpoints_.out));
        if (slot->actual != expected)
            return fail_write(Error{
                Errc::protocol,
                fmt::format("{}: the phone took {} of {} bytes", name_, slot->actual, expected),
                0});
        ++stats_.out_transfers;
        stats_.bytes_out += expected;
    }
    stats_.zero_length_packets += zlp ? 1 : 0;
    return {};
}

void UsbBulkTransport::shutdown() {
    {
        std::lock_guard lock(mutex_);
        shut_ = true;
    }
    cv_.notify_all();
}

BulkStats UsbBulkTransport::stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
}

}  // namespace exhibit::adb
