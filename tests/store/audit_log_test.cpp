#include "daemon/store/audit_log.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "daemon/store/store.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::store {
namespace {

class AuditLogTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = Store::open({.state_directory = dir_.path(), .kiosk_id = "test"});
        ASSERT_TRUE(s.has_value()) << s.error().describe();
        store_ = std::move(*s);
        for (int i = 0; i < kEntries; ++i)
            ASSERT_TRUE(store_->audit().append("officer:42", "test.event",
                                               {{"n", i}, {"text", "a, b = c\nd"}}));
        // What an attacker with the file would do first: lift the append-only triggers.
        ASSERT_TRUE(
            db().exec("DROP TRIGGER audit_append_only_update; "
                      "DROP TRIGGER audit_append_only_delete;"));
    }
    Database& db() { return store_->database(); }
    AuditVerifyReport verify() {
        auto r = store_->audit().verify();
        EXPECT_TRUE(r.has_value());
        return r.value_or(AuditVerifyReport{});
    }

    static constexpr int kEntries = 6;
    testing::TempDir dir_;
    std::unique_ptr<Store> store_;
};

TEST_F(AuditLogTest, IntactChainVerifies) {
    auto r = verify();
    EXPECT_TRUE(r.ok()) << r.problem;
    EXPECT_EQ(r.entries, static_cast<std::uint64_t>(kEntries));
}

// Several entries in one transaction, the head signed once after the last: the chain links
// on from the entries before, and the signed head covers the newest.
TEST_F(AuditLogTest, EntriesAppendedTogetherChainAndTheHeadCoversTheLast) {
    const std::vector<nlohmann::json> details = {{{"n", "a"}}, {{"n", "b"}}, {{"n", "c"}}};
    auto tx = Transaction::begin(db());
    ASSERT_TRUE(tx.has_value());
    auto entries = store_->audit().append_all_in_transaction("exhibitd", "test.batch", details);
    ASSERT_TRUE(entries.has_value()) << entries.error().describe();
    ASSERT_TRUE(tx->commit());
    ASSERT_EQ(entries->size(), 3u);
    EXPECT_EQ(entries->front().seq, kEntries + 1);
    EXPECT_EQ((*entries)[1].prev_hash, entries->front().hash);
    auto r = verify();
    EXPECT_TRUE(r.ok()) << r.problem;
    EXPECT_EQ(r.entries, static_cast<std::uint64_t>(kEntries + 3));
    EXPECT_EQ(r.head_hash, entries->back().hash);
    // Nothing to append signs nothing and changes nothing.
    auto none = store_->audit().append_all_in_transaction("exhibitd", "test.batch", {});
    ASSERT_TRUE(none.has_value());
    EXPECT_TRUE(none->empty());
    EXPECT_EQ(verify().entries, static_cast<std::uint64_t>(kEntries + 3));
}

TEST_F(AuditLogTest, EntriesAreAppendOnlyThroughSql) {
    testing::TempDir other;
    auto s = Store::open({.state_directory = other.path()});
    ASSERT_TRUE(s);
    ASSERT_TRUE((*s)->audit().append("exhibitd", "x", nlohmann::json::object()));
    EXPECT_FALSE((*s)->database().exec("UPDATE audit SET actor = 'someone'"));
    EXPECT_FALSE((*s)->database().exec("DELETE FROM audit"));
}

