// The ArtefactSink that puts what a driver extracts into the evidence store, for one
// session. Small items are sealed and committed in batches (one flush, one transaction) by
// two threads with a Store of their own (one flushes a batch's data while the other renames
// and catalogues the batch before), so that receiving goes on meanwhile. Anything skipped is
// audited. Thread-bound to the session worker that owns its Store.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "daemon/store/store.hpp"
#include "drivers/artefact.hpp"

namespace exhibit::extract {

struct ExtractionProgress {
    std::uint64_t planned_items = 0;
    std::uint64_t planned_bytes = 0;
    std::uint64_t items_done = 0;  // committed, complete or incomplete
    std::uint64_t items_incomplete = 0;
    std::uint64_t items_skipped = 0;
    std::uint64_t bytes_done = 0;  // bytes received, including the current item
    std::string current;           // printable path of the item in flight
};

struct BatchLimits {
    std::size_t max_items = 256;
    std::uint64_t max_bytes = 64ull << 20;
    std::chrono::milliseconds max_delay{1000};
};

class StoreSink final : public drivers::ArtefactSink {
  public:
    using ProgressFn = std::function<void(const ExtractionProgress&)>;

    StoreSink(store::Store& store, std::int64_t session_id, std::stop_token stop,
              ProgressFn on_progress = {}, BatchLimits limits = {});
    ~StoreSink() override;

    void planned(std::uint64_t artefacts, std::uint64_t bytes) override;
    Result<std::unique_ptr<drivers::ArtefactWriter>> begin(
        const drivers::Artefact& artefact) override;
    void skipped(const drivers::Artefact& artefact, const Error& why) override;
    bool stop_requested() const override { return stop_.stop_requested(); }

    // Commits whatever is sealed and waiting, and waits until every item handed over so far
    // is committed. Call before ending the session.
    Status flush();
    const ExtractionProgress& progress() const { return progress_; }
    // The first storage error (a failed commit): the session must end failed.
    const std::optional<Error>& storage_error() const { return storage_error_; }

    class Committer;

  private:
    friend class StoreArtefactWriter;
    Status add_sealed(store::SealedItem item);
    void received(std::size_t bytes);
    // Hands the batch to the committer (waiting for the one before).
    Status submit_batch();
    // Counts what the committer has committed; keeps its first error.
    void collect(bool wait);

    store::Store* store_;
    std::int64_t session_id_;
    std::stop_token stop_;
    ProgressFn on_progress_;
    BatchLimits limits_;
    ExtractionProgress progress_;
    std::vector<store::SealedItem> batch_;
    std::uint64_t batch_bytes_ = 0;
    std::chrono::steady_clock::time_point batch_started_{};
    // Progress goes out at most every 200 ms, and as each item of at least this size starts.
    static constexpr std::uint64_t kAnnounceBytes = 1024 * 1024;
    void report(bool now_anyway);
    std::chrono::steady_clock::time_point last_report_{};
    std::optional<Error> storage_error_;
    std::unique_ptr<Committer> committer_;
};

}  // namespace exhibit::extract
