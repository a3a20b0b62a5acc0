// Starts, follows and stops extraction sessions. Each session (and each preview) runs on its
// own worker thread with its own store connection and talks to its phone with blocking I/O;
// everything it reports reaches the loop through the LoopChannel. Cancelling, unplugging
// and shutting down stop the worker through its stop token and by shutting its transport.
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
#include "daemon/extract/adb_session.hpp"
#include "daemon/loop/loop_channel.hpp"
#include "daemon/store/store.hpp"
#include "drivers/adb/android_pubkey.hpp"
#include "drivers/adb/transport.hpp"

namespace exhibit::extract {

// Opens a transport to a device (TCP now; USB registers its own).
using TransportFactory =
    std::function<Result<std::unique_ptr<adb::Transport>>(const devices::DeviceRecord& device)>;

struct SessionManagerOptions {
    std::filesystem::path state_directory;
    std::string kiosk_id;
    const adb::AdbHostKey* host_key = nullptr;
    std::chrono::milliseconds user_wait{std::chrono::minutes(2)};
    // Under this much free space in the state directory, start() refuses (Errc::no_space).
    std::uint64_t min_free_bytes = 0;
    adb::ExtractorLimits limits;
    TransportFactory connect;
    const Clock* clock = &Clock::system();
};

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

    SessionManager(loop::LoopChannel& channel, store::Store& store,
                   devices::DeviceRegistry& devices, SessionManagerOptions options);
    ~SessionManager();  // stops every worker (interrupted: exhibitd stopped) and joins them

    // Records the case and a new session, then starts the worker. Errors name what is wrong
    // (unknown device, device busy, not an ADB device, too little free disk: the one place
    // the low-disk rule is applied).
    Result<std::int64_t> start(const StartRequest& request);
    Status cancel(std::int64_t session_id);
    void preview(const std::string& device_id, const drivers::Scope& scope, PreviewDone done);
    // The device went away: its worker stops and its session ends interrupted.
    void device_gone(const std::string& device_id);

    const SessionView* find(std::int64_t session_id) const;
    std::vector<const SessionView*> all() const;
    // Called on the loop thread for every progress update and once with completed = true.
    void subscribe(Observer observer) { observers_.push_back(std::move(observer)); }

  private:
    struct Worker {
        std::string device_id;
        std::atomic<StopReason> reason{StopReason::none};
        std::jthread thread;
        // Stops the worker: its stop token, and a shutdown of its transport so that a
        // blocked read returns. Callable from any thread, at any time.
        void stop(StopReason why);
        // The worker's transport, shared with its connection so that stop() never reaches
        // a destroyed one; cleared when the worker is done with it.
        void set_transport(std::shared_ptr<adb::Transport> t);

      private:
        std::mutex mu_;
        std::shared_ptr<adb::Transport> transport_;  // guarded by mu_
    };
    Result<const devices::DeviceRecord*> usable_device(const std::string& device_id);
    Result<std::unique_ptr<adb::Connection>> connect(const devices::DeviceRecord& device,
                                                     Worker& worker);
    void run_session(Worker& worker, devices::DeviceRecord device, std::int64_t session_id,
                     drivers::Scope scope, std::stop_token stop);
    void finish_worker(std::uint64_t key);
    // After a preview or an extraction (on the loop): the device is `ready` if the phone
    // answered (`not_answered` unset), else `connected` again, with `*not_answered` (why it
    // could not be reached, or nothing) as its detail.
    void release_device(const std::string& device_id,
                        const std::optional<std::string>& not_answered);
    void publish(const SessionView& view);

    loop::LoopChannel* channel_;
    store::Store* store_;
    devices::DeviceRegistry* devices_;
    SessionManagerOptions options_;
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

// "tcp:HOST:PORT" → a TCP transport (the default factory for network devices).
Result<std::unique_ptr<adb::Transport>> connect_tcp_device(const devices::DeviceRecord& device);

}  // namespace exhibit::extract