TEST_F(AuditLogTest, ChangingAnyByteOfAnyEntryIsFoundAtThatEntry) {
    const char* columns[] = {"time", "actor", "event", "details", "prev_hash", "hash"};
    for (int seq = 1; seq <= kEntries; ++seq) {
        for (const char* column : columns) {
            auto read = db().prepare(fmt::format("SELECT {} FROM audit WHERE seq = ?1", column));
            ASSERT_TRUE(read);
            read->bind(1, std::int64_t{seq});
            ASSERT_TRUE(read->step().value_or(false));
            const std::string original = read->column_text(0);
            auto write = [&](const std::string& value) {
                auto w =
                    db().prepare(fmt::format("UPDATE audit SET {} = ?1 WHERE seq = ?2", column));
                ASSERT_TRUE(w);
                w->bind(1, value).bind(2, std::int64_t{seq});
                ASSERT_TRUE(w->run());
            };
            // first, middle and last byte of every field
            for (std::size_t pos : {std::size_t{0}, original.size() / 2, original.size() - 1}) {
                SCOPED_TRACE(::testing::Message()
                             << "seq " << seq << " " << column << "[" << pos << "]");
                std::string changed = original;
                changed[pos] = static_cast<char>(changed[pos] ^ 0x01);
                write(changed);
                auto r = verify();
                EXPECT_FALSE(r.ok());
                EXPECT_EQ(r.first_broken, seq) << r.problem;
                write(original);
                EXPECT_TRUE(verify().ok());
            }
        }
    }
}

TEST_F(AuditLogTest, ChangingTheSequenceNumberIsFound) {
    ASSERT_TRUE(db().exec("UPDATE audit SET seq = 100 WHERE seq = 3"));
    auto r = verify();
    EXPECT_EQ(r.first_broken, 3) << r.problem;
}

TEST_F(AuditLogTest, DeletingFirstMiddleOrLastEntryIsFoundAtThatEntry) {
    for (int seq : {kEntries, 3, 1}) {
        SCOPED_TRACE(seq);
        ASSERT_TRUE(
            db().exec("CREATE TEMP TABLE IF NOT EXISTS saved AS SELECT * FROM audit WHERE 0"));
        ASSERT_TRUE(
            db().exec(fmt::format("INSERT INTO saved SELECT * FROM audit WHERE seq = {0}; "
                                  "DELETE FROM audit WHERE seq = {0}",
                                  seq)));
        auto r = verify();
        EXPECT_FALSE(r.ok());
        EXPECT_EQ(r.first_broken, seq) << r.problem;
        ASSERT_TRUE(db().exec("INSERT INTO audit SELECT * FROM saved; DELETE FROM saved"));
        EXPECT_TRUE(verify().ok());
    }
}

TEST_F(AuditLogTest, ReorderingTwoEntriesIsFound) {
    // Swap the contents of entries 2 and 4, keeping the sequence numbers in place.
    ASSERT_TRUE(db().exec(
        "CREATE TEMP TABLE a2 AS SELECT * FROM audit WHERE seq = 2;"
        "CREATE TEMP TABLE a4 AS SELECT * FROM audit WHERE seq = 4;"
        "DELETE FROM audit WHERE seq IN (2, 4);"
        "INSERT INTO audit SELECT 2, time, actor, event, details, prev_hash, hash FROM a4;"
        "INSERT INTO audit SELECT 4, time, actor, event, details, prev_hash, hash FROM a2;"));
    auto r = verify();
    EXPECT_EQ(r.first_broken, 2) << r.problem;
}

TEST_F(AuditLogTest, TruncationWithForgedHeadNeedsTheKey) {
    // Cut the last entry and move the head back without a valid signature.
    ASSERT_TRUE(
        db().exec(fmt::format("DELETE FROM audit WHERE seq = {0};"
                              "UPDATE audit_head SET seq = {1}, hash = "
                              "(SELECT hash FROM audit WHERE seq = {1})",
                              kEntries, kEntries - 1)));
    auto r = verify();
    EXPECT_EQ(r.first_broken, kEntries - 1) << r.problem;
    EXPECT_NE(r.problem.find("signature"), std::string::npos);
}

TEST_F(AuditLogTest, HashCoversEveryField) {
    AuditEntry e{1, "2026-01-01T00:00:00.000Z", "a", "b", "{}", std::string(kGenesisHash), ""};
    auto base = audit_entry_hash(e);
    auto changed = e;
    changed.actor = "ab";
    changed.event = "";  // moving a byte between fields must change the hash
    EXPECT_NE(audit_entry_hash(changed), base);
    changed = e;
    changed.seq = 2;
    EXPECT_NE(audit_entry_hash(changed), base);
}

}  // namespace
}  // namespace exhibit::store
