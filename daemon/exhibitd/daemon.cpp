#include "daemon/exhibitd/daemon.hpp"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <exhibit/version.hpp>
#include <nlohmann/json.hpp>

#include "common/log.hpp"
#include "daemon/exhibitd/message_ids.hpp"
#include "daemon/loop/message_ids.hpp"
#include "daemon/loop/notify.hpp"
#include "daemon/store/message_ids.hpp"
#include "drivers/adb/adb_driver.hpp"
#include "drivers/adb/hosted_adb.hpp"
#include "drivers/host/hosted_driver.hpp"
#include "drivers/ios/hosted_ios.hpp"
#include "drivers/mtp/mtp_driver.hpp"
#include "drivers/storage/storage_driver.hpp"

namespace exhibit::exhibitd {

namespace {

constexpr std::chrono::seconds kStatusRefresh{30};
// How long a stop waits for the drivers to return (systemd's own stop timeout is longer).
constexpr std::chrono::seconds kStopGrace{5};

std::string human_bytes(std::uint64_t bytes) {
    constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    auto value = static_cast<double>(bytes);
    std::size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < std::size(kUnits)) {
        value /= 1024.0;
        ++unit;
    }
    if (unit == 0)
        return fmt::format("{} B", bytes);
    return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

// Logs a notify failure; the daemon keeps going (systemd may simply not be listening).
void report_notify(const Result<bool>& sent) {
    if (!sent)
        log::event(log::Level::warning, loop::message_id::kNotifyFailed, sent.error().describe(),
                   {log::field::error_class(sent.error())});
}

// What the uploader is given, from the configuration.
upload::UploadOptions upload_options(const config::Config& config) {
    const auto& u = config.upload;
    upload::UploadOptions o;
    o.endpoint = u.endpoint;
    o.ca_file = u.ca_file;
    o.client_cert = u.client_cert;
    o.client_key = u.client_key;
    o.pinned_public_key = u.pinned_public_key;
    o.allow_insecure_loopback = u.allow_insecure_loopback;
    o.chunk_size = u.chunk_size;
    o.max_chunk_size = u.max_chunk_size;
    o.concurrency = u.concurrency;
    o.window_start = std::chrono::minutes(u.window_start_minutes);
    o.window_end = std::chrono::minutes(u.window_end_minutes);
    o.max_rate_in_window = u.max_rate_in_window;
    o.max_rate_outside_window = u.max_rate_outside_window;
    o.retention = std::chrono::days(u.retention_days);
    o.retry_initial = std::chrono::milliseconds(u.retry_initial_ms);
    o.retry_max = std::chrono::seconds(u.retry_max_s);
    o.max_rejections = static_cast<int>(u.max_rejections);
    o.connect_timeout = std::chrono::seconds(u.connect_timeout_s);
    o.stall_timeout = std::chrono::seconds(u.stall_timeout_s);
    o.poll_interval = std::chrono::seconds(u.poll_interval_s);
    return o;
}

// The checks of [upload] as a whole that startup makes (uploads off when no endpoint).
Status check_upload_config(const config::Config& config) {
    if (config.upload.endpoint.empty())
        return {};
    if (auto s = upload::validate(upload_options(config)); !s)
        return std::unexpected(
            Error{Errc::config, fmt::format("[upload]: {}", s.error().message), 0});
    return {};
}

}  // namespace

store::VerifyDepth to_verify_depth(config::VerifyOnStart v) {
    switch (v) {
        case config::VerifyOnStart::none:
            return store::VerifyDepth::none;
        case config::VerifyOnStart::size:
            return store::VerifyDepth::size;
        case config::VerifyOnStart::full:
            return store::VerifyDepth::full;
    }
    return store::VerifyDepth::size;
}

Daemon::Daemon(const config::Config& config, ConfigSource source, loop::EventLoop loop)
    : config_(config), source_(std::move(source)), loop_(std::move(loop)) {}

Result<std::unique_ptr<Daemon>> Daemon::start(const config::Config& config, ConfigSource source) {
    // Blocked before anything slow, so a stop request during startup waits for the loop
    // (and is then handled cleanly) instead of killing a half-opened store.
    if (auto s = loop::block_signals({SIGTERM, SIGINT, SIGHUP}); !s)
        return std::unexpected(s.error());
    auto loop = loop::EventLoop::create();
    if (!loop)
        return std::unexpected(loop.error());

    std::unique_ptr<Daemon> daemon(new Daemon(config, std::move(source), std::move(*loop)));
    if (auto s = daemon->watch_signals(); !s)
        return std::unexpected(s.error());
    if (config.daemon.watchdog) {
        auto on = daemon->loop_.enable_watchdog();
        if (!on)
            return std::unexpected(on.error());
        if (*on)
            log::debug("watchdog pings enabled");
    } else if (loop::watchdog_expected()) {
        log::event(log::Level::warning, message_id::kWatchdogMismatch,
                   "watchdog = false, but the service manager expects watchdog pings "
                   "(WatchdogSec=): it will stop exhibitd as hung; set WatchdogSec=0 as well",
                   {log::field::error_class(Errc::config)});
    }

    report_notify(loop::notify_status(
        fmt::format("Opening the evidence store in {}", config.store.state_directory.string())));
    if (auto s = daemon->open_store(); !s)
        return std::unexpected(s.error());

    if (auto s = daemon->start_core(); !s)
        return std::unexpected(s.error());
    if (auto s = daemon->start_metrics(); !s)
        return std::unexpected(s.error());

    auto timer = daemon->loop_.add_periodic_timer(
        kStatusRefresh, [d = daemon.get()] { d->refresh_status(); }, "status-refresh");
    if (!timer)
        return std::unexpected(timer.error());
    daemon->status_timer_ = std::move(*timer);

    daemon->status_ = daemon->describe_health();
    report_notify(loop::notify_ready(daemon->status_));
    const auto& store = *daemon->store_;
    log::event(
        log::Level::info, message_id::kDaemonStarted,
        fmt::format("exhibitd {} started: kiosk {}, store {}, {}", kVersion, config.daemon.kiosk_id,
                    config.store.state_directory.string(), daemon->status_),
        {{"EXHIBIT_KIOSK_ID", config.daemon.kiosk_id},
         {"EXHIBIT_STATE_DIRECTORY", config.store.state_directory.string()},
         {"EXHIBIT_VERSION", kVersion},
         {"EXHIBIT_KEY_FINGERPRINT", store.identity().fingerprint()}});
    return daemon;
}

Status Daemon::open_store() {
    store::StoreOptions options;
    options.state_directory = config_.store.state_directory;
    options.kiosk_id = config_.daemon.kiosk_id;
    options.verify = to_verify_depth(config_.store.verify_on_start);
    auto opened = store::Store::open(options);
    if (!opened)
        return std::unexpected(opened.error().with_context(fmt::format(
            "cannot open the evidence store in {}", config_.store.state_directory.string())));
    store_ = std::move(*opened);
    const auto& report = store_->open_report();
    if (report.spool_files_kept > 0 || report.partial_items_recorded > 0 ||
        !report.sessions_interrupted.empty() || report.items_missing > 0 ||
        report.items_mismatch > 0)
        log::event(
            log::Level::warning, message_id::kStoreReconciled,
            fmt::format("store reconciled: {} unfinished sessions interrupted, {} partial items "
                        "recorded incomplete, {} partial files kept aside, {} of {} items "
                        "missing, {} damaged",
                        report.sessions_interrupted.size(), report.partial_items_recorded,
                        report.spool_files_kept, report.items_missing, report.items_checked,
                        report.items_mismatch),
            {{"EXHIBIT_SESSIONS_INTERRUPTED", std::to_string(report.sessions_interrupted.size())},
             {"EXHIBIT_PARTIAL_ITEMS", std::to_string(report.partial_items_recorded)},
             {"EXHIBIT_SPOOL_FILES_KEPT", std::to_string(report.spool_files_kept)},
             {"EXHIBIT_ITEMS_MISSING", std::to_string(report.items_missing)},
             {"EXHIBIT_ITEMS_DAMAGED", std::to_string(report.items_mismatch)},
             {"EXHIBIT_ITEMS_CHECKED", std::to_string(report.items_checked)},
             log::field::error_class(
                 report.items_missing + report.items_mismatch > 0 ? Errc::corrupt : Errc::io)});
    return {};
}

// exhibit-driver-host beside the running exhibitd (a build tree), else where the package
// installs it.
Result<std::filesystem::path> Daemon::driver_host_program() {
    std::error_code ec;
    auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        auto beside = self.parent_path() / "exhibit-driver-host";
        if (::access(beside.c_str(), X_OK) == 0)
            return beside;
    }
    std::filesystem::path installed = EXHIBIT_DRIVER_HOST;
    if (::access(installed.c_str(), X_OK) != 0)
        return fail_errno(fmt::format("cannot run the driver host {}", installed.string()));
    return installed;
}

