#include "drivers/mtp/mtp_extractor.hpp"

#include <libmtp.h>

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "drivers/shared_storage.hpp"

namespace exhibit::mtp {

using drivers::Artefact;
using drivers::Category;

std::string object_path(std::uint32_t storage, std::string_view relative) {
    return fmt::format("/mtp/{:08x}/{}", storage, relative);
}

std::optional<Category> classify_object(std::string_view name, int libmtp_type) {
    if (auto c = drivers::classify_file(name))
        return c;
    switch (static_cast<LIBMTP_filetype_t>(libmtp_type)) {
        case LIBMTP_FILETYPE_JPEG:
        case LIBMTP_FILETYPE_JFIF:
        case LIBMTP_FILETYPE_TIFF:
        case LIBMTP_FILETYPE_BMP:
        case LIBMTP_FILETYPE_GIF:
        case LIBMTP_FILETYPE_PNG:
        case LIBMTP_FILETYPE_JP2:
        case LIBMTP_FILETYPE_JPX:
            return Category::photos;
        case LIBMTP_FILETYPE_MP4:
        case LIBMTP_FILETYPE_WMV:
        case LIBMTP_FILETYPE_AVI:
        case LIBMTP_FILETYPE_MPEG:
        case LIBMTP_FILETYPE_ASF:
        case LIBMTP_FILETYPE_QT:
        case LIBMTP_FILETYPE_UNDEF_VIDEO:
            return Category::videos;
        case LIBMTP_FILETYPE_WAV:
        case LIBMTP_FILETYPE_MP3:
        case LIBMTP_FILETYPE_WMA:
        case LIBMTP_FILETYPE_OGG:
        case LIBMTP_FILETYPE_AUDIBLE:
        case LIBMTP_FILETYPE_UNDEF_AUDIO:
        case LIBMTP_FILETYPE_AAC:
        case LIBMTP_FILETYPE_FLAC:
        case LIBMTP_FILETYPE_MP2:
        case LIBMTP_FILETYPE_M4A:
            return Category::audio;
        case LIBMTP_FILETYPE_TEXT:
        case LIBMTP_FILETYPE_DOC:
        case LIBMTP_FILETYPE_XLS:
        case LIBMTP_FILETYPE_PPT:
        case LIBMTP_FILETYPE_VCALENDAR1:
        case LIBMTP_FILETYPE_VCALENDAR2:
        case LIBMTP_FILETYPE_VCARD2:
        case LIBMTP_FILETYPE_VCARD3:
            return Category::documents;
        default:
            return std::nullopt;
    }
}

Result<drivers::DeviceInfo> MtpExtractor::device_info() {
    auto id = device_.identity();
    drivers::DeviceInfo info;
    info.manufacturer = id.manufacturer;
    info.model = id.model;
    info.serial = id.serial;
    // MTP does not say which Android runs the phone; its DeviceVersion is a build string.
    info.properties["mtp.device_version"] = id.device_version;
    if (!id.friendly_name.empty())
        info.properties["mtp.friendly_name"] = id.friendly_name;
    auto storages = device_.storages();
    if (!storages)
        return std::unexpected(storages.error());
    for (const auto& s : *storages) {
        auto key = fmt::format("mtp.storage.{:08x}", s.id);
        info.properties[key + ".description"] = s.description;
        info.properties[key + ".capacity"] = std::to_string(s.capacity);
        info.properties[key + ".free"] = std::to_string(s.free_bytes);
    }
    return info;
}

struct MtpExtractor::Walk {
    const drivers::Scope* scope = nullptr;
    const SkipHandler* on_skip = nullptr;
    std::uint32_t storage = 0;
    std::map<std::uint32_t, std::vector<MtpObject>> listed;  // by folder (kStorageTop: top)
    std::set<std::uint32_t> walked;                          // folders walked, this storage
    std::size_t seen = 0;
    std::vector<MtpFile> files;

    // A folder the phone would not list, while it stays in step: its files are not taken,
    // and the audit says which folder and why.
    void skip_folder(const std::string& relative, const Error& e) const {
        Artefact a{.category = Category::documents, .source_path = object_path(storage, relative)};
        (*on_skip)(a, Error{e.code,
                            fmt::format("the phone did not list folder {}, so none of its "
                                        "files were taken: {}",
                                        object_path(storage, relative), e.message),
                            0});
    }

