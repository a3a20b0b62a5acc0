// The extraction's sink into the evidence store: batches committed by its committer thread
// while items keep arriving, progress counted once committed, and a failed commit that
// refuses what follows without touching what was committed before.
#include "daemon/extract/store_sink.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/sha256.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::extract {
namespace {

class StoreSinkTest : public ::testing::Test {
  protected:
    void SetUp() override {
        auto s = store::Store::open({.state_directory = dir_.path(), .kiosk_id = "test"});
        ASSERT_TRUE(s) << s.error().describe();
        store_ = std::move(*s);
        auto c = store_->catalog().create_case(
            {.case_reference = "C", .exhibit_reference = "E", .officer_id = "O"}, "o");
        session_ = store_->catalog()
                       .create_session(c.value(), {}, std::nullopt, store::Priority::normal, "o")
                       .value();
    }

    static std::string body_of(int i) {
        return "photo " + std::to_string(i) + std::string(i % 5000, 'x');
    }

    // Streams item `i` into the sink.
    Status put(StoreSink& sink, int i) {
        const auto body = body_of(i);
        auto w = sink.begin({.category = drivers::Category::photos,
                             .source_path = "/sdcard/DCIM/IMG_" + std::to_string(i) + ".jpg",
                             .declared_size = body.size()});
        if (!w)
            return std::unexpected(w.error());
        if (auto s = (*w)->append(std::as_bytes(std::span(body))); !s)
            return s;
        return (*w)->finish();
    }

    std::int64_t count(const std::string& sql) {
        auto stmt = store_->database().prepare(sql);
        EXPECT_TRUE(stmt->step().value_or(false));
        return stmt->column_int(0);
    }

    testing::TempDir dir_;
    std::unique_ptr<store::Store> store_;
    std::int64_t session_ = 0;
};

// A big item is announced as it starts, however recent the last report: if the phone stalls
// inside it, the kiosk shows the item that waits, not the small one before it.
TEST_F(StoreSinkTest, ABigItemIsAnnouncedAsItStartsEvenRightAfterAReport) {
    std::stop_source stop;
    std::vector<std::string> reported;
    StoreSink sink(*store_, session_, stop.get_token(),
                   [&](const ExtractionProgress& p) { reported.push_back(p.current); });
    ASSERT_TRUE(put(sink, 1));
    ASSERT_TRUE(put(sink, 2));  // small, and (on all but a stalled machine) within 200 ms
    const auto small_reports = reported.size();
    auto w = sink.begin({.category = drivers::Category::videos,
                         .source_path = "/sdcard/DCIM/VID_1.mp4",
                         .declared_size = 8u << 20});
    ASSERT_TRUE(w);
    ASSERT_GT(reported.size(), small_reports) << "the big item was not announced";
    EXPECT_EQ(reported.back(), "/sdcard/DCIM/VID_1.mp4");
}

TEST_F(StoreSinkTest, EveryItemIsCommittedWholeAcrossManyBatches) {
    std::stop_source stop;
    std::uint64_t reported_done = 0;
    StoreSink sink(*store_, session_, stop.get_token(),
                   [&](const ExtractionProgress& p) { reported_done = p.items_done; },
                   {.max_items = 16, .max_bytes = 1 << 20, .max_delay = std::chrono::hours(1)});
    constexpr int kItems = 600;
    for (int i = 0; i < kItems; ++i)
        ASSERT_TRUE(put(sink, i)) << i;
    ASSERT_TRUE(sink.flush());
    EXPECT_EQ(sink.progress().items_done, static_cast<std::uint64_t>(kItems));
    EXPECT_EQ(reported_done, static_cast<std::uint64_t>(kItems)) << "the last report is final";
    EXPECT_FALSE(sink.storage_error());
    EXPECT_EQ(count("SELECT count(*) FROM items"), kItems);
    EXPECT_EQ(count("SELECT count(*) FROM audit WHERE event = 'store.item_added'"), kItems);
    auto items = store_->catalog().all_items().value();
    ASSERT_EQ(items.size(), static_cast<std::size_t>(kItems));
    for (const auto& item : items) {
        const int i = std::stoi(item.source_path.substr(item.source_path.rfind('_') + 1));
        EXPECT_EQ(item.sha256, to_hex(Sha256::of(body_of(i))));
        EXPECT_TRUE(std::filesystem::exists(dir_ / item.blob));
    }
    EXPECT_TRUE(std::filesystem::is_empty(dir_ / "spool"));
    EXPECT_TRUE(store_->audit().verify().value().ok());
}

TEST_F(StoreSinkTest, AFailedCommitRefusesWhatFollowsAndKeepsWhatWasCommitted) {
    std::stop_source stop;
    StoreSink sink(*store_, session_, stop.get_token(), {},
                   {.max_items = 10, .max_bytes = 1 << 20, .max_delay = std::chrono::hours(1)});
    for (int i = 0; i < 20; ++i)
        ASSERT_TRUE(put(sink, i));
    ASSERT_TRUE(sink.flush());
    ASSERT_EQ(count("SELECT count(*) FROM items"), 20);
    // The blob folders can no longer be made: every later rename into blobs/ fails.
    std::filesystem::rename(dir_ / "blobs", dir_ / "blobs.kept");
    { std::ofstream(dir_ / "blobs") << "not a folder"; }
    Status failed;
    int accepted = 0;
    for (int i = 1000; i < 1100 && failed; ++i, ++accepted)
        failed = put(sink, i);
    EXPECT_FALSE(failed) << "items are refused once the committer has failed";
    // At most the batches the pipeline holds when the first failure is known (the failed one,
    // one flushed waiting for it, one being flushed, one waiting for the flusher, the one
    // being filled) and one more.
    EXPECT_LE(accepted, 51);
    auto flushed = sink.flush();
    ASSERT_FALSE(flushed);
    ASSERT_TRUE(sink.storage_error());
    EXPECT_EQ(sink.storage_error()->describe(), flushed.error().describe());
    EXPECT_EQ(sink.progress().items_done, 20u);
    EXPECT_EQ(count("SELECT count(*) FROM items"), 20) << "nothing half-committed";
    std::filesystem::remove(dir_ / "blobs");
    std::filesystem::rename(dir_ / "blobs.kept", dir_ / "blobs");
    const auto kept = store_->catalog().all_items().value();
    for (const auto& item : kept)
        EXPECT_TRUE(std::filesystem::exists(dir_ / item.blob)) << item.blob;
}

}  // namespace
}  // namespace exhibit::extract