Status Daemon::register_drivers() {
    auto key = adb::AdbHostKey::load_or_create(config_.store.state_directory / "keys" / "adb",
                                               fmt::format("exhibit@{}", config_.daemon.kiosk_id));
    if (!key)
        return std::unexpected(key.error().with_context("ADB host key"));
    const auto user_wait = std::chrono::seconds(config_.adb.authorisation_wait_seconds);

    // One line per device family. Families whose parsers read what a device says run their
    // sessions in a child process, the driver host (drivers/host/README.md).
    auto driver_host = driver_host_program();
    if (!driver_host)
        return std::unexpected(driver_host.error());
    // ADB: the phone's link (USB interface or network socket) in the child, under its filter
    // before the handshake; the kiosk's key stays here and signs the phone's token.
    if (auto s = drivers_.add(adb::hosted_adb_driver(
            {.program = *driver_host, .host_key = std::move(*key), .user_wait = user_wait}));
        !s)
        return s;
    // libmtp reads what the phone says inside calls that offer no way out.
    if (auto s = drivers_.add(std::make_unique<host::HostedDriver>(
            std::make_unique<mtp::MtpDriver>(),
            host::HostedDriverOptions{
                .program = *driver_host,
                .arguments = {"--user-wait-seconds", std::to_string(user_wait.count())}}));
        !s)
        return s;
    // libimobiledevice reads the iPhone's lockdown answers and TLS in a child too, under its
    // filter from the start: usbmuxd and the pair records are reached through exhibitd, for
    // that phone only.
    if (auto s = drivers_.add(ios::hosted_ios_driver(
            {.program = *driver_host,
             .options = {.user_wait = user_wait, .keep_pairing = config_.ios.keep_pairing}}));
        !s)
        return s;
    // A stick's partition table and file systems are parsed by libtsk: in a child too, given
    // only the disk exhibitd opened read-only, its filter loaded before it reads a byte.
    if (auto s = drivers_.add(std::make_unique<host::HostedDriver>(
            std::make_unique<storage::StorageDriver>(),
            host::HostedDriverOptions{.program = *driver_host,
                                      .open_device = &storage::StorageDriver::open_node}));
        !s)
        return s;
    return {};
}

