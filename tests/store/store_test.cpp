#include "daemon/store/store.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include <fmt/format.h>

#include "common/fs.hpp"
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

TEST(Store, SpoolLeftoversAreRemovedAndAudited) {
    testing::TempDir dir;
    { ASSERT_TRUE(open_store(dir.path())); }
    ASSERT_TRUE(fs::write_file_atomic(dir / "spool/item-abc123", "half a photo", 0600));
    auto store = open_store(dir.path());
    ASSERT_TRUE(store);
    EXPECT_EQ(store->open_report().spool_files_removed, 1);
    EXPECT_FALSE(std::filesystem::exists(dir / "spool/item-abc123"));
    EXPECT_EQ(count_events(*store, "store.spool_discarded"), 1);
    EXPECT_TRUE(store->audit().verify().value().ok());
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
    auto a = open_store(dir.path());
    auto b = open_store(dir.path(), VerifyDepth::none);
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
