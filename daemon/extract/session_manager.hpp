// Starts, follows and stops extraction sessions, for any registered device family.
//
// A device a registered driver serves is contacted as soon as it arrives (plugged in, or added
// as a network phone): a worker thread opens it with its driver, so its state is known before
// anyone asks (connected -> needs_authorisation while the person must allow this kiosk ->
// ready, or connected again with a detail when it cannot be reached, unsupported when its
// driver cannot serve it). The open link is kept and handed to the next preview or
// extraction: no second connect, no second prompt. A request that arrives while that first
// contact is still opening waits for it instead of failing busy.
//
// Each session (and each preview) runs on its own worker thread with its own store
// connection and talks to the device through the driver session with blocking I/O;
// everything a worker reports reaches the loop through the LoopChannel. Cancelling,
// unplugging (learnt from the device registry) and shutting down stop the worker through its
// stop token and by interrupting its driver session.
//
// Thread-bound to the loop thread (workers never call into it directly). The loop-side
// members are in session_manager.cpp, what the workers run in session_workers.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "daemon/devices/device_registry.hpp"
#include "daemon/extract/extraction.hpp"
#include "daemon/loop/loop_channel.hpp"
#include "daemon/store/store.hpp"
#include "drivers/driver_registry.hpp"

namespace exhibit::extract {

struct SessionManagerOptions {
    std::filesystem::path state_directory;
    std::string kiosk_id;
    // Under this much free space in the state directory, start() refuses (Errc::no_space).
    std::uint64_t min_free_bytes = 0;
    // How long stop_workers() waits for the drivers to return once told to stop. A driver in
    // a library call it cannot interrupt (libmtp waits out its own USB timeouts) may take
    // longer; stop_workers() then names it and leaves it behind.
    std::chrono::milliseconds stop_grace{5000};
    const Clock* clock = &Clock::system();
    // The configured settings that reach an extraction ("adb.authorisation_wait_seconds":
    // 120, ...), recorded with every session as part of its method (extraction_method).
    nlohmann::json method_configuration = nlohmann::json::object();
};

// How a session is extracted, kept with it and stated in its manifest (docs/manifest.md,
// "method"): exhibit's version, the driver family with its version and the device function
// it serves the device through, and the configured settings that reach the extraction.
nlohmann::json extraction_method(const drivers::Driver& driver,
                                 std::span<const drivers::Function> device_functions,
                                 const nlohmann::json& configuration);

// A device as its driver is given it.
drivers::Device to_driver_device(const devices::DeviceRecord& record);

// Why a session ends when its device could not be opened: "could not connect: ...", or
// "interrupted: device disconnected" when the device went away meanwhile.
std::string not_connected_reason(const Error& error);

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

    // Stops every worker and waits up to options.stop_grace for each to return. Returns the
    // devices whose worker is still inside its driver: those threads are left behind (never
    // joined, their state never freed), so the caller must end the process before anything
    // they use goes away. What they were writing is crash-safe: the next start closes their
    // sessions as interrupted. No callback reaches the loop after this call.
    std::vector<std::string> stop_workers();

    // Records the case and a new session, then starts the worker (or lets it wait for the
    // device's first contact). Errors name what is wrong (unknown device, device busy, no
    // driver for the device, too little free disk: the one place the low-disk rule is
    // applied).
    Result<std::int64_t> start(const StartRequest& request);
    Status cancel(std::int64_t session_id);
    // `done` runs on the loop thread, never after the manager is destroyed.
    void preview(const std::string& device_id, const drivers::Scope& scope, PreviewDone done);

    const SessionView* find(std::int64_t session_id) const;
    // The family that serves a device (what it can take: Driver::categories), or null.
    const drivers::Driver* driver_for(const std::string& device_id) const;
    std::vector<const SessionView*> all() const;
    // Called on the loop thread for every progress update and once with completed = true.
    void subscribe(Observer observer) { observers_.push_back(std::move(observer)); }

  private:
    struct Worker {
        std::string device_id;
        std::string device_class;     // devices::classes_text, for the journal
        std::int64_t session_id = 0;  // the extraction it runs; 0 for a contact or a preview
        std::atomic<StopReason> reason{StopReason::none};
        std::atomic<bool> finished{false};  // set by the thread as its very last step
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
    // What a preview or an extraction asked of a device.
    struct Job {
        drivers::Scope scope;
        std::int64_t session_id = 0;  // an extraction's session; 0 for a preview
        PreviewDone done;             // a preview's answer
    };
    // What the manager holds for one device its drivers serve.
    struct Link {
        std::shared_ptr<drivers::DriverSession> idle;  // open, kept for the next job
        std::uint64_t contact = 0;                     // worker opening it on arrival
        std::uint64_t job = 0;                         // worker running a job on it
        std::optional<Job> waiting;                    // came while the contact was opening
        bool busy() const { return job != 0 || waiting.has_value(); }
    };
    // The device's state once a worker is done with it.
    struct Settled {
        devices::DeviceState state = devices::DeviceState::ready;
        std::string detail;
    };
    // What a job's worker hands back to the loop.
    struct JobEnd {
        std::shared_ptr<drivers::DriverSession> keep;  // the link, still usable
        Settled device;
        std::optional<SessionView> session;  // an extraction's final view
        std::optional<Result<drivers::Preview>> preview;
    };
    struct Usable {
        const devices::DeviceRecord* device;
        const drivers::Driver* driver;
    };
    // The link a job goes on with, and what the device answered to the job's first call.
    template <typename Answer>
    struct Attached {
        std::shared_ptr<drivers::DriverSession> session;
        Answer answer;
    };