Status Daemon::start_core() {
    if (auto s = register_drivers(); !s)
        return s;
    auto channel = loop::LoopChannel::create(loop_);
    if (!channel)
        return std::unexpected(channel.error());
    channel_ = std::move(*channel);

    extract::SessionManagerOptions options;
    options.state_directory = config_.store.state_directory;
    options.kiosk_id = config_.daemon.kiosk_id;
    options.min_free_bytes = config_.store.min_free_bytes();
    options.stop_grace = kStopGrace;
    options.method_configuration = {
        {"adb.authorisation_wait_seconds", config_.adb.authorisation_wait_seconds},
        {"ios.keep_pairing", config_.ios.keep_pairing}};
    sessions_ = std::make_unique<extract::SessionManager>(*channel_, *store_, devices_, drivers_,
                                                          std::move(options));
    // Removable disks (USB sticks, memory cards) are found through udev and read from their
    // device node; without udev the kiosk still serves phones. Connected to udev first, so
    // that USB knows whether to leave a stick's USB device to it; started after USB.
    if (auto disks = devices::BlockDevices::create(*channel_, devices_, drivers_); disks)
        disks_ = std::move(*disks);
    else
        log::event(log::Level::warning, message_id::kDisksUnavailable,
                   fmt::format("udev is not available: removable disks will not be detected: {}",
                               disks.error().describe()),
                   {log::field::error_class(disks.error())});
    // USB devices are found by the monitor and opened by their driver through libusb;
    // without USB the kiosk still serves network devices.
    if (auto usb = devices::UsbDevices::create(*channel_, devices_, drivers_,
                                               {.disks_from_udev = disks_ != nullptr});
        usb)
        usb_ = std::move(*usb);
    else
        log::event(log::Level::warning, message_id::kUsbUnavailable,
                   fmt::format("USB is not available: {}", usb.error().describe()),
                   {log::field::error_class(usb.error())});
    if (usb_)
        if (auto s = usb_->start(); !s)
            log::event(log::Level::warning, message_id::kUsbUnavailable,
                       fmt::format("USB devices will not be detected: {}", s.error().describe()),
                       {log::field::error_class(s.error())});
    if (disks_)
        if (auto s = disks_->start(); !s)
            log::event(log::Level::warning, message_id::kDisksUnavailable,
                       fmt::format("removable disks will not be detected: {}",
                                   s.error().describe()),
                       {log::field::error_class(s.error())});
    devices_.subscribe([this](const devices::DeviceRecord& d, devices::DeviceChange change) {
        if (metrics_)
            metrics_->changed();
        const char* what = change == devices::DeviceChange::added     ? "added"
                           : change == devices::DeviceChange::removed ? "removed"
                                                                      : "changed";
        log::event(
            log::Level::info, message_id::kDeviceChanged,
            fmt::format("device {} {}: {} ({}){}", d.id, what, d.transport,
                        devices::to_string(d.state), d.detail.empty() ? "" : ": " + d.detail),
            {log::field::device(d.id),
             log::field::device_class(devices::classes_text(d)),
             {"EXHIBIT_DEVICE_STATE", std::string(devices::to_string(d.state))},
             {"EXHIBIT_DEVICE_CHANGE", what},
             {"EXHIBIT_TRANSPORT", d.transport}});
    });

    if (auto s = start_uploads(); !s)
        return s;
    // Stored items are queued for upload as they arrive (urgent sessions go at once).
    sessions_->subscribe([this](const extract::SessionView&) {
        if (uploader_)
            uploader_->items_added();
        if (metrics_)
            metrics_->changed();
    });

    bus::BusServiceOptions bus_options{.bus = config_.dbus.bus,
                                       .kiosk_id = config_.daemon.kiosk_id,
                                       .officer_group = config_.dbus.officer_group,
                                       .admin_group = config_.dbus.admin_group,
                                       .min_free_bytes = config_.store.min_free_bytes()};
    bus::BusHooks hooks{
        .add_network_device = [this](const std::string& a) { return add_network_device(a); },
        .reload_config = [this](const std::string& actor) { return reload_config(actor); }};
    desk_ = std::make_unique<officers::SignInDesk>(config::officers_path(config_), *store_);
    notices_ = std::make_unique<notices::NoticeLibrary>(config_.kiosk.notices_directory,
                                                        config_.kiosk.notice_version);
    bus::BusCore core{.store = store_.get(),
                      .devices = &devices_,
                      .sessions = sessions_.get(),
                      .desk = desk_.get(),
                      .notices = notices_.get(),
                      .uploader = uploader_.get()};
    auto bus = bus::BusService::start(loop_.get(), std::move(bus_options), core, std::move(hooks));
    if (!bus)
        return std::unexpected(bus.error());
    bus_ = std::move(*bus);
    if (uploader_) {
        uploader_->set_on_change([this] {
            bus_->queue_changed();
            bus_->health_changed();
            if (metrics_)
                metrics_->changed();
        });
    }
    std::vector<std::string> problems;
    (void)sync_config_devices(config_.adb.network_devices, problems);
    for (const auto& problem : problems)
        log::event(log::Level::warning, message_id::kNetworkDeviceKept, problem);
    return {};
}

