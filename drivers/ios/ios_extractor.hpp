// iPhone extraction over AFC: walks the camera roll's folders under /var/mobile/Media
// (DCIM, where the camera and screenshots write, and the photo library's edited renders in
// PhotoData/Mutations/DCIM), chooses photos and videos with the rules every family shares
// (drivers/shared_storage.hpp: categories by extension, dates on the file's modification
// time), and streams each file into an ArtefactSink, its stated size checked against the
// bytes received. Nothing is written to the phone: AFC files are opened read-only.
//
// A phone's listing is hostile input: names no file can have, links (never followed),
// folders nested too deep, too many entries. Each such entry is skipped with a named reason,
// or, for the limits on the whole walk, the extraction ends with a named error.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "drivers/artefact.hpp"
#include "drivers/ios/afc_client.hpp"

namespace exhibit::ios {

// What an iPhone gives over AFC: its camera roll.
inline constexpr drivers::Category kCategories[] = {drivers::Category::photos,
                                                    drivers::Category::videos};

// The folders walked, relative to the media folder.
inline constexpr std::string_view kMediaRoots[] = {"DCIM", "PhotoData/Mutations/DCIM"};

// The media folder's path on the phone, which artefact paths start with.
inline constexpr std::string_view kMediaPrefix = "/var/mobile/Media";

struct IosLimits {
    std::size_t max_entries = 1'000'000;  // listed in one walk, folders included
    std::size_t max_depth = 40;
};

struct IosFile {
    std::string afc_path;  // "/DCIM/100APPLE/IMG_0001.JPG"
    drivers::Category category = drivers::Category::photos;
    std::uint64_t size = 0;  // as stated
    std::optional<std::int64_t> mtime_ms;
};

class IosExtractor {
  public:
    using SkipHandler = std::function<void(const drivers::Artefact&, const Error&)>;

    IosExtractor(AfcClient& afc, IosLimits limits = {}) : afc_(afc), limits_(limits) {}

    Result<drivers::Preview> preview(const drivers::Scope& scope);
    Status extract(const drivers::Scope& scope, drivers::ArtefactSink& sink);
    // The files in scope; entries not taken for a reason go to `on_skip`.
    Result<std::vector<IosFile>> enumerate(const drivers::Scope& scope, const SkipHandler& on_skip);

  private:
    struct Walk;
    Status walk(Walk& w, const std::string& folder, std::size_t depth);

    AfcClient& afc_;
    IosLimits limits_;
};

}  // namespace exhibit::ios
