#include "daemon/store/item_writer.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include <fmt/format.h>

#include "daemon/store/store.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::store {
namespace {

class ItemWriterTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = Store::open({.state_directory = dir_.path(), .kiosk_id = "test"});
        ASSERT_TRUE(s.has_value()) << s.error().describe();
        store_ = std::move(*s);
        auto c = store_->catalog().create_case(
            {.case_reference = "C", .exhibit_reference = "E", .officer_id = "O"}, "officer:O");
        ASSERT_TRUE(c);
        auto sess =
            store_->catalog().create_session(*c, {}, std::nullopt, Priority::normal, "officer:O");
        ASSERT_TRUE(sess);
        session_ = *sess;
    }

    Result<ItemRecord> write(std::string_view body, std::optional<std::uint64_t> declared,
                             std::size_t chunk = 7) {
        auto w = store_->begin_item({.session_id = session_,
                                     .category = "photos",
                                     .source_path = "/sdcard/a.jpg",
                                     .declared_size = declared});
        if (!w)
            return std::unexpected(w.error());
        for (std::size_t off = 0; off < body.size(); off += chunk) {
            auto part = body.substr(off, chunk);
            if (auto s = w->append(std::as_bytes(std::span(part))); !s)
                return std::unexpected(s.error());
        }
        return w->finish();
    }

    std::size_t files_in(const std::filesystem::path& dir) {
        std::size_t n = 0;
        for (auto& e : std::filesystem::recursive_directory_iterator(dir))
            n += e.is_regular_file();
        return n;
    }

    testing::TempDir dir_;
    std::unique_ptr<Store> store_;
    std::int64_t session_ = 0;
};

TEST_F(ItemWriterTest, FinishReturnsHashAndSizeAndStoresBlob) {
    std::string body(3'000'001, 'a');
    body[77] = 'b';
    auto r = write(body, body.size(), 65536);
    ASSERT_TRUE(r.has_value()) << r.error().describe();
    EXPECT_EQ(r->sha256, to_hex(Sha256::of(body)));
    EXPECT_EQ(r->size, static_cast<std::int64_t>(body.size()));
    EXPECT_EQ(r->state, ItemState::complete);
    auto path = dir_.path() / r->blob;
    EXPECT_EQ(r->blob.substr(0, 9), "blobs/" + r->sha256.substr(0, 2) + "/");
    auto on_disk = Sha256::of_file(path);
    ASSERT_TRUE(on_disk);
    EXPECT_EQ(to_hex(*on_disk), r->sha256);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0222, 0u) << "blobs are read-only";
    EXPECT_EQ(files_in(dir_.path() / "spool"), 0u);
    auto row = store_->catalog().item(r->id);
    ASSERT_TRUE(row);
    EXPECT_EQ(row->sha256, r->sha256);
}

TEST_F(ItemWriterTest, EmptyItem) {
    auto r = write("", 0);
    ASSERT_TRUE(r.has_value());
    EXPECT_EQ(r->size, 0);
    EXPECT_EQ(r->sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(r->state, ItemState::complete);
}

TEST_F(ItemWriterTest, SameContentIsStoredOnce) {
    auto a = write("identical bytes", std::nullopt);
    auto b = write("identical bytes", std::nullopt, 3);
    ASSERT_TRUE(a && b);
    EXPECT_NE(a->id, b->id) << "two catalog rows: two items taken";
    EXPECT_EQ(a->blob, b->blob);
    EXPECT_EQ(files_in(dir_.path() / "blobs"), 1u);
}

TEST_F(ItemWriterTest, DeclaredSizeMismatchMakesTheItemIncomplete) {
    auto shorter = write("12345", 10);
    ASSERT_TRUE(shorter);
    EXPECT_EQ(shorter->state, ItemState::incomplete);
    ASSERT_TRUE(shorter->incomplete_reason);
    EXPECT_NE(shorter->incomplete_reason->find("declared 10 bytes, 5 were received"),
              std::string::npos);
    auto longer = write("12345", 2);
    ASSERT_TRUE(longer);
    EXPECT_EQ(longer->state, ItemState::incomplete);
    EXPECT_EQ(longer->size, 5) << "never truncated to the declared size";
}

TEST_F(ItemWriterTest, FinishIncompleteKeepsWhatArrivedWithReason) {
    auto w = store_->begin_item({.session_id = session_,
                                 .category = "videos",
                                 .source_path = "/v.mp4",
                                 .declared_size = 1000});
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->append(std::as_bytes(std::span(std::string_view("partial")))));
    auto r = w->finish_incomplete("device disconnected");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->state, ItemState::incomplete);
    EXPECT_EQ(r->incomplete_reason, "device disconnected");
    EXPECT_EQ(r->size, 7);
}

