#include "drivers/mtp/mtp_device.hpp"

#include <libmtp.h>

#include <cstdlib>
#include <mutex>

#include <fmt/format.h>

#include "drivers/driver.hpp"
#include "drivers/mtp/libmtp_stderr.hpp"

namespace exhibit::mtp {

namespace {

// libmtp keeps process-wide state (its libusb context, its device table): initialised once,
// and device discovery and opening are serialised.
std::mutex& libmtp_mutex() {
    static std::mutex m;
    return m;
}

void init_libmtp() {
    static std::once_flag once;
    std::call_once(once, [] {
        LIBMTP_Set_Debug(0);
        LIBMTP_Init();
    });
}

// A string libmtp allocated, taken over (null: empty).
std::string take_string(char* s) {
    if (s == nullptr)
        return {};
    std::string out(s);
    std::free(s);
    return out;
}

std::string copy_string(const char* s) {
    return s == nullptr ? std::string() : std::string(s);
}

// The device's entry in libmtp's table of known devices (for its quirk flags) when there is
// one, found by where the device sits; otherwise an entry with no quirks, which libmtp
// completes from the device's own descriptors and DeviceInfo ("android.com" in the vendor
// extension turns on its Android handling).
LIBMTP_raw_device_t raw_device(std::uint8_t bus, std::uint8_t address, std::uint16_t vendor_id,
                               std::uint16_t product_id) {
    LIBMTP_raw_device_t chosen{};
    chosen.device_entry.vendor_id = vendor_id;
    chosen.device_entry.product_id = product_id;
    chosen.bus_location = bus;
    chosen.devnum = address;
    LIBMTP_raw_device_t* found = nullptr;
    int count = 0;
    if (LIBMTP_Detect_Raw_Devices(&found, &count) == LIBMTP_ERROR_NONE && found != nullptr) {
        for (int i = 0; i < count; ++i)
            if (found[i].bus_location == bus && found[i].devnum == address)
                chosen.device_entry.device_flags = found[i].device_entry.device_flags;
    }
    std::free(found);
    return chosen;
}

struct ReadContext {
    MtpDevice* device = nullptr;
    const ChunkSink* sink = nullptr;
    std::uint64_t received = 0;
    std::optional<Error> stopped;  // why the transfer was cancelled from this side
};

std::uint16_t put_chunk(void*, void* priv, std::uint32_t length, unsigned char* data,
                        std::uint32_t* taken) {
    auto* ctx = static_cast<ReadContext*>(priv);
    *taken = 0;
    if (ctx->device->interrupted()) {
        ctx->stopped = Error{Errc::cancelled, "the extraction was stopped", 0};
        return LIBMTP_HANDLER_RETURN_CANCEL;
    }
    try {
        auto s = (*ctx->sink)(std::span(reinterpret_cast<const std::byte*>(data), length));
        if (!s) {
            ctx->stopped = s.error();
            return LIBMTP_HANDLER_RETURN_CANCEL;
        }
    } catch (const std::exception& e) {  // libmtp is C: nothing may unwind through it
        ctx->stopped = Error{Errc::io, e.what(), 0};
        return LIBMTP_HANDLER_RETURN_CANCEL;
    }
    ctx->received += length;
    *taken = length;
    return LIBMTP_HANDLER_RETURN_OK;
}

int on_progress(std::uint64_t, std::uint64_t, void const* const data) {
    const auto* ctx = static_cast<const ReadContext*>(data);
    return ctx->device->interrupted() ? 1 : 0;
}

}  // namespace

Result<std::unique_ptr<MtpDevice>> MtpDevice::open(std::uint8_t bus, std::uint8_t address,
                                                   std::uint16_t vendor_id,
                                                   std::uint16_t product_id) {
    init_libmtp();
    watch_libmtp_stderr();
    std::lock_guard lock(libmtp_mutex());
    auto raw = raw_device(bus, address, vendor_id, product_id);
    LIBMTP_mtpdevice_t* device = LIBMTP_Open_Raw_Device_Uncached(&raw);
    if (device == nullptr)
        return fail(Errc::io,
                    "the phone's MTP interface could not be opened (it left, or another "
                    "program holds it)");
    LIBMTP_Clear_Errorstack(device);
    return std::unique_ptr<MtpDevice>(new MtpDevice(device));
}

MtpDevice::~MtpDevice() {
    std::lock_guard lock(libmtp_mutex());
    LIBMTP_Release_Device(device_);
}

Error MtpDevice::last_error(std::string_view what) {
    std::string text;
    Errc code = Errc::protocol;
    bool gone = false;
    bool refused = false;
    for (auto* e = LIBMTP_Get_Errorstack(device_); e != nullptr; e = e->next) {
        gone = gone || e->errornumber == LIBMTP_ERROR_NO_DEVICE_ATTACHED;
        // The phone answered an operation with its response instead of the data (PTP's
        // 0x02fe, which libmtp gives only in its text): it refused, and the exchange ended
        // in step.
        refused = refused || (e->error_text != nullptr &&
                              std::string_view(e->error_text).find("error 02fe") !=
                                  std::string_view::npos);
        if (e->errornumber == LIBMTP_ERROR_USB_LAYER ||
            e->errornumber == LIBMTP_ERROR_NO_DEVICE_ATTACHED)
            code = Errc::io;
        if (e->errornumber == LIBMTP_ERROR_CANCELLED && code == Errc::protocol)
            code = Errc::cancelled;
        if (e->error_text != nullptr && text.size() < 300)
            text += fmt::format("{}{}", text.empty() ? "" : "; ", e->error_text);
    }
    LIBMTP_Clear_Errorstack(device_);
    if (code != Errc::cancelled && !(refused && code == Errc::protocol))
        broken_ = true;
    if (refused && code == Errc::protocol && !gone && !interrupted_)
        return Error{code, fmt::format("{}: the phone refused it", what), 0};
    if (interrupted_)
        return Error{Errc::cancelled, fmt::format("{}: stopped", what), 0};
    if (gone)
        return Error{Errc::io, std::string(drivers::kDeviceDisconnected), 0};
    if (text.size() > 300)
        text.resize(300);
    return Error{code, text.empty() ? std::string(what) : fmt::format("{}: {}", what, text), 0};
}

MtpIdentity MtpDevice::identity() {
    MtpIdentity id;
    id.manufacturer = take_string(LIBMTP_Get_Manufacturername(device_));
    id.model = take_string(LIBMTP_Get_Modelname(device_));
    id.serial = take_string(LIBMTP_Get_Serialnumber(device_));
    id.device_version = take_string(LIBMTP_Get_Deviceversion(device_));
    id.friendly_name = take_string(LIBMTP_Get_Friendlyname(device_));
    LIBMTP_Clear_Errorstack(device_);  // a phone without a friendly name is not an error
    return id;
}

Result<std::vector<MtpStorage>> MtpDevice::storages() {
    if (interrupted_)
        return fail(Errc::cancelled, "the extraction was stopped");
    LIBMTP_Clear_Errorstack(device_);
    if (LIBMTP_Get_Storage(device_, LIBMTP_STORAGE_SORTBY_NOTSORTED) < 0) {
        // libmtp answers -1 for a phone that lists no storage (locked, or not in File
        // transfer mode), without an error on its stack; a failed exchange leaves one there.
        if (LIBMTP_Get_Errorstack(device_) == nullptr)
            return std::vector<MtpStorage>{};
        return std::unexpected(last_error("the phone did not list its storage"));
    }
    std::vector<MtpStorage> out;
    for (auto* s = device_->storage; s != nullptr; s = s->next)
        out.push_back({.id = s->id,
                       .description = copy_string(s->StorageDescription),
                       .volume = copy_string(s->VolumeIdentifier),
                       .capacity = s->MaxCapacity,
                       .free_bytes = s->FreeSpaceInBytes});
    return out;
}

Result<std::vector<MtpObject>> MtpDevice::list(std::uint32_t storage, std::uint32_t parent) {
    if (interrupted_)
        return fail(Errc::cancelled, "the extraction was stopped");
    LIBMTP_Clear_Errorstack(device_);
    const auto ptp_before = libmtp_ptp_errors().count;
    LIBMTP_file_t* files = LIBMTP_Get_Files_And_Folders(device_, storage, parent);
    std::vector<MtpObject> out;
    for (auto* f = files; f != nullptr;) {
        out.push_back({.id = f->item_id,
                       .parent = f->parent_id,
                       .storage = f->storage_id,
                       .name = copy_string(f->filename),
                       .folder = f->filetype == LIBMTP_FILETYPE_FOLDER,
                       .size = f->filesize,
                       .mtime_ms = f->modificationdate > 0
                                       ? std::optional<std::int64_t>(
                                             static_cast<std::int64_t>(f->modificationdate) * 1000)
                                       : std::nullopt,
                       .libmtp_type = static_cast<int>(f->filetype)});
        auto* next = f->next;
        LIBMTP_destroy_file_t(f);
        f = next;
    }
    if (LIBMTP_Get_Errorstack(device_) != nullptr)
        return std::unexpected(last_error("the phone did not list a folder"));
    // libmtp leaves out, without an error to its caller, an object whose description went
    // wrong; it says so only on stderr (libmtp_stderr.hpp). Such a listing is not whole.
    if (auto after = libmtp_ptp_errors(); after.count != ptp_before)
        return fail(Errc::protocol,
                    fmt::format("the phone's answers while listing it went wrong, so objects may "
                                "be missing from it (libmtp: {})",
                                after.last));
    return out;
}

Result<std::uint64_t> MtpDevice::read(std::uint32_t object, const ChunkSink& sink) {
    if (interrupted_)
        return fail(Errc::cancelled, "the extraction was stopped");
    LIBMTP_Clear_Errorstack(device_);
    ReadContext ctx{.device = this, .sink = &sink};
    int r = LIBMTP_Get_File_To_Handler(device_, object, &put_chunk, &ctx, &on_progress, &ctx);
    if (ctx.stopped) {
        // The rest of the data phase and the phone's response are still on their way: the
        // session is out of step with the phone, and the link is not used again.
        broken_ = true;
        LIBMTP_Clear_Errorstack(device_);
        return std::unexpected(*ctx.stopped);
    }
    if (r != 0)
        return std::unexpected(last_error("the phone did not send the file"));
    return ctx.received;
}

void MtpDevice::interrupt() {
    interrupted_ = true;
}

}  // namespace exhibit::mtp
