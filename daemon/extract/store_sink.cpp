#include "store_sink.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "common/log.hpp"

namespace exhibit::extract {

using drivers::Artefact;

class StoreArtefactWriter final : public drivers::ArtefactWriter {
  public:
    StoreArtefactWriter(StoreSink& sink, store::ItemWriter writer)
        : sink_(&sink), writer_(std::move(writer)) {}

    Status append(std::span<const std::byte> bytes) override {
        auto s = writer_.append(bytes);
        if (s)
            sink_->received(bytes.size());
        return s;
    }
    Status finish() override { return seal(writer_.seal()); }
    Status finish_incomplete(std::string reason) override {
        return seal(writer_.seal_incomplete(std::move(reason)));
    }

  private:
    Status seal(Result<store::SealedItem> sealed) {
        if (!sealed)
            return std::unexpected(sealed.error());
        return sink_->add_sealed(std::move(*sealed));
    }
    StoreSink* sink_;
    store::ItemWriter writer_;
};

// Commits batches on a thread of its own, through its own Store on the same state directory
// (Stores are thread-compatible; SQLite serialises the two connections' writes).
class StoreSink::Committer {
  public:
    struct Done {
        std::uint64_t items = 0;
        std::uint64_t incomplete = 0;
        std::optional<Error> error;  // the first failed commit; later batches are dropped
    };

    explicit Committer(store::StoreOptions options)
        : options_(std::move(options)), thread_([this](std::stop_token st) { run(st); }) {}
    // Commits the batch handed over, if any, and stops.
    ~Committer() {
        thread_.request_stop();
        thread_.join();
    }

    // Waits until the committer is free, then hands it `batch`.
    void submit(std::vector<store::SealedItem> batch) {
        std::unique_lock lock(mu_);
        idle_.wait(lock, [&] { return !busy_; });
        batch_ = std::move(batch);
        busy_ = true;
        work_.notify_one();
    }
    // What was committed since the last call; with `wait`, after the batch in flight.
    Done take(bool wait) {
        std::unique_lock lock(mu_);
        if (wait)
            idle_.wait(lock, [&] { return !busy_; });
        return std::exchange(done_, Done{.error = done_.error});
    }

  private:
    void run(std::stop_token stop) {
        std::unique_ptr<store::Store> own;
        std::optional<Error> open_error;
        if (auto s = store::Store::open(options_))
            own = std::move(*s);
        else
            open_error = s.error();
        std::unique_lock lock(mu_);
        while (work_.wait(lock, stop, [&] { return busy_; })) {
            auto batch = std::move(batch_);
            batch_.clear();
            const bool failed = done_.error.has_value();
            lock.unlock();
            Result<std::vector<store::ItemRecord>> records =
                failed       ? Result<std::vector<store::ItemRecord>>{}
                : open_error ? std::unexpected(*open_error)
                             : own->commit_items(std::move(batch));
            batch.clear();  // uncommitted items: their spool files go, outside the lock
            lock.lock();
            if (!records) {
                done_.error = records.error();
            } else if (!failed) {
                for (const auto& r : *records) {
                    ++done_.items;
                    done_.incomplete += r.state == store::ItemState::incomplete;
                }
            }
            busy_ = false;
            idle_.notify_all();
        }
    }

    store::StoreOptions options_;
    std::mutex mu_;
    std::condition_variable_any work_;
    std::condition_variable idle_;
    std::vector<store::SealedItem> batch_;
    bool busy_ = false;
    Done done_;
    std::jthread thread_;  // last: it starts when everything above exists
};

namespace {
store::StoreOptions committer_options(const store::Store& store) {
    auto o = store.options();
    o.verify = store::VerifyDepth::none;  // the session's Store was opened already
    o.reconcile = false;
    return o;
}
}  // namespace

StoreSink::StoreSink(store::Store& store, std::int64_t session_id, std::stop_token stop,
                     ProgressFn on_progress, BatchLimits limits)
    : store_(&store),
      session_id_(session_id),
      stop_(std::move(stop)),
      on_progress_(std::move(on_progress)),
      limits_(limits),
      committer_(std::make_unique<Committer>(committer_options(store))) {}

// The batch handed over is committed; sealed items never handed over are removed with
// their spool files.
StoreSink::~StoreSink() = default;

void StoreSink::planned(std::uint64_t artefacts, std::uint64_t bytes) {
    progress_.planned_items = artefacts;
    progress_.planned_bytes = bytes;
    if (on_progress_)
        on_progress_(progress_);
}

Result<std::unique_ptr<drivers::ArtefactWriter>> StoreSink::begin(const Artefact& a) {
    if (storage_error_)
        return std::unexpected(*storage_error_);
    auto writer = store_->begin_item({.session_id = session_id_,
                                      .category = std::string(drivers::to_string(a.category)),
                                      .source_path = a.source_path,
                                      .declared_size = a.declared_size,
                                      .source_mtime_ms = a.mtime_ms});
    if (!writer)
        return std::unexpected(writer.error());
    progress_.current = store::printable_path(a.source_path);
    return std::make_unique<StoreArtefactWriter>(*this, std::move(*writer));
}

void StoreSink::received(std::size_t bytes) {
    progress_.bytes_done += bytes;
    auto now = std::chrono::steady_clock::now();
    if (on_progress_ && now - last_report_ >= std::chrono::milliseconds(200)) {
        last_report_ = now;
        on_progress_(progress_);
    }
}

Status StoreSink::add_sealed(store::SealedItem item) {
    if (batch_.empty())
        batch_started_ = std::chrono::steady_clock::now();
    batch_bytes_ += static_cast<std::uint64_t>(item.record.size);
    batch_.push_back(std::move(item));
    if (batch_.size() >= limits_.max_items || batch_bytes_ >= limits_.max_bytes ||
        std::chrono::steady_clock::now() - batch_started_ >= limits_.max_delay)
        return submit_batch();
    return {};
}

Status StoreSink::submit_batch() {
    collect(false);
    if (storage_error_)
        return std::unexpected(*storage_error_);
    if (batch_.empty())
        return {};
    committer_->submit(std::move(batch_));
    batch_.clear();
    batch_bytes_ = 0;
    return {};
}

void StoreSink::collect(bool wait) {
    auto done = committer_->take(wait);
    progress_.items_done += done.items;
    progress_.items_incomplete += done.incomplete;
    if (done.error && !storage_error_)
        storage_error_ = done.error;
    if (on_progress_ && (done.items > 0 || wait))
        on_progress_(progress_);
}

Status StoreSink::flush() {
    auto s = submit_batch();
    collect(true);
    if (storage_error_)
        return std::unexpected(*storage_error_);
    return s;
}

void StoreSink::skipped(const Artefact& a, const Error& why) {
    ++progress_.items_skipped;
    nlohmann::json details = {{"session_id", session_id_},
                              {"category", drivers::to_string(a.category)},
                              {"source_path", store::printable_path(a.source_path)},
                              {"error", to_string(why.code)},
                              {"reason", why.describe()}};
    if (auto e = store_->audit().append("exhibitd", "extract.artefact_skipped", details); !e)
        storage_error_ = e.error();
    log::write(log::Level::warning,
               fmt::format("session {}: skipped {}: {}", session_id_,
                           store::printable_path(a.source_path), why.describe()),
               {{"EXHIBIT_SESSION", std::to_string(session_id_)}});
}

}  // namespace exhibit::extract
