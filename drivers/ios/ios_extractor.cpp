#include "drivers/ios/ios_extractor.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "drivers/shared_storage.hpp"

namespace exhibit::ios {

using drivers::Artefact;
using drivers::Category;

namespace {

std::string phone_path(std::string_view afc_path) {
    return fmt::format("{}{}", kMediaPrefix, afc_path);
}

}  // namespace

struct IosExtractor::Walk {
    const drivers::Scope* scope = nullptr;
    const SkipHandler* on_skip = nullptr;
    std::size_t seen = 0;
    std::vector<IosFile> files;

    void skip(const std::string& afc_path, std::optional<afc::FileInfo> info, Errc code,
              std::string why) const {
        Artefact a{.category = drivers::classify_file(afc_path).value_or(Category::photos),
                   .source_path = phone_path(afc_path),
                   .declared_size = info ? std::optional(info->size) : std::nullopt,
                   .mtime_ms = info ? info->mtime_ms : std::nullopt};
        (*on_skip)(a, Error{code, std::move(why), 0});
    }
};

Status IosExtractor::walk(Walk& w, const std::string& folder, std::size_t depth) {
    auto names = afc_.read_dir(folder);
    if (!names) {
        // A folder the phone would not list: the walk goes on without it, saying so.
        if (afc_.refused()) {
            w.skip(folder, std::nullopt, names.error().code,
                   fmt::format("the phone did not list folder {}, so none of its files were "
                               "taken: {}",
                               phone_path(folder), names.error().message));
            return {};
        }
        return std::unexpected(names.error());
    }
    w.seen += names->size();
    if (w.seen > limits_.max_entries)
        return fail(Errc::protocol,
                    fmt::format("the phone listed more than {} entries", limits_.max_entries));
    std::ranges::sort(*names);
    for (const auto& name : *names) {
        const std::string path = folder + "/" + name;
        if (auto why = drivers::unusable_name(name)) {
            w.skip(path, std::nullopt, Errc::protocol,
                   fmt::format("the phone listed {} in {}", *why, phone_path(folder)));
            continue;
        }
        auto info = afc_.file_info(path);
        if (!info) {
            if (!afc_.refused())
                return std::unexpected(info.error());
            w.skip(path, std::nullopt, info.error().code,
                   fmt::format("the phone listed {} but gave no information on it: {}",
                               phone_path(path), info.error().message));
            continue;
        }
        switch (info->type) {
            case afc::FileType::directory:
                if (depth + 1 > limits_.max_depth) {
                    w.skip(path, *info, Errc::protocol,
                           fmt::format("{} is nested deeper than {} folders", phone_path(path),
                                       limits_.max_depth));
                    continue;
                }
                if (auto s = walk(w, path, depth + 1); !s)
                    return s;
                continue;
            case afc::FileType::symlink:
                if (drivers::classify_file(name))
                    w.skip(path, *info, Errc::unsupported,
                           fmt::format("{} is a link to {}, which is not followed",
                                       phone_path(path), info->link_target));
                continue;
            case afc::FileType::other:
                continue;
            case afc::FileType::regular:
                break;
        }
        auto category = drivers::classify_file(name);
        if (!category || std::ranges::find(kCategories, *category) == std::end(kCategories) ||
            !w.scope->categories.contains(*category))
            continue;
        if (!w.scope->includes_time(info->mtime_ms))
            continue;
        w.files.push_back(
            {.afc_path = path, .category = *category, .size = info->size, .mtime_ms = info->mtime_ms});
    }
    return {};
}

Result<std::vector<IosFile>> IosExtractor::enumerate(const drivers::Scope& scope,
                                                     const SkipHandler& on_skip) {
    Walk w{.scope = &scope, .on_skip = &on_skip, .seen = 0, .files = {}};
    const bool any = std::ranges::any_of(kCategories, [&](Category c) {
        return scope.categories.contains(c);
    });
    if (!any)
        return w.files;
    for (auto root : kMediaRoots) {
        const std::string folder = fmt::format("/{}", root);
        auto info = afc_.file_info(folder);
        if (!info) {
            if (afc_.refused())
                continue;  // this phone has no such folder
            return std::unexpected(info.error());
        }
        if (info->type != afc::FileType::directory)
            continue;
        if (auto s = walk(w, folder, 1); !s)
            return std::unexpected(s.error());
    }
    return w.files;
}

Result<drivers::Preview> IosExtractor::preview(const drivers::Scope& scope) {
    drivers::Preview preview;
    auto files = enumerate(scope, [](const Artefact&, const Error&) {});
    if (!files)
        return std::unexpected(files.error());
    drivers::count_files(preview, *files);
    return preview;
}

Status IosExtractor::extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) {
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
                   .source_path = phone_path(f.afc_path),
                   .declared_size = f.size,
                   .mtime_ms = f.mtime_ms};
        auto handle = afc_.open(f.afc_path);
        if (!handle) {
            if (!afc_.refused())
                return std::unexpected(handle.error());
            sink.skipped(a, handle.error());  // the phone would not open it
            continue;
        }
        auto writer = sink.begin(a);
        if (!writer)
            return std::unexpected(writer.error());
        auto read = drivers::stream_file(**writer, f.size, [&](const drivers::ChunkConsumer& consume) -> Status {
            if (auto r = afc_.read_all(*handle, consume); !r)
                return std::unexpected(r.error());
            return {};
        });
        if (!read)
            return std::unexpected(read.error());
        if (!*read)
            return std::unexpected(read->error());  // the AFC stream is out of step now
        if (auto c = afc_.close(*handle); !c)
            return c;
    }
    return {};
}

}  // namespace exhibit::ios
