// `exhibit-phonesim --generate DIR`: a realistic test phone — camera photos carrying EXIF
// dates across several years, screenshots, a video, audio, documents, messaging-app media,
// the awkward names real phones have, and a records.json with SMS threads, calls, contacts,
// packages and properties.
#pragma once

#include <filesystem>

#include "common/error.hpp"

namespace exhibit::phonesim {

struct GenerateOptions {
    unsigned seed = 1;
    bool large = false;  // a 512 MiB video instead of 8 MiB
};

Status generate_phone(const std::filesystem::path& dir, const GenerateOptions& options);

// The bytes of a small JPEG whose EXIF DateTimeOriginal is `datetime` ("YYYY:MM:DD HH:MM:SS").
std::string jpeg_with_exif(std::string_view datetime, std::size_t filler, unsigned seed);

}  // namespace exhibit::phonesim
