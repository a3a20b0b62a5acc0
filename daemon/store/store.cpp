#include "store.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <set>

#include <fmt/format.h>
#include <fmt/std.h>

#include "common/base64.hpp"
#include "common/fs.hpp"
#include "common/log.hpp"
#include "daemon/store/message_ids.hpp"
#include "daemon/store/schema.hpp"

namespace exhibit::store {

namespace {
constexpr std::string_view kActor = "exhibitd";

std::string spool_tag(const ItemSpec& spec) {
    nlohmann::json tag = {{"session_id", spec.session_id},
                          {"category", spec.category},
                          {"source_path", base64_encode(spec.source_path)}};
    if (spec.declared_size)
        tag["declared_size"] = *spec.declared_size;
    if (spec.source_mtime_ms)
        tag["source_mtime_ms"] = *spec.source_mtime_ms;
    return tag.dump();
}

// The item a spool file's tag describes, or nullopt when it has none or it is unusable.
std::optional<ItemSpec> spec_of_tag(const std::string& text) {
    auto tag = nlohmann::json::parse(text, nullptr, false);
    if (!tag.is_object() || !tag.contains("session_id") || !tag["session_id"].is_number_integer() ||
        !tag.contains("category") || !tag["category"].is_string() || !tag.contains("source_path") ||
        !tag["source_path"].is_string())
        return std::nullopt;
    auto path = base64_decode(tag["source_path"].get<std::string>());
    if (!path)
        return std::nullopt;
    ItemSpec spec{
        .session_id = tag["session_id"].get<std::int64_t>(),
        .category = tag["category"].get<std::string>(),
        .source_path = std::string(reinterpret_cast<const char*>(path->data()), path->size())};
    if (spec.category.empty())
        return std::nullopt;
    if (tag.contains("declared_size") && tag["declared_size"].is_number_unsigned())
        spec.declared_size = tag["declared_size"].get<std::uint64_t>();
    if (tag.contains("source_mtime_ms") && tag["source_mtime_ms"].is_number_integer())
        spec.source_mtime_ms = tag["source_mtime_ms"].get<std::int64_t>();
    return spec;
}

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

Store::Store(StoreOptions options, Database db, std::unique_ptr<keys::IdentityKey> identity,
             UniqueFd owner_lock)
    : options_(std::move(options)),
      owner_lock_(std::move(owner_lock)),
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

