// One MTP device opened through libmtp (Debian's libmtp 1.1.20), as plain C++ values: who it
// says it is, its storages, one folder's objects, and one object's bytes streamed to a
// callback. Everything libmtp-specific stays behind this class; the walking, the scope and
// the limits are the extractor's (mtp_extractor.hpp).
//
// libmtp opens the device through its own libusb context; the device is found by the bus
// number and address of the port the USB monitor classified. Nothing is ever sent that
// writes to the phone: only OpenSession/CloseSession and reading operations.
//
// Used by one thread at a time (libmtp is not thread-safe per device); interrupt() may be
// called from any thread: a transfer in progress is cancelled at its next chunk and every
// later call fails. A listing already in progress runs to its end (libmtp offers no way in),
// bounded by libmtp's USB timeout per transfer.
#pragma once

#include <atomic>
#include <cstdint>
#include <ctime>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"

struct LIBMTP_mtpdevice_struct;

namespace exhibit::mtp {

// The parent of the objects at a storage's top, in a listing request.
inline constexpr std::uint32_t kStorageTop = 0xffffffff;

struct MtpIdentity {
    std::string manufacturer;
    std::string model;
    std::string serial;
    std::string device_version;
    std::string friendly_name;
};

struct MtpStorage {
    std::uint32_t id = 0;
    std::string description;  // "Internal shared storage"
    std::string volume;
    std::uint64_t capacity = 0;
    std::uint64_t free_bytes = 0;
};

// One object as listed: a folder or a file. The name is libmtp's UTF-8 conversion of the
// phone's UTF-16 name, cut at the first NUL.
struct MtpObject {
    std::uint32_t id = 0;
    std::uint32_t parent = 0;
    std::uint32_t storage = 0;
    std::string name;
    bool folder = false;
    std::uint64_t size = 0;                // as the phone states it
    std::optional<std::int64_t> mtime_ms;  // none when the phone gave no date
    int libmtp_type = 0;                   // LIBMTP_filetype_t, from the object format
};

// What a streamed read does with each chunk: an error stops the transfer (cancelled on the
// phone) and is what read() returns.
using ChunkSink = std::function<Status(std::span<const std::byte>)>;

class MtpDevice {
  public:
    // Opens the device at `bus`/`address` (libusb's numbering) and its MTP session.
    // `vendor_id`/`product_id` pick libmtp's known-device flags when the device is in its
    // table. Errc::io when it cannot be opened (with libmtp's reason).
    static Result<std::unique_ptr<MtpDevice>> open(std::uint8_t bus, std::uint8_t address,
                                                   std::uint16_t vendor_id,
                                                   std::uint16_t product_id);
    ~MtpDevice();
    MtpDevice(const MtpDevice&) = delete;
    MtpDevice& operator=(const MtpDevice&) = delete;

    MtpIdentity identity();
    // The storages the phone offers now: none while it is locked (Android shows its storage
    // only once unlocked with "File transfer" chosen).
    Result<std::vector<MtpStorage>> storages();
    // The objects directly inside `parent` (kStorageTop: the storage's top).
    Result<std::vector<MtpObject>> list(std::uint32_t storage, std::uint32_t parent);
    // Streams one object's bytes (GetObject) to `sink`; returns what was received in all.
    Result<std::uint64_t> read(std::uint32_t object, const ChunkSink& sink);

    void interrupt();
    bool interrupted() const { return interrupted_; }
    // The link broke (an I/O error, a timeout, the device gone): later calls are pointless.
    bool broken() const { return broken_; }

  private:
    explicit MtpDevice(LIBMTP_mtpdevice_struct* device) : device_(device) {}
    Error last_error(std::string_view what);

    LIBMTP_mtpdevice_struct* device_;
    std::atomic<bool> interrupted_{false};
    bool broken_ = false;
};

}  // namespace exhibit::mtp