    // Loop side (session_manager.cpp).
    Result<Usable> usable_device(const std::string& device_id, const drivers::Scope& scope);
    // Starts the job on the device's kept link, behind its first contact, or on a new link.
    void dispatch(const Usable& usable, Job job);
    void start_contact(const devices::DeviceRecord& record, const drivers::Driver& driver);
    void start_job(const devices::DeviceRecord& record, const drivers::Driver& driver, Link& link,
                   Job job, std::shared_ptr<drivers::DriverSession> session);
    void contacted(std::uint64_t key, const std::string& device_id,
                   Result<std::shared_ptr<drivers::DriverSession>> opened, Settled settled);
    void job_done(std::uint64_t key, const std::string& device_id, Job job, JobEnd end);
    // Ends a job that never got a worker (its device left, its contact failed, it was
    // cancelled, or exhibitd stops): a preview answers `error` unless `silent`, an
    // extraction's session ends in `state` with `reason`.
    void end_unstarted(Job& job, store::SessionState state, const std::string& reason,
                       const Error& error, bool silent = false);
    void finish_worker(std::uint64_t key);
    void settle(const std::string& device_id, const Settled& settled);
    // The device registry's news: a served device is contacted when it arrives; a removed
    // device's workers stop and its link is dropped.
    void device_changed(const devices::DeviceRecord& record, devices::DeviceChange change);
    void publish(const SessionView& view);

    // Worker side (session_workers.cpp): blocking, on the worker's thread.
    // Opens the device with its driver, reporting conditions to the registry.
    Result<std::shared_ptr<drivers::DriverSession>> open(const drivers::Driver& driver,
                                                         const drivers::Device& device,
                                                         Worker& worker, std::stop_token stop);
    // The device's state after `error` ended an open (or the worker was stopped).
    static Settled not_opened(const Error& error, StopReason why);
    // Takes over the link kept since the device's last job, or opens one, and makes the job's
    // first call on it. Only that call shows whether a kept link died meanwhile (the phone
    // restarted its side, say); the device is then opened again, once, and asked again.
    // `on_link` runs once, when the job first has a link. Fails only when an open fails: the
    // first call's own error is the answer. A template only session_workers.cpp instantiates.
    template <typename First>
    auto attach(Worker& worker, const drivers::Driver& driver, const drivers::Device& device,
                std::shared_ptr<drivers::DriverSession> kept, std::stop_token stop, First first,
                const std::function<void()>& on_link = {})
        -> Result<Attached<std::invoke_result_t<First&, drivers::DriverSession&>>>;
    JobEnd run_session(Worker& worker, const drivers::Driver& driver, const drivers::Device& device,
                       std::int64_t session_id, const drivers::Scope& scope,
                       std::shared_ptr<drivers::DriverSession> kept, std::stop_token stop);
    JobEnd run_preview(Worker& worker, const drivers::Driver& driver, const drivers::Device& device,
                       const drivers::Scope& scope, std::shared_ptr<drivers::DriverSession> kept,
                       std::stop_token stop);
    StoreSink::ProgressFn progress_reporter(std::int64_t session_id);

    loop::LoopChannel* channel_;
    store::Store* store_;
    devices::DeviceRegistry* devices_;
    const drivers::DriverRegistry* drivers_;
    SessionManagerOptions options_;
    std::uint64_t subscription_ = 0;
    std::map<std::int64_t, SessionView> sessions_;
    std::map<std::uint64_t, std::unique_ptr<Worker>> workers_;
    bool workers_stopped_ = false;  // stop_workers() ran: no worker is left in workers_
    std::map<std::string, Link> links_;  // by device id
    std::uint64_t next_worker_ = 1;
    std::vector<Observer> observers_;
    // Time and byte count of the previous progress report per session, for the rate.
    std::map<std::int64_t, std::pair<std::chrono::steady_clock::time_point, std::uint64_t>>
        rate_marks_;
    // Flips to false at destruction so posted callbacks that arrive late do nothing.
    std::shared_ptr<std::atomic<bool>> alive_ = std::make_shared<std::atomic<bool>>(true);
};

}  // namespace exhibit::extract
