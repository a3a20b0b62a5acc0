#include "store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <set>

#include <fmt/format.h>
#include <fmt/std.h>

#include "common/fs.hpp"
#include "common/log.hpp"
#include "daemon/store/message_ids.hpp"
#include "daemon/store/schema.hpp"

namespace exhibit::store {

namespace {
constexpr std::string_view kActor = "exhibitd";

Result<Database> open_catalog(const std::filesystem::path& file) {
    auto db = Database::open(file, Database::Mode::read_write_create);
    if (!db)
        return db;
    auto check = db->prepare("PRAGMA quick_check");
    if (!check)
        return std::unexpected(check.error());
    auto row = check->step();
    if (!row)
        return std::unexpected(Error{
            Errc::corrupt, fmt::format("catalog {} is damaged: {}", file, row.error().message), 0});
    if (*row && check->column_text(0) != "ok")
        return fail(Errc::corrupt,
                    fmt::format("catalog {} is damaged: {}", file, check->column_text(0)));
    return db;
}
}  // namespace

Store::Store(StoreOptions options, Database db, std::unique_ptr<keys::IdentityKey> identity)
    : options_(std::move(options)),
      db_(std::move(db)),
      identity_(std::move(identity)),
      blobs_(options_.state_directory),
      audit_(db_, *identity_, *options_.clock),
      catalog_(db_, audit_, *options_.clock) {}

Store::~Store() = default;

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options) {
    const auto& dir = options.state_directory;
    if (dir.empty() || !dir.is_absolute())
        return fail(Errc::invalid_argument,
                    fmt::format("state directory \"{}\" must be an absolute path", dir));
    if (auto s = fs::ensure_directory(dir, 0750); !s)
        return std::unexpected(s.error());

    // The catalog is checked and migrated before anything else is created, so that a refusal
    // leaves the directory as it was.
    // Create the catalog owner-only ourselves (SQLite would follow the umask, and gives its
    // -wal and -shm files the catalog's mode).
    if (auto fd = fs::open_file(dir / "exhibit.db", O_RDWR | O_CREAT, 0600); !fd)
        return std::unexpected(fd.error());
    auto db = open_catalog(dir / "exhibit.db");
    if (!db)
        return std::unexpected(db.error());
    if (auto s = migrate(*db); !s)
        return std::unexpected(s.error());
    if (auto s = db->enable_wal(); !s)
        return std::unexpected(s.error());

    auto key = keys::IdentityKey::load_or_create(dir / "keys" / "kiosk-ed25519.pem");
    if (!key)
        return std::unexpected(key.error());

    std::unique_ptr<Store> store(new Store(options, std::move(*db), std::move(*key)));
    if (auto s = store->blobs_.prepare(); !s)
        return std::unexpected(s.error());
    if (options.reconcile) {
        if (auto s = store->remove_spool_leftovers(); !s)
            return std::unexpected(s.error());
        auto report = store->verify_blobs(options.verify);
        if (!report)
            return std::unexpected(report.error());
        store->open_report_.items_checked = report->items_checked;
        store->open_report_.items_missing = report->items_missing;
        store->open_report_.items_mismatch = report->items_mismatch;
    }
    return store;
}

Result<DeliveryCount> count_undelivered(const std::filesystem::path& state_directory) {
    const auto file = state_directory / "exhibit.db";
    std::error_code ec;
    if (!std::filesystem::exists(file, ec)) {
        if (ec)
            return fail(Errc::io, fmt::format("cannot look for the catalog {}: {}", file,
                                              ec.message()));
        return DeliveryCount{};
    }
    auto db = Database::open(file, Database::Mode::read_only);
    if (!db)
        return std::unexpected(db.error());
    auto version = schema_version(*db);
    if (!version)
        return std::unexpected(version.error());
    if (*version > current_schema_version())
        return fail(Errc::unsupported,
                    fmt::format("catalog {} has schema version {}, newer than this exhibit's {}",
                                file, *version, current_schema_version()));
    if (*version == 0)  // created but never migrated: no tables, no items
        return DeliveryCount{};
    DeliveryCount count;
    auto s = db->each(
        "SELECT count(*), coalesce(sum(NOT EXISTS (SELECT 1 FROM uploads u WHERE "
        "u.item_id = i.id AND u.state = 'received')), 0) FROM items i",
        no_parameters, [&](Statement& row) {
            count.items = static_cast<std::uint64_t>(row.column_int(0));
            count.undelivered = static_cast<std::uint64_t>(row.column_int(1));
        });
    if (!s)
        return std::unexpected(s.error());
    return count;
}

