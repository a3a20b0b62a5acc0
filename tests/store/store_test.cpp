#include "daemon/store/store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <fstream>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "daemon/store/manifest.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::store {
namespace {

std::unique_ptr<Store> open_store(const std::filesystem::path& dir,
                                  VerifyDepth depth = VerifyDepth::size) {
    auto s = Store::open({.state_directory = dir, .kiosk_id = "test", .verify = depth});
    EXPECT_TRUE(s.has_value()) << s.error().describe();
    return s ? std::move(*s) : nullptr;
}

ItemRecord add_item(Store& store, std::string_view body) {
    auto c = store.catalog().create_case(
        {.case_reference = "C", .exhibit_reference = "E", .officer_id = "O"}, "o");
    auto sess = store.catalog().create_session(c.value(), {}, std::nullopt, Priority::normal, "o");
    auto w =
        store.begin_item({.session_id = sess.value(), .category = "photos", .source_path = "/p"});
    EXPECT_TRUE(w->append(std::as_bytes(std::span(body))));
    return w->finish().value();
}

std::int64_t count_events(Store& store, std::string_view event) {
    auto stmt = store.database().prepare("SELECT count(*) FROM audit WHERE event = ?1");
    stmt->bind(1, event);
    EXPECT_TRUE(stmt->step().value_or(false));
    return stmt->column_int(0);
}

TEST(Store, CreatesLayoutAndIdentity) {
    testing::TempDir dir;
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    for (auto sub : {"blobs", "spool", "keys", "exhibit.db", "keys/kiosk-ed25519.pem"})
        EXPECT_TRUE(std::filesystem::exists(dir / sub)) << sub;
    auto h = store->health();
    ASSERT_TRUE(h);
    EXPECT_EQ(h->key_fingerprint, store->identity().fingerprint());
    EXPECT_GT(h->free_bytes, 0u);
}

TEST(Store, RelativeStateDirectoryIsRefused) {
    auto s = Store::open({.state_directory = "relative/dir"});
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Errc::invalid_argument);
}

// A partial spool file is never deleted and never becomes an item: it is kept in quarantine/
// with its size, SHA-256 and session in the audit log.
TEST(Store, SpoolLeftoversAreKeptAsideAndAudited) {
    testing::TempDir dir;
    { ASSERT_TRUE(open_store(dir.path())); }
    const std::string name = "item-7-00000000000abc12";
    ASSERT_TRUE(fs::write_file_atomic(dir / "spool" / name, "half a photo", 0600));
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    EXPECT_EQ(store->open_report().spool_files_kept, 1);
    EXPECT_FALSE(std::filesystem::exists(dir / "spool" / name));
    const auto body = fs::read_file(dir / "quarantine" / ("spool-" + name), 1024).value_or("");
    EXPECT_EQ(body, "half a photo") << "kept byte for byte";
    EXPECT_EQ(count_events(*store, "store.spool_kept"), 1);
    auto stmt =
        store->database().prepare("SELECT details FROM audit WHERE event = 'store.spool_kept'");
    ASSERT_TRUE(stmt->step().value_or(false));
    auto details = nlohmann::json::parse(stmt->column_text(0));
    EXPECT_EQ(details.value("session_id", 0), 7);
    EXPECT_EQ(details.value("size", 0), 12);
    EXPECT_EQ(details.value("sha256", ""), to_hex(Sha256::of(std::as_bytes(std::span(body)))));
    EXPECT_TRUE(store->catalog().all_items().value().empty()) << "never an item";
    EXPECT_TRUE(store->audit().verify().value().ok());
}

