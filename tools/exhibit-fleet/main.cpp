// exhibit-fleet: the DFU's view of its kiosks from the heartbeats they sent to the DFU store
// (tus file stores on disk): one row per enrolled kiosk, as a table, JSON or Prometheus text.
// docs/monitoring.md ("Heartbeats") has the checks, the formats and the exit codes.
#include <time.h>

#include <cstdio>
#include <iostream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "common/fs.hpp"
#include "common/prometheus_text.hpp"
#include "tools/exhibit-fleet/fleet.hpp"
#include "tools/exhibit-verify/json_fields.hpp"
#include "tools/exhibit-verify/s3_store.hpp"

namespace {

using namespace exhibit;
using namespace exhibit::fleet;
using nlohmann::json;

constexpr int kAllGood = 0;
constexpr int kUnreadable = 1;
constexpr int kSomeRejected = 2;
constexpr int kUsage = 64;

// "2026-12-05T13:20:01.123Z" (or without milliseconds) as seconds since the epoch.
std::optional<double> parse_utc(const std::string& s) {
    tm t{};
    int ms = 0;
    char tail = 0;
    const int n = std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ%c", &t.tm_year, &t.tm_mon,
                              &t.tm_mday, &t.tm_hour, &t.tm_min, &t.tm_sec, &ms, &tail);
    if (n != 7)
        return std::nullopt;
    t.tm_year -= 1900;
    t.tm_mon -= 1;
    return static_cast<double>(::timegm(&t)) + ms / 1000.0;
}

std::string human_bytes(std::uint64_t bytes) {
    constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    auto v = static_cast<double>(bytes);
    std::size_t u = 0;
    while (v >= 1024.0 && u + 1 < std::size(kUnits)) {
        v /= 1024.0;
        ++u;
    }
    return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.1f} {}", v, kUnits[u]);
}

std::string human_age(double seconds) {
    if (seconds < 0)
        seconds = 0;
    auto s = static_cast<std::uint64_t>(seconds);
    if (s < 120)
        return fmt::format("{}s", s);
    if (s < 2 * 3600)
        return fmt::format("{}m", s / 60);
    if (s < 2 * 86400)
        return fmt::format("{}h{:02}m", s / 3600, s / 60 % 60);
    return fmt::format("{}d{:02}h", s / 86400, s / 3600 % 24);
}

// What a row shows, drawn from the heartbeat's figures.
struct View {
    std::uint64_t backlog_items = 0, backlog_bytes = 0, failures = 0;
    std::uint64_t oldest_age = 0, free_bytes = 0, incomplete = 0;
    bool damaged = false, audit_ok = false;
    std::string version, last_delivery;
    std::vector<std::string> errors;
};

// A figure of a heartbeat: a good signature says which kiosk sent it, not that every field
// has the type it should (an older or newer exhibit, a damaged kiosk). A missing or mistyped
// figure reads as 0 or false, never as an exception.
std::uint64_t count_at(const json& obj, const char* key) {
    const auto& v = verify::json_member(obj, key);
    return v.is_number_unsigned() ? v.get<std::uint64_t>() : 0;
}
bool flag_at(const json& obj, const char* key) {
    const auto& v = verify::json_member(obj, key);
    return v.is_boolean() && v.get<bool>();
}

View view_of(const KioskRow& row) {
    using verify::json_member, verify::json_string;
    View v;
    const json& f = json_member(row.document, "figures");
    for (const auto& [lane, states] : json_member(f, "upload_queue").items())
        for (const char* state : {"queued", "uploading"}) {
            v.backlog_items += count_at(json_member(states, state), "items");
            v.backlog_bytes += count_at(json_member(states, state), "bytes");
        }
    for (const auto& [reason, n] : json_member(f, "upload_failures").items())
        if (n.is_number_unsigned())
            v.failures += n.get<std::uint64_t>();
    v.oldest_age = count_at(f, "oldest_unsent_age_seconds");
    v.free_bytes = count_at(f, "free_bytes");
    v.damaged = flag_at(f, "store_damaged");
    v.audit_ok = flag_at(f, "audit_chain_verified");
    v.incomplete = count_at(json_member(f, "items"), "incomplete");
    v.version = json_string(json_member(row.document, "kiosk"), "version");
    v.last_delivery = json_string(f, "last_delivery");
    if (v.damaged)
        v.errors.push_back("store damaged");
    if (!v.audit_ok)
        v.errors.push_back("audit chain broken");
    if (v.failures > 0 && v.backlog_items > 0)  // attempts failing while evidence waits
        v.errors.push_back(fmt::format("{} failed upload attempts", v.failures));
    if (v.free_bytes < count_at(f, "min_free_bytes"))
        v.errors.push_back("below the low-disk limit");
    return v;
}