    void skip(const MtpObject& o, const std::string& relative, Errc code, std::string why) const {
        Artefact a{.category = classify_object(o.name, o.libmtp_type).value_or(Category::documents),
                   .source_path = object_path(storage, relative),
                   .declared_size = o.size,
                   .mtime_ms = o.mtime_ms};
        (*on_skip)(a, Error{code, std::move(why), 0});
    }
};

Result<const std::vector<MtpObject>*> MtpExtractor::children(Walk& w, std::uint32_t folder) {
    auto it = w.listed.find(folder);
    if (it != w.listed.end())
        return &it->second;
    auto objects = device_.list(w.storage, folder);
    if (!objects)
        return std::unexpected(objects.error());
    w.seen += objects->size();
    if (w.seen > limits_.max_objects)
        return fail(Errc::protocol,
                    fmt::format("the phone listed more than {} objects", limits_.max_objects));
    return &w.listed.emplace(folder, std::move(*objects)).first->second;
}

Status MtpExtractor::walk(Walk& w, std::uint32_t folder, const std::string& relative,
                          std::size_t depth) {
    auto listed = children(w, folder);
    if (!listed) {
        // One folder's answer was refused or malformed but the phone is still in step (and
        // the limits were not reached): the walk goes on without that folder.
        const auto& e = listed.error();
        if (device_.broken() || device_.interrupted() || e.code != Errc::protocol ||
            w.seen > limits_.max_objects)
            return std::unexpected(e);
        w.skip_folder(relative, e);
        return {};
    }
    // The walk may list more folders (and so grow w.listed) while going through this one.
    const std::vector<MtpObject> objects = **listed;
    for (const auto& o : objects) {
        const std::string path = relative + "/" + o.name;
        if (auto why = drivers::unusable_name(o.name)) {
            w.skip(
                o, path, Errc::protocol,
                fmt::format("the phone listed {} in {}", *why, object_path(w.storage, relative)));
            continue;
        }
        const std::uint32_t expected_parent = folder == kStorageTop ? 0 : folder;
        if (o.storage != w.storage || (o.parent != expected_parent && o.parent != kStorageTop)) {
            // Seen when the exchange with the phone went out of step (answers to earlier
            // requests read as answers to later ones): libmtp may already have dropped
            // objects without a word, so no listing from here on can be trusted to be whole.
            // The extraction ends, saying so, rather than completing with silent gaps.
            return fail(Errc::protocol,
                        fmt::format("the phone's answers went out of step: it listed object {} "
                                    "in {} but names another folder or storage as its place",
                                    o.id, object_path(w.storage, relative)));
        }
        if (o.folder) {
            if (!w.walked.insert(o.id).second) {
                w.skip(o, path, Errc::protocol,
                       fmt::format("folder {} is listed again inside itself or its own "
                                   "subfolders (a loop on the phone)",
                                   object_path(w.storage, path)));
                continue;
            }
            if (depth + 1 > limits_.max_depth) {
                w.skip(o, path, Errc::protocol,
                       fmt::format("{} is nested deeper than {} folders",
                                   object_path(w.storage, path), limits_.max_depth));
                continue;
            }
            if (auto s = walk(w, o.id, path, depth + 1); !s)
                return s;
            continue;
        }
        auto category = classify_object(o.name, o.libmtp_type);
        if (!category || !w.scope->categories.contains(*category))
            continue;
        if (!w.scope->includes_time(o.mtime_ms))
            continue;
        w.files.push_back({.id = o.id,
                           .path = object_path(w.storage, path),
                           .category = *category,
                           .size = o.size,
                           .mtime_ms = o.mtime_ms});
    }
    return {};
}

Result<std::vector<MtpFile>> MtpExtractor::enumerate(const drivers::Scope& scope,
                                                     const SkipHandler& on_skip) {
    std::vector<MtpFile> files;
    bool any_files = std::ranges::any_of(scope.categories, [](Category c) {
        return std::ranges::find(kCategories, c) != std::end(kCategories);
    });
    if (!any_files)
        return files;
    auto storages = device_.storages();
    if (!storages)
        return std::unexpected(storages.error());
    std::size_t seen = 0;
    for (const auto& storage : *storages) {
        Walk w{.scope = &scope, .on_skip = &on_skip, .storage = storage.id, .seen = seen};
        // The shared folders every family walks, found by name from the storage's top.
        for (const auto& root : drivers::shared_storage_roots()) {
            std::uint32_t folder = kStorageTop;
            std::string relative;
            bool found = true;
            for (std::size_t start = 0; found && start <= root.size();) {
                auto end = std::min(root.find('/', start), root.size());
                const std::string name = root.substr(start, end - start);
                start = end + 1;
                auto listed = children(w, folder);
                if (!listed)
                    return std::unexpected(listed.error());
                auto it = std::ranges::find_if(
                    **listed, [&](const MtpObject& o) { return o.folder && o.name == name; });
                found = it != (*listed)->end();
                if (found) {
                    folder = it->id;
                    relative += (relative.empty() ? "" : "/") + name;
                }
            }
            if (!found || !w.walked.insert(folder).second)
                continue;
            if (auto s = walk(w, folder, relative, 1); !s)
                return std::unexpected(s.error());
        }
        seen = w.seen;
        std::ranges::move(w.files, std::back_inserter(files));
    }
    return files;
}

Result<drivers::Preview> MtpExtractor::preview(const drivers::Scope& scope) {
    drivers::Preview preview;
    auto files = enumerate(scope, [](const Artefact&, const Error&) {});
    if (!files)
        return std::unexpected(files.error());
    drivers::count_files(preview, *files);
    return preview;
}

Status MtpExtractor::extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) {
    auto files = enumerate(scope, [&](const Artefact& a, const Error& e) { sink.skipped(a, e); });
    if (!files)
        return std::unexpected(files.error());
    std::uint64_t bytes = 0;
    for (const auto& f : *files)
        bytes += f.size;
    sink.planned(files->size(), bytes);

    for (const auto& f : *files) {
        if (sink.stop_requested())
            return fail(Errc::cancelled, "the extraction was cancelled");
        Artefact a{.category = f.category,
                   .source_path = f.path,
                   .declared_size = f.size,
                   .mtime_ms = f.mtime_ms};
        auto writer = sink.begin(a);
        if (!writer)
            return std::unexpected(writer.error());
        // The data phase is read to its end (its container states its own length), so the
        // next operation finds the phone in step.
        auto read = drivers::stream_file(**writer, f.size, [&](const drivers::ChunkConsumer& consume) -> Status {
            if (auto r = device_.read(f.id, consume); !r)
                return std::unexpected(r.error());
            return {};
        });
        if (!read)
            return std::unexpected(read.error());
        if (!*read && (read->error().code == Errc::cancelled || device_.broken() ||
                         device_.interrupted()))
            return std::unexpected(read->error());
    }
    return {};
}

}  // namespace exhibit::mtp
