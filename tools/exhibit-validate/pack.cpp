#include "tools/exhibit-validate/pack.hpp"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/format.h>

#include "common/fs.hpp"
#include "tools/exhibit-verify/json_fields.hpp"

namespace exhibit::validate {

namespace fs = std::filesystem;
using nlohmann::json;
using verify::is_sha256_hex;
using verify::json_member;
using verify::json_string;

namespace {

constexpr std::size_t kMaxJson = 16u << 20;

Result<json> read_json(const fs::path& file) {
    auto text = exhibit::fs::read_file(file, kMaxJson);
    if (!text)
        return fail(Errc::not_found,
                    fmt::format("{}: cannot be read: {}", file.string(), text.error().message));
    auto j = json::parse(*text, nullptr, false);
    if (!j.is_object())
        return fail(Errc::invalid_argument, fmt::format("{}: not a JSON object", file.string()));
    return j;
}

// A string field; an error naming the file and the field when it is absent, empty or not a
// string (unless `optional`).
Result<std::string> text(const json& j, const char* key, const fs::path& file,
                         bool optional = false) {
    const auto& v = json_member(j, key);
    if (v.is_null() && optional)
        return std::string();
    if (!v.is_string() || (!optional && v.get_ref<const std::string&>().empty()))
        return fail(Errc::invalid_argument,
                    fmt::format("{}: \"{}\" must be a {}string", file.string(), key,
                                optional ? "" : "non-empty "));
    return v.get<std::string>();
}

Result<std::vector<std::string>> texts(const json& j, const char* key, const fs::path& file) {
    const auto& v = json_member(j, key);
    if (!v.is_array())
        return fail(Errc::invalid_argument,
                    fmt::format("{}: \"{}\" must be a list of strings", file.string(), key));
    std::vector<std::string> out;
    for (const auto& e : v) {
        if (!e.is_string())
            return fail(Errc::invalid_argument,
                        fmt::format("{}: \"{}\" must be a list of strings", file.string(), key));
        out.push_back(e.get<std::string>());
    }
    return out;
}

// An optional list of objects: its entries (none when absent), or an error naming the file
// and the field when it is there but not a list.
Result<std::vector<json>> optional_list(const json& j, const char* key, const fs::path& file) {
    const auto& v = json_member(j, key);
    if (v.is_null())
        return std::vector<json>{};
    if (!v.is_array())
        return fail(Errc::invalid_argument,
                    fmt::format("{}: \"{}\" must be a list", file.string(), key));
    return v.get<std::vector<json>>();
}

Result<Case> load_case(const fs::path& dir, const std::set<std::string>& requirement_ids) {
    const auto file = dir / "case.json";
    auto j = read_json(file);
    if (!j)
        return std::unexpected(j.error());
    Case c;
    c.name = dir.filename().string();
    auto title = text(*j, "title", file);
    auto requirements = texts(*j, "requirements", file);
    auto categories = texts(*j, "categories", file);
    auto from = text(*j, "from", file, true);
    auto to = text(*j, "to", file, true);
    auto state = text(*j, "state", file);
    for (const auto* r : {&title, &from, &to, &state})
        if (!*r)
            return std::unexpected(r->error());
    for (const auto* r : {&requirements, &categories})
        if (!*r)
            return std::unexpected(r->error());
    c.title = *title;
    c.requirements = *requirements;
    c.categories = *categories;
    c.from = *from;
    c.to = *to;
    c.state = *state;
    for (const auto& id : c.requirements)
        if (!requirement_ids.contains(id))
            return fail(Errc::invalid_argument,
                        fmt::format("{}: requirement \"{}\" is not in the pack", file.string(), id));
    const auto& seed = json_member(*j, "seed");
    if (!seed.is_number_unsigned())
        return fail(Errc::invalid_argument,
                    fmt::format("{}: \"seed\" must be a whole number", file.string()));
    c.seed = seed.get<std::uint64_t>();
    const auto& transport = json_member(*j, "transport");
    if (!transport.is_null()) {
        if (!transport.is_string() || (transport != "adb-tcp" && transport != "adb-usb" &&
                                       transport != "mtp-usb" && transport != "stick-usb" &&
                                       transport != "iphone-usb"))
            return fail(Errc::invalid_argument,
                        fmt::format("{}: \"transport\" must be adb-tcp, adb-usb, mtp-usb, "
                                    "iphone-usb or stick-usb",
                                    file.string()));
        c.transport = transport.get<std::string>();
    }
    const auto& stick = json_member(*j, "stick");
    if (c.transport == "stick-usb") {
        auto folders = texts(stick, "folders", file);
        if (!folders)
            return std::unexpected(folders.error());
        for (const auto& f : *folders)
            if (f.empty() || f.starts_with('/') || f.find("..") != std::string::npos)
                return fail(Errc::invalid_argument,
                            fmt::format("{}: the stick's folder \"{}\" must be a folder of the "
                                        "generated phone",
                                        file.string(), f));
        c.stick.folders = *folders;
        auto label = text(stick, "label", file, true);
        if (!label)
            return std::unexpected(label.error());
        if (!label->empty())
            c.stick.label = *label;
    } else if (!stick.is_null()) {
        return fail(Errc::invalid_argument,
                    fmt::format("{}: \"stick\" needs the transport stick-usb", file.string()));
    }
    if (!json_member(*j, "numbers").is_null()) {
        auto numbers = texts(*j, "numbers", file);
        if (!numbers)
            return std::unexpected(numbers.error());
        c.numbers = *numbers;
    }
    c.scenario = json_member(*j, "scenario");
    if (!c.scenario.is_null() && !c.scenario.is_object())
        return fail(Errc::invalid_argument,
                    fmt::format("{}: \"scenario\" must be an object", file.string()));
    const auto& items = json_member(*j, "items");
    if (!items.is_array())
        return fail(Errc::invalid_argument,
                    fmt::format("{}: \"items\" must be a list", file.string()));
    for (const auto& i : items) {
        auto path = text(i, "source_path", file);
        auto sha = text(i, "sha256", file);
        if (!path || !sha)
            return std::unexpected(!path ? path.error() : sha.error());
        if (!is_sha256_hex(*sha))
            return fail(Errc::invalid_argument,
                        fmt::format("{}: the sha256 of {} is not 64 lowercase hex digits",
                                    file.string(), *path));
        const auto& complete = json_member(i, "complete");
        if (!complete.is_null() && !complete.is_boolean())
            return fail(Errc::invalid_argument,
                        fmt::format("{}: \"complete\" of {} must be true or false",
                                    file.string(), *path));
        auto why = text(i, "why", file, true);
        if (!why)
            return std::unexpected(why.error());
        c.items.push_back({*path, *sha, complete.is_null() || complete.get<bool>(), *why});
    }
    auto records = optional_list(*j, "records", file);
    if (!records)
        return std::unexpected(records.error());
    for (const auto& r : *records) {
        auto source = text(r, "source_path", file);
        if (!source)
            return std::unexpected(source.error());
        const auto& rows = json_member(r, "rows");
        if (!rows.is_array() ||
            !std::ranges::all_of(rows, [](const json& row) { return row.is_object(); }))
            return fail(Errc::invalid_argument,
                        fmt::format("{}: the rows of {} must be a list of objects",
                                    file.string(), *source));
        const auto& match = json_member(r, "match");
        if (!match.is_null() && match != "exact" && match != "contains")
            return fail(Errc::invalid_argument,
                        fmt::format("{}: \"match\" of {} must be exact or contains",
                                    file.string(), *source));
        c.records.push_back({*source, rows.get<std::vector<json>>(), match == "contains"});
    }
    auto skipped = optional_list(*j, "skipped", file);
    if (!skipped)
        return std::unexpected(skipped.error());
    for (const auto& k : *skipped) {
        auto source = text(k, "source_path", file);
        auto reason = text(k, "reason", file);
        if (!source || !reason)
            return std::unexpected(!source ? source.error() : reason.error());
        c.skipped.push_back({*source, *reason});
    }
    return c;
}

}  // namespace

Result<Pack> load_pack(const fs::path& dir) {
    const auto file = dir / "pack.json";
    auto j = read_json(file);
    if (!j)
        return std::unexpected(j.error());
    Pack pack;
    pack.dir = dir;
    auto name = text(*j, "name", file);
    if (!name)
        return std::unexpected(name.error());
    pack.name = *name;
    std::set<std::string> ids;
    const auto& requirements = json_member(*j, "requirements");
    if (!requirements.is_array() || requirements.empty())
        return fail(Errc::invalid_argument,
                    fmt::format("{}: \"requirements\" must be a list", file.string()));
    for (const auto& r : requirements) {
        auto id = text(r, "id", file);
        auto what = text(r, "text", file);
        if (!id || !what)
            return std::unexpected(!id ? id.error() : what.error());
        if (!ids.insert(*id).second)
            return fail(Errc::invalid_argument,
                        fmt::format("{}: requirement {} twice", file.string(), *id));
        pack.requirements.push_back({*id, *what});
    }
    auto limits = texts(*j, "limits", file);
    if (!limits)
        return std::unexpected(limits.error());
    pack.limits = *limits;
    std::vector<fs::path> folders;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir / "cases", ec))
        if (e.is_directory())
            folders.push_back(e.path());
    if (ec)
        return fail(Errc::not_found,
                    fmt::format("{}: cannot list its cases: {}", dir.string(), ec.message()));
    std::ranges::sort(folders);
    for (const auto& f : folders) {
        auto c = load_case(f, ids);
        if (!c)
            return std::unexpected(c.error());
        pack.cases.push_back(std::move(*c));
    }
    if (pack.cases.empty())
        return fail(Errc::invalid_argument, fmt::format("{}: no cases", dir.string()));
    return pack;
}