Result<ItemWriter> Store::begin_item(ItemSpec spec) {
    if (spec.category.empty())
        return fail(Errc::invalid_argument, "an item needs a category");
    auto spool = blobs_.create_spool();
    if (!spool)
        return std::unexpected(spool.error());
    return ItemWriter(*this, std::move(spec), std::move(*spool));
}

Result<std::vector<ItemRecord>> Store::commit_items(std::vector<SealedItem> items) {
    if (auto s = flush_items(items); !s)
        return std::unexpected(s.error());
    return catalogue_items(std::move(items));
}

Status Store::flush_items(std::vector<SealedItem>& items) {
    if (items.empty())
        return {};
    // 0. Wait for the helpers still hashing and writing small items.
    for (auto& item : items) {
        if (!item.pending)
            continue;
        auto digest = item.pending->wait();
        if (!digest)
            return std::unexpected(digest.error());
        item.pending.reset();
        item.digest = *digest;
        item.record.sha256 = to_hex(item.digest);
        item.record.blob = BlobStore::relative_path(item.digest);
    }
    // 1. Make the data durable: one fsync for a single item, one syncfs for a batch.
    const int fd = items.front().spool.fd.get();
    if (items.size() == 1) {
        if (auto s = fs::fsync_fd(fd, items.front().spool.path); !s)
            return std::unexpected(s.error());
    } else if (::syncfs(fd) != 0) {
        return fail_errno("cannot flush received items to disk");
    }
    return {};
}

Result<std::vector<ItemRecord>> Store::catalogue_items(std::vector<SealedItem> items) {
    std::vector<ItemRecord> records;
    if (items.empty())
        return records;
    // 2. Rename into blobs/, then sync the directories once.
    std::set<std::filesystem::path> dirty;
    std::vector<CommitOutcome> outcomes;
    for (auto& item : items) {
        auto outcome = blobs_.install(std::move(item.spool), item.digest,
                                      static_cast<std::uint64_t>(item.record.size), dirty);
        if (!outcome)
            return std::unexpected(outcome.error());
        outcomes.push_back(*outcome);
    }
    if (auto s = blobs_.sync_directories(dirty); !s)
        return std::unexpected(s.error());
    // 3. One transaction for every row and its audit entry.
    auto tx = Transaction::begin(db_);
    if (!tx)
        return std::unexpected(tx.error());
    const auto now = to_unix_ms(options_.clock->now());
    std::vector<nlohmann::json> entries;
    entries.reserve(items.size());
    for (std::size_t i = 0; i < items.size(); ++i) {
        ItemRecord r = std::move(items[i].record);
        r.created_at_ms = now;
        auto id = catalog_.insert_item_in_transaction(r);
        if (!id)
            return std::unexpected(id.error());
        r.id = *id;
        nlohmann::json details = {{"item_id", r.id},
                                  {"session_id", r.session_id},
                                  {"category", r.category},
                                  {"source_path", r.source_path},
                                  {"size", r.size},
                                  {"sha256", r.sha256},
                                  {"state", to_string(r.state)}};
        if (r.incomplete_reason)
            details["reason"] = *r.incomplete_reason;
        if (outcomes[i] == CommitOutcome::deduplicated)
            details["deduplicated"] = true;
        if (outcomes[i] == CommitOutcome::repaired)
            details["replaced_damaged_blob"] = true;
        entries.push_back(std::move(details));
        records.push_back(std::move(r));
    }
    if (auto e = audit_.append_all_in_transaction(kActor, "store.item_added", entries); !e)
        return std::unexpected(e.error());
    if (auto s = tx->commit(); !s)
        return std::unexpected(s.error());
    return records;
}

Status Store::remove_spool_leftovers() {
    const auto& spool = blobs_.spool_directory();
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(spool.c_str()), ::closedir);
    if (!dir)
        return fail_errno(fmt::format("cannot list {}", spool));
    std::vector<std::pair<std::string, std::int64_t>> leftovers;
    while (auto* ent = ::readdir(dir.get())) {
        std::string name = ent->d_name;
        if (name == "." || name == "..")
            continue;
        struct stat st {};
        std::int64_t size = ::lstat((spool / name).c_str(), &st) == 0 ? st.st_size : -1;
        leftovers.emplace_back(std::move(name), size);
    }
    for (const auto& [name, size] : leftovers) {
        // Audit first: if we crash between the two, the file is still there to be found again.
        nlohmann::json details = {{"file", name},
                                  {"size", size},
                                  {"reason", "partial item left by an interrupted write"}};
        if (auto e = audit_.append(kActor, "store.spool_discarded", details); !e)
            return std::unexpected(e.error());
        if (::unlink((spool / name).c_str()) != 0 && errno != ENOENT)
            return fail_errno(fmt::format("cannot remove spool leftover {}", spool / name));
        log::event(log::Level::notice, message_id::kSpoolDiscarded,
                   fmt::format("removed partial spool file {} ({} bytes)", name, size),
                   {{"EXHIBIT_SPOOL_FILE", name}, {"EXHIBIT_SIZE", std::to_string(size)}});
        ++open_report_.spool_files_removed;
    }
    if (!leftovers.empty())
        return fs::fsync_directory(spool);
    return {};
}

