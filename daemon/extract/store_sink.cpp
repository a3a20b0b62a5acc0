#include "store_sink.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "common/log.hpp"
#include "daemon/extract/message_ids.hpp"

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

// Commits batches through a Store of its own on the same state directory (Stores are
// thread-compatible; SQLite serialises the two connections' writes), in two stages on two
// threads, so that one batch's data is flushed while the one before is renamed and
// catalogued:
//
//   submit() -> [flusher: Store::flush_items] -> [cataloguer: Store::catalogue_items]
//
// Each stage holds one batch and one waits before it; batches are catalogued in order.
class StoreSink::Committer {
  public:
    struct Done {
        std::uint64_t items = 0;
        std::uint64_t incomplete = 0;
        std::optional<Error> error;  // the first failure; later batches are dropped
    };

    explicit Committer(const store::StoreOptions& options) {
        if (auto s = store::Store::open(options))
            store_ = std::move(*s);
        else
            done_.error = s.error();
        flusher_ = std::thread([this] { flush_loop(); });
        cataloguer_ = std::thread([this] { catalogue_loop(); });
    }
    // Commits every batch handed over, then stops.
    ~Committer() {
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
        }
        changed_.notify_all();
        flusher_.join();
        cataloguer_.join();
    }

    // Waits until the flusher can take another batch, then hands it `batch`.
    void submit(std::vector<store::SealedItem> batch) {
        std::unique_lock lock(mu_);
        changed_.wait(lock, [&] { return !to_flush_; });
        to_flush_ = std::move(batch);
        changed_.notify_all();
    }
    // What was committed since the last call; with `wait`, once every batch handed over is.
    Done take(bool wait) {
        std::unique_lock lock(mu_);
        if (wait)
            changed_.wait(lock, [&] { return idle(); });
        return std::exchange(done_, Done{.error = done_.error});
    }

  private:
    using Batch = std::vector<store::SealedItem>;

    bool idle() const { return !to_flush_ && !flushing_ && !to_catalogue_ && !cataloguing_; }

    // Under the lock: a stage takes the batch waiting in `slot` and is `busy` with it;
    // `failed` says an earlier batch failed, so this one is only dropped.
    Batch take_batch(std::optional<Batch>& slot, bool& busy, bool& failed) {
        Batch batch = std::move(*slot);
        slot.reset();
        busy = true;
        failed = done_.error.has_value();
        changed_.notify_all();
        return batch;
    }

    void flush_loop() {
        std::unique_lock lock(mu_);
        for (;;) {
            changed_.wait(lock, [&] { return to_flush_ || stopping_; });
            if (!to_flush_)
                return;
            bool failed = false;
            Batch batch = take_batch(to_flush_, flushing_, failed);
            lock.unlock();
            auto flushed = failed ? Status{} : store_->flush_items(batch);
            lock.lock();
            if (!flushed && !done_.error)
                done_.error = flushed.error();
            if (!done_.error) {
                changed_.wait(lock, [&] { return !to_catalogue_; });
                to_catalogue_ = std::move(batch);
            }
            flushing_ = false;
            changed_.notify_all();
            lock.unlock();
            batch.clear();  // not handed on: their spool files go, outside the lock
            lock.lock();
        }
    }

    void catalogue_loop() {
        std::unique_lock lock(mu_);
        for (;;) {
            changed_.wait(lock, [&] { return to_catalogue_ || (stopping_ && idle()); });
            if (!to_catalogue_)
                return;
            bool failed = false;
            Batch batch = take_batch(to_catalogue_, cataloguing_, failed);
            lock.unlock();
            Result<std::vector<store::ItemRecord>> records =
                failed ? Result<std::vector<store::ItemRecord>>{}
                       : store_->catalogue_items(std::move(batch));
            batch.clear();  // uncommitted items: their spool files go, outside the lock
            lock.lock();
            if (!records) {
                if (!done_.error)
                    done_.error = records.error();
            } else if (!failed) {
                for (const auto& r : *records) {
                    ++done_.items;
                    done_.incomplete += r.state == store::ItemState::incomplete;
                }
            }
            cataloguing_ = false;
            changed_.notify_all();
        }
    }

    std::unique_ptr<store::Store> store_;
    std::mutex mu_;
    std::condition_variable changed_;
    std::optional<Batch> to_flush_;
    std::optional<Batch> to_catalogue_;
    bool flushing_ = false;
    bool cataloguing_ = false;
    bool stopping_ = false;
    Done done_;
    std::thread flusher_;
    std::thread cataloguer_;
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
    collect(false);  // a failed commit stops the extraction at the next item
    if (storage_error_)
        return std::unexpected(*storage_error_);
    // An item big enough to take a while (or to stall in) first sends the items received
    // whole before it to be committed: they must not wait for it, nor be lost with it if
    // exhibitd is stopped meanwhile.
    if (a.declared_size.value_or(0) >= kAnnounceBytes)
        if (auto s = submit_batch(); !s)
            return std::unexpected(s.error());
    auto writer = store_->begin_item({.session_id = session_id_,
                                      .category = std::string(drivers::to_string(a.category)),
                                      .source_path = a.source_path,
                                      .declared_size = a.declared_size,
                                      .source_mtime_ms = a.mtime_ms});
    if (!writer)
        return std::unexpected(writer.error());
    progress_.current = store::printable_path(a.source_path);
    // An item big enough to take a while is announced as it starts: if the phone stalls in
    // it, the officer sees which item is waiting, not the small one before it.
    report(a.declared_size.value_or(0) >= kAnnounceBytes);
    return std::make_unique<StoreArtefactWriter>(*this, std::move(*writer));
}

void StoreSink::received(std::size_t bytes) {
    progress_.bytes_done += bytes;
    report(false);
}

void StoreSink::report(bool now_anyway) {
    auto now = std::chrono::steady_clock::now();
    if (on_progress_ && (now_anyway || now - last_report_ >= std::chrono::milliseconds(200))) {
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
    // The path and the reason (which may name files) stay in the audit log, on the kiosk.
    const auto category = std::string(drivers::to_string(a.category));
    log::event(log::Level::warning, message_id::kArtefactSkipped,
               fmt::format("session {}: skipped one {} artefact ({})", session_id_, category,
                           to_string(why.code)),
               {log::field::session(session_id_),
                {"EXHIBIT_CATEGORY", category},
                log::field::error_class(why)});
}

}  // namespace exhibit::extract