bool Daemon::device_in_use(const std::string& id) const {
    const auto* d = devices_.find(id);
    if (d && (d->state == devices::DeviceState::busy ||
              d->state == devices::DeviceState::needs_authorisation))
        return true;  // a preview or extraction, perhaps waiting for the person's permission
    return std::ranges::any_of(sessions_->all(), [&](const extract::SessionView* s) {
        return s->device_id == id && !s->completed;
    });
}

bool Daemon::sync_config_devices(const std::vector<std::string>& wanted,
                                 std::vector<std::string>& problems) {
    bool changed = false;
    for (auto it = config_devices_.begin(); it != config_devices_.end();) {
        const auto& [address, id] = *it;
        if (std::ranges::find(wanted, address) != wanted.end()) {
            ++it;
            continue;
        }
        if (device_in_use(id)) {
            problems.push_back(
                fmt::format("network device {} ({}) is in use and stays; reload again once it "
                            "is free, or restart exhibitd, to remove it",
                            address, id));
            ++it;
            continue;
        }
        if (devices_.find(id))
            (void)devices_.remove(id);
        log::event(log::Level::info, message_id::kNetworkDeviceRemoved,
                   fmt::format("network device {} ({}) removed: no longer in [adb] "
                               "network_devices",
                               address, id),
                   {log::field::device(id), {"EXHIBIT_TRANSPORT", "tcp:" + address}});
        it = config_devices_.erase(it);
        changed = true;
    }
    for (const auto& address : wanted) {
        if (config_devices_.contains(address))
            continue;
        auto id = add_network_device(address);
        if (!id && id.error().code == Errc::exists)
            continue;  // already there (added with AddNetworkDevice): left as it is
        if (!id) {
            problems.push_back(
                fmt::format("network device {}: {}", address, id.error().describe()));
            continue;
        }
        config_devices_[address] = *id;
        changed = true;
    }
    return changed;
}