// One owner at a time: a second exhibitd on the same store is refused while the first runs,
// and its running session is left alone; a reader that reconciles nothing may still open it.
// When the owner goes, the next one may open it.
TEST(Store, ASecondOwnerIsRefusedAndEndsNothing) {
    testing::TempDir dir;
    std::int64_t session = 0;
    {
        auto owner = open_store(dir.path());
        ASSERT_TRUE(owner);
        auto c = owner->catalog().create_case(
            {.case_reference = "C", .exhibit_reference = "E", .officer_id = "O"}, "o");
        session = owner->catalog().create_session(*c, {}, std::nullopt, Priority::normal, "o").value();
        ASSERT_TRUE(
            owner->catalog().set_session_state(session, SessionState::running, {}, "exhibitd"));

        auto second = Store::open({.state_directory = dir.path(), .kiosk_id = "test"});
        ASSERT_FALSE(second) << "a second owner opened the store";
        EXPECT_EQ(second.error().code, Errc::locked);
        EXPECT_NE(second.error().message.find("in use by another exhibitd"), std::string::npos)
            << second.error().message;
        EXPECT_EQ(owner->catalog().session(session).value().state, SessionState::running)
            << "the refused open ended nothing";

        auto reader =
            Store::open({.state_directory = dir.path(), .kiosk_id = "test", .reconcile = false});
        ASSERT_TRUE(reader) << reader.error().describe();
        EXPECT_EQ((*reader)->catalog().session(session).value().state, SessionState::running);
    }
    auto next = open_store(dir.path());
    ASSERT_TRUE(next) << "the lock went with its owner";
    EXPECT_EQ(next->catalog().session(session).value().state, SessionState::interrupted);
}

