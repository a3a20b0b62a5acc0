// Catalog migrations: fixtures of every earlier schema version migrate; a corrupt, newer or
// unmigratable catalog is refused with a clear message and left byte for byte as it was.
#include "daemon/store/schema.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <sstream>

#include "common/fs.hpp"
#include "common/sha256.hpp"
#include "daemon/store/store.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::store {
namespace {

const std::filesystem::path kFixtures =
    std::filesystem::path(EXHIBIT_SOURCE_DIR) / "tests/fixtures/catalog";

std::string file_hash(const std::filesystem::path& p) {
    return to_hex(Sha256::of_file(p).value());
}

void make_db(const std::filesystem::path& file, const std::string& sql) {
    auto db = Database::open(file, Database::Mode::read_write_create);
    ASSERT_TRUE(db) << db.error().describe();
    ASSERT_TRUE(db->exec(sql)) << "fixture SQL failed";
}

std::map<std::string, std::int64_t> row_counts(const std::filesystem::path& file) {
    auto db = Database::open(file, Database::Mode::read_only).value();
    std::map<std::string, std::int64_t> counts;
    for (auto table : {"cases", "sessions", "items", "uploads", "audit"}) {
        auto stmt = db.prepare(fmt::format("SELECT count(*) FROM {}", table));
        if (!stmt)
            continue;  // table not in that version
        EXPECT_TRUE(stmt->step().value_or(false));
        counts[table] = stmt->column_int(0);
    }
    return counts;
}

TEST(Schema, NewEmptyCatalogReachesCurrentVersion) {
    testing::TempDir dir;
    { std::ofstream(dir / "exhibit.db"); }  // version 0: an empty file
    auto store = Store::open({.state_directory = dir.path()});
    ASSERT_TRUE(store) << store.error().describe();
    EXPECT_EQ(schema_version((*store)->database()).value(), current_schema_version());
}

TEST(Schema, EveryFixtureOfAnEarlierOrCurrentVersionMigrates) {
    int seen = 0;
    for (const auto& entry : std::filesystem::directory_iterator(kFixtures)) {
        if (!entry.is_directory())
            continue;
        SCOPED_TRACE(entry.path().filename().string());
        ++seen;
        testing::TempDir dir;
        std::filesystem::copy(entry.path(), dir.path(), std::filesystem::copy_options::recursive);
        ::chmod((dir / "keys").c_str(), 0700);
        ::chmod((dir / "keys/kiosk-ed25519.pem").c_str(), 0600);
        auto sql = fs::read_file(dir / "exhibit.sql", 16 << 20);
        ASSERT_TRUE(sql);
        make_db(dir / "exhibit.db", *sql);
        auto before = row_counts(dir / "exhibit.db");

        auto store = Store::open({.state_directory = dir.path(), .verify = VerifyDepth::full});
        ASSERT_TRUE(store) << store.error().describe();
        EXPECT_EQ(schema_version((*store)->database()).value(), current_schema_version());
        auto health = (*store)->health().value();
        EXPECT_EQ(health.items_flagged, 0u) << "every fixture blob still verifies";
        auto audit = (*store)->audit().verify().value();
        EXPECT_TRUE(audit.ok()) << audit.problem;
        store->reset();
        auto after = row_counts(dir / "exhibit.db");
        for (const auto& [table, n] : before)
            EXPECT_EQ(after[table], n) << table << " rows kept";
        EXPECT_GT(before["items"], 0) << "fixtures carry items";
    }
    EXPECT_GE(seen, current_schema_version()) << "keep one fixture per released schema version";
}

TEST(Schema, NewerCatalogIsRefusedUntouched) {
    testing::TempDir dir;
    make_db(dir / "exhibit.db", "CREATE TABLE future (x); PRAGMA user_version = 99;");
    auto hash = file_hash(dir / "exhibit.db");
    auto store = Store::open({.state_directory = dir.path()});
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, Errc::unsupported);
    EXPECT_NE(store.error().message.find("schema version 99"), std::string::npos)
        << store.error().message;
    EXPECT_EQ(file_hash(dir / "exhibit.db"), hash);
    EXPECT_FALSE(std::filesystem::exists(dir / "keys")) << "nothing else was created either";
}

TEST(Schema, FailedMigrationStopsAndChangesNothing) {
    testing::TempDir dir;
    // A version-0 file that already holds a table the first migration must create.
    make_db(dir / "exhibit.db",
            "CREATE TABLE cases (unrelated TEXT); INSERT INTO cases VALUES ('keep me');");
    auto hash = file_hash(dir / "exhibit.db");
    auto store = Store::open({.state_directory = dir.path()});
    ASSERT_FALSE(store);
    EXPECT_NE(store.error().message.find("from schema version 0 to 1 failed"), std::string::npos)
        << store.error().message;
    EXPECT_NE(store.error().message.find("left unchanged"), std::string::npos);
    EXPECT_EQ(file_hash(dir / "exhibit.db"), hash);
    auto db = Database::open(dir / "exhibit.db", Database::Mode::read_only).value();
    EXPECT_EQ(schema_version(db).value(), 0);
}

TEST(Schema, GarbageFileIsRefusedUntouched) {
    testing::TempDir dir;
    std::string garbage(8192, '\0');
    for (std::size_t i = 0; i < garbage.size(); ++i)
        garbage[i] = static_cast<char>(i * 7919 % 251);
    ASSERT_TRUE(fs::write_file_atomic(dir / "exhibit.db", garbage, 0600));
    auto hash = file_hash(dir / "exhibit.db");
    auto store = Store::open({.state_directory = dir.path()});
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, Errc::corrupt);
    EXPECT_NE(store.error().message.find("exhibit.db"), std::string::npos) << store.error().message;
    EXPECT_EQ(file_hash(dir / "exhibit.db"), hash);
}

TEST(Schema, DamagedPagesAreRefusedUntouched) {
    testing::TempDir dir;
    {
        auto store = Store::open({.state_directory = dir.path()});
        ASSERT_TRUE(store);
        for (int i = 0; i < 200; ++i)
            ASSERT_TRUE((*store)->audit().append("x", "filler",
                                                 {{"i", i}, {"pad", std::string(200, 'p')}}));
        ASSERT_TRUE((*store)->database().exec("PRAGMA wal_checkpoint(TRUNCATE)"));
    }
    {
        std::fstream f(dir / "exhibit.db", std::ios::in | std::ios::out | std::ios::binary);
        f.seekp(4096 * 3);  // the header and cell pointers of page 4
        std::string junk(3000, '\x5a');
        f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
    }
    auto hash = file_hash(dir / "exhibit.db");
    auto store = Store::open({.state_directory = dir.path()});
    ASSERT_FALSE(store);
    EXPECT_EQ(store.error().code, Errc::corrupt) << store.error().describe();
    EXPECT_NE(store.error().message.find("damaged"), std::string::npos) << store.error().message;
    EXPECT_EQ(file_hash(dir / "exhibit.db"), hash);
}

}  // namespace
}  // namespace exhibit::store