TEST_F(ItemWriterTest, AbortAndDestructionLeaveNothing) {
    {
        auto w =
            store_->begin_item({.session_id = session_, .category = "photos", .source_path = "/x"});
        ASSERT_TRUE(w);
        ASSERT_TRUE(w->append(std::as_bytes(std::span(std::string_view("gone")))));
        EXPECT_EQ(files_in(dir_.path() / "spool"), 1u);
    }
    EXPECT_EQ(files_in(dir_.path() / "spool"), 0u);
    EXPECT_EQ(files_in(dir_.path() / "blobs"), 0u);
    auto items = store_->catalog().items_of_session(session_);
    ASSERT_TRUE(items);
    EXPECT_TRUE(items->empty());
}

TEST_F(ItemWriterTest, ItemRowsAreImmutableAndNeverDeleted) {
    auto r = write("evidence", std::nullopt);
    ASSERT_TRUE(r);
    EXPECT_FALSE(store_->database().exec("UPDATE items SET sha256 = 'x' WHERE id = 1"));
    EXPECT_FALSE(store_->database().exec("UPDATE items SET size = 1 WHERE id = 1"));
    EXPECT_FALSE(store_->database().exec("DELETE FROM items"));
}

TEST_F(ItemWriterTest, OddPathsAreKeptExactlyAndPrintable) {
    std::string raw = "/sdcard/\xff\x01name\\x";
    auto w =
        store_->begin_item({.session_id = session_, .category = "documents", .source_path = raw});
    ASSERT_TRUE(w);
    auto r = w->finish();
    ASSERT_TRUE(r);
    EXPECT_EQ(r->source_path, "/sdcard/\\xff\\x01name\\x5cx");
    EXPECT_EQ(r->source_path_raw, raw);
    EXPECT_EQ(printable_path("Ünïcødé 😀 ok"), "Ünïcødé 😀 ok");
    EXPECT_EQ(printable_path("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "surrogates are not UTF-8";
    EXPECT_EQ(printable_path("\xc0\xaf"), "\\xc0\\xaf") << "overlong encodings are not UTF-8";
}

TEST_F(ItemWriterTest, SealedItemsCommitTogether) {
    std::vector<SealedItem> sealed;
    for (int i = 0; i < 20; ++i) {
        auto w = store_->begin_item({.session_id = session_,
                                     .category = "photos",
                                     .source_path = fmt::format("/p/{}.jpg", i),
                                     .declared_size = 4});
        ASSERT_TRUE(w);
        auto body = fmt::format("{:04}", i % 10);  // ten distinct contents, each twice
        ASSERT_TRUE(w->append(std::as_bytes(std::span(body))));
        auto s = w->seal();
        ASSERT_TRUE(s) << s.error().describe();
        sealed.push_back(std::move(*s));
    }
    EXPECT_TRUE(store_->catalog().items_of_session(session_)->empty())
        << "nothing recorded before commit";
    auto records = store_->commit_items(std::move(sealed));
    ASSERT_TRUE(records) << records.error().describe();
    ASSERT_EQ(records->size(), 20u);
    for (int i = 0; i < 20; ++i) {
        EXPECT_GT((*records)[static_cast<std::size_t>(i)].id, 0);
        EXPECT_EQ((*records)[static_cast<std::size_t>(i)].sha256,
                  to_hex(Sha256::of(fmt::format("{:04}", i % 10))));
    }
    EXPECT_EQ(files_in(dir_.path() / "blobs"), 10u);
    EXPECT_EQ(files_in(dir_.path() / "spool"), 0u);
    EXPECT_EQ(store_->catalog().items_of_session(session_)->size(), 20u);
}

TEST_F(ItemWriterTest, DroppedSealedItemLeavesNothing) {
    {
        auto w =
            store_->begin_item({.session_id = session_, .category = "photos", .source_path = "/x"});
        ASSERT_TRUE(w->append(std::as_bytes(std::span(std::string_view("abc")))));
        auto s = w->seal();
        ASSERT_TRUE(s);
    }
    EXPECT_EQ(files_in(dir_.path() / "spool"), 0u);
    EXPECT_EQ(files_in(dir_.path() / "blobs"), 0u);
}

TEST_F(ItemWriterTest, EveryItemIsAudited) {
    ASSERT_TRUE(write("one", std::nullopt));
    ASSERT_TRUE(write("two", 3));
    auto stmt =
        store_->database().prepare("SELECT count(*) FROM audit WHERE event = 'store.item_added'");
    ASSERT_TRUE(stmt);
    ASSERT_TRUE(stmt->step().value_or(false));
    EXPECT_EQ(stmt->column_int(0), 2);
    EXPECT_TRUE(store_->audit().verify().value().ok());
}

}  // namespace
}  // namespace exhibit::store
