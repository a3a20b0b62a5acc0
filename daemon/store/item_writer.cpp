#include "item_writer.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "common/fs.hpp"
#include "common/utf8.hpp"
#include "daemon/store/store.hpp"

namespace exhibit::store {

std::string printable_path(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    for (std::size_t i = 0; i < raw.size();) {
        std::size_t n = utf8_sequence(raw.substr(i));
        auto c = static_cast<unsigned char>(raw[i]);
        if (n == 0 || c < 0x20 || c == 0x7f || c == '\\') {
            out += fmt::format("\\x{:02x}", c);
            ++i;
        } else {
            out.append(raw.substr(i, n));
            i += n;
        }
    }
    return out;
}

ItemWriter::ItemWriter(Store& store, ItemSpec spec, SpoolFile spool)
    : store_(&store),
      spec_(std::move(spec)),
      spool_(std::move(spool)),
      writer_(std::make_unique<SpoolWriter>(spool_.fd.get())) {}

ItemWriter::ItemWriter(ItemWriter&& o) noexcept
    : store_(o.store_),
      spec_(std::move(o.spec_)),
      spool_(std::move(o.spool_)),
      writer_(std::move(o.writer_)),
      open_(std::exchange(o.open_, false)) {}

ItemWriter::~ItemWriter() {
    abort();
}

void ItemWriter::abort() {
    if (!open_)
        return;
    open_ = false;
    writer_.reset();
    spool_.fd.reset();
    ::unlink(spool_.path.c_str());
}

#ifdef EXHIBIT_TEST_FAULTS
namespace {
// A deliberately broken build, for exhibit-validate's own test only: compiled in with the
// CMake option EXHIBIT_TEST_FAULTS (scripts/test's build tree; packages never set it). With
// EXHIBIT_TEST_FAULT=alter-byte in the environment, the first byte of the first item this
// process stores is changed before it is hashed, as a kiosk with a bug in its copy would: the
// store, the manifest and the delivery all agree with each other, and only a known answer
// can tell (docs/validation.md).
bool alter_this_item() {
    static std::atomic<bool> done{false};
    const char* fault = std::getenv("EXHIBIT_TEST_FAULT");
    if (fault == nullptr || std::string_view(fault) != "alter-byte" || done.exchange(true))
        return false;
    std::fprintf(stderr, "exhibitd: TEST FAULT alter-byte: the first byte of this item is "
                         "changed (a test-only build)\n");
    return true;
}
}  // namespace
#endif

Status ItemWriter::append(std::span<const std::byte> chunk) {
    if (!open_)
        return fail(Errc::invalid_argument, "item writer is already finished");
#ifdef EXHIBIT_TEST_FAULTS
    if (!chunk.empty() && writer_->appended() == 0 && alter_this_item()) {
        std::vector<std::byte> altered(chunk.begin(), chunk.end());
        altered[0] ^= std::byte{0x01};
        return writer_->append(altered);
    }
#endif
    return writer_->append(chunk);
}

std::optional<std::string> ItemWriter::size_problem() const {
    const auto received = bytes_written();
    if (spec_.declared_size && *spec_.declared_size != received)
        return fmt::format("size mismatch: the phone declared {} bytes, {} were received",
                           *spec_.declared_size, received);
    return std::nullopt;
}

Result<SealedItem> ItemWriter::seal() {
    return seal_with(size_problem());
}
Result<SealedItem> ItemWriter::seal_incomplete(std::string reason) {
    return seal_with(std::move(reason));
}
Result<ItemRecord> ItemWriter::finish() {
    return commit_one(seal());
}
Result<ItemRecord> ItemWriter::finish_incomplete(std::string reason) {
    return commit_one(seal_incomplete(std::move(reason)));
}

Result<ItemRecord> ItemWriter::commit_one(Result<SealedItem> sealed) {
    if (!sealed)
        return std::unexpected(sealed.error());
    std::vector<SealedItem> one;
    one.push_back(std::move(*sealed));
    auto records = store_->commit_items(std::move(one));
    if (!records)
        return std::unexpected(records.error());
    return std::move(records->front());
}

Result<SealedItem> ItemWriter::seal_with(std::optional<std::string> incomplete_reason) {
    if (!open_)
        return fail(Errc::invalid_argument, "item writer is already finished");
    auto pending = writer_->finish_later();
    if (!pending)
        return std::unexpected(pending.error());
    const std::uint64_t received = writer_->appended();
    writer_.reset();
    open_ = false;  // from here on the spool file travels with the sealed item
    SealedItem sealed;
    sealed.pending = std::move(*pending);
    sealed.spool = std::move(spool_);
    auto& r = sealed.record;
    r.session_id = spec_.session_id;
    r.category = spec_.category;
    r.source_path = printable_path(spec_.source_path);
    if (r.source_path != spec_.source_path)
        r.source_path_raw = spec_.source_path;
    if (spec_.declared_size)
        r.declared_size = static_cast<std::int64_t>(*spec_.declared_size);
    r.size = static_cast<std::int64_t>(received);
    r.source_mtime_ms = spec_.source_mtime_ms;
    r.state = incomplete_reason ? ItemState::incomplete : ItemState::complete;
    r.incomplete_reason = std::move(incomplete_reason);
    return sealed;
}

}  // namespace exhibit::store