    // The owner (the one that reconciles) is alone: a second exhibitd on the same store would
    // end the first one's running sessions as interrupted.
    UniqueFd owner_lock;
    if (options.reconcile) {
        auto lock = fs::open_file(dir / "exhibit.lock", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (!lock)
            return std::unexpected(lock.error());
        if (::flock(lock->get(), LOCK_EX | LOCK_NB) != 0) {
            if (errno == EWOULDBLOCK)
                return fail(Errc::locked,
                            fmt::format("the evidence store in {} is in use by another exhibitd "
                                        "(one store, one exhibitd)",
                                        dir));
            return fail_errno(fmt::format("cannot lock {}", dir / "exhibit.lock"));
        }
        owner_lock = std::move(*lock);
    }

    // The catalog is checked and migrated before anything else is created, so that a refusal
    // leaves the directory as it was.
    // Create the catalog owner-only ourselves (SQLite would follow the umask, and gives its
    // -wal and -shm files the catalog's mode). Only when it does not exist yet: a descriptor
    // of an existing catalog, once closed, would drop every POSIX lock this process holds on
    // it, those of SQLite connections already open (the daemon's, while a session worker
    // opens its own Store) included; another process closing the catalog last would then
    // checkpoint and delete the WAL those connections still write to, and what they commit
    // after that would be seen by no other process and lost at an unclean stop.
    if (auto fd = fs::open_file(dir / "exhibit.db", O_RDWR | O_CREAT | O_EXCL, 0600);
        !fd && fd.error().sys_errno != EEXIST)
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

    std::unique_ptr<Store> store(
        new Store(options, std::move(*db), std::move(*key), std::move(owner_lock)));
    if (auto s = store->blobs_.prepare(); !s)
        return std::unexpected(s.error());
    if (options.reconcile) {
        // Partial items first, while their sessions are still open: an ended session's
        // record (and its seal) never changes afterwards.
        if (auto s = store->keep_spool_leftovers(); !s)
            return std::unexpected(s.error());
        if (auto s = store->close_unfinished_sessions(); !s)
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
            return fail(Errc::io,
                        fmt::format("cannot look for the catalog {}: {}", file, ec.message()));
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
    auto spool = blobs_.create_spool(spec.session_id);
    if (!spool)
        return std::unexpected(spool.error());
    // Whose bytes these are, on the file itself: if exhibitd is stopped before the item is
    // catalogued, the next start records what is there as an incomplete item of its session.
    // Without the tag (a file system without user extended attributes) the file is still kept,
    // aside, at the next start.
    (void)BlobStore::tag_spool(*spool, spool_tag(spec));
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

Status Store::close_unfinished_sessions() {
    // Only one exhibitd owns the store, and it is starting: a session still "created" or
    // "running" was left by one that was stopped without ending it (SIGKILL, crash, power).
    auto found =
        db_.rows("SELECT id, state FROM sessions WHERE state IN ('created', 'running') ORDER BY id",
                 no_parameters, [](const Statement& row) {
                     return std::pair{row.column_int(0), row.column_text(1) == "running"};
                 });
    if (!found)
        return std::unexpected(found.error());
    for (const auto& [id, running] : *found) {
        const auto reason = running ? kStoppedDuringExtraction : kStoppedBeforeExtraction;
        if (auto s = catalog_.set_session_state(id, SessionState::interrupted, std::string(reason),
                                                kActor);
            !s)
            return s;
        log::event(log::Level::warning, message_id::kSessionInterruptedAtStart,
                   fmt::format("session {} {}", id, reason),
                   {log::field::session(id),
                    {"EXHIBIT_SESSION_STATE", std::string(to_string(SessionState::interrupted))}});
        open_report_.sessions_interrupted.push_back(id);
    }
    return {};
}

Result<bool> Store::record_partial_item(const std::filesystem::path& file, std::int64_t size) {
    auto tag = BlobStore::spool_tag(file);
    auto spec = tag ? spec_of_tag(*tag) : std::nullopt;
    if (!spec)
        return false;
    auto session = catalog_.session(spec->session_id);
    if (!session && session.error().code == Errc::not_found)
        return false;
    if (!session)
        return std::unexpected(session.error());
    if (session->state != SessionState::created && session->state != SessionState::running)
        return false;  // an ended session's record never changes
    // A second name in quarantine/ first: whatever fails below, the bytes stay.
    const auto keep = blobs_.quarantine_directory() / fmt::format("spool-{}", file.filename());
    if (::link(file.c_str(), keep.c_str()) != 0)
        return fail_errno(fmt::format("cannot link {} to {}", file, keep));
    auto fd = fs::open_file(file, O_RDONLY);
    if (!fd)
        return std::unexpected(fd.error());
    auto digest = Sha256::of_file(file);
    if (!digest)
        return std::unexpected(digest.error());
    SealedItem item;
    item.spool = SpoolFile{std::move(*fd), file};
    item.digest = *digest;
    auto& r = item.record;
    r.session_id = spec->session_id;
    r.category = spec->category;
    r.source_path = printable_path(spec->source_path);
    if (r.source_path != spec->source_path)
        r.source_path_raw = spec->source_path;
    if (spec->declared_size)
        r.declared_size = static_cast<std::int64_t>(*spec->declared_size);
    r.size = size;
    r.source_mtime_ms = spec->source_mtime_ms;
    r.sha256 = to_hex(*digest);
    r.blob = BlobStore::relative_path(*digest);
    r.state = ItemState::incomplete;
    r.incomplete_reason =
        spec->declared_size
            ? fmt::format("exhibitd stopped while it was being written: {} of {} bytes stored",
                          size, *spec->declared_size)
            : fmt::format("exhibitd stopped while it was being written: {} bytes stored", size);
    std::vector<SealedItem> one;
    one.push_back(std::move(item));
    auto records = commit_items(std::move(one));
    if (!records)
        return std::unexpected(records.error());
    // The blob holds the bytes now: the second name has done its work.
    ::unlink(keep.c_str());
    log::event(log::Level::notice, message_id::kPartialItemRecorded,
               fmt::format("session {}: a partial item ({} bytes) left by a stop was recorded "
                           "incomplete",
                           spec->session_id, size),
               {log::field::session(spec->session_id),
                log::field::item(records->front().id),
                {"EXHIBIT_SIZE", std::to_string(size)}});
    ++open_report_.partial_items_recorded;
    return true;
}

Status Store::keep_spool_leftovers() {
    const auto& spool = blobs_.spool_directory();
    std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(spool.c_str()), ::closedir);
    if (!dir)
        return fail_errno(fmt::format("cannot list {}", spool));
    std::vector<std::string> leftovers;
    while (auto* ent = ::readdir(dir.get())) {
        std::string name = ent->d_name;
        if (name != "." && name != "..")
            leftovers.push_back(std::move(name));
    }
    dir.reset();
    // A partial file holds the first bytes of an item whose write was cut short. Nothing may
    // present it as a complete item, and it is never deleted. If its tag says which item of
    // a still open session it is, it is recorded as that item, incomplete, with what is there
    // (audited as store.item_added, delivered like any incomplete item). Otherwise it moves to
    // quarantine/, with its size and SHA-256 in the audit log first (if we stop between the
    // two, the file is still in spool/ to be found again).
    const auto& kept_dir = blobs_.quarantine_directory();
    bool moved = false;
    for (const auto& name : leftovers) {
        const auto from = spool / name;
        struct stat st {};
        if (::lstat(from.c_str(), &st) != 0)
            return fail_errno(fmt::format("cannot inspect spool leftover {}", from));
        if (S_ISREG(st.st_mode)) {
            auto recorded = record_partial_item(from, st.st_size);
            if (!recorded)
                return std::unexpected(recorded.error());
            if (*recorded)
                continue;
        }
        nlohmann::json details = {{"file", name},
                                  {"size", static_cast<std::int64_t>(st.st_size)},
                                  {"kept_as", fmt::format("quarantine/spool-{}", name)},
                                  {"reason", "partial item left by an interrupted write"}};
        if (S_ISREG(st.st_mode)) {
            auto digest = Sha256::of_file(from);
            if (!digest)
                return std::unexpected(digest.error());
            details["sha256"] = to_hex(*digest);
        }
        if (auto owner = BlobStore::session_of_spool(name))
            details["session_id"] = *owner;
        if (auto e = audit_.append(kActor, "store.spool_kept", details); !e)
            return std::unexpected(e.error());
        const auto to = kept_dir / fmt::format("spool-{}", name);
        if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) != 0)
            return fail_errno(fmt::format("cannot move spool leftover {} to {}", from, to));
        moved = true;
        const auto session = BlobStore::session_of_spool(name);
        log::event(
            log::Level::notice, message_id::kSpoolKept,
            fmt::format("kept partial spool file {} ({} bytes) in quarantine", name, st.st_size),
            {{"EXHIBIT_SPOOL_FILE", name},
             {"EXHIBIT_SIZE", std::to_string(st.st_size)},
             {log::field::kSession, session ? std::to_string(*session) : "unknown"}});
        ++open_report_.spool_files_kept;
    }
    if (!moved)
        return {};
    if (auto s = fs::fsync_directory(kept_dir); !s)
        return s;
    return fs::fsync_directory(spool);
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