namespace {

// Whether `row` holds every member of `want` with an equal value (objects within objects
// alike).
bool holds(const json& row, const json& want) {
    if (!want.is_object() || !row.is_object())
        return row == want;
    return std::ranges::all_of(want.items(), [&](const auto& member) {
        auto it = row.find(member.key());
        return it != row.end() && holds(*it, member.value());
    });
}

// A record item's rows against the known answers: how many, then each in order.
void compare_rows(const ExpectedRecords& e, const Observed& observed, std::vector<Check>& checks) {
    auto bytes = observed.delivered.find(e.source_path);
    if (bytes == observed.delivered.end()) {
        checks.push_back({e.source_path + ": rows", "read from the DFU store",
                          "its bytes could not be read", false});
        return;
    }
    std::vector<json> rows;
    std::string_view rest = bytes->second;
    while (!rest.empty()) {
        const auto end = rest.find('\n');
        const auto line = rest.substr(0, end);
        rows.push_back(json::parse(line, nullptr, false));  // a bad line: a discarded value
        rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
    }
    checks.push_back({e.source_path + ": rows", std::to_string(e.rows.size()),
                      std::to_string(rows.size()), rows.size() == e.rows.size()});
    const auto shown = [](const json& row) {
        return row.is_discarded() ? std::string("not a JSON line")
                                  : row.dump(-1, ' ', false, json::error_handler_t::replace);
    };
    for (std::size_t n = 0; n < std::max(rows.size(), e.rows.size()); ++n) {
        const auto what = fmt::format("{}: row {}", e.source_path, n + 1);
        if (n >= e.rows.size())
            checks.push_back({what, "no such row", shown(rows[n]), false});
        else if (n >= rows.size())
            checks.push_back({what, shown(e.rows[n]), "missing", false});
        else
            checks.push_back({what, (e.contains ? "holds " : "") + shown(e.rows[n]),
                              shown(rows[n]),
                              e.contains ? holds(rows[n], e.rows[n]) : rows[n] == e.rows[n]});
    }
}

// What the delivered audit trail records as skipped (extract.artefact_skipped) against the
// entries the case expects skipped, by path, each with words of its reason.
void compare_skips(const Case& c, const json& session, std::vector<Check>& checks) {
    std::multimap<std::string, std::string> skipped;  // path -> reason
    const auto& trail = json_member(session, "trail");
    for (const auto& entry : trail.is_array() ? trail : json::array())
        if (json_string(entry, "event") == "extract.artefact_skipped") {
            const auto& details = json_member(entry, "details");
            skipped.emplace(json_string(details, "source_path"), json_string(details, "reason"));
        }
    for (const auto& e : c.skipped) {
        auto it = skipped.find(e.source_path);
        const auto what = e.source_path + ": skipped";
        if (it == skipped.end()) {
            checks.push_back({what, "skipped: … " + e.reason + " …", "not recorded as skipped",
                              false});
            continue;
        }
        checks.push_back({what, "skipped: … " + e.reason + " …", "skipped: " + it->second,
                          it->second.find(e.reason) != std::string::npos});
        skipped.erase(it);
    }
    for (const auto& [path, reason] : skipped)
        checks.push_back({path + ": skipped", "not skipped", "skipped: " + reason, false});
}

}  // namespace

