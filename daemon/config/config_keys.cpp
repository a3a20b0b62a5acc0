#include "daemon/config/config_keys.hpp"

#include <algorithm>
#include <cstdint>
#include <expected>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

namespace exhibit::config::detail {

namespace {

// Why a value was refused, as "expected X, got Y" (the caller adds file, line and key).
using ValueResult = std::expected<void, std::string>;
using ApplyFn = ValueResult (*)(const toml::node& value, Config& out);

using DiffersFn = bool (*)(const Config& a, const Config& b);

struct KeySpec {
    std::string_view name;
    ApplyFn apply;
    DiffersFn differs;  // whether the key's value differs between two configurations
};

template <auto Section, auto Member>
bool differs(const Config& a, const Config& b) {
    return (a.*Section).*Member != (b.*Section).*Member;
}

struct TableSpec {
    std::string_view name;
    std::span<const KeySpec> keys;
};

template <class E>
struct Choice {
    std::string_view name;
    E value;
};

// ---- describing values in messages ----

std::string_view type_phrase(const toml::node& n) {
    switch (n.type()) {
        case toml::node_type::none:
            return "nothing";
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a floating-point number";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
    }
    return "an unknown kind of value";
}

// `s` in double quotes, control characters escaped, cut short when long.
std::string quote(std::string_view s) {
    constexpr std::size_t kMaxShown = 64;
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < kMaxShown; ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
            out += fmt::format("\\x{:02x}", c);
        } else {
            out += static_cast<char>(c);
        }
    }
    if (s.size() > kMaxShown)
        out += "...";
    out += '"';
    return out;
}

std::unexpected<std::string> wrong_type(std::string_view expected, const toml::node& n) {
    return std::unexpected(fmt::format("expected {}, got {}", expected, type_phrase(n)));
}

// ---- typed readers ----

std::expected<std::string, std::string> read_string(const toml::node& n,
                                                    std::string_view expected) {
    if (const auto* v = n.as_string())
        return v->get();
    return wrong_type(expected, n);
}

std::expected<bool, std::string> read_bool(const toml::node& n) {
    if (const auto* v = n.as_boolean())
        return v->get();
    return wrong_type("a boolean (true or false)", n);
}

std::expected<std::int64_t, std::string> read_integer(const toml::node& n, std::int64_t min,
                                                      std::int64_t max, std::string_view unit) {
    auto expected = fmt::format("an integer from {} to {}{}", min, max, unit);
    const auto* v = n.as_integer();
    if (!v)
        return wrong_type(expected, n);
    if (v->get() < min || v->get() > max)
        return std::unexpected(fmt::format("expected {}, got {}", expected, v->get()));
    return v->get();
}

template <class E>
std::expected<E, std::string> read_choice(const toml::node& n, std::span<const Choice<E>> choices) {
    std::string expected = "one of";
    for (std::size_t i = 0; i < choices.size(); ++i)
        expected += fmt::format("{}\"{}\"", i == 0 ? " " : ", ", choices[i].name);
    const auto* v = n.as_string();
    if (!v)
        return wrong_type(expected, n);
    for (const auto& c : choices)
        if (c.name == v->get())
            return c.value;
    return std::unexpected(fmt::format("expected {}, got {}", expected, quote(v->get())));
}

// ---- [daemon] ----

constexpr Choice<log::Target> kLogTargets[] = {
    {"auto", log::Target::automatic},
    {"journal", log::Target::journal},
    {"stderr", log::Target::stderr_only},
};

constexpr Choice<log::Level> kLogLevels[] = {
    {"error", log::Level::error}, {"warning", log::Level::warning}, {"notice", log::Level::notice},
    {"info", log::Level::info},   {"debug", log::Level::debug},
};

ValueResult apply_kiosk_id(const toml::node& n, Config& out) {
    constexpr std::string_view kExpected = "a string of 1 to 64 characters from A-Z a-z 0-9 . _ -";
    auto s = read_string(n, kExpected);
    if (!s)
        return std::unexpected(s.error());
    if (!is_valid_kiosk_id(*s))
        return std::unexpected(fmt::format("expected {}, got {}", kExpected, quote(*s)));
    out.daemon.kiosk_id = std::move(*s);
    return {};
}

ValueResult apply_log_target(const toml::node& n, Config& out) {
    auto v = read_choice<log::Target>(n, kLogTargets);
    if (!v)
        return std::unexpected(v.error());
    out.daemon.log_target = *v;
    return {};
}