void Daemon::apply_upload_schedule(const config::UploadConfig& next) {
    auto& u = config_.upload;
    u.window_start_minutes = next.window_start_minutes;
    u.window_end_minutes = next.window_end_minutes;
    u.max_rate_in_window = next.max_rate_in_window;
    u.max_rate_outside_window = next.max_rate_outside_window;
    u.concurrency = next.concurrency;
    if (uploader_)
        uploader_->set_schedule(std::chrono::minutes(u.window_start_minutes),
                                std::chrono::minutes(u.window_end_minutes), u.max_rate_in_window,
                                u.max_rate_outside_window, u.concurrency);
}

Result<bus::ReloadReport> Daemon::reload_config(const std::string& actor) {
    auto loaded = config::load_config(source_.file, source_.explicit_file,
                                      config::Environment::from_process());
    auto refuse = [&](std::string problem) -> Result<bus::ReloadReport> {
        // Logged here for every path (the caller of ReloadConfig also gets it as the error).
        log::event(log::Level::error, message_id::kReloadRefused,
                   fmt::format("configuration not reloaded (asked by {}): {}", actor, problem),
                   {{"EXHIBIT_ACTOR", actor}, log::field::error_class(Errc::config)});
        return std::unexpected(Error{Errc::config, std::move(problem), 0});
    };
    if (!loaded)  // the message names the file, the line and the key
        return refuse(loaded.error().describe());
    const config::Config& next = loaded->config;
    // What exhibitd would refuse at startup is refused now, not found at the next restart.
    if (auto s = check_upload_config(next); !s)
        return refuse(s.error().message);
    bus::ReloadReport report;
    bool schedule_changed = false;
    for (const auto& key : config::changed_keys(config_, next)) {
        if (!config::applied_on_reload(key)) {
            report.restart_required.push_back(key);
            continue;
        }
        if (key == "daemon.log_level") {
            log::configure(config_.daemon.log_target, next.daemon.log_level);
            config_.daemon.log_level = next.daemon.log_level;
        } else if (key == "adb.network_devices") {
            config_.adb.network_devices = next.adb.network_devices;  // phones: below
        } else if (key == "monitoring.evidence_wait_limit_hours") {
            config_.monitoring.evidence_wait_limit_hours =
                next.monitoring.evidence_wait_limit_hours;
            if (metrics_)
                metrics_->changed();
        } else if (key.starts_with("kiosk.")) {
            config_.kiosk.notices_directory = next.kiosk.notices_directory;
            config_.kiosk.notice_version = next.kiosk.notice_version;
            notices_->configure(config_.kiosk.notices_directory, config_.kiosk.notice_version);
        } else {
            schedule_changed = true;  // the upload window, rate caps and concurrency
        }
        report.applied.push_back(key);
    }
    // Always, not only when the list changed: a phone kept earlier because it was in use
    // goes now if it is free, and an address that failed is tried again.
    const bool devices_changed = sync_config_devices(next.adb.network_devices, report.problems);
    if (devices_changed &&
        std::ranges::find(report.applied, "adb.network_devices") == report.applied.end()) {
        auto at = std::ranges::find_if(
            report.applied, [](const std::string& k) { return k.starts_with("upload."); });
        report.applied.insert(at, "adb.network_devices");
    }
    if (schedule_changed)
        apply_upload_schedule(next.upload);

    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : loaded->files_read)
        files.push_back(f.string());
    nlohmann::json details = {{"files", files},
                              {"applied", report.applied},
                              {"restart_required", report.restart_required}};
    if (!report.problems.empty())
        details["problems"] = report.problems;
    if (auto e = store_->audit().append(actor, "config.reloaded", details); !e)
        log::event(
            log::Level::warning, store::message_id::kAuditFailed,
            fmt::format("cannot audit the configuration reload: {}", e.error().describe()),
            {{"EXHIBIT_AUDIT_EVENT", "config.reloaded"}, log::field::error_class(e.error())});
    for (const auto& p : report.problems)
        log::event(log::Level::warning, message_id::kNetworkDeviceKept, p);
    log::event(
        log::Level::info, message_id::kReloaded,
        fmt::format("configuration reloaded by {}: applied [{}], needs a restart [{}]", actor,
                    fmt::join(report.applied, ", "), fmt::join(report.restart_required, ", ")),
        {{"EXHIBIT_ACTOR", actor},
         {"EXHIBIT_APPLIED", fmt::format("{}", fmt::join(report.applied, ","))},
         {"EXHIBIT_RESTART_REQUIRED", fmt::format("{}", fmt::join(report.restart_required, ","))}});
    return report;
}