// exhibitd killed during an extraction: the next start ends the session "interrupted" with
// its reason (audited in the chain), keeps every item stored whole and the partial one aside,
// and the session's manifest can be built and says so.
TEST(Store, SessionsLeftRunningEndInterruptedAtStart) {
    testing::TempDir dir;
    std::int64_t running = 0, waiting = 0, done = 0;
    ItemRecord whole;
    std::string spool_name;
    // One whole spool block and a byte: the writer's helper writes the block to the file, the
    // byte waits in the next one.
    std::vector<std::byte> received(SpoolWriter::kBlockSize + 1);
    const auto first_bytes = std::span(received).first(SpoolWriter::kBlockSize);
    for (std::size_t i = 0; i < received.size(); ++i)
        received[i] = static_cast<std::byte>(i * 7);
    {
        auto store = open_store(dir.path());
        ASSERT_TRUE(store);
        auto& catalog = store->catalog();
        auto c = catalog.create_case(
            {.case_reference = "C", .exhibit_reference = "E", .officer_id = "O"}, "o");
        running = catalog.create_session(*c, {}, std::nullopt, Priority::normal, "o").value();
        waiting = catalog.create_session(*c, {}, std::nullopt, Priority::normal, "o").value();
        done = catalog.create_session(*c, {}, std::nullopt, Priority::normal, "o").value();
        ASSERT_TRUE(catalog.set_session_state(running, SessionState::running, {}, "exhibitd"));
        ASSERT_TRUE(catalog.set_session_state(done, SessionState::completed, {}, "exhibitd"));
        auto w = store->begin_item(
            {.session_id = running, .category = "photos", .source_path = "/sdcard/a.jpg"});
        ASSERT_TRUE(w->append(std::as_bytes(std::span(std::string_view("a whole photo")))));
        whole = w->finish().value();
        // The next item is being written when the process dies: its spool file stays, with
        // the first block written. (The writer would remove it when destroyed, as an abort
        // does; a killed process runs no destructor: a second name keeps the file, with its
        // tag, and it is put back as the kill leaves it.)
        {
            auto partial = store->begin_item({.session_id = running,
                                              .category = "videos",
                                              .source_path = "/sdcard/v.mp4",
                                              .declared_size = 8u << 20});
            ASSERT_TRUE(partial->append(received));
            for (const auto& e : std::filesystem::directory_iterator(dir / "spool"))
                spool_name = e.path().filename().string();
            ASSERT_FALSE(spool_name.empty());
            const auto file = dir / "spool" / spool_name;
            for (int i = 0; i < 500 && std::filesystem::file_size(file) < first_bytes.size(); ++i)
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            ASSERT_EQ(std::filesystem::file_size(file), first_bytes.size());
            std::filesystem::create_hard_link(file, dir / "spool-link");
        }
        std::filesystem::rename(dir / "spool-link", dir / "spool" / spool_name);
        EXPECT_TRUE(spool_name.starts_with(fmt::format("item-{}-", running))) << spool_name;
    }
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    const auto& report = store->open_report();
    EXPECT_EQ(report.sessions_interrupted, (std::vector<std::int64_t>{running, waiting}));
    EXPECT_EQ(report.partial_items_recorded, 1);
    EXPECT_EQ(report.spool_files_kept, 0);

    auto s = store->catalog().session(running).value();
    EXPECT_EQ(s.state, SessionState::interrupted);
    EXPECT_EQ(s.state_reason, std::string(kStoppedDuringExtraction));
    EXPECT_TRUE(s.ended_at_ms.has_value());
    auto w = store->catalog().session(waiting).value();
    EXPECT_EQ(w.state, SessionState::interrupted);
    EXPECT_EQ(w.state_reason, std::string(kStoppedBeforeExtraction));
    EXPECT_EQ(store->catalog().session(done).value().state, SessionState::completed)
        << "an ended session is left as it was";

    // The interruption is in the hash chain like every other end of a session.
    auto stmt = store->database().prepare(
        "SELECT details FROM audit WHERE event = 'session.interrupted' ORDER BY seq");
    std::vector<nlohmann::json> ends;
    while (stmt->step().value_or(false))
        ends.push_back(nlohmann::json::parse(stmt->column_text(0)));
    ASSERT_EQ(ends.size(), 2u);
    EXPECT_EQ(ends[0].value("session_id", 0), running);
    EXPECT_EQ(ends[0].value("reason", ""), kStoppedDuringExtraction);
    EXPECT_TRUE(store->audit().verify().value().ok());

    // What was stored whole is kept; the partial item is recorded incomplete, as it is.
    auto items = store->catalog().items_of_session(running).value();
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].id, whole.id);
    EXPECT_EQ(items[0].state, ItemState::complete);
    const auto& partial = items[1];
    EXPECT_EQ(partial.state, ItemState::incomplete);
    EXPECT_EQ(partial.source_path, "/sdcard/v.mp4");
    EXPECT_EQ(partial.category, "videos");
    EXPECT_EQ(partial.declared_size, std::int64_t{8} << 20);
    EXPECT_EQ(partial.size, static_cast<std::int64_t>(first_bytes.size()));
    EXPECT_EQ(partial.sha256, to_hex(Sha256::of(first_bytes)));
    EXPECT_EQ(partial.incomplete_reason,
              fmt::format("exhibitd stopped while it was being written: {} of {} bytes stored",
                          first_bytes.size(), 8u << 20));
    EXPECT_TRUE(std::filesystem::exists(dir / partial.blob));
    EXPECT_TRUE(std::filesystem::is_empty(dir / "spool"));
    EXPECT_TRUE(std::filesystem::is_empty(dir / "quarantine"));

    // The ended session has a manifest, and it says the session was cut short.
    auto manifest = build_manifest(*store, running, nlohmann::json::object(), Clock::system());
    ASSERT_TRUE(manifest) << manifest.error().describe();
    auto body = nlohmann::json::parse(manifest->body);
    EXPECT_EQ(body["session"].value("state", ""), "interrupted") << manifest->body;
    EXPECT_EQ(body["session"].value("state_reason", ""), kStoppedDuringExtraction);
    ASSERT_EQ(body["items"].size(), 2u);
    EXPECT_EQ(body["items"][1].value("state", ""), "incomplete") << manifest->body;

    // A second start finds nothing more to do.
    store.reset();
    store = open_store(dir.path());
    EXPECT_TRUE(store->open_report().sessions_interrupted.empty());
    EXPECT_EQ(count_events(*store, "session.interrupted"), 2);
}