ValueResult apply_log_level(const toml::node& n, Config& out) {
    auto v = read_choice<log::Level>(n, kLogLevels);
    if (!v)
        return std::unexpected(v.error());
    out.daemon.log_level = *v;
    return {};
}

ValueResult apply_watchdog(const toml::node& n, Config& out) {
    auto v = read_bool(n);
    if (!v)
        return std::unexpected(v.error());
    out.daemon.watchdog = *v;
    return {};
}

constexpr KeySpec kDaemonKeys[] = {
    {"kiosk_id", apply_kiosk_id, differs<&Config::daemon, &DaemonConfig::kiosk_id>},
    {"log_target", apply_log_target, differs<&Config::daemon, &DaemonConfig::log_target>},
    {"log_level", apply_log_level, differs<&Config::daemon, &DaemonConfig::log_level>},
    {"watchdog", apply_watchdog, differs<&Config::daemon, &DaemonConfig::watchdog>},
};

// ---- [store] ----

constexpr Choice<VerifyOnStart> kVerifyDepths[] = {
    {"none", VerifyOnStart::none},
    {"size", VerifyOnStart::size},
    {"full", VerifyOnStart::full},
};

// An absolute path other than "/", without control characters, normalised.
std::expected<std::filesystem::path, std::string> read_absolute_path(const toml::node& n,
                                                               std::string_view what) {
    const std::string expected =
        fmt::format("an absolute {} path other than \"/\", without control characters", what);
    auto s = read_string(n, expected);
    if (!s)
        return std::unexpected(s.error());
    bool has_control = std::any_of(s->begin(), s->end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u < 0x20 || u == 0x7f;
    });
    std::filesystem::path p = std::filesystem::path(*s).lexically_normal();
    if (!p.has_filename() && p.has_relative_path())
        p = p.parent_path();  // drop a trailing '/'
    if (has_control || !p.is_absolute() || p == p.root_path())
        return std::unexpected(fmt::format("expected {}, got {}", expected, quote(*s)));
    return p;
}

template <auto Section, auto Member>
ValueResult apply_path(const toml::node& n, Config& out, std::string_view what) {
    auto p = read_absolute_path(n, what);
    if (!p)
        return std::unexpected(p.error());
    (out.*Section).*Member = std::move(*p);
    return {};
}

ValueResult apply_state_directory(const toml::node& n, Config& out) {
    return apply_path<&Config::store, &StoreConfig::state_directory>(n, out, "directory");
}

ValueResult apply_verify_on_start(const toml::node& n, Config& out) {
    auto v = read_choice<VerifyOnStart>(n, kVerifyDepths);
    if (!v)
        return std::unexpected(v.error());
    out.store.verify_on_start = *v;
    return {};
}

ValueResult apply_min_free_mb(const toml::node& n, Config& out) {
    auto v = read_integer(n, 0, static_cast<std::int64_t>(kMaxMinFreeMb), " (megabytes)");
    if (!v)
        return std::unexpected(v.error());
    out.store.min_free_mb = static_cast<std::uint64_t>(*v);
    return {};
}

constexpr KeySpec kStoreKeys[] = {
    {"state_directory", apply_state_directory,
     differs<&Config::store, &StoreConfig::state_directory>},
    {"verify_on_start", apply_verify_on_start,
     differs<&Config::store, &StoreConfig::verify_on_start>},
    {"min_free_mb", apply_min_free_mb, differs<&Config::store, &StoreConfig::min_free_mb>},
};

// ---- [dbus] ----

ValueResult apply_bus(const toml::node& n, Config& out) {
    constexpr std::string_view kExpected =
        "\"system\", \"session\" or a D-Bus address such as \"unix:path=/run/x\"";
    auto s = read_string(n, kExpected);
    if (!s)
        return std::unexpected(s.error());
    if (*s != "system" && *s != "session" && s->find(':') == std::string::npos)
        return std::unexpected(fmt::format("expected {}, got {}", kExpected, quote(*s)));
    out.dbus.bus = std::move(*s);
    return {};
}

std::expected<std::string, std::string> read_group(const toml::node& n) {
    constexpr std::string_view kExpected = "a group name of 1 to 32 characters from a-z 0-9 _ -";
    auto s = read_string(n, kExpected);
    if (!s)
        return s;
    bool ok = !s->empty() && s->size() <= 32 && std::all_of(s->begin(), s->end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    });
    if (!ok)
        return std::unexpected(fmt::format("expected {}, got {}", kExpected, quote(*s)));
    return s;
}