Status Daemon::start_uploads() {
    const auto& u = config_.upload;
    if (u.endpoint.empty()) {
        log::event(log::Level::info, message_id::kUploadsOff,
                   "uploads are off: [upload] endpoint is not set; evidence stays on this kiosk");
        return {};
    }
    if (auto s = check_upload_config(config_); !s)
        return s;
    auto up = upload::Uploader::create(loop_.get(), *store_, upload_options(config_));
    if (!up)
        return std::unexpected(up.error());
    uploader_ = std::move(*up);
    log::event(log::Level::info, message_id::kUploadsOn, fmt::format("uploading to {}", u.endpoint),
               {{"EXHIBIT_ENDPOINT", u.endpoint}});
    return {};
}

Status Daemon::start_metrics() {
    const auto& m = config_.monitoring;
    const bool file = m.metrics_directory && !m.metrics_directory->empty();
    const bool heartbeats = uploader_ && m.heartbeat_interval_seconds > 0;
    log::event(log::Level::info, message_id::kMonitoringConfigured,
               fmt::format("monitoring: metrics {}; heartbeats {}",
                           file ? "to " + (*m.metrics_directory / metrics::kMetricsFileName).string()
                                : std::string("off ([monitoring] metrics_directory is empty)"),
                           heartbeats ? fmt::format("every {} s", m.heartbeat_interval_seconds)
                                      : std::string("off")),
               {{"EXHIBIT_METRICS_FILE",
                 file ? (*m.metrics_directory / metrics::kMetricsFileName).string() : ""},
                {"EXHIBIT_HEARTBEAT_INTERVAL",
                 std::to_string(heartbeats ? m.heartbeat_interval_seconds : 0)}});
    if (!file && !heartbeats)
        return {};
    metrics::PublisherOptions options{.directory = file ? *m.metrics_directory
                                                        : std::filesystem::path(),
                                      .interval = std::chrono::seconds(m.metrics_interval_seconds),
                                      .version = std::string(kVersion)};
    auto publisher = metrics::MetricsPublisher::start(
        loop_, *store_, std::move(options),
        [this](metrics::KioskFigures& f) { collect_metrics(f); });
    if (!publisher)
        return std::unexpected(publisher.error().with_context("metrics"));
    metrics_ = std::move(*publisher);
    if (heartbeats) {
        auto timer = loop_.add_periodic_timer(
            std::chrono::seconds(m.heartbeat_interval_seconds), [this] { send_heartbeat(); },
            "heartbeat");
        if (!timer)
            return std::unexpected(timer.error());
        heartbeat_timer_ = std::move(*timer);
    }
    return {};
}