std::vector<Check> compare(const Case& c, const Observed& observed) {
    std::vector<Check> checks;
    auto check = [&](std::string what, std::string expected, std::string seen) {
        const bool pass = expected == seen;
        checks.push_back({std::move(what), std::move(expected), std::move(seen), pass});
    };
    check("the extraction ends", c.state == "completed" ? "completed (exhibitctl exit 0)"
                                                        : "not completed (exhibitctl exit 6)",
          observed.extract_status == 0   ? "completed (exhibitctl exit 0)"
          : observed.extract_status == 6 ? "not completed (exhibitctl exit 6)"
                                         : fmt::format("exhibitctl exit {}", observed.extract_status));
    const auto& report = observed.verify;
    check("exhibit-verify on what the DFU store holds", "VERIFIED",
          report.is_object() && json_member(report, "ok") == true ? "VERIFIED"
          : observed.verify_text.empty()                         ? "not run"
                                                                 : "FAILED");
    const auto& sessions = json_member(report, "sessions");
    const json& session = sessions.is_array() && sessions.size() == 1 ? sessions[0] : json();
    check("sessions delivered", "1", sessions.is_array() ? std::to_string(sessions.size()) : "0");
    check("the session's state in its signed manifest", c.state,
          json_string(session, "session_state"));

    std::map<std::string, const json*> seen;
    const auto& items = json_member(session, "items");
    if (items.is_array())
        for (const auto& i : items)
            seen[json_string(i, "source_path")] = &i;
    // "verified, whole, sha256 …" of a delivered item, as the checks compare it.
    auto delivered_as = [](const json& i, bool with_sha) {
        const bool incomplete = json_string(i, "note").starts_with("recorded incomplete");
        return fmt::format("{}, {}{}",
                           json_string(i, "status") == "ok" ? "verified" : json_string(i, "status"),
                           incomplete ? "incomplete" : "whole",
                           with_sha ? ", sha256 " + json_string(i, "sha256") : "");
    };
    for (const auto& e : c.items) {
        auto it = seen.find(e.source_path);
        const std::string want =
            fmt::format("{}, {}, sha256 {}", "verified", e.complete ? "whole" : "incomplete",
                        e.sha256);
        if (it == seen.end()) {
            check(e.source_path, want, "not delivered");
            continue;
        }
        const auto& i = *it->second;
        check(e.source_path, want, delivered_as(i, true));
        if (!e.why.empty()) {
            const auto note = json_string(i, "note");
            checks.push_back({e.source_path + ": why it is incomplete", "… " + e.why + " …", note,
                              note.find(e.why) != std::string::npos});
        }
        seen.erase(it);
    }
    for (const auto& e : c.records) {
        auto it = seen.find(e.source_path);
        if (it == seen.end()) {
            check(e.source_path, "verified, whole", "not delivered");
            continue;
        }
        check(e.source_path, "verified, whole", delivered_as(*it->second, false));
        seen.erase(it);
        compare_rows(e, observed, checks);
    }
    compare_skips(c, session, checks);
    for (const auto& [path, item] : seen)
        check(path, "not taken (outside the scope)",
              fmt::format("taken, sha256 {}", json_string(*item, "sha256")));
    return checks;
}

}  // namespace exhibit::validate