ValueResult apply_officer_group(const toml::node& n, Config& out) {
    auto g = read_group(n);
    if (!g)
        return std::unexpected(g.error());
    out.dbus.officer_group = std::move(*g);
    return {};
}

ValueResult apply_admin_group(const toml::node& n, Config& out) {
    auto g = read_group(n);
    if (!g)
        return std::unexpected(g.error());
    out.dbus.admin_group = std::move(*g);
    return {};
}

constexpr KeySpec kDbusKeys[] = {
    {"bus", apply_bus, differs<&Config::dbus, &DbusConfig::bus>},
    {"officer_group", apply_officer_group, differs<&Config::dbus, &DbusConfig::officer_group>},
    {"admin_group", apply_admin_group, differs<&Config::dbus, &DbusConfig::admin_group>},
};

// ---- [adb] ----

ValueResult apply_network_devices(const toml::node& n, Config& out) {
    constexpr std::string_view kExpected = "an array of \"HOST:PORT\" strings";
    const auto* arr = n.as_array();
    if (!arr)
        return wrong_type(kExpected, n);
    std::vector<std::string> devices;
    for (const auto& item : *arr) {
        auto s = read_string(item, kExpected);
        if (!s)
            return std::unexpected(s.error());
        auto colon = s->rfind(':');
        bool ok = colon != std::string::npos && colon > 0 && colon + 1 < s->size() &&
                  colon + 6 >= s->size() &&
                  std::all_of(s->begin() + static_cast<std::ptrdiff_t>(colon) + 1, s->end(),
                              [](char c) { return c >= '0' && c <= '9'; }) &&
                  std::stoul(s->substr(colon + 1)) >= 1 &&
                  std::stoul(s->substr(colon + 1)) <= 65535;
        if (!ok)
            return std::unexpected(fmt::format("expected {}, got {}", kExpected, quote(*s)));
        devices.push_back(std::move(*s));
    }
    out.adb.network_devices = std::move(devices);
    return {};
}

ValueResult apply_authorisation_wait(const toml::node& n, Config& out) {
    auto v = read_integer(n, 5, 3600, " (seconds)");
    if (!v)
        return std::unexpected(v.error());
    out.adb.authorisation_wait_seconds = static_cast<std::uint32_t>(*v);
    return {};
}

constexpr KeySpec kAdbKeys[] = {
    {"network_devices", apply_network_devices, differs<&Config::adb, &AdbConfig::network_devices>},
    {"authorisation_wait_seconds", apply_authorisation_wait,
     differs<&Config::adb, &AdbConfig::authorisation_wait_seconds>},
};

// ---- [ios] ----

ValueResult apply_keep_pairing(const toml::node& n, Config& out) {
    auto v = read_bool(n);
    if (!v)
        return std::unexpected(v.error());
    out.ios.keep_pairing = *v;
    return {};
}

constexpr KeySpec kIosKeys[] = {
    {"keep_pairing", apply_keep_pairing, differs<&Config::ios, &IosConfig::keep_pairing>},
};

// ---- [upload] ----

template <auto Member>
ValueResult apply_upload_string(const toml::node& n, Config& out) {
    auto s = read_string(n, "a string");
    if (!s)
        return std::unexpected(s.error());
    out.upload.*Member = std::move(*s);
    return {};
}

template <auto Member>
ValueResult apply_upload_path(const toml::node& n, Config& out) {
    constexpr std::string_view kExpected = "an absolute file path (or \"\" for none)";
    auto s = read_string(n, kExpected);
    if (!s)
        return std::unexpected(s.error());
    if (!s->empty() && !std::filesystem::path(*s).is_absolute())
        return std::unexpected(fmt::format("expected {}, got {}", kExpected, quote(*s)));
    out.upload.*Member = *s;
    return {};
}

template <auto Member, std::int64_t Min, std::int64_t Max>
ValueResult apply_upload_integer(const toml::node& n, Config& out) {
    auto v = read_integer(n, Min, Max, "");
    if (!v)
        return std::unexpected(v.error());
    using T = std::remove_reference_t<decltype(out.upload.*Member)>;
    out.upload.*Member = static_cast<T>(*v);
    return {};
}

