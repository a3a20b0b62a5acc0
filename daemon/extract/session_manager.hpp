// Starts, follows and stops extraction sessions, for any registered device family. Each
// session (and each preview) runs on its own worker thread with its own store connection;
// the driver found for the device (drivers::DriverRegistry) opens it there and talks to it
// with blocking I/O; everything a worker reports reaches the loop through the LoopChannel.
// Cancelling, unplugging (learnt from the device registry) and shutting down stop the worker
// through its stop token and by interrupting its driver session.
//
// Thread-bound to the loop thread (workers never call into it directly).
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "daemon/devices/device_registry.hpp"
#include "daemon/extract/extraction.hpp"
#include "daemon/loop/loop_channel.hpp"
#include "daemon/store/store.hpp"
#include "drivers/driver_registry.hpp"

namespace exhibit::extract {

struct SessionManagerOptions {
    std::filesystem::path state_directory;
    std::string kiosk_id;
    const Clock* clock = &Clock::system();
};

// A device as its driver is given it.
drivers::Device to_driver_device(const devices::DeviceRecord& record);

struct StartRequest {
    std::string device_id;
    store::CaseSpec case_spec;
    drivers::Scope scope;
    store::Priority priority = store::Priority::normal;
    std::string actor;  // "officer:<id>" or "admin:<uid>"
};

struct SessionView {
    std::int64_t id = 0;
    std::string device_id;
    store::SessionState state = store::SessionState::created;
    std::optional<std::string> reason;
    ExtractionProgress progress;
    double rate_bytes_per_second = 0;
    bool completed = false;
};

class SessionManager {
  public:
    using Observer = std::function<void(const SessionView&)>;
    using PreviewDone = std::function<void(Result<drivers::Preview>)>;

    // `devices` and `drivers` must outlive the manager.
    SessionManager(loop::LoopChannel& channel, store::Store& store,
                   devices::DeviceRegistry& devices, const drivers::DriverRegistry& drivers,
                   SessionManagerOptions options);
    ~SessionManager();  // stops every worker (interrupted: exhibitd stopped) and joins them

    // Records the case and a new session, then starts the worker. Errors name what is wrong
    // (unknown device, device busy, no driver for the device).
    Result<std::int64_t> start(const StartRequest& request);
    Status cancel(std::int64_t session_id);
    void preview(const std::string& device_id, const drivers::Scope& scope, PreviewDone done);

    const SessionView* find(std::int64_t session_id) const;
    std::vector<const SessionView*> all() const;
    // Called on the loop thread for every progress update and once with completed = true.
    void subscribe(Observer observer) { observers_.push_back(std::move(observer)); }

  private:
    struct Worker {
        std::string device_id;
        std::atomic<StopReason> reason{StopReason::none};
        std::jthread thread;
        // Stops the worker: its stop token (which ends a driver's open), and an interrupt of
        // its driver session so that blocked I/O returns. Callable from any thread, at any
        // time.
        void stop(StopReason why);
        // The worker's open driver session, shared so that stop() never reaches a destroyed
        // one; cleared when the worker is done with it.
        void set_session(std::shared_ptr<drivers::DriverSession> s);

      private:
        std::mutex mu_;
        std::shared_ptr<drivers::DriverSession> session_;  // guarded by mu_
    };
    struct Usable {
        const devices::DeviceRecord* device;
        const drivers::Driver* driver;
    };
    Result<Usable> usable_device(const std::string& device_id);
    // On the worker: opens the device with its driver, reporting conditions to the registry.
    Result<std::shared_ptr<drivers::DriverSession>> open(const drivers::Driver& driver,
                                                         const drivers::Device& device,
                                                         Worker& worker, std::stop_token stop);
    void run_session(Worker& worker, const drivers::Driver& driver, drivers::Device device,
                     std::int64_t session_id, drivers::Scope scope, std::stop_token stop);
    void finish_worker(std::uint64_t key);
    // After a preview or an extraction (on the loop): the device is `ready` if it answered
    // (`not_answered` unset), else `connected` again, with `*not_answered` (why it could not
    // be reached, or nothing) as its detail.
    void release_device(const std::string& device_id,
                        const std::optional<std::string>& not_answered);
    // The device registry's news: an unplugged or removed device's worker stops.
    void device_changed(const devices::DeviceRecord& record, devices::DeviceChange change);
    void publish(const SessionView& view);

    loop::LoopChannel* channel_;
    store::Store* store_;
    devices::DeviceRegistry* devices_;
    const drivers::DriverRegistry* drivers_;
    SessionManagerOptions options_;
    std::uint64_t subscription_ = 0;
    std::map<std::int64_t, SessionView> sessions_;
    std::map<std::uint64_t, std::unique_ptr<Worker>> workers_;
    std::uint64_t next_worker_ = 1;
    std::vector<Observer> observers_;
    // Time and byte count of the previous progress report per session, for the rate.
    std::map<std::int64_t, std::pair<std::chrono::steady_clock::time_point, std::uint64_t>>
        rate_marks_;
    // Flips to false at destruction so posted callbacks that arrive late do nothing.
    std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace exhibit::extract