TEST(Store, MissingBlobIsFlaggedNotDropped) {
    testing::TempDir dir;
    ItemRecord item;
    {
        auto store = open_store(dir.path());
        item = add_item(*store, "photo bytes");
    }
    ASSERT_TRUE(std::filesystem::remove(dir.path() / item.blob));
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    EXPECT_EQ(store->open_report().items_missing, 1u);
    auto row = store->catalog().item(item.id);
    ASSERT_TRUE(row) << "the row is kept";
    EXPECT_EQ(row->integrity, Integrity::missing);
    EXPECT_EQ(store->health()->items_flagged, 1u);
    EXPECT_EQ(count_events(*store, "store.blob_damaged"), 1);
    // A second start finds the same state: it stays flagged but is not audited again.
    store.reset();
    store = open_store(dir.path());
    EXPECT_EQ(store->health()->items_flagged, 1u);
    EXPECT_EQ(count_events(*store, "store.blob_damaged"), 1);
}

TEST(Store, AlteredBlobIsFlaggedByFullVerification) {
    testing::TempDir dir;
    ItemRecord item;
    {
        auto store = open_store(dir.path());
        item = add_item(*store, "original content");
    }
    auto path = dir.path() / item.blob;
    ::chmod(path.c_str(), 0640);
    {
        std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(3);
        f.put('X');  // same size, different bytes
    }
    auto quick = open_store(dir.path(), VerifyDepth::size);
    EXPECT_EQ(quick->open_report().items_mismatch, 0u) << "a size check cannot see it";
    quick.reset();
    auto store = open_store(dir.path(), VerifyDepth::full);
    ASSERT_TRUE(store);
    EXPECT_EQ(store->open_report().items_mismatch, 1u);
    EXPECT_EQ(store->catalog().item(item.id)->integrity, Integrity::mismatch);
    EXPECT_EQ(store->health()->items_flagged, 1u);
    EXPECT_EQ(count_events(*store, "store.blob_damaged"), 1);
}

TEST(Store, RestoredBlobIsAuditedAsRestored) {
    testing::TempDir dir;
    ItemRecord item;
    {
        auto store = open_store(dir.path());
        item = add_item(*store, "kept safe");
    }
    auto path = dir.path() / item.blob;
    std::filesystem::rename(path, dir / "aside");
    { open_store(dir.path()); }
    std::filesystem::rename(dir / "aside", path);
    auto store = open_store(dir.path(), VerifyDepth::full);
    EXPECT_EQ(store->catalog().item(item.id)->integrity, Integrity::ok);
    EXPECT_EQ(count_events(*store, "store.blob_restored"), 1);
    EXPECT_EQ(store->health()->items_flagged, 0u);
}

TEST(Store, DamagedBlobIsQuarantinedWhenTheSameContentArrivesAgain) {
    testing::TempDir dir;
    auto store = open_store(dir.path());
    auto first = add_item(*store, "the same content");
    auto path = dir.path() / first.blob;
    ::chmod(path.c_str(), 0640);
    std::filesystem::resize_file(path, 3);
    auto second = add_item(*store, "the same content");
    EXPECT_EQ(second.blob, first.blob);
    auto digest = Sha256::of_file(path);
    EXPECT_EQ(to_hex(*digest), first.sha256) << "the good copy is back in place";
    std::size_t quarantined = 0;
    for (auto& e : std::filesystem::directory_iterator(dir / "quarantine"))
        quarantined += e.is_regular_file();
    EXPECT_EQ(quarantined, 1u) << "the damaged copy is kept for inspection";
}

TEST(Store, TwoStoresOnOneDirectoryShareTheChain) {
    testing::TempDir dir;
    // As in exhibitd: the owner's store, and a worker's that reconciles nothing.
    auto a = open_store(dir.path());
    auto opened = Store::open({.state_directory = dir.path(),
                               .kiosk_id = "test",
                               .verify = VerifyDepth::none,
                               .reconcile = false});
    ASSERT_TRUE(opened) << opened.error().describe();
    auto& b = *opened;
    ASSERT_TRUE(a && b);
    ASSERT_TRUE(a->audit().append("a", "x", nlohmann::json::object()));
    ASSERT_TRUE(b->audit().append("b", "y", nlohmann::json::object()));
    ASSERT_TRUE(a->audit().append("a", "z", nlohmann::json::object()));
    auto r = b->audit().verify();
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->ok()) << r->problem;
    EXPECT_EQ(r->entries, 3u);
}

