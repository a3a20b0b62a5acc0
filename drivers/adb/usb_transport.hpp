// ADB over USB: the bulk endpoint pair of a phone's ADB interface as an adb::Transport, so
// the protocol code runs unchanged over USB. This is ADB's framing on USB (drivers/usb stays
// generic: it finds, classifies and opens devices; it knows no protocol).
//
// Asynchronous libusb transfers, several in flight, completed by the context's event thread:
//   - a write sends the 24-byte header, then the payload (in transfers of up to
//     transfer_size, all in flight together), then a zero-length packet when the payload is a
//     non-empty multiple of the OUT endpoint's packet size;
//   - reads go straight into the caller's buffer, split into transfers in flight together;
//     every transfer asks for whole packets (a part that is not goes through a bounce
//     buffer, its surplus kept for the next read), so a phone's transfer never overflows
//     one. While a header is due, a header read is kept queued ahead (behind each payload's
//     last transfer), so the next message is already on its way when the caller asks.
// Bytes that arrived when a read was abandoned (timeout, shutdown) are kept for the next
// read, so a timeout while the phone waits for its owner loses nothing.
//
// Errors: Errc::io "device disconnected" on unplug; Errc::protocol on a stall (the halt is
// cleared); Errc::timeout when nothing arrives within
// read_timeout or a write is not taken within write_timeout; Errc::cancelled after
// shutdown(). Any error but a read timeout leaves the transport broken: later calls return
// it.
//
// Thread-safe: reads and writes may come from different threads; shutdown() from any thread
// (it only flags and wakes). The context (kept alive by the transport) must have its event
// thread running.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "drivers/adb/transport.hpp"
#include "drivers/usb/classify.hpp"
#include "drivers/usb/usb_context.hpp"
#include "drivers/usb/usb_handles.hpp"

namespace exhibit::adb {

struct BulkTransportOptions {
    std::chrono::milliseconds read_timeout{30'000};   // no data at all for this long
    std::chrono::milliseconds write_timeout{30'000};  // one write transfer not taken in time
    std::size_t transfer_size = 256 * 1024;           // per transfer, rounded to the packet size
    std::size_t max_in_flight = 8;                    // transfers per direction
};

struct BulkStats {
    std::uint64_t in_transfers = 0;
    std::uint64_t out_transfers = 0;
    std::uint64_t zero_length_packets = 0;  // sent after payloads of whole packets
    std::uint64_t bytes_in = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t halts_cleared = 0;
};

class UsbBulkTransport final : public Transport {
  public:
    // Opens `device`, claims its ADB interface and queues the first header read.
    // Errc::unsupported when the device has no usable ADB interface.
    static Result<std::unique_ptr<UsbBulkTransport>> open(std::shared_ptr<usb::UsbContext> context,
                                                          libusb_device* device,
                                                          BulkTransportOptions options = {});
    UsbBulkTransport(const UsbBulkTransport&) = delete;
    UsbBulkTransport& operator=(const UsbBulkTransport&) = delete;
    ~UsbBulkTransport() override;  // cancels what is in flight and waits for it

    Status read_exact(std::span<std::byte> buffer) override;
    Status write_message(std::span<const std::byte> header,
                         std::span<const std::byte> payload) override;
    void shutdown() override;
    std::string describe() const override { return name_; }

    const usb::BulkEndpoints& endpoints() const { return endpoints_; }
    BulkStats stats() const;

  private:
    struct Slot {
        UsbBulkTransport* owner = nullptr;
        usb::TransferPtr transfer;
        bool busy = false;  // owned by a read or write until its result is used
        bool in_flight = false;
        libusb_transfer_status status = LIBUSB_TRANSFER_COMPLETED;
        std::size_t actual = 0;
    };
    // A queued IN transfer, in submission (= completion) order. A transfer is always a
    // whole number of packets (a packet larger than the room left would be an overflow):
    // what is not, and the header look-ahead, go through a bounce buffer into carry_.
    struct Read {
        Slot* slot = nullptr;
        std::byte* target = nullptr;  // inside the caller's buffer, or bounce.data()
        std::size_t length = 0;
        bool lookahead = false;
        std::vector<std::byte> bounce;
    };
    enum class Expect { header, payload, unknown };
    enum class Wait { done, timeout, shut };
    using Lock = std::unique_lock<std::mutex>;

    UsbBulkTransport(std::shared_ptr<usb::UsbContext> context, usb::HandlePtr handle,
                     usb::BulkEndpoints endpoints, std::string name, BulkTransportOptions options);
    static void LIBUSB_CALL on_transfer_done(libusb_transfer* transfer) noexcept;

    Slot& acquire();
    Status submit(Slot& slot, std::uint8_t endpoint, const std::byte* data, std::size_t length,
                  std::chrono::milliseconds timeout);
    Wait wait_done(Lock& lock, const Slot& slot, std::chrono::steady_clock::time_point deadline);
    void drain(Lock& lock, std::span<Slot* const> slots);
    Status submit_reads(std::span<std::byte> buffer, std::size_t filled, bool payload_read);
    Status submit_lookahead();
    Status submit_read(std::byte* target, std::size_t length, bool lookahead);
    std::size_t take_carry(std::span<std::byte> out);
    Status abandon_read(Lock& lock, std::span<std::byte> buffer, std::size_t filled, Error why);
    void note_read(std::span<const std::byte> buffer);
    Error endpoint_failed(Lock& lock, const Slot& slot, std::uint8_t endpoint);

    std::shared_ptr<usb::UsbContext> context_;  // first: outlives the handle and the transfers
    usb::HandlePtr handle_;
    usb::BulkEndpoints endpoints_;
    std::string name_;
    BulkTransportOptions options_;
    std::size_t in_chunk_ = 0;
    std::size_t out_chunk_ = 0;

    mutable std::mutex mutex_;  // guards everything below
    std::condition_variable cv_;
    std::vector<std::unique_ptr<Slot>> slots_;
    std::deque<Read> reads_;
    bool lookahead_queued_ = false;
    std::vector<std::byte> carry_;  // bytes received ahead of the reads that want them
    Expect expect_ = Expect::header;
    std::uint32_t payload_length_ = 0;
    bool shut_ = false;
    Status broken_;
    BulkStats stats_;
};

}  // namespace exhibit::adb