Result<ReconcileReport> Store::verify_blobs(VerifyDepth depth) {
    ReconcileReport report;
    if (depth == VerifyDepth::none)
        return report;
    auto items = catalog_.all_items();
    if (!items)
        return std::unexpected(items.error());
    for (const auto& item : *items) {
        ++report.items_checked;
        const auto path = blobs_.path_of_relative(item.blob);
        Integrity found = Integrity::ok;
        std::string problem;
        struct stat st {};
        if (::stat(path.c_str(), &st) != 0) {
            found = Integrity::missing;
            problem = fmt::format("blob {} is missing", item.blob);
        } else if (st.st_size != item.size) {
            found = Integrity::mismatch;
            problem = fmt::format("blob {} has {} bytes, the catalog recorded {}", item.blob,
                                  st.st_size, item.size);
        } else if (depth == VerifyDepth::full) {
            auto digest = Sha256::of_file(path);
            if (!digest) {
                found = Integrity::missing;
                problem =
                    fmt::format("blob {} cannot be read: {}", item.blob, digest.error().describe());
            } else if (to_hex(*digest) != item.sha256) {
                found = Integrity::mismatch;
                problem = fmt::format("blob {} no longer hashes to its recorded sha256 (now {})",
                                      item.blob, to_hex(*digest));
            }
        }
        if (found == Integrity::missing)
            ++report.items_missing;
        if (found == Integrity::mismatch)
            ++report.items_mismatch;
        if (found == item.integrity)
            continue;

        // A change of integrity is always audited: new damage loudly, a recovery too.
        auto tx = Transaction::begin(db_);
        if (!tx)
            return std::unexpected(tx.error());
        if (auto s = catalog_.set_integrity(item.id, found); !s)
            return std::unexpected(s.error());
        nlohmann::json details = {{"item_id", item.id},
                                  {"session_id", item.session_id},
                                  {"sha256", item.sha256},
                                  {"blob", item.blob},
                                  {"integrity", to_string(found)}};
        if (!problem.empty())
            details["problem"] = problem;
        auto event = found == Integrity::ok ? "store.blob_restored" : "store.blob_damaged";
        if (auto e = audit_.append_in_transaction(kActor, event, details); !e)
            return std::unexpected(e.error());
        if (auto s = tx->commit(); !s)
            return std::unexpected(s.error());
        if (found != Integrity::ok)
            log::event(log::Level::error, message_id::kEvidenceDamaged,
                       fmt::format("EVIDENCE DAMAGED: item {}: {}", item.id, problem),
                       {log::field::item(item.id),
                        log::field::session(item.session_id),
                        {"EXHIBIT_SHA256", item.sha256},
                        {"EXHIBIT_INTEGRITY", std::string(to_string(found))},
                        log::field::error_class(Errc::corrupt)});
    }
    return report;
}

Result<StoreHealth> Store::health() {
    StoreHealth h;
    // The running totals the catalog's triggers keep (schema v4): no scan of the items.
    auto stmt = db_.prepare(
        "SELECT (SELECT items FROM item_totals WHERE name = 'complete'), "
        "(SELECT items FROM item_totals WHERE name = 'incomplete'), "
        "(SELECT items FROM item_totals WHERE name = 'flagged')");
    if (!stmt)
        return std::unexpected(stmt.error());
    if (auto r = stmt->step(); !r)
        return std::unexpected(r.error());
    h.items_complete = static_cast<std::uint64_t>(stmt->column_int(0));
    h.items_incomplete = static_cast<std::uint64_t>(stmt->column_int(1));
    h.items_flagged = static_cast<std::uint64_t>(stmt->column_int(2));
    auto entries = audit_.count();
    if (!entries)
        return std::unexpected(entries.error());
    h.audit_entries = *entries;
    h.key_fingerprint = identity_->fingerprint();
    if (auto free = fs::free_bytes(options_.state_directory))
        h.free_bytes = *free;
    return h;
}

}  // namespace exhibit::store