void print_table(const FleetReport& r, double now) {
    fmt::print("{:<20} {:<10} {:>16} {:>8} {:<10} {:>10}  {:<10} {}\n", "KIOSK", "LAST SEEN",
               "BACKLOG", "OLDEST", "DELIVERED", "FREE", "VERSION", "ERRORS");
    for (const auto& row : r.kiosks) {
        if (!row.seen) {
            fmt::print("{:<20} {:<10} {:>16} {:>8} {:<10} {:>10}  {:<10} {}\n", row.kiosk, "never",
                       "-", "-", "-", "-", "-", "no heartbeat received");
            continue;
        }
        const auto v = view_of(row);
        const auto seen = parse_utc(row.received_at);
        const auto delivered = parse_utc(v.last_delivery);
        fmt::print("{:<20} {:<10} {:>16} {:>8} {:<10} {:>10}  {:<10} {}\n", row.kiosk,
                   seen ? human_age(now - *seen) + " ago" : "?",
                   fmt::format("{} ({})", v.backlog_items, human_bytes(v.backlog_bytes)),
                   v.backlog_items ? human_age(static_cast<double>(v.oldest_age)) : "-",
                   delivered ? human_age(now - *delivered) + " ago" : "never",
                   human_bytes(v.free_bytes), v.version,
                   v.errors.empty() ? "-" : fmt::format("{}", fmt::join(v.errors, ", ")));
    }
    if (!r.rejected.empty()) {
        fmt::print("\nREJECTED heartbeats ({}):\n", r.rejected.size());
        for (const auto& x : r.rejected)
            fmt::print("  {} (kiosk \"{}\"): {}\n", x.upload, x.kiosk, x.reason);
    }
}

json to_json(const FleetReport& r) {
    json kiosks = json::array();
    for (const auto& row : r.kiosks) {
        json k = {{"kiosk", row.kiosk}, {"seen", row.seen}};
        if (row.seen) {
            const auto v = view_of(row);
            k.update({{"received_at", row.received_at},
                      {"sent_at", row.sent_at},
                      {"sequence", row.sequence},
                      {"heartbeats", row.heartbeats},
                      {"version", v.version},
                      {"backlog_items", v.backlog_items},
                      {"backlog_bytes", v.backlog_bytes},
                      {"oldest_unsent_age_seconds", v.oldest_age},
                      {"last_delivery", v.last_delivery.empty() ? json(nullptr)
                                                                : json(v.last_delivery)},
                      {"free_bytes", v.free_bytes},
                      {"errors", v.errors},
                      {"figures", verify::json_member(row.document, "figures").is_object()
                                     ? verify::json_member(row.document, "figures")
                                     : json::object()}});
        }
        kiosks.push_back(std::move(k));
    }
    json rejected = json::array();
    for (const auto& x : r.rejected)
        rejected.push_back({{"upload", x.upload}, {"kiosk", x.kiosk}, {"reason", x.reason}});
    return {{"kiosks", kiosks}, {"rejected", rejected}, {"heartbeat_uploads", r.uploads_read}};
}

