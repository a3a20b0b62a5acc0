// exhibitd's wiring: the loaded configuration, the evidence store and the one event loop
// (signals, watchdog, status refresh). main() only parses the command line and the
// configuration, then calls Daemon::start and Daemon::run.
//
// Thread-bound: created and run on the main thread.
#pragma once

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "daemon/bus/bus_service.hpp"
#include "daemon/config/config.hpp"
#include "daemon/devices/block_devices.hpp"
#include "daemon/devices/device_registry.hpp"
#include "daemon/devices/usb_devices.hpp"
#include "daemon/extract/session_manager.hpp"
#include "daemon/loop/event_loop.hpp"
#include "daemon/loop/loop_channel.hpp"
#include "daemon/metrics/heartbeat.hpp"
#include "daemon/metrics/metrics_publisher.hpp"
#include "daemon/notices/notice_library.hpp"
#include "daemon/officers/sign_in_desk.hpp"
#include "daemon/store/store.hpp"
#include "daemon/upload/uploader.hpp"
#include "drivers/driver_registry.hpp"

namespace exhibit::exhibitd {

// Where the configuration came from, to read it again on ReloadConfig or SIGHUP.
struct ConfigSource {
    std::filesystem::path file;
    bool explicit_file = false;  // given with --config (a missing file is then an error)
};

class Daemon {
  public:
    // Blocks SIGTERM, SIGINT and SIGHUP, sets up the loop and the watchdog, opens the store,
    // then sends READY=1. Errors are returned, not logged: the caller logs them once.
    static Result<std::unique_ptr<Daemon>> start(const config::Config& config,
                                                 ConfigSource source = {});

    // Reads the configuration again and applies what may change while running:
    // daemon.log_level, adb.network_devices (phones added from the configuration and not in
    // use are removed), and the upload window, rate caps and concurrency. Every other
    // changed key is reported as needing a restart and keeps its running value. A bad
    // configuration changes nothing (Errc::config, naming the file, line and key). Audited
    // as config.reloaded with `actor`.
    Result<bus::ReloadReport> reload_config(const std::string& actor);

    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;
    ~Daemon() = default;

    // Runs the loop until SIGTERM or SIGINT; returns the process exit code.
    int run();

  private:
    Daemon(const config::Config& config, ConfigSource source, loop::EventLoop loop);
    Status open_store();
    // Devices, sessions and the D-Bus edge, once the store is open.
    Status start_core();
    // The device families this kiosk serves: one line each (drivers/README.md).
    Status register_drivers();
    static Result<std::filesystem::path> driver_host_program();
    Result<std::string> add_network_device(const std::string& address);
    // Makes the phones added from [adb] network_devices match `wanted`: adds the new ones,
    // removes the ones no longer listed unless they are in use. Appends what it could not do
    // to `problems`; returns whether a phone was added or removed.
    bool sync_config_devices(const std::vector<std::string>& wanted,
                             std::vector<std::string>& problems);
    // A preview or extraction runs on the device, or waits for the person's permission.
    bool device_in_use(const std::string& id) const;
    void apply_upload_schedule(const config::UploadConfig& next);
    void on_reload_signal(const signalfd_siginfo& info);
    Status start_uploads();
    // The metrics file for node_exporter ([monitoring]); nothing when metrics are off.
    Status start_metrics();
    void collect_metrics(metrics::KioskFigures& figures) const;
    // Builds, signs and sends one heartbeat (skipped while the last is on its way).
    void send_heartbeat();
    Status watch_signals();
    void on_stop_signal(const signalfd_siginfo& info);
    void refresh_status();
    std::string describe_health();

    config::Config config_;  // what is in force (a reload updates what it applies)
    ConfigSource source_;
    std::map<std::string, std::string> config_devices_;  // address → device id, from config
    loop::EventLoop loop_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<loop::LoopChannel> channel_;
    drivers::DriverRegistry drivers_;  // outlives the devices and sessions that use it
    devices::DeviceRegistry devices_;
    std::unique_ptr<devices::UsbDevices> usb_;  // null when libusb could not start
    std::unique_ptr<devices::BlockDevices> disks_;  // null when udev could not be used
    std::unique_ptr<extract::SessionManager> sessions_;
    std::unique_ptr<upload::Uploader> uploader_;
    std::unique_ptr<officers::SignInDesk> desk_;
    std::unique_ptr<notices::NoticeLibrary> notices_;
    std::unique_ptr<bus::BusService> bus_;
    // The figures, for the metrics file and the heartbeats; null when both are off.
    std::unique_ptr<metrics::MetricsPublisher> metrics_;
    loop::EventSource heartbeat_timer_;
    bool heartbeat_failing_ = false;  // the last heartbeat failed (logged once until it works)
    loop::EventSource sigterm_;
    loop::EventSource sigint_;
    loop::EventSource sighup_;
    loop::EventSource status_timer_;
    std::string status_;
    std::string stop_signal_;
};

store::VerifyDepth to_verify_depth(config::VerifyOnStart v);

}  // namespace exhibit::exhibitd