void Daemon::send_heartbeat() {
    auto problem = [this](const Error& e) {
        if (!heartbeat_failing_)
            log::event(log::Level::warning, message_id::kHeartbeatFailed,
                       fmt::format("heartbeat not sent: {} (tried again every {} s; evidence is "
                                   "not affected)",
                                   e.describe(), config_.monitoring.heartbeat_interval_seconds),
                       {log::field::error_class(e)});
        heartbeat_failing_ = true;
    };
    auto figures = metrics_->read_figures();
    if (!figures)
        return problem(figures.error());
    const auto now = Clock::system().now();
    metrics::HeartbeatSequence sequence(config_.store.state_directory / "heartbeat.sequence");
    auto n = sequence.next(now);
    if (!n)
        return problem(n.error());
    auto hb = metrics::build_heartbeat(*figures, store_->identity(), config_.daemon.kiosk_id,
                                       kVersion, *n, now);
    if (!hb)
        return problem(hb.error());
    // Who sent it and how to check it; nothing about cases or people.
    upload::MetadataPairs metadata = {
        {"filename", fmt::format("heartbeat-{}-{}.json", config_.daemon.kiosk_id, hb->sequence)},
        {"type", "heartbeat"},
        {"kiosk_id", config_.daemon.kiosk_id},
        {"sequence", std::to_string(hb->sequence)},
        {"signature_algorithm", "ed25519"},
        {"signature", hb->signature},
        {"key_fingerprint", hb->key_fingerprint}};
    const auto seq = hb->sequence;
    auto sent = uploader_->send_now(std::move(hb->body), metadata,
                                    [this, seq, problem](Result<std::string> url) {
                                        if (!url)
                                            return problem(url.error());
                                        if (heartbeat_failing_)
                                            log::event(log::Level::info,
                                                       message_id::kHeartbeatRecovered,
                                                       "heartbeats reach the DFU store again");
                                        heartbeat_failing_ = false;
                                        log::debug("heartbeat {} sent: {}", seq, *url);
                                    });
    if (!sent && sent.error().code != Errc::exists)
        problem(sent.error());
}

void Daemon::collect_metrics(metrics::KioskFigures& f) const {
    f.min_free_bytes = config_.store.min_free_bytes();
    f.uploads_configured = uploader_ != nullptr;
    f.upload_failures.clear();
    if (uploader_)
        for (const auto& [reason, n] : uploader_->failure_counts())
            f.upload_failures[reason] = n;
    f.devices.clear();
    for (const auto* d : devices_.all())
        for (auto c : d->classes)
            ++f.devices[std::string(devices::to_string(c))];
    f.evidence_wait_limit = std::chrono::hours(config_.monitoring.evidence_wait_limit_hours);
}

Result<std::string> Daemon::add_network_device(const std::string& address) {
    auto colon = address.rfind(':');
    bool ok = colon != std::string::npos && colon > 0 && colon + 1 < address.size() &&
              colon + 6 >= address.size() &&
              address.find_first_not_of("0123456789", colon + 1) == std::string::npos &&
              address.find_first_of(" /\\") == std::string::npos;
    int port = ok ? std::atoi(address.c_str() + colon + 1) : 0;
    if (!ok || port < 1 || port > 65535)
        return fail(Errc::invalid_argument, fmt::format("\"{}\" is not HOST:PORT", address));
    auto transport = "tcp:" + address;
    if (devices_.find_by_transport(transport))
        return fail(Errc::exists, fmt::format("{} is already a device", address));
    devices::DeviceRecord record;
    record.classes = {devices::DeviceClass::android_adb};
    record.functions = {adb::tcp_function()};
    record.transport = transport;
    // Like a phone plugged in: `ready` only once it has answered and allowed this kiosk.
    record.state = devices::DeviceState::connected;
    record.detail = "network phone (ADB over TCP)";
    return devices_.add(std::move(record));
}

Status Daemon::watch_signals() {
    auto handler = [this](const signalfd_siginfo& info) { on_stop_signal(info); };
    auto term = loop_.add_signal(SIGTERM, handler);
    if (!term)
        return std::unexpected(term.error());
    auto intr = loop_.add_signal(SIGINT, handler);
    if (!intr)
        return std::unexpected(intr.error());
    auto hup =
        loop_.add_signal(SIGHUP, [this](const signalfd_siginfo& info) { on_reload_signal(info); });
    if (!hup)
        return std::unexpected(hup.error());
    sigterm_ = std::move(*term);
    sigint_ = std::move(*intr);
    sighup_ = std::move(*hup);
    return {};
}

