#include "uploader.hpp"

#include <time.h>

#include <algorithm>

#include <fmt/format.h>

#include "common/log.hpp"
#include "daemon/store/manifest.hpp"
#include "daemon/store/message_ids.hpp"
#include "daemon/upload/message_ids.hpp"
#include "daemon/upload/retention.hpp"

namespace exhibit::upload {

namespace {
using namespace std::chrono;

template <class T>
std::unexpected<Error> err(const Result<T>& r) {
    return std::unexpected(r.error());
}

// Wake at least this often to notice wall-clock changes, new items and retention.
std::uint64_t to_usec(milliseconds d) {
    return static_cast<std::uint64_t>(std::max<milliseconds::rep>(d.count(), 0)) * 1000;
}
}  // namespace

Uploader::Uploader(sd_event* loop, store::Store& store, UploadOptions options, const Clock& clock)
    : loop_(loop),
      store_(&store),
      options_(std::move(options)),
      clock_(&clock),
      window_{options_.window_start, options_.window_end},
      queue_(store, clock) {}

Uploader::~Uploader() {
    // Jobs first (they cancel their requests), then the glue they were registered with.
    active_.clear();
    finished_.clear();
    terminations_.clear();
    small_.reset();
    small_done_.reset();
    client_.reset();
    glue_.reset();
}

Result<std::unique_ptr<Uploader>> Uploader::create(sd_event* loop, store::Store& store,
                                                   UploadOptions options, const Clock& clock) {
    if (auto s = validate(options); !s)
        return std::unexpected(s.error());
    std::unique_ptr<Uploader> up(new Uploader(loop, store, std::move(options), clock));
    if (auto s = up->init(); !s)
        return std::unexpected(s.error());
    return up;
}

Status Uploader::init() {
    auto glue = CurlGlue::create(loop_);
    if (!glue)
        return std::unexpected(glue.error());
    glue_ = std::move(*glue);
    glue_->set_max_host_connections(static_cast<long>(options_.concurrency) + 1);
    client_ = std::make_unique<TusClient>(*glue_, options_, limiter_);

    sd_event_source* defer = nullptr;
    if (int r = sd_event_add_defer(loop_, &defer, &Uploader::on_kick, this); r < 0)
        return fail(Errc::internal, fmt::format("cannot add the upload scheduler: {}", -r));
    kick_.reset(defer);
    sd_event_source_set_description(defer, "upload-kick");
    sd_event_source* wake = nullptr;
    if (int r = sd_event_add_time(loop_, &wake, CLOCK_MONOTONIC, UINT64_MAX, 0, &Uploader::on_wake,
                                  this);
        r < 0)
        return fail(Errc::internal, fmt::format("cannot add the upload timer: {}", -r));
    wake_.reset(wake);
    sd_event_source_set_description(wake, "upload-wake");
    sd_event_source_set_enabled(wake, SD_EVENT_OFF);

    // Rows a stopped daemon left "uploading" are queued again (they resume with a HEAD).
    if (auto s = queue_.requeue_interrupted(); !s)
        return s;
    kick();  // the first look happens on the loop, never inside create()
    return {};
}

void Uploader::kick() {
    sd_event_source_set_enabled(kick_.get(), SD_EVENT_ONESHOT);
}

void Uploader::items_added() {
    enqueue_due_ = true;
    kick();
}

void Uploader::set_schedule(std::chrono::minutes window_start, std::chrono::minutes window_end,
                            std::uint64_t max_rate_in_window, std::uint64_t max_rate_outside_window,
                            unsigned concurrency) {
    options_.window_start = window_start;
    options_.window_end = window_end;
    options_.max_rate_in_window = max_rate_in_window;
    options_.max_rate_outside_window = max_rate_outside_window;
    options_.concurrency = std::max(1u, concurrency);
    window_ = DailyWindow{window_start, window_end};
    glue_->set_max_host_connections(static_cast<long>(options_.concurrency) + 1);
    reschedule();  // the window, the rate and the cap are looked at again on the next turn
    changed();     // followers see the window and the rate cap as they are now
}

void Uploader::reschedule() {
    enqueue_due_ = true;
    kick();
}

int Uploader::on_kick(sd_event_source*, void* self) noexcept {
    try {
        auto* up = static_cast<Uploader*>(self);
        up->finished_.clear();
        up->schedule();
    } catch (...) {
        log::event(log::Level::error, message_id::kSchedulerFailed,
                   "unexpected exception in the upload scheduler",
                   {log::field::error_class(Errc::internal)});
    }
    return 0;
}

int Uploader::on_wake(sd_event_source*, uint64_t, void* self) noexcept {
    try {
        static_cast<Uploader*>(self)->schedule();
    } catch (...) {
        log::event(log::Level::error, message_id::kSchedulerFailed,
                   "unexpected exception in the upload scheduler",
                   {log::field::error_class(Errc::internal)});
    }
    return 0;
}

void Uploader::schedule() {
    if (auto s = schedule_steps(); !s) {
        // The catalog failed us (busy, disk full): say so and try again at the next poll.
        log::event(log::Level::error, message_id::kSchedulerFailed,
                   fmt::format("upload scheduler: {}", s.error().describe()),
                   {log::field::error_class(s.error())});
        last_error_ = s.error().describe();
    }
    arm_wake();
}

Status Uploader::schedule_steps() {
    const auto now_steady = steady_clock::now();
    if (now_steady >= next_poll_) {
        enqueue_due_ = true;
        next_poll_ = now_steady + options_.poll_interval;
        auto released = release_expired_blobs(*store_, options_.retention, *clock_);
        if (!released)
            return err(released);
    }
    if (enqueue_due_) {
        auto queued = queue_.enqueue_new_items();
        if (!queued)
            return err(queued);
        enqueue_due_ = false;
        if (*queued > 0)
            changed();
    }
    if (auto s = prepare_manifests(); !s)
        return s;

    window_open_ = window_contains(window_, clock_->now());
    auto requested = queue_.sync_requested();
    if (!requested)
        return err(requested);
    if (*requested) {
        auto pending = queue_.normal_pending();
        if (!pending)
            return err(pending);
        if (*pending == 0) {
            if (auto s = queue_.clear_sync_request(); !s)
                return s;
            log::event(log::Level::info, message_id::kSyncComplete,
                       "requested sync complete: nothing of the normal lane is left to send");
            *requested = false;
            changed();  // followers (exhibitctl sync --wait) see SyncRequested end
        }
    }
    normal_open_ = window_open_ || *requested;
    limiter_.set_rate(window_open_ ? options_.max_rate_in_window : options_.max_rate_outside_window,
                      now_steady);
    return start_jobs();
}

Status Uploader::prepare_manifests() {
    auto sessions = queue_.sessions_awaiting_manifest();
    if (!sessions)
        return err(sessions);
    for (auto id : *sessions) {
        auto deliveries = queue_.deliveries(id);
        if (!deliveries)
            return err(deliveries);
        auto manifest = store::build_manifest(*store_, id, *deliveries, *clock_);
        if (!manifest)
            return err(manifest);
        if (auto s = queue_.add_manifest(id, manifest->body, manifest->sha256, manifest->signature,
                                         manifest->key_fingerprint);
            !s)
            return s;
        log::event(log::Level::info, message_id::kManifestQueued,
                   fmt::format("session {}: every item is received; signed manifest queued", id),
                   {log::field::session(id)});
        changed();
    }
    return {};
}

Status Uploader::start_jobs() {
    while (active_.size() < options_.concurrency) {
        const std::size_t want = options_.concurrency + active_.size() + 8;
        auto jobs = queue_.runnable(normal_open_, want);
        if (!jobs)
            return err(jobs);
        bool started = false;
        for (auto& job : *jobs) {
            if (active_.size() >= options_.concurrency)
                break;
            if (active_.contains(job.key))
                continue;
            bool busy = false;
            auto same = queue_.same_content_receipt(job, options_.endpoint, &busy);
            if (!same)
                return err(same);
            if (*same) {
                // The server already has this content for this session: record, do not resend.
                auto receipt = (*same)->second;
                receipt.received_at = clock_->now();
                if (auto s = queue_.mark_uploading(job.key); !s)
                    return s;
                if (auto s = queue_.mark_received(job.key, receipt); !s)
                    return s;
                started = true;
                changed();
                continue;
            }
            if (busy)
                continue;
            if (auto s = queue_.mark_uploading(job.key); !s)
                return s;
            const auto key = job.key;
            auto [it, inserted] = active_.emplace(
                key, std::make_unique<UploadJob>(static_cast<JobHost&>(*this), std::move(job)));
            started = true;
            it->second->start();  // may end at once (job_ended moves it out of active_)
        }
        if (!started)
            break;
    }
    return {};
}

void Uploader::arm_wake() {
    const auto now = clock_->now();
    auto wait = duration_cast<milliseconds>(options_.poll_interval);
    auto consider = [&](std::optional<TimePoint> t) {
        if (t)
            wait = std::min(wait, duration_cast<milliseconds>(*t - now));
    };
    if (auto next = queue_.next_retry(normal_open_))
        consider(*next);
    consider(next_window_change(window_, now));
    wait = std::max(wait, milliseconds(10));
    std::uint64_t mono = 0;
    sd_event_now(loop_, CLOCK_MONOTONIC, &mono);
    sd_event_source_set_time(wake_.get(), mono + to_usec(wait));
    sd_event_source_set_enabled(wake_.get(), SD_EVENT_ONESHOT);
}

bool Uploader::may_continue(const Job& job) const {
    if (job.lane == Lane::urgent)
        return true;
    return normal_open_ && window_contains(window_, clock_->now()) == window_open_;
}

void Uploader::record_error(const JobKey& key, const std::string& error, std::string_view outcome,
                            Errc code) {
    last_error_ = fmt::format("{}: {}", describe(key), error);
    log::event(log::Level::warning, message_id::kUploadAttemptFailed, *last_error_,
               {kind_field(key),
                id_field(key),
                {"EXHIBIT_UPLOAD_OUTCOME", std::string(outcome)},
                log::field::error_class(code)});
}

std::optional<std::uint64_t> Uploader::body_limit() const {
    if (body_limit_ && clock_->now() < body_limit_->until)
        return body_limit_->bytes;
    return std::nullopt;
}

void Uploader::set_body_limit(std::uint64_t limit) {
    if (const auto known = body_limit(); !known || limit < *known)
        body_limit_ = LearnedLimit{limit, clock_->now() + kBodyLimitLifetime};
}

void Uploader::job_ended(UploadJob& job, JobOutcome outcome) {
    const JobKey key = job.job().key;
    const int attempts = job.job().attempts + 1;
    const auto now = clock_->now();
    auto backoff = [&] {
        std::uniform_real_distribution<double> uniform(0.0, 1.0);
        return now + backoff_delay(attempts, options_.retry_initial, options_.retry_max,
                                   uniform(random_));
    };
    Status s;
    if (auto* received = std::get_if<JobReceived>(&outcome)) {
        s = queue_.mark_received(key, received->receipt);
        if (s) {
            last_error_.reset();
            log::event(
                log::Level::info, message_id::kUploadReceived,
                fmt::format("{}: received by the DFU store ({} bytes, checksum {}, {})",
                            describe(key), received->receipt.length, received->receipt.checksum,
                            received->receipt.rule == "dfu-receipt"
                                ? "the store's receipt names its sha256"
                                : "offset = length"),
                {kind_field(key),
                 id_field(key),
                 {"EXHIBIT_SIZE", std::to_string(received->receipt.length)},
                 {"EXHIBIT_CHECKSUM", received->receipt.checksum},
                 {"EXHIBIT_RECEIPT_RULE", received->receipt.rule}});
        }
    } else if (auto* retry = std::get_if<JobRetry>(&outcome)) {
        if (retry->count_attempt) {
            ++failures_[std::string(to_string(retry->why))];
            record_error(key, retry->error, "retry", Errc::io);
            caps_.reset();  // the server may have changed (restart, upgrade): ask again
            if (auto n = queue_.defer(key, retry->error, backoff(), true); !n)
                s = std::unexpected(n.error());
        } else if (auto n = queue_.defer(key, retry->error, now + retry->retry_after, false); !n) {
            s = std::unexpected(n.error());
        }
    } else if (auto* rejected = std::get_if<JobRejected>(&outcome)) {
        ++failures_[std::string(to_string(FailureClass::rejected))];
        record_error(key, rejected->error, "rejected", Errc::protocol);
        auto n = queue_.defer(key, rejected->error, backoff(), true);
        if (!n)
            s = std::unexpected(n.error());
        else if (*n >= options_.max_rejections)
            s = queue_.mark_failed(key, fmt::format("{} (after {} attempts)", rejected->error, *n));
    } else if (auto* failed = std::get_if<JobFailed>(&outcome)) {
        ++failures_[std::string(to_string(failed->why))];
        record_error(key, failed->error, "failed", failed->code);
        s = queue_.mark_failed(key, failed->error);
    }
    if (!s)
        log::event(log::Level::error, message_id::kUploadNotRecorded,
                   fmt::format("{}: cannot record the upload's outcome: {}", describe(key),
                               s.error().describe()),
                   {kind_field(key), id_field(key), log::field::error_class(s.error())});
    if (auto it = active_.find(key); it != active_.end()) {
        finished_.push_back(std::move(it->second));  // still on the stack: destroy later
        active_.erase(it);
    }
    changed();
    kick();
}

Status Uploader::send_now(std::string body, const MetadataPairs& metadata,
                          std::function<void(Result<std::string>)> done) {
    if (small_)
        return fail(Errc::exists, "the previous one is still on its way");
    small_done_.reset();
    auto header = encode_metadata(metadata);
    if (!header)
        return std::unexpected(header.error());
    const std::uint64_t length = body.size();
    small_ = std::make_unique<SmallUpload>(
        SmallUpload{MemoryBody(std::move(body)), {}, nullptr, std::move(done)});
    auto created = client_->create(length, *header,
                                   [this, length](Result<HttpResponse> r) {
        if (!r)
            return small_ended(std::unexpected(r.error()));
        if (r->status != 201)
            return small_ended(fail(Errc::protocol, fmt::format("create: HTTP {}", r->status)));
        auto url = resolve_location(options_.endpoint, r->headers.get("location").value_or(""));
        if (!url)
            return small_ended(std::unexpected(url.error()));
        small_->url = *url;
        auto patched = client_->patch(
            *url, 0, length, small_->body, std::nullopt, std::nullopt,
            [this](Result<HttpResponse> p) {
                if (!p)
                    return small_ended(std::unexpected(p.error()));
                if (p->status != 204)
                    return small_ended(
                        fail(Errc::protocol, fmt::format("upload: HTTP {}", p->status)));
                small_ended(small_->url);
            });
        if (!patched)
            return small_ended(std::unexpected(patched.error()));
        small_->request = std::move(*patched);  // the create request ends with its handler
    });
    if (!created) {
        small_.reset();
        return std::unexpected(created.error());
    }
    small_->request = std::move(*created);
    return {};
}

void Uploader::small_ended(Result<std::string> result) {
    // Called from inside the request's own handler: the request is destroyed later.
    small_done_ = std::move(small_);
    if (small_done_->done)
        small_done_->done(std::move(result));
}

Status Uploader::request_sync(std::string_view actor) {
    if (auto s = queue_.request_sync(actor); !s)
        return s;
    reschedule();
    return {};
}

Status Uploader::cancel_item(std::int64_t item_id, std::string_view actor) {
    const JobKey key{JobKind::item, item_id};
    auto url = queue_.remote_url(key);
    if (!url)
        return err(url);
    if (auto s = queue_.cancel(item_id, actor); !s)
        return s;
    active_.erase(key);  // cancels its request in flight
    if (*url)
        terminate_remote(item_id, **url);
    changed();
    kick();
    return {};
}

void Uploader::terminate_remote(std::int64_t item_id, const std::string& url) {
    if (!on_endpoint_origin(options_.endpoint, url)) {
        // Made before the endpoint changed: the kiosk no longer talks to that server.
        const std::string why = "not on the configured DFU store; not contacted";
        log::event(log::Level::warning, message_id::kRemoteDeleteFailed,
                   fmt::format("item {}: the partial upload {} is {}", item_id, url, why),
                   {log::field::item(item_id),
                    {"EXHIBIT_UPLOAD_URL", url},
                    log::field::error_class(Errc::invalid_argument)});
        if (auto e = store_->audit().append("exhibitd", "upload.termination_failed",
                                            {{"item_id", item_id}, {"url", url}, {"error", why}});
            !e)
            log::event(log::Level::error, store::message_id::kAuditFailed,
                       fmt::format("cannot audit the termination of item {}: {}", item_id,
                                   e.error().message),
                       {{"EXHIBIT_AUDIT_EVENT", "upload.termination_failed"},
                        log::field::item(item_id),
                        log::field::error_class(e.error())});
        return;
    }
    auto request = client_->terminate(url, [this, item_id, url](Result<HttpResponse> r) {
        nlohmann::json details = {{"item_id", item_id}, {"url", url}};
        if (r)
            details["status"] = r->status;
        else
            details["error"] = r.error().message;
        const bool ok = r && (r->status == 204 || r->status == 404 || r->status == 410);
        if (auto e = store_->audit().append(
                "exhibitd", ok ? "upload.terminated" : "upload.termination_failed", details);
            !e)
            log::event(
                log::Level::error, store::message_id::kAuditFailed,
                fmt::format("cannot audit the termination of item {}: {}", item_id,
                            e.error().message),
                {{"EXHIBIT_AUDIT_EVENT", ok ? "upload.terminated" : "upload.termination_failed"},
                 log::field::item(item_id),
                 log::field::error_class(e.error())});
    });
    if (!request) {
        log::event(log::Level::warning, message_id::kRemoteDeleteFailed,
                   fmt::format("item {}: cannot ask the DFU store to delete {}: {}", item_id, url,
                               request.error().message),
                   {log::field::item(item_id),
                    {"EXHIBIT_UPLOAD_URL", url},
                    log::field::error_class(request.error())});
        return;
    }
    std::erase_if(terminations_, [](const TusClient::RequestPtr& p) { return !p; });
    terminations_.push_back(std::move(*request));
}

Status Uploader::retry(const JobKey& key, std::string_view actor) {
    if (auto s = queue_.retry(key, actor); !s)
        return s;
    changed();
    reschedule();
    return {};
}

Result<std::uint64_t> Uploader::retry_failed(std::string_view actor) {
    auto n = queue_.retry_failed(actor);
    if (n && *n > 0) {
        changed();
        reschedule();
    }
    return n;
}

Status Uploader::set_lane(std::int64_t item_id, Lane lane, std::string_view actor) {
    if (auto s = queue_.set_lane(item_id, lane, actor); !s)
        return s;
    reschedule();
    return {};
}

Status Uploader::send_session_now(std::int64_t session_id, std::string_view actor) {
    if (auto s = queue_.send_session_now(session_id, actor); !s)
        return s;
    reschedule();
    return {};
}

Result<UploaderStatus> Uploader::status() {
    UploaderStatus st;
    auto snap = queue_.snapshot();
    if (!snap)
        return err(snap);
    st.queue = std::move(*snap);
    for (const auto& [key, job] : active_)
        st.active.push_back({key, job->job().lane, job->offset(), job->job().length});
    st.window_open = window_contains(window_, clock_->now());
    st.normal_lane_open = st.window_open || st.queue.sync_requested;
    st.last_error = last_error_;
    st.bytes_sent = client_->body_bytes_sent();
    st.rate_limit = limiter_.rate();
    return st;
}

Result<bool> Uploader::idle() {
    if (!active_.empty())
        return false;
    auto jobs = queue_.runnable(normal_open_, 1);
    if (!jobs)
        return err(jobs);
    if (!jobs->empty())
        return false;
    auto sessions = queue_.sessions_awaiting_manifest();
    if (!sessions)
        return err(sessions);
    return sessions->empty();
}

void Uploader::changed() {
    if (on_change_)
        on_change_();
}

}  // namespace exhibit::upload
