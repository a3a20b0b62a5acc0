// What every phone family takes from a phone's shared storage, whatever the protocol that
// reaches it (ADB's sync service, MTP's objects): which folders are walked, which category a
// file falls in, and which names a phone may list but no file here can have. One place, so
// that a scope means the same thing on every phone. Pure functions.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "drivers/artefact.hpp"

namespace exhibit::drivers {

// The longest name of one folder entry taken from a phone (Linux's NAME_MAX).
inline constexpr std::size_t kMaxEntryName = 255;

// The category a file belongs to by its name's extension, or none (not taken).
std::optional<Category> classify_file(std::string_view name);

// The folders walked on every phone, relative to the shared storage's top ("DCIM",
// "Android/media/com.whatsapp/WhatsApp/Media", ...): camera, downloads, documents, recordings
// and messaging apps' media.
const std::vector<std::string>& shared_storage_roots();

// Why a name a phone listed cannot be taken as the name of one file (empty, too long, with
// '/' or NUL, "." or ".."), for the skipped record; nullopt when it can.
std::optional<std::string> unusable_name(std::string_view name);

// Counts each file of a walk (anything with a `category` and a `size`) into a preview.
template <class Files>
void count_files(Preview& preview, const Files& files) {
    for (const auto& f : files) {
        auto& c = preview[f.category];
        ++c.count;
        c.bytes += f.size;
    }
}

}  // namespace exhibit::drivers