void Daemon::on_reload_signal(const signalfd_siginfo& info) {
    if (!store_)
        return;  // still starting: the configuration just read is the one in force
    const auto actor = fmt::format("signal:SIGHUP:{}", info.ssi_pid);
    log::event(log::Level::info, message_id::kReloadRequested,
               fmt::format("reloading the configuration on SIGHUP from pid {}", info.ssi_pid),
               {{"EXHIBIT_ACTOR", actor}});
    (void)reload_config(actor);  // errors are logged
}

void Daemon::on_stop_signal(const signalfd_siginfo& info) {
    const char* name = sigabbrev_np(static_cast<int>(info.ssi_signo));
    stop_signal_ = fmt::format("SIG{}", name ? name : "?");
    log::event(log::Level::info, message_id::kStopRequested,
               fmt::format("stopping on {} from pid {}", stop_signal_, info.ssi_pid),
               {{"EXHIBIT_SIGNAL", stop_signal_}});
    report_notify(loop::notify_stopping(fmt::format("Stopping ({})", stop_signal_)));
    loop_.exit(EXIT_SUCCESS);
}

void Daemon::refresh_status() {
    auto status = describe_health();
    if (status == status_)
        return;
    status_ = std::move(status);
    report_notify(loop::notify_status(status_));
}

std::string Daemon::describe_health() {
    auto health = store_->health();
    if (!health) {
        log::event(log::Level::warning, message_id::kHealthUnavailable,
                   fmt::format("cannot read store health: {}", health.error().describe()),
                   {log::field::error_class(health.error())});
        return fmt::format("Ready (store health unavailable: {})", health.error().describe());
    }
    std::string status =
        fmt::format("Ready: {} items, {} flagged", health->items_complete, health->items_flagged);
    if (health->items_incomplete > 0)
        status += fmt::format(", {} incomplete", health->items_incomplete);
    status +=
        fmt::format(", key {}, {} free", health->key_fingerprint, human_bytes(health->free_bytes));
    return status;
}

int Daemon::run() {
    auto code = loop_.run();
    status_timer_.reset();
    sighup_.reset();
    sigint_.reset();
    sigterm_.reset();
    if (!code) {
        log::event(log::Level::error, message_id::kDaemonFailed,
                   fmt::format("exhibitd failed: {}", code.error().describe()),
                   {log::field::error_class(code.error())});
        return EXIT_FAILURE;
    }
    if (*code != EXIT_SUCCESS) {
        log::event(log::Level::error, message_id::kDaemonFailed,
                   "exhibitd stopped after an internal error",
                   {log::field::error_class(Errc::internal)});
        return *code;
    }
    heartbeat_timer_.reset();
    if (metrics_) {
        (void)metrics_->write(false);  // exhibit_up 0: stopped on purpose, not crashed
        metrics_.reset();
    }
    bus_.reset();
    desk_.reset();  // signed-in officers end with the bus that named their clients
    uploader_.reset();  // transfers in flight resume from the server's offset next time
    // Every worker stops (its session ends interrupted) within the grace time, or is named
    // and left behind inside its driver.
    if (auto stuck = sessions_->stop_workers(); !stuck.empty()) {
        log::event(log::Level::warning, message_id::kDriverNotStopped,
                   fmt::format("the driver of device {} did not return within {} s of being "
                               "told to stop; exhibitd exits without waiting for it",
                               fmt::join(stuck, ", "),
                               kStopGrace.count()),
                   {log::field::device(stuck.front())});
        log::event(log::Level::info, message_id::kDaemonStopped,
                   fmt::format("exhibitd stopped ({})", stop_signal_),
                   {{"EXHIBIT_SIGNAL", stop_signal_}});
        // A thread still runs in the driver, using the sessions, the USB layer and the store:
        // none of them may be taken down under it. The process ends here, as after a power
        // cut, which the store is built to survive; the next start ends any session it was
        // in as interrupted.
        std::fflush(nullptr);
        std::_Exit(EXIT_SUCCESS);
    }
    sessions_.reset();
    usb_.reset();  // after the sessions that used its transports
    disks_.reset();
    store_.reset();
    log::event(log::Level::info, message_id::kDaemonStopped,
               fmt::format("exhibitd stopped ({})", stop_signal_),
               {{"EXHIBIT_SIGNAL", stop_signal_}});
    return EXIT_SUCCESS;
}

}  // namespace exhibit::exhibitd
