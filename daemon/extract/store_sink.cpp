#include "store_sink.hpp"

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

StoreSink::StoreSink(store::Store& store, std::int64_t session_id, std::stop_token stop,
                     ProgressFn on_progress, BatchLimits limits)
    : store_(&store),
      session_id_(session_id),
      stop_(std::move(stop)),
      on_progress_(std::move(on_progress)),
      limits_(limits) {}

StoreSink::~StoreSink() =
    default;  // sealed items never committed are removed with their spool files

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
        return flush();
    return {};
}

Status StoreSink::flush() {
    if (batch_.empty())
        return {};
    auto records = store_->commit_items(std::move(batch_));
    batch_.clear();
    batch_bytes_ = 0;
    if (!records) {
        storage_error_ = records.error();
        return std::unexpected(records.error());
    }
    for (const auto& r : *records) {
        ++progress_.items_done;
        if (r.state == store::ItemState::incomplete)
            ++progress_.items_incomplete;
    }
    if (on_progress_)
        on_progress_(progress_);
    return {};
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