// What a purge asks before it may delete the store: only a DFU receipt (an upload in state
// "received") makes an item delivered; queued, failed or never-queued items are not.
// Runs the sqlite3 shell on the catalog as another process does (exhibit-verify on a copy, a
// backup, an operator): its exit status, its output in `out`.
int sqlite3_shell(const std::filesystem::path& db, const std::string& sql, std::string& out) {
    const auto file = db.parent_path() / "shell.out";
    const auto command = fmt::format("sqlite3 '{}' \"{}\" > '{}' 2>&1", db.string(), sql,
                                     file.string());
    const int status = std::system(command.c_str());
    out = fs::read_file(file, 1 << 20).value_or("");
    return status;
}

// exhibitd opens a Store for each session worker beside its own. Opening one must leave the
// first one's SQLite locks alone: a closed descriptor of the catalog drops every POSIX lock
// the process holds on it, and another process closing the catalog last then checkpoints
// and deletes the WAL the first Store still writes to, so that what it commits afterwards is
// seen by no other process and lost at an unclean stop (found by the kiosk API test, whose
// sign-out never showed in the catalog under load).
TEST(Store, ASecondStoreLeavesTheCatalogsLocksAndItsWalInPlace) {
    testing::TempDir dir;
    auto owner = open_store(dir.path());
    ASSERT_TRUE(owner);
    ASSERT_TRUE(owner->audit().append("test", "test.before", nlohmann::json::object()));
    auto worker = Store::open({.state_directory = dir.path(), .reconcile = false});
    ASSERT_TRUE(worker) << worker.error().describe();
    worker->reset();
    std::string out;
    ASSERT_EQ(sqlite3_shell(dir / "exhibit.db", "SELECT count(*) FROM audit", out), 0) << out;
    EXPECT_TRUE(std::filesystem::exists(dir / "exhibit.db-wal"))
        << "another process closing the catalog took the WAL from under exhibitd";
    ASSERT_TRUE(owner->audit().append("test", "test.after", nlohmann::json::object()));
    ASSERT_EQ(sqlite3_shell(dir / "exhibit.db",
                            "SELECT count(*) FROM audit WHERE event = 'test.after'", out),
              0)
        << out;
    EXPECT_EQ(out, "1\n") << "what exhibitd commits is seen by another process";
}

TEST(Store, CountUndeliveredCountsItemsWithoutAReceipt) {
    testing::TempDir dir;
    {
        auto store = open_store(dir.path());
        ASSERT_TRUE(store);
        auto delivered = add_item(*store, "delivered photo");
        auto queued = add_item(*store, "queued photo");
        add_item(*store, "never queued");
        ASSERT_TRUE(store->database().exec(fmt::format(
            "INSERT INTO uploads (item_id, state, queued_at_ms) VALUES ({}, 'received', 1), "
            "({}, 'queued', 1)",
            delivered.id, queued.id)));
    }
    auto count = count_undelivered(dir.path());
    ASSERT_TRUE(count) << count.error().describe();
    EXPECT_EQ(count->items, 3u);
    EXPECT_EQ(count->undelivered, 2u);
}

TEST(Store, CountUndeliveredOfAnEmptyDirectoryCreatesNothing) {
    testing::TempDir dir;
    auto count = count_undelivered(dir.path());
    ASSERT_TRUE(count) << count.error().describe();
    EXPECT_EQ(count->items, 0u);
    EXPECT_EQ(count->undelivered, 0u);
    EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(Store, CountUndeliveredRefusesACatalogFromANewerExhibit) {
    testing::TempDir dir;
    { ASSERT_TRUE(open_store(dir.path())); }
    {
        auto db = Database::open(dir / "exhibit.db", Database::Mode::read_write);
        ASSERT_TRUE(db);
        ASSERT_TRUE(db->exec("PRAGMA user_version = 99"));
    }
    auto count = count_undelivered(dir.path());
    ASSERT_FALSE(count) << "a catalog it cannot read must never count as empty";
    EXPECT_EQ(count.error().code, Errc::unsupported);
}

}  // namespace
}  // namespace exhibit::store
