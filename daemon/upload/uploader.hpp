// The upload channel of exhibitd: takes the daemon's sd-event loop and the loop thread's
// Store, and from then on moves every stored item and every ended session's signed manifest
// to the DFU's tus server by itself, never blocking the loop:
//
//   auto up = upload::Uploader::create(loop, store, options);   // starts working at once
//   up->items_added();            // after an extraction stored items (cheap; also polled)
//   up->request_sync("admin:0");  // send the normal lane now, outside the window
//   up->status();                 // for the D-Bus properties / Prometheus
//
// Lanes: urgent items go at any hour; normal items only inside the window or during a
// requested sync. At most `concurrency` uploads at once, sharing one bandwidth cap. Failures
// are retried with exponential backoff and jitter; every custody-relevant change is audited.
//
// Thread-bound: create, call and destroy it on the loop's thread. Destroying it cancels the
// transfers in flight (they resume from the server's offset next time).
#pragma once

#include <systemd/sd-event.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "daemon/store/store.hpp"
#include "daemon/upload/curl_glue.hpp"
#include "daemon/upload/rate_limiter.hpp"
#include "daemon/upload/sync_window.hpp"
#include "daemon/upload/tus_client.hpp"
#include "daemon/upload/upload_job.hpp"
#include "daemon/upload/upload_options.hpp"
#include "daemon/upload/upload_queue.hpp"

namespace exhibit::upload {

struct ActiveUpload {
    JobKey key;
    Lane lane = Lane::normal;
    std::uint64_t offset = 0;  // confirmed by the server
    std::uint64_t length = 0;
};

struct UploaderStatus {
    QueueSnapshot queue;
    std::vector<ActiveUpload> active;
    bool window_open = false;
    bool normal_lane_open = false;          // window open or a sync requested
    std::optional<std::string> last_error;  // newest error of this run; cleared by a success
    std::uint64_t bytes_sent = 0;           // body bytes sent since start
    std::uint64_t rate_limit = 0;           // bytes per second now in force (0: none)
};

class Uploader final : public JobHost {
  public:
    static Result<std::unique_ptr<Uploader>> create(sd_event* loop, store::Store& store,
                                                    UploadOptions options,
                                                    const Clock& clock = Clock::system());
    ~Uploader() override;
    Uploader(const Uploader&) = delete;
    Uploader& operator=(const Uploader&) = delete;

    // New items were stored (by any thread or process): queue them on the next loop turn.
    void items_added();
    // Look at the queue, the window and the clock again on the next loop turn.
    void reschedule();

    // Applies what may change while running (a configuration reload): the sync window, the
    // rate caps and the concurrency cap. Transfers under way go on; a lowered cap only stops
    // new ones from starting.
    void set_schedule(std::chrono::minutes window_start, std::chrono::minutes window_end,
                      std::uint64_t max_rate_in_window, std::uint64_t max_rate_outside_window,
                      unsigned concurrency);

    // Administrator actions, audited with `actor`.
    Status request_sync(std::string_view actor);
    Status cancel_item(std::int64_t item_id, std::string_view actor);  // DELETEs the upload
    Status retry(const JobKey& key, std::string_view actor);           // a failed job
    Result<std::uint64_t> retry_failed(std::string_view actor);        // all: how many
    Result<std::vector<FailedJob>> failed_jobs(std::size_t limit) {
        return queue_.failed_jobs(limit);
    }
    Status set_lane(std::int64_t item_id, Lane lane, std::string_view actor);
    Status send_session_now(std::int64_t session_id, std::string_view actor);

    Result<UploaderStatus> status();
    // Called on the loop after the queue or an upload changed (for change signals).
    void set_on_change(std::function<void()> callback) { on_change_ = std::move(callback); }
    // Sends a small document at once (a heartbeat, docs/monitoring.md) as one upload of its
    // own: created, then sent in one PATCH. Outside the queue, the window and the retry
    // schedule (the next heartbeat is the retry), and never waiting for evidence nor making
    // evidence wait. `done` gets the upload's URL, or why it failed. Errc::exists while the
    // previous one is still on its way.
    Status send_now(std::string body, const MetadataPairs& metadata,
                    std::function<void(Result<std::string>)> done);
    // Failed attempts since start, by FailureClass name (only classes that occurred).
    const std::map<std::string, std::uint64_t, std::less<>>& failure_counts() const {
        return failures_;
    }

    // Nothing in flight and nothing that could start now (tests, tools).
    Result<bool> idle();

    // JobHost (used by the jobs this uploader runs)

    TusClient& client() override { return *client_; }
    UploadQueue& queue() override { return queue_; }
    const UploadOptions& options() const override { return options_; }
    const Clock& clock() const override { return *clock_; }
    const ServerCapabilities* capabilities() const override { return caps_ ? &*caps_ : nullptr; }
    void set_capabilities(ServerCapabilities caps) override { caps_ = std::move(caps); }
    std::optional<std::uint64_t> body_limit() const override;
    void set_body_limit(std::uint64_t limit) override;
    bool may_continue(const Job& job) const override;
    void job_ended(UploadJob& job, JobOutcome outcome) override;

  private:
    Uploader(sd_event* loop, store::Store& store, UploadOptions options, const Clock& clock);
    Status init();

    static int on_kick(sd_event_source* s, void* self) noexcept;
    static int on_wake(sd_event_source* s, uint64_t usec, void* self) noexcept;
    void kick();
    void schedule();
    Status schedule_steps();
    Status prepare_manifests();
    Status start_jobs();
    void arm_wake();
    // Logs a failed attempt (EXHIBIT_UPLOAD_OUTCOME retry, rejected or failed) and keeps it
    // as the last error shown by Health.
    void record_error(const JobKey& key, const std::string& error, std::string_view outcome,
                      Errc code);
    void terminate_remote(std::int64_t item_id, const std::string& url);
    void changed();

    sd_event* loop_;
    store::Store* store_;
    UploadOptions options_;
    const Clock* clock_;
    DailyWindow window_;
    std::unique_ptr<CurlGlue> glue_;
    RateLimiter limiter_;
    std::unique_ptr<TusClient> client_;
    UploadQueue queue_;
    std::optional<ServerCapabilities> caps_;
    // A learned body limit outlives rediscovery (which follows every counted retry) but not
    // kBodyLimitLifetime: a proxy's limit may be raised, and a broken-off body may have had
    // another cause.
    struct LearnedLimit {
        std::uint64_t bytes = 0;
        TimePoint until;
    };
    std::optional<LearnedLimit> body_limit_;
    std::map<JobKey, std::unique_ptr<UploadJob>> active_;
    std::vector<std::unique_ptr<UploadJob>> finished_;  // destroyed on the next loop turn
    std::vector<TusClient::RequestPtr> terminations_;
    EventSourcePtr kick_;
    EventSourcePtr wake_;
    bool enqueue_due_ = true;
    bool window_open_ = false;
    bool normal_open_ = false;
    std::chrono::steady_clock::time_point next_poll_{};
    std::optional<std::string> last_error_;
    std::map<std::string, std::uint64_t, std::less<>> failures_;
    struct SmallUpload {
        MemoryBody body;
        std::string url;
        TusClient::RequestPtr request;
        std::function<void(Result<std::string>)> done;
    };
    std::unique_ptr<SmallUpload> small_;       // in flight
    std::unique_ptr<SmallUpload> small_done_;  // ended inside its handler: destroyed later
    void small_ended(Result<std::string> result);
    std::function<void()> on_change_;
    std::mt19937_64 random_{std::random_device{}()};
};

}  // namespace exhibit::upload
