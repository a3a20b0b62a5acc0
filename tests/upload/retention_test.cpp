// Retention deletes only received evidence past the retention period, never while an
// extraction is open, never a blob another unreceived item shares; the free-disk guard.
#include "daemon/upload/retention.hpp"

#include <gtest/gtest.h>

#include "daemon/upload/upload_queue.hpp"
#include "tests/support/upload_fixture.hpp"

namespace exhibit::upload {
namespace {

using namespace std::chrono_literals;
using testing::EvidenceStore;

class RetentionTest : public ::testing::Test {
  protected:
    void receive(const store::ItemRecord& item) {
        const JobKey key{JobKind::item, item.id};
        ASSERT_TRUE(q_.mark_uploading(key));
        ASSERT_TRUE(q_.mark_received(key, {.url = "https://dfu/files/x",
                                           .offset = static_cast<std::uint64_t>(item.size),
                                           .length = static_cast<std::uint64_t>(item.size),
                                           .checksum = "not-offered",
                                           .received_at = clock_.now()}));
    }
    std::filesystem::path blob(const store::ItemRecord& item) {
        return ev_.store().blobs().path_of_relative(item.blob);
    }

    testing::FakeClock clock_{testing::utc_time(2026, 11, 1, 12, 0)};
    EvidenceStore ev_{clock_};
    UploadQueue q_{ev_.store(), clock_};
};

TEST_F(RetentionTest, OnlyReceivedEvidencePastTheRetentionPeriodIsReleased) {
    auto sent = ev_.add_item(4096, 1);
    auto unsent = ev_.add_item(4096, 2);
    auto shared_a = ev_.add_item(4096, 3);
    auto shared_b = ev_.add_item(4096, 3);  // same blob as shared_a
    ev_.end_session();
    ASSERT_TRUE(q_.enqueue_new_items());
    receive(sent);
    receive(shared_a);  // shared_b not received: the blob is still needed

    auto early = release_expired_blobs(ev_.store(), std::chrono::days(7), clock_).value();
    EXPECT_EQ(early.blobs_released, 0) << "not before the retention period";
    clock_.advance(std::chrono::days(7) + 1s);
    auto report = release_expired_blobs(ev_.store(), std::chrono::days(7), clock_).value();
    EXPECT_EQ(report.blobs_released, 1);
    EXPECT_EQ(report.bytes_freed, 4096u);
    EXPECT_FALSE(std::filesystem::exists(blob(sent)));
    EXPECT_TRUE(std::filesystem::exists(blob(unsent))) << "evidence without a receipt stays";
    EXPECT_TRUE(std::filesystem::exists(blob(shared_a))) << "shared with an unreceived item";
    EXPECT_EQ(ev_.query_int("SELECT count(*) FROM audit WHERE event = 'upload.blob_released'"), 1);
    EXPECT_EQ(ev_.query_int("SELECT count(*) FROM uploads WHERE blob_released_at_ms IS NOT NULL"),
              1);

    // The store's own check does not mistake the released blob for damage.
    auto check = ev_.store().verify_blobs(store::VerifyDepth::full).value();
    EXPECT_EQ(check.items_missing, 0u);
    EXPECT_EQ(ev_.store().health().value().items_flagged, 0u);
    EXPECT_TRUE(ev_.store().audit().verify().value().ok());
}

TEST_F(RetentionTest, NothingIsReleasedWhileAnExtractionIsOpen) {
    auto sent = ev_.add_item(4096, 1);
    ASSERT_TRUE(q_.enqueue_new_items());
    receive(sent);  // its session is still running
    clock_.advance(std::chrono::days(8));
    auto report = release_expired_blobs(ev_.store(), std::chrono::days(7), clock_).value();
    EXPECT_TRUE(report.skipped_for_open_session);
    EXPECT_TRUE(std::filesystem::exists(blob(sent)));
    ev_.end_session();
    EXPECT_EQ(
        release_expired_blobs(ev_.store(), std::chrono::days(7), clock_).value().blobs_released, 1);
}

}  // namespace
}  // namespace exhibit::upload
