// exhibitd's configuration: /etc/exhibit/exhibitd.conf (TOML) plus the drop-ins
// exhibitd.conf.d/*.conf, applied in lexical order, parsed once into an immutable Config.
//
// Every table and key is known in advance: an unknown table or key, a value of the wrong
// type or out of range, and a TOML syntax error are all errors (Errc::config) whose message
// names the file, the line and the key, e.g.
//
//   /etc/exhibit/exhibitd.conf:12: unknown key "store.verfy_on_start" (did you mean
//   "store.verify_on_start"?)
//
// Adding a section ([adb], [upload], [usb]): add a struct below and a member to Config, and
// its keys to the table in config_keys.cpp; defaults live in the struct's initialisers.
//
// Reentrant: load_config touches no global state (the environment is passed in).
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/log.hpp"

namespace exhibit::config {

inline constexpr std::string_view kDefaultConfigFile = "/etc/exhibit/exhibitd.conf";
inline constexpr std::string_view kDefaultStateDirectory = "/var/lib/exhibit";
inline constexpr std::size_t kMaxKioskIdLength = 64;
inline constexpr std::uint64_t kDefaultMinFreeMb = 2048;
inline constexpr std::uint64_t kMaxMinFreeMb = 16ULL * 1024 * 1024;  // 16 TiB
inline constexpr std::size_t kMaxConfigFileBytes = 1024 * 1024;

// How thoroughly the store checks its blobs at startup (maps to store::VerifyDepth; kept
// separate so the configuration does not depend on the store).
enum class VerifyOnStart { none, size, full };

// [daemon]
struct DaemonConfig {
    std::string kiosk_id;  // never empty after load_config (defaults to the host name)
    log::Target log_target = log::Target::automatic;
    log::Level log_level = log::Level::info;
    bool watchdog = true;  // ping systemd's watchdog when WATCHDOG_USEC is set

    bool operator==(const DaemonConfig&) const = default;
};

// [store]
struct StoreConfig {
    std::filesystem::path state_directory;  // absolute, never empty after load_config
    VerifyOnStart verify_on_start = VerifyOnStart::size;
    std::uint64_t min_free_mb = kDefaultMinFreeMb;  // refuse new extractions below this

    std::uint64_t min_free_bytes() const { return min_free_mb * 1024 * 1024; }
    bool operator==(const StoreConfig&) const = default;
};

// [dbus]
struct DbusConfig {
    std::string bus = "system";  // "system", "session", or a D-Bus address ("unix:path=...")
    std::string officer_group = "exhibit-kiosk";
    std::string admin_group = "exhibit-admin";

    bool operator==(const DbusConfig&) const = default;
};

// [adb]
struct AdbConfig {
    std::vector<std::string> network_devices;        // "HOST:PORT" phones reachable over ADB on TCP
    std::uint32_t authorisation_wait_seconds = 120;  // for the person to allow the kiosk

    bool operator==(const AdbConfig&) const = default;
};

// [ios]: iPhones (drivers/ios).
struct IosConfig {
    // Keep the kiosk's pairing on the phone and in usbmuxd after the session (by default the
    // phone forgets the kiosk once the session ends).
    bool keep_pairing = false;

    bool operator==(const IosConfig&) const = default;
};

// [upload] (maps one to one onto exhibit::upload::UploadOptions; docs/upload.md)
struct UploadConfig {
    std::string endpoint;  // empty: uploads are off
    std::filesystem::path ca_file;
    std::filesystem::path client_cert;
    std::filesystem::path client_key;
    std::string pinned_public_key;
    bool allow_insecure_loopback = false;
    std::uint64_t chunk_size = 8ull << 20;
    std::uint64_t max_chunk_size = 1ull << 30;
    std::uint32_t concurrency = 2;
    std::uint32_t window_start_minutes = 22 * 60;  // "HH:MM", local time
    std::uint32_t window_end_minutes = 6 * 60;
    std::uint64_t max_rate_in_window = 0;  // bytes per second, 0: none
    std::uint64_t max_rate_outside_window = 0;
    std::uint32_t retention_days = 7;
    std::uint32_t retry_initial_ms = 2000;
    std::uint32_t retry_max_s = 300;
    std::uint32_t max_rejections = 5;
    std::uint32_t connect_timeout_s = 20;
    std::uint32_t stall_timeout_s = 60;
    std::uint32_t poll_interval_s = 30;

