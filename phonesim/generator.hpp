// `exhibit-phonesim --generate DIR`: a realistic test phone — camera photos carrying EXIF
// dates across several years, screenshots, a video, audio, documents, messaging-app media,
// the awkward names real phones have, and a records.json with SMS threads, calls, contacts,
// packages and properties.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "common/error.hpp"

namespace exhibit::phonesim {

struct GenerateOptions {
    unsigned seed = 1;
    bool large = false;      // a 512 MiB video instead of 8 MiB
    bool sparse_4g = false;  // also Movies/ a sparse video just over 4 GiB (v2 sizes needed)
};

// The sparse file --sparse-4g adds, relative to the phone's root, and its size.
inline constexpr std::string_view kSparseVideo = "Movies/dashcam_20240612_full.mp4";
inline constexpr std::uint64_t kSparseVideoSize = (4ull << 30) + 1'000'003;

Status generate_phone(const std::filesystem::path& dir, const GenerateOptions& options);

// `exhibit-phonesim --generate DIR --iphone`: an iPhone's media folder (/var/mobile/Media, as
// AFC serves it): the camera roll in DCIM/100APPLE and DCIM/101APPLE (photos with EXIF dates
// across years, HEIC, a screenshot, videos, awkward names), an edited render in
// PhotoData/Mutations, and what an extraction must leave (the photo library's database,
// downloads, voice memos, music). `large` and `sparse_4g` change the video as for a phone.
Status generate_iphone(const std::filesystem::path& dir, const GenerateOptions& options);

// The bytes of a small JPEG whose EXIF DateTimeOriginal is `datetime` ("YYYY:MM:DD HH:MM:SS").
std::string jpeg_with_exif(std::string_view datetime, std::size_t filler, unsigned seed);

}  // namespace exhibit::phonesim