template <auto Member>
ValueResult apply_upload_time(const toml::node& n, Config& out) {
    constexpr std::string_view kExpected = "a time of day \"HH:MM\" (24-hour, local time)";
    auto s = read_string(n, kExpected);
    if (!s)
        return std::unexpected(s.error());
    int hh = -1, mm = -1;
    char tail = 0;
    if (s->size() != 5 || std::sscanf(s->c_str(), "%2d:%2d%c", &hh, &mm, &tail) != 2 || hh < 0 ||
        hh > 23 || mm < 0 || mm > 59)
        return std::unexpected(fmt::format("expected {}, got {}", kExpected, quote(*s)));
    out.upload.*Member = static_cast<std::uint32_t>(hh * 60 + mm);
    return {};
}

ValueResult apply_allow_insecure_loopback(const toml::node& n, Config& out) {
    auto v = read_bool(n);
    if (!v)
        return std::unexpected(v.error());
    out.upload.allow_insecure_loopback = *v;
    return {};
}

constexpr std::int64_t kMaxRate = 100LL << 30;
constexpr KeySpec kUploadKeys[] = {
    {"endpoint", apply_upload_string<&UploadConfig::endpoint>,
     differs<&Config::upload, &UploadConfig::endpoint>},
    {"ca_file", apply_upload_path<&UploadConfig::ca_file>,
     differs<&Config::upload, &UploadConfig::ca_file>},
    {"client_cert", apply_upload_path<&UploadConfig::client_cert>,
     differs<&Config::upload, &UploadConfig::client_cert>},
    {"client_key", apply_upload_path<&UploadConfig::client_key>,
     differs<&Config::upload, &UploadConfig::client_key>},
    {"pinned_public_key", apply_upload_string<&UploadConfig::pinned_public_key>,
     differs<&Config::upload, &UploadConfig::pinned_public_key>},
    {"allow_insecure_loopback", apply_allow_insecure_loopback,
     differs<&Config::upload, &UploadConfig::allow_insecure_loopback>},
    {"chunk_size", apply_upload_integer<&UploadConfig::chunk_size, 65536, 1LL << 30>,
     differs<&Config::upload, &UploadConfig::chunk_size>},
    {"max_chunk_size", apply_upload_integer<&UploadConfig::max_chunk_size, 65536, 1LL << 30>,
     differs<&Config::upload, &UploadConfig::max_chunk_size>},
    {"concurrency", apply_upload_integer<&UploadConfig::concurrency, 1, 16>,
     differs<&Config::upload, &UploadConfig::concurrency>},
    {"window_start", apply_upload_time<&UploadConfig::window_start_minutes>,
     differs<&Config::upload, &UploadConfig::window_start_minutes>},
    {"window_end", apply_upload_time<&UploadConfig::window_end_minutes>,
     differs<&Config::upload, &UploadConfig::window_end_minutes>},
    {"max_rate_in_window", apply_upload_integer<&UploadConfig::max_rate_in_window, 0, kMaxRate>,
     differs<&Config::upload, &UploadConfig::max_rate_in_window>},
    {"max_rate_outside_window",
     apply_upload_integer<&UploadConfig::max_rate_outside_window, 0, kMaxRate>,
     differs<&Config::upload, &UploadConfig::max_rate_outside_window>},
    {"retention_days", apply_upload_integer<&UploadConfig::retention_days, 0, 3650>,
     differs<&Config::upload, &UploadConfig::retention_days>},
    {"retry_initial_ms", apply_upload_integer<&UploadConfig::retry_initial_ms, 10, 600000>,
     differs<&Config::upload, &UploadConfig::retry_initial_ms>},
    {"retry_max_s", apply_upload_integer<&UploadConfig::retry_max_s, 1, 86400>,
     differs<&Config::upload, &UploadConfig::retry_max_s>},
    {"max_rejections", apply_upload_integer<&UploadConfig::max_rejections, 1, 1000>,
     differs<&Config::upload, &UploadConfig::max_rejections>},
    {"connect_timeout_s", apply_upload_integer<&UploadConfig::connect_timeout_s, 1, 600>,
     differs<&Config::upload, &UploadConfig::connect_timeout_s>},
    {"stall_timeout_s", apply_upload_integer<&UploadConfig::stall_timeout_s, 1, 3600>,
     differs<&Config::upload, &UploadConfig::stall_timeout_s>},
    {"poll_interval_s", apply_upload_integer<&UploadConfig::poll_interval_s, 1, 3600>,
     differs<&Config::upload, &UploadConfig::poll_interval_s>},
};

// ---- [kiosk] ----

ValueResult apply_officers_file(const toml::node& n, Config& out) {
    return apply_path<&Config::kiosk, &KioskConfig::officers_file>(n, out, "file");
}

