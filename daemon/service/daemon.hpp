// exhibitd's wiring: the loaded configuration, the evidence store and the one event loop
// (signals, watchdog, status refresh). main() only parses the command line and the
// configuration, then calls Daemon::start and Daemon::run.
//
// Thread-bound: created and run on the main thread.
#pragma once

#include <memory>
#include <string>

#include "common/error.hpp"
#include "daemon/bus/bus_service.hpp"
#include "daemon/config/config.hpp"
#include "daemon/devices/device_registry.hpp"
#include "daemon/extract/session_manager.hpp"
#include "daemon/service/event_loop.hpp"
#include "daemon/service/loop_channel.hpp"
#include "daemon/service/usb_devices.hpp"
#include "daemon/store/store.hpp"
#include "daemon/sync/uploader.hpp"
#include "drivers/adb/android_pubkey.hpp"

namespace exhibit::service {

class Daemon {
  public:
    // Blocks SIGTERM and SIGINT, sets up the loop and the watchdog, opens the store, then
    // sends READY=1. Errors are returned, not logged: the caller logs them once.
    static Result<std::unique_ptr<Daemon>> start(const config::Config& config);

    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;
    ~Daemon() = default;

    // Runs the loop until SIGTERM or SIGINT; returns the process exit code.
    int run();

  private:
    Daemon(const config::Config& config, EventLoop loop);
    Status open_store();
    // Devices, sessions and the D-Bus edge, once the store is open.
    Status start_core();
    Result<std::string> add_network_device(const std::string& address);
    Status start_uploads();
    Status watch_signals();
    void on_stop_signal(const signalfd_siginfo& info);
    void refresh_status();
    std::string describe_health();

    const config::Config config_;
    std::string config_file_;
    EventLoop loop_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<adb::AdbHostKey> adb_key_;
    std::unique_ptr<LoopChannel> channel_;
    devices::DeviceRegistry devices_;
    std::unique_ptr<UsbDevices> usb_;  // null when libusb could not start
    std::unique_ptr<extract::SessionManager> sessions_;
    std::unique_ptr<sync::Uploader> uploader_;
    std::unique_ptr<bus::BusService> bus_;
    EventSource sigterm_;
    EventSource sigint_;
    EventSource status_timer_;
    std::string status_;
    std::string stop_signal_;
};

store::VerifyDepth to_verify_depth(config::VerifyOnStart v);

}  // namespace exhibit::service