    bool operator==(const UploadConfig&) const = default;
};

// [kiosk]: what the touchscreen's people and papers need (docs/kiosk.md).
struct KioskConfig {
    // Officers who may sign in at the kiosk, with salted scrypt hashes of their PINs
    // (exhibitctl officer add|remove|list). Empty: <state_directory>/officers (officers_path).
    std::filesystem::path officers_file;
    // The force's Digital Processing Notices, one Markdown file per version:
    // <notices_directory>/<version>.md.
    std::filesystem::path notices_directory = "/etc/exhibit/notices";
    // The notice shown now; empty: the greatest version name in the directory.
    std::string notice_version;

    bool operator==(const KioskConfig&) const = default;
};

// [monitoring]: what the DFU's monitoring reads from this kiosk (docs/monitoring.md).
inline constexpr std::string_view kDefaultMetricsDirectory = "/var/lib/prometheus/node-exporter";
struct MonitoringConfig {
    // node_exporter's textfile collector directory, where exhibitd writes exhibit.prom; an
    // empty path: no metrics. Not set in any file: kDefaultMetricsDirectory when exhibitd runs
    // as its systemd service ($STATE_DIRECTORY set), otherwise empty, so that exhibitd run by
    // hand or by tests never writes into the machine's collector directory. Always set after
    // load_config.
    std::optional<std::filesystem::path> metrics_directory;
    std::uint32_t metrics_interval_seconds = 15;
    std::uint32_t evidence_wait_limit_hours = 24;  // alert when evidence waits longer
    // A signed status document to the DFU store this often (0: none); needs [upload].
    std::uint32_t heartbeat_interval_seconds = 900;

    bool operator==(const MonitoringConfig&) const = default;
};

// The whole configuration. A reload builds a new one and applies what may change live
// (changed_keys() says what differs).
struct Config {
    DaemonConfig daemon;
    StoreConfig store;
    DbusConfig dbus;
    AdbConfig adb;
    IosConfig ios;
    UploadConfig upload;
    KioskConfig kiosk;
    MonitoringConfig monitoring;

    bool operator==(const Config&) const = default;
};

// kiosk.officers_file, or its default in the state directory.
std::filesystem::path officers_path(const Config& config);

// What the loader reads from the process environment, injected so tests control it.
struct Environment {
    std::optional<std::string> state_directory;  // $STATE_DIRECTORY, as systemd sets it
    std::string hostname;                        // default kiosk id

    // $STATE_DIRECTORY and gethostname() of this process.
    static Environment from_process();
};

enum class StateDirectorySource { config_key, environment, builtin_default };

struct LoadedConfig {
    Config config;
    // The main file was the default path and did not exist: built-in defaults (plus any
    // drop-ins) are in use. main logs this; it is not an error.
    bool main_file_missing = false;
    std::vector<std::filesystem::path> files_read;  // main file and drop-ins, in order applied
    StateDirectorySource state_directory_source = StateDirectorySource::builtin_default;
};

// Reads `file` and then `<file>.d/*.conf` in lexical order; later values override earlier
// ones. When `file` is missing: an error if `file_was_explicit` (given with --config),
// otherwise defaults are used and main_file_missing is set.
Result<LoadedConfig> load_config(const std::filesystem::path& file, bool file_was_explicit,
                                 const Environment& env);

// The same rules applied to TOML text; `source_name` names it in error messages. No drop-ins.
Result<LoadedConfig> load_config_text(std::string_view text, std::string_view source_name,
                                      const Environment& env);

// "<file>.d": where the drop-ins for `file` live.
std::filesystem::path drop_in_directory(const std::filesystem::path& file);

// Every key the loader accepts, as "table.key", in documentation order.
std::vector<std::string> known_keys();
// The keys ("table.key") whose values differ between two configurations (for a reload).
std::vector<std::string> changed_keys(const Config& a, const Config& b);
// Whether a running exhibitd applies a change of `key` ("table.key") on a reload; every
// other key keeps its running value until a restart.
bool applied_on_reload(std::string_view key);

// A notice version (also its file name without ".md"): 1 to 64 characters of [A-Za-z0-9._-].
bool is_valid_notice_version(std::string_view version);

std::string_view to_string(VerifyOnStart v);
std::string_view to_string(log::Target t);
std::string_view to_string(log::Level l);
std::string_view to_string(StateDirectorySource s);

}  // namespace exhibit::config
