// MTP extraction: walks the phone's storages through an MtpDevice, chooses the files in
// scope with the rules every family shares (drivers/shared_storage.hpp: the same folders,
// categories by extension, else by the object's MTP format), and streams each file into an
// ArtefactSink, its stated size checked against the bytes received. Nothing is written to
// the phone.
//
// MTP carries files only: messages, calls, contacts and apps are not offered (kCategories).
//
// A phone's listing is hostile input: names no file can have, folders that list one of
// their own parents (a loop), objects naming another folder than the one that listed them,
// too many objects, too deep nesting. Each such object is skipped with a named reason, or,
// for the limits on the whole walk, the extraction ends with a named error.
//
// Thread-bound to the device's thread (the session worker).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "drivers/artefact.hpp"
#include "drivers/mtp/mtp_device.hpp"

namespace exhibit::mtp {

// What an MTP phone can give: files.
inline constexpr drivers::Category kCategories[] = {
    drivers::Category::photos, drivers::Category::videos, drivers::Category::audio,
    drivers::Category::documents};

struct MtpLimits {
    std::size_t max_objects = 1'000'000;  // listed in one walk, folders included
    std::size_t max_depth = 40;
};

// A file chosen on the phone.
struct MtpFile {
    std::uint32_t id = 0;
    std::string path;  // "/mtp/00010001/DCIM/Camera/IMG_1.jpg"
    drivers::Category category = drivers::Category::photos;
    std::uint64_t size = 0;  // as stated
    std::optional<std::int64_t> mtime_ms;
};

// The artefact path of an object: the storage's id (8 hex digits) and the names from the
// storage's top.
std::string object_path(std::uint32_t storage, std::string_view relative);

// The category of a file: by its name's extension, else by its MTP object format (libmtp's
// file type); none for anything else (not taken).
std::optional<drivers::Category> classify_object(std::string_view name, int libmtp_type);

class MtpExtractor {
  public:
    using SkipHandler = std::function<void(const drivers::Artefact&, const Error&)>;

    MtpExtractor(MtpDevice& device, MtpLimits limits = {}) : device_(device), limits_(limits) {}

    Result<drivers::DeviceInfo> device_info();
    Result<drivers::Preview> preview(const drivers::Scope& scope);
    Status extract(const drivers::Scope& scope, drivers::ArtefactSink& sink);
    // The files in scope; hostile objects go to `on_skip`.
    Result<std::vector<MtpFile>> enumerate(const drivers::Scope& scope, const SkipHandler& on_skip);

  private:
    struct Walk;
    Status walk(Walk& w, std::uint32_t folder, const std::string& relative, std::size_t depth);
    Result<const std::vector<MtpObject>*> children(Walk& w, std::uint32_t folder);

    MtpDevice& device_;
    MtpLimits limits_;
};

}  // namespace exhibit::mtp
