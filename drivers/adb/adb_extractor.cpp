#include "adb_extractor.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "drivers/adb/content_query.hpp"
#include "drivers/adb/shell_client.hpp"
#include "drivers/shared_storage.hpp"

namespace exhibit::adb {

using drivers::Artefact;
using drivers::Category;

namespace {

struct RecordQuery {
    Category category;
    const char* uri;
    std::vector<std::string> columns;
    const char* date_column;   // null: not filtered by date
    const char* party_column;  // the other party's number; null: not filtered by number
};

const std::vector<RecordQuery>& record_queries() {
    static const std::vector<RecordQuery> queries = {
        {Category::messages,
         "content://sms",
         {"_id", "thread_id", "address", "date", "date_sent", "read", "type", "subject", "body"},
         "date",
         "address"},
        {Category::call_log,
         "content://call_log/calls",
         {"_id", "number", "date", "duration", "type", "name"},
         "date",
         "number"},
        {Category::contacts,
         "content://com.android.contacts/data",
         {"_id", "raw_contact_id", "mimetype", "data1", "data2", "data3"},
         nullptr,
         nullptr},
    };
    return queries;
}

std::string json_line(const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

std::map<std::string, std::string> parse_getprop(std::string_view output) {
    std::map<std::string, std::string> props;
    std::size_t pos = 0;
    while (pos < output.size()) {
        auto end = output.find('\n', pos);
        if (end == std::string_view::npos)
            end = output.size();
        auto line = output.substr(pos, end - pos);
        pos = end + 1;
        if (!line.empty() && line.back() == '\r')
            line.remove_suffix(1);
        // [key]: [value]
        if (line.size() < 6 || line.front() != '[')
            continue;
        auto close = line.find("]: [");
        if (close == std::string_view::npos || line.back() != ']')
            continue;
        props.emplace(line.substr(1, close - 1), line.substr(close + 4, line.size() - close - 5));
    }
    return props;
}

AdbExtractor::AdbExtractor(Connection& connection, const Clock& kiosk_clock, ExtractorLimits limits)
    : conn_(&connection), clock_(&kiosk_clock), limits_(limits) {}

Result<std::string> AdbExtractor::shell(std::string_view command) {
    auto r = run_shell(*conn_, command, limits_.max_record_output);
    if (!r)
        return std::unexpected(r.error());
    if (r->exit_code && *r->exit_code != 0)
        return fail(Errc::protocol, fmt::format("\"{}\" failed on the phone (exit {}): {}", command,
                                                *r->exit_code, r->err.substr(0, 200)));
    return std::move(r->out);
}

Result<drivers::DeviceInfo> AdbExtractor::device_info() {
    drivers::DeviceInfo info;
    auto props = shell("getprop");
    if (!props)
        return std::unexpected(props.error());
    info.properties = parse_getprop(*props);
    auto prop = [&](const char* k) {
        auto it = info.properties.find(k);
        return it == info.properties.end() ? std::string() : it->second;
    };
    const auto& banner = conn_->device_banner();
    info.manufacturer = prop("ro.product.manufacturer");
    info.model = prop("ro.product.model");
    if (info.model.empty() && banner.properties.contains("ro.product.model"))
        info.model = banner.properties.at("ro.product.model");
    info.serial = prop("ro.serialno");
    if (info.serial.empty())
        info.serial = prop("ro.boot.serialno");
    auto release = prop("ro.build.version.release");
    info.os_version = release.empty() ? std::string() : "Android " + release;
    info.build_fingerprint = prop("ro.build.fingerprint");

    // Clock offset: the phone's `date +%s` against the kiosk clock at the middle of the call.
    auto before = clock_->now();
    auto date = shell("date +%s");
    auto after = clock_->now();
    if (date) {
        std::string digits;
        for (char c : *date)
            if (std::isdigit(static_cast<unsigned char>(c)) || (c == '-' && digits.empty()))
                digits.push_back(c);
            else if (!digits.empty())
                break;
        if (!digits.empty() && digits.size() < 15) {
            auto mid = to_unix_ms(before) + (to_unix_ms(after) - to_unix_ms(before)) / 2;
            info.clock_offset_ms = std::stoll(digits) * 1000 - mid;
        }
    }
    return info;
}

Status AdbExtractor::walk(SyncClient& sync, const std::string& dir, std::size_t depth,
                          const drivers::Scope& scope, std::vector<RemoteFile>& out,
                          std::size_t& seen,
                          const std::function<void(const Artefact&, const Error&)>& on_skip) {
    std::vector<sync::DirEntry> entries;
    auto listed = sync.list(dir, [&](sync::DirEntry&& e) -> Status {
        if (++seen > limits_.max_entries_total)
            return fail(Errc::protocol, fmt::format("the phone listed more than {} entries",
                                                    limits_.max_entries_total));
        entries.push_back(std::move(e));
        return {};
    });
    if (!listed)
        return listed;
    for (auto& e : entries) {
        const std::string path = dir + "/" + e.name;
        Artefact a{.category = drivers::classify_file(e.name).value_or(Category::documents),
                   .source_path = path,
                   .declared_size = e.stat.size,
                   .mtime_ms = device_time_ms(e.stat.mtime)};
        if (auto why = drivers::unusable_name(e.name)) {
            on_skip(a,
                    Error{Errc::protocol, fmt::format("the phone listed {} in {}", *why, dir), 0});
            continue;
        }
        if (e.stat.error != 0) {
            on_skip(a,
                    Error{Errc::io,
                          fmt::format("the phone could not read {} (errno {})", path, e.stat.error),
                          0});
            continue;
        }
        if (e.stat.is_directory()) {
            if (depth + 1 > limits_.max_depth) {
                on_skip(a, Error{Errc::protocol,
                                 fmt::format("{} is nested deeper than {} folders", path,
                                             limits_.max_depth),
                                 0});
                continue;
            }
            if (auto s = walk(sync, path, depth + 1, scope, out, seen, on_skip); !s)
                return s;
            continue;
        }
        if (!e.stat.is_regular())
            continue;  // symlinks, sockets, devices: not followed, not taken
        auto category = drivers::classify_file(e.name);
        if (!category || !scope.categories.contains(*category))
            continue;
        if (!scope.includes_time(a.mtime_ms))
            continue;
        out.push_back({path, *category, e.stat.size, a.mtime_ms});
    }
    return {};
}

Result<std::vector<RemoteFile>> AdbExtractor::enumerate(
    const drivers::Scope& scope,
    const std::function<void(const Artefact&, const Error&)>& on_skip) {
    std::vector<RemoteFile> files;
    bool any_files = std::ranges::any_of(
        scope.categories, [](Category c) { return !drivers::is_record_category(c); });
    if (!any_files)
        return files;
    auto sync = SyncClient::open(*conn_, limits_.sync);
    if (!sync)
        return std::unexpected(sync.error());
    std::size_t seen = 0;
    for (const auto& root : drivers::shared_storage_roots())
        if (auto s = walk(*sync, "/sdcard/" + root, 1, scope, files, seen, on_skip); !s)
            return std::unexpected(s.error());
    return files;
}

Result<AdbExtractor::RecordSet> AdbExtractor::read_records(Category category,
                                                           const drivers::Scope& scope) {
    RecordSet set{category, {}, {}};
    if (category == Category::apps) {
        set.source = "pm list packages";
        auto out = shell("pm list packages");
        if (!out)
            return std::unexpected(out.error());
        std::size_t pos = 0;
        while (pos < out->size()) {
            auto end = out->find('\n', pos);
            if (end == std::string::npos)
                end = out->size();
            std::string_view line(out->data() + pos, end - pos);
            pos = end + 1;
            if (line.starts_with("package:"))
                set.lines.push_back(json_line({{"package", line.substr(8)}}));
        }
        return set;
    }
    if (category == Category::device_info) {
        set.source = "getprop";
        auto out = shell("getprop");
        if (!out)
            return std::unexpected(out.error());
        set.lines.push_back(json_line({{"properties", parse_getprop(*out)}}));
        return set;
    }
    auto q = std::ranges::find(record_queries(), category, &RecordQuery::category);
    if (q == record_queries().end())
        return fail(Errc::internal, "no query for this category");
    set.source = q->uri;
    std::string projection;
    for (const auto& c : q->columns)
        projection += (projection.empty() ? "" : ":") + c;
    auto out = shell(fmt::format("content query --uri {} --projection {}", q->uri, projection));
    if (!out)
        return std::unexpected(out.error());
    auto rows = parse_content_query(*out, q->columns);
    if (!rows)
        return std::unexpected(rows.error());
    for (const auto& row : *rows) {
        if (q->date_column) {
            std::optional<std::int64_t> t;
            auto it = row.find(q->date_column);
            if (it != row.end() && it->second) {
                try {
                    t = std::stoll(*it->second);
                } catch (...) {
                }
            }
            if (!scope.includes_time(t))
                continue;
        }
        if (q->party_column) {
            auto it = row.find(q->party_column);
            std::optional<std::string_view> party;
            if (it != row.end() && it->second)
                party = *it->second;
            if (!scope.includes_party(party))
                continue;
        }
        nlohmann::json j = nlohmann::json::object();
        for (const auto& [col, value] : row)
            j[col] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
        set.lines.push_back(json_line(j));
    }
    return set;
}

Result<drivers::Preview> AdbExtractor::preview(const drivers::Scope& scope) {
    drivers::Preview preview;
    auto files = enumerate(scope, [](const Artefact&, const Error&) {});
    if (!files)
        return std::unexpected(files.error());
    drivers::count_files(preview, *files);
    for (auto category : scope.categories) {
        if (!drivers::is_record_category(category))
            continue;
        auto set = read_records(category, scope);
        if (!set)
            return std::unexpected(set.error());
        auto& c = preview[category];
        c.count = set->lines.size();
        for (const auto& l : set->lines)
            c.bytes += l.size() + 1;
    }
    return preview;
}

namespace {

// Feeds pulled files into the sink, one writer per file.
class SinkPullHandler final : public PullHandler {
  public:
    SinkPullHandler(const std::vector<RemoteFile>& files, drivers::ArtefactSink& sink)
        : files_(files), sink_(sink) {}

    Status begin(std::size_t index) override {
        if (sink_.stop_requested())
            return fail(Errc::cancelled, "the extraction was cancelled");
        auto w = sink_.begin(artefact(index));
        if (!w)
            return std::unexpected(w.error());
        writer_ = std::move(*w);
        received_ = 0;
        return {};
    }
    Status data(std::span<const std::byte> bytes) override {
        received_ += bytes.size();
        return writer_->append(bytes);
    }
    Status done(std::size_t index) override {
        if (!writer_)
            if (auto s = begin(index); !s)
                return s;  // an empty file: no DATA came
        auto s = writer_->finish();
        writer_.reset();
        return s;
    }
    Status failed(std::size_t index, const Error& error) override {
        if (!writer_) {
            if (error.code != Errc::cancelled)
                sink_.skipped(artefact(index), error);
            return {};
        }
        auto s = writer_->finish_incomplete(
            fmt::format("{} after {} bytes", error.describe(), received_));
        writer_.reset();
        return s;
    }

  private:
    Artefact artefact(std::size_t i) const {
        const auto& f = files_[i];
        return {.category = f.category,
                .source_path = f.path,
                .declared_size = f.size,
                .mtime_ms = f.mtime_ms};
    }
    const std::vector<RemoteFile>& files_;
    drivers::ArtefactSink& sink_;
    std::unique_ptr<drivers::ArtefactWriter> writer_;
    std::uint64_t received_ = 0;
};

}  // namespace

Status AdbExtractor::extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) {
    auto on_skip = [&](const Artefact& a, const Error& e) { sink.skipped(a, e); };
    auto files = enumerate(scope, on_skip);
    if (!files)
        return std::unexpected(files.error());
    std::uint64_t bytes = 0;
    for (const auto& f : *files)
        bytes += f.size;
    // Records first: small, and often what the case is about. They are read before anything
    // is stored so that the plan counts their bytes too.
    std::vector<std::pair<Category, Result<RecordSet>>> record_sets;
    for (auto category : scope.categories) {
        if (!drivers::is_record_category(category))
            continue;
        if (sink.stop_requested())
            return fail(Errc::cancelled, "the extraction was cancelled");
        auto set = read_records(category, scope);
        if (!set && set.error().code != Errc::protocol)
            return std::unexpected(set.error());
        if (set)
            for (const auto& line : set->lines)
                bytes += line.size() + 1;
        record_sets.emplace_back(category, std::move(set));
    }
    sink.planned(files->size() + record_sets.size(), bytes);

    for (auto& [category, set] : record_sets) {
        if (sink.stop_requested())
            return fail(Errc::cancelled, "the extraction was cancelled");
        Artefact a{.category = category};
        if (!set) {
            a.source_path = std::string(drivers::to_string(category));
            sink.skipped(a, set.error());  // the phone refused one query: the rest goes on
            continue;
        }
        a.source_path = set->source;
        auto w = sink.begin(a);
        if (!w)
            return std::unexpected(w.error());
        for (const auto& line : set->lines) {
            if (auto s = (*w)->append(as_bytes(line)); !s)
                return s;
            if (auto s = (*w)->append(as_bytes("\n")); !s)
                return s;
        }
        if (auto s = (*w)->finish(); !s)
            return s;
    }

    std::vector<std::string> paths;
    std::vector<std::uint64_t> sizes;
    paths.reserve(files->size());
    for (const auto& f : *files) {
        paths.push_back(f.path);
        sizes.push_back(f.size);
    }
    auto sync = SyncClient::open(*conn_, limits_.sync);
    if (!sync)
        return std::unexpected(sync.error());
    SinkPullHandler handler(*files, sink);
    return sync->pull(paths, sizes, handler);
}

}  // namespace exhibit::adb