std::string to_prometheus(const FleetReport& r) {
    using prom::Family;
    using prom::MetricType;
    auto gauge = [](std::string name, std::string help) {
        return Family{std::move(name), std::move(help), MetricType::gauge, {}};
    };
    std::vector<Family> f = {
        gauge("exhibit_fleet_kiosk_seen", "1 when a good heartbeat of the kiosk was received."),
        gauge("exhibit_fleet_last_heartbeat_timestamp_seconds",
              "When the DFU store received the kiosk's newest good heartbeat (the DFU's clock)."),
        gauge("exhibit_fleet_build_info", "The exhibit version the kiosk last reported."),
        gauge("exhibit_fleet_upload_backlog_items", "Items waiting on the kiosk for delivery."),
        gauge("exhibit_fleet_upload_backlog_bytes", "Bytes waiting on the kiosk for delivery."),
        gauge("exhibit_fleet_oldest_unsent_age_seconds",
              "How long the kiosk's oldest undelivered evidence had waited when it reported."),
        gauge("exhibit_fleet_last_delivery_timestamp_seconds",
              "The kiosk's last delivery, by its clock (0: never)."),
        gauge("exhibit_fleet_store_free_bytes", "Free space on the kiosk's evidence store."),
        gauge("exhibit_fleet_store_damaged", "1 when the kiosk reported damaged evidence."),
        gauge("exhibit_fleet_audit_chain_verified",
              "1 when the kiosk reported its audit chain intact."),
        gauge("exhibit_fleet_heartbeats_rejected",
              "Heartbeats in the DFU store refused for this kiosk (forged, replayed, ...)."),
    };
    std::map<std::string, double> rejected;
    for (const auto& x : r.rejected)
        ++rejected[x.kiosk];
    for (const auto& row : r.kiosks) {
        std::vector<std::pair<std::string, std::string>> k = {{"kiosk", row.kiosk}};
        f[0].add(k, row.seen ? 1 : 0);
        f[10].add(k, rejected[row.kiosk]);
        if (!row.seen)
            continue;
        const auto v = view_of(row);
        f[1].add(k, parse_utc(row.received_at).value_or(0));
        f[2].add({{"kiosk", row.kiosk}, {"version", v.version}}, 1);
        f[3].add(k, static_cast<double>(v.backlog_items));
        f[4].add(k, static_cast<double>(v.backlog_bytes));
        f[5].add(k, static_cast<double>(v.oldest_age));
        f[6].add(k, parse_utc(v.last_delivery).value_or(0));
        f[7].add(k, static_cast<double>(v.free_bytes));
        f[8].add(k, v.damaged ? 1 : 0);
        f[9].add(k, v.audit_ok ? 1 : 0);
    }
    return prom::render(f);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "exhibit-fleet: the DFU's view of its kiosks from the heartbeats they sent to the DFU "
        "store.\nEvery heartbeat is checked against the enrolled kiosks' keys; forged, altered "
        "and replayed\nones are refused and listed. Exit codes: 0 every heartbeat good, 1 "
        "unreadable input,\n2 some heartbeats refused, 64 usage.",
        "exhibit-fleet"};
    std::string kiosks_file, s3_env;
    std::vector<std::string> stores;
    bool as_json = false, as_prometheus = false;
    app.add_option("--kiosks", kiosks_file,
                   "the enrolled kiosks: lines \"<kiosk id> SHA256:<fingerprint>\"")
        ->required();
    app.add_flag("--json", as_json, "one JSON document");
    app.add_flag("--prometheus", as_prometheus,
                 "Prometheus text format (for node_exporter's textfile collector on the DFU)");
    app.add_option("--s3-env", s3_env,
                   "for an s3:// STORE: a file of KEY=VALUE lines (S3_ENDPOINT, S3_REGION, "
                   "S3_CA_FILE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) over the environment's");
    app.add_option("STORE", stores,
                   "tus file store folders the kiosks upload to, or s3://BUCKET[/PREFIX] "
                   "(exhibit-dfu-server's object store)")
        ->required();
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int rc = app.exit(e);
        return rc == 0 ? 0 : kUsage;
    }
    if (as_json && as_prometheus) {
        std::cerr << "exhibit-fleet: --json and --prometheus exclude each other\n";
        return kUsage;
    }
    auto text = fs::read_file(kiosks_file, 1 << 20);
    if (!text) {
        std::cerr << "exhibit-fleet: --kiosks: " << text.error().describe() << "\n";
        return kUnreadable;
    }
    auto enrolled = parse_enrolment(*text, kiosks_file);
    if (!enrolled) {
        std::cerr << "exhibit-fleet: " << enrolled.error().describe() << "\n";
        return kUnreadable;
    }
    // An s3:// store is read through a local copy of its heartbeats only.
    std::vector<verify::StoreArgument> opened;
    std::vector<std::filesystem::path> dirs;
    for (const auto& store : stores) {
        auto arg = verify::open_store_argument(store, s3_env, [](const auto& metadata) {
            auto type = metadata.find("type");
            return type != metadata.end() && type->second == "heartbeat";
        });
        if (!arg) {
            std::cerr << "exhibit-fleet: " << store << ": " << arg.error().describe() << "\n";
            return kUnreadable;
        }
        for (const auto& problem : arg->summary.problems)
            std::cerr << "exhibit-fleet: " << store << ": " << problem << "\n";
        dirs.push_back(arg->dir);
        opened.push_back(std::move(*arg));
    }
    auto report = read_fleet(dirs, *enrolled);
    if (!report) {
        std::cerr << "exhibit-fleet: " << report.error().describe() << "\n";
        return kUnreadable;
    }
    timespec ts{};
    ::clock_gettime(CLOCK_REALTIME, &ts);
    if (as_json)
        std::cout << to_json(*report).dump(2) << "\n";
    else if (as_prometheus)
        std::cout << to_prometheus(*report);
    else
        print_table(*report, static_cast<double>(ts.tv_sec));
    if (!report->rejected.empty()) {
        if (as_json || as_prometheus)
            std::cerr << "exhibit-fleet: " << report->rejected.size()
                      << " heartbeat(s) refused (listed in the output)\n";
        return kSomeRejected;
    }
    return kAllGood;
}