ValueResult apply_notices_directory(const toml::node& n, Config& out) {
    return apply_path<&Config::kiosk, &KioskConfig::notices_directory>(n, out, "directory");
}

ValueResult apply_notice_version(const toml::node& n, Config& out) {
    constexpr std::string_view kExpected =
        "a notice version: 1 to 64 characters from A-Z a-z 0-9 . _ - (or \"\" for the newest)";
    auto s = read_string(n, kExpected);
    if (!s)
        return std::unexpected(s.error());
    if (!s->empty() && !config::is_valid_notice_version(*s))
        return std::unexpected(fmt::format("expected {}, got {}", kExpected, quote(*s)));
    out.kiosk.notice_version = std::move(*s);
    return {};
}

constexpr KeySpec kKioskKeys[] = {
    {"officers_file", apply_officers_file, differs<&Config::kiosk, &KioskConfig::officers_file>},
    {"notices_directory", apply_notices_directory,
     differs<&Config::kiosk, &KioskConfig::notices_directory>},
    {"notice_version", apply_notice_version,
     differs<&Config::kiosk, &KioskConfig::notice_version>},
};

// ---- [monitoring] ----

ValueResult apply_metrics_directory(const toml::node& n, Config& out) {
    if (const auto* v = n.as_string(); v && v->get().empty()) {
        out.monitoring.metrics_directory = std::filesystem::path();  // no metrics
        return {};
    }
    auto p = read_absolute_path(n, "directory (or \"\" for no metrics)");
    if (!p)
        return std::unexpected(p.error());
    out.monitoring.metrics_directory = std::move(*p);
    return {};
}

template <auto Member, std::int64_t Min, std::int64_t Max>
ValueResult apply_monitoring_integer(const toml::node& n, Config& out) {
    auto v = read_integer(n, Min, Max, "");
    if (!v)
        return std::unexpected(v.error());
    out.monitoring.*Member = static_cast<std::uint32_t>(*v);
    return {};
}

ValueResult apply_heartbeat_interval(const toml::node& n, Config& out) {
    auto v = read_integer(n, 0, 86400, " (seconds; 0: no heartbeats)");
    if (!v)
        return std::unexpected(v.error());
    if (*v > 0 && *v < 5)
        return std::unexpected(
            fmt::format("expected 0 (no heartbeats) or 5 to 86400 seconds, got {}", *v));
    out.monitoring.heartbeat_interval_seconds = static_cast<std::uint32_t>(*v);
    return {};
}

constexpr KeySpec kMonitoringKeys[] = {
    {"metrics_directory", apply_metrics_directory,
     differs<&Config::monitoring, &MonitoringConfig::metrics_directory>},
    {"metrics_interval_seconds",
     apply_monitoring_integer<&MonitoringConfig::metrics_interval_seconds, 1, 3600>,
     differs<&Config::monitoring, &MonitoringConfig::metrics_interval_seconds>},
    {"evidence_wait_limit_hours",
     apply_monitoring_integer<&MonitoringConfig::evidence_wait_limit_hours, 1, 8760>,
     differs<&Config::monitoring, &MonitoringConfig::evidence_wait_limit_hours>},
    {"heartbeat_interval_seconds", apply_heartbeat_interval,
     differs<&Config::monitoring, &MonitoringConfig::heartbeat_interval_seconds>},
};

// ---- the schema ----

constexpr TableSpec kTables[] = {
    {"daemon", kDaemonKeys}, {"store", kStoreKeys},   {"dbus", kDbusKeys},
    {"adb", kAdbKeys},       {"ios", kIosKeys},       {"upload", kUploadKeys},
    {"kiosk", kKioskKeys},   {"monitoring", kMonitoringKeys},
};

const TableSpec* find_table(std::string_view name) {
    for (const auto& t : kTables)
        if (t.name == name)
            return &t;
    return nullptr;
}

const KeySpec* find_key(const TableSpec& table, std::string_view name) {
    for (const auto& k : table.keys)
        if (k.name == name)
            return &k;
    return nullptr;
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<std::size_t> row(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j)
        row[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        std::size_t diagonal = row[0];
        row[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j) {
            std::size_t above = row[j];
            std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
            diagonal = above;
        }
    }
    return row[b.size()];
}

// The closest of `candidates` to `name` when it is close enough to be a typo.
std::string_view closest(std::string_view name, const std::vector<std::string_view>& candidates) {
    std::string_view best;
    std::size_t best_distance = 3;  // suggest only within two edits
    for (auto c : candidates) {
        std::size_t d = edit_distance(name, c);
        if (d < best_distance) {
            best = c;
            best_distance = d;
        }
    }
    return best;
}

std::uint32_t line_of(const toml::key& key, const toml::node& value) {
    return key.source().begin.line != 0 ? key.source().begin.line : value.source().begin.line;
}
std::uint32_t column_of(const toml::key& key, const toml::node& value) {
    return key.source().begin.line != 0 ? key.source().begin.column : value.source().begin.column;
}

void add(std::vector<Problem>& problems, const toml::key& key, const toml::node& value,
         std::string message) {
    problems.push_back({line_of(key, value), column_of(key, value), std::move(message)});
}

void unknown_table(std::string_view full_name, std::string_view suggestion, const toml::key& key,
                   const toml::node& value, std::vector<Problem>& problems) {
    std::string known;
    for (const auto& t : kTables)
        known += fmt::format("{}[{}]", known.empty() ? "" : ", ", t.name);
    std::string hint = suggestion.empty() ? "" : fmt::format("did you mean [{}]? ", suggestion);
    add(problems, key, value,
        fmt::format("unknown table [{}] ({}known tables: {})", full_name, hint, known));
}

void apply_table(const TableSpec& spec, const toml::table& table, Config& out,
                 std::vector<Problem>& problems) {
    for (auto&& [key, value] : table) {
        auto full_name = fmt::format("{}.{}", spec.name, key.str());
        const KeySpec* k = find_key(spec, key.str());
        if (!k && value.is_table()) {
            unknown_table(full_name, {}, key, value, problems);
            continue;
        }
        if (!k) {
            std::vector<std::string_view> names;
            for (const auto& s : spec.keys)
                names.push_back(s.name);
            auto suggestion = closest(key.str(), names);
            add(problems, key, value,
                suggestion.empty() ? fmt::format("unknown key \"{}\"", full_name)
                                   : fmt::format("unknown key \"{}\" (did you mean \"{}.{}\"?)",
                                                 full_name, spec.name, suggestion));
            continue;
        }
        if (auto r = k->apply(value, out); !r)
            add(problems, key, value,
                fmt::format("bad value for \"{}\": {}", full_name, r.error()));
    }
}

}  // namespace

bool is_valid_kiosk_id(std::string_view id) {
    if (id.empty() || id.size() > kMaxKioskIdLength)
        return false;
    return std::all_of(id.begin(), id.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '-';
    });
}

void apply_document(const toml::table& doc, Config& out, std::vector<Problem>& problems) {
    std::vector<std::string_view> table_names;
    for (const auto& t : kTables)
        table_names.push_back(t.name);

    for (auto&& [key, value] : doc) {
        const TableSpec* spec = find_table(key.str());
        if (spec && value.is_table()) {
            apply_table(*spec, *value.as_table(), out, problems);
        } else if (spec) {
            add(problems, key, value,
                fmt::format("bad value for \"{}\": expected a table ([{}]), got {}", key.str(),
                            key.str(), type_phrase(value)));
        } else if (value.is_table()) {
            unknown_table(key.str(), closest(key.str(), table_names), key, value, problems);
        } else {
            // A key above every table header: say where it belongs if it is a known key.
            std::string hint;
            for (const auto& t : kTables)
                if (find_key(t, key.str()))
                    hint = fmt::format(
                        " (keys belong in a table: did you mean \"{}.{}\" under "
                        "[{}]?)",
                        t.name, key.str(), t.name);
            add(problems, key, value, fmt::format("unknown key \"{}\"{}", key.str(), hint));
        }
    }
}

std::vector<std::string> changed_keys(const Config& a, const Config& b) {
    std::vector<std::string> names;
    for (const auto& t : kTables)
        for (const auto& k : t.keys)
            if (k.differs(a, b))
                names.push_back(fmt::format("{}.{}", t.name, k.name));
    return names;
}

std::vector<std::string> key_names() {
    std::vector<std::string> names;
    for (const auto& t : kTables)
        for (const auto& k : t.keys)
            names.push_back(fmt::format("{}.{}", t.name, k.name));
    return names;
}

}  // namespace exhibit::config::detail

namespace exhibit::config {

bool is_valid_notice_version(std::string_view version) {
    return detail::is_valid_kiosk_id(version);  // the same rule: safe as a file name
}

}  // namespace exhibit::config
