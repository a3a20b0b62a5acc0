// The persistent queue on a real catalog: what is queued, in which order, when it may run,
// deduplication, failures, administrator actions, manifests and the status snapshot.
#include "daemon/upload/upload_queue.hpp"

#include <gtest/gtest.h>

#include <fmt/format.h>

#include "tests/support/upload_fixture.hpp"

namespace exhibit::upload {
namespace {

using namespace std::chrono_literals;
using testing::EvidenceStore;

constexpr std::string_view kDfu = "https://dfu/files/";

class UploadQueueTest : public ::testing::Test {
  protected:
    testing::FakeClock clock_{testing::utc_time(2026, 11, 30, 12, 0)};
    EvidenceStore ev_{clock_};
    UploadQueue q_{ev_.store(), clock_};
    // Marks `item` uploading, then received whole at `url`.
    void receive(const store::ItemRecord& item, const std::string& url) {
        const JobKey key{JobKind::item, item.id};
        ASSERT_TRUE(q_.mark_uploading(key));
        const auto size = static_cast<std::uint64_t>(item.size);
        ASSERT_TRUE(q_.mark_received(key, {.url = url,
                                           .offset = size,
                                           .length = size,
                                           .checksum = "not-offered",
                                           .received_at = clock_.now()}));
    }
    std::int64_t audits(const std::string& event) {
        return ev_.query_int("SELECT count(*) FROM audit WHERE event = '" + event + "'");
    }
};

TEST_F(UploadQueueTest, EveryStoredItemIsQueuedOnceInItsSessionsLane) {
    auto a = ev_.add_item(10, 1);
    ev_.new_session(store::Priority::urgent);
    auto b = ev_.add_item(20, 2);
    EXPECT_EQ(q_.enqueue_new_items().value(), 2);
    EXPECT_EQ(q_.enqueue_new_items().value(), 0) << "queued once";
    EXPECT_EQ(audits("upload.queued"), 2);
    EXPECT_EQ(ev_.upload_column(a.id, "lane"), "normal");
    EXPECT_EQ(ev_.upload_column(b.id, "lane"), "urgent");

    auto all = q_.runnable(true, 10).value();
    ASSERT_EQ(all.size(), 2u);
    EXPECT_EQ(all[0].key.id, b.id) << "urgent first";
    EXPECT_EQ(all[1].key.id, a.id);
    EXPECT_EQ(all[1].metadata.size(), 11u);
    EXPECT_EQ(all[1].length, 10u);
    EXPECT_TRUE(std::filesystem::exists(all[1].blob));
    auto urgent_only = q_.runnable(false, 10).value();
    ASSERT_EQ(urgent_only.size(), 1u) << "outside the window only the urgent lane runs";
    EXPECT_EQ(urgent_only[0].key.id, b.id);
}

TEST_F(UploadQueueTest, DeferredJobsWaitForTheirRetryTimeAndCountAttempts) {
    auto a = ev_.add_item(10, 1);
    ASSERT_TRUE(q_.enqueue_new_items());
    const JobKey key{JobKind::item, a.id};
    ASSERT_TRUE(q_.mark_uploading(key));
    EXPECT_FALSE(q_.mark_uploading(key)) << "not queued any more";
    EXPECT_EQ(q_.defer(key, "HTTP 503", clock_.now() + 5s, true).value(), 1);
    EXPECT_TRUE(q_.runnable(true, 10).value().empty());
    EXPECT_EQ(q_.next_retry(true).value(), clock_.now() + 5s);
    EXPECT_EQ(ev_.query("SELECT last_error FROM uploads"), "HTTP 503");
    EXPECT_EQ(q_.defer(key, "", clock_.now() + 5s, false).value(), 1) << "not counted";
    EXPECT_EQ(ev_.query("SELECT last_error FROM uploads"), "HTTP 503") << "kept";
    clock_.advance(5s);
    EXPECT_EQ(q_.runnable(true, 10).value().size(), 1u);
    ASSERT_TRUE(q_.set_offset(key, 5));
    EXPECT_EQ(ev_.query_int("SELECT attempts FROM uploads"), 0) << "progress resets attempts";
}

TEST_F(UploadQueueTest, ReceivedFailedRetriedAndCancelledAreAudited) {
    auto a = ev_.add_item(10, 1);
    auto b = ev_.add_item(11, 2);
    auto c = ev_.add_item(12, 3);
    ASSERT_TRUE(q_.enqueue_new_items());
    const JobKey ka{JobKind::item, a.id}, kb{JobKind::item, b.id};
    ASSERT_TRUE(q_.mark_uploading(ka));
    ASSERT_TRUE(q_.set_remote(ka, "https://dfu/files/1", std::nullopt));
    Receipt r{.url = "https://dfu/files/1",
              .offset = 10,
              .length = 10,
              .checksum = "not-offered",
              .received_at = clock_.now()};
    ASSERT_TRUE(q_.mark_received(ka, r));
    EXPECT_FALSE(q_.mark_received(ka, r)) << "received once";
    EXPECT_EQ(audits("upload.created"), 1);
    EXPECT_EQ(audits("upload.received"), 1);

    ASSERT_TRUE(q_.mark_failed(kb, "HTTP 403: forbidden"));
    EXPECT_EQ(audits("upload.failed"), 1);
    ASSERT_TRUE(q_.retry(kb, "admin:0"));
    EXPECT_FALSE(q_.retry(kb, "admin:0")) << "only a failed job can be retried";
    EXPECT_EQ(ev_.upload_column(b.id, "state"), "queued");

    ASSERT_TRUE(q_.cancel(c.id, "admin:0"));
    EXPECT_FALSE(q_.cancel(a.id, "admin:0")) << "a received item cannot be cancelled";
    EXPECT_EQ(ev_.query("SELECT actor FROM audit WHERE event = 'upload.cancelled'"), "admin:0");
    ASSERT_TRUE(q_.set_lane(b.id, Lane::urgent, "admin:0"));
    EXPECT_EQ(audits("upload.lane_changed"), 1);
    EXPECT_TRUE(ev_.store().audit().verify().value().ok());
}

TEST_F(UploadQueueTest, SameContentWaitsForTheFirstAndThenSharesItsReceipt) {
    auto a = ev_.add_item(100, 9);
    auto b = ev_.add_item(100, 9);
    ASSERT_TRUE(q_.enqueue_new_items());
    auto jobs = q_.runnable(true, 10).value();
    ASSERT_EQ(jobs.size(), 2u);
    bool busy = false;
    EXPECT_FALSE(q_.same_content_receipt(jobs[0], kDfu, &busy).value());
    EXPECT_FALSE(busy) << "the lowest id travels";
    EXPECT_FALSE(q_.same_content_receipt(jobs[1], kDfu, &busy).value());
    EXPECT_TRUE(busy) << "the copy waits";
    ASSERT_NO_FATAL_FAILURE(receive(a, "https://dfu/files/a"));
    auto same = q_.same_content_receipt(jobs[1], kDfu, &busy).value();
    ASSERT_TRUE(same);
    EXPECT_EQ(same->first, a.id);
    EXPECT_EQ(same->second.url, "https://dfu/files/a");
    EXPECT_EQ(jobs[1].key.id, b.id);

    // Another session's identical item is sent again (the DFU files per session).
    ev_.new_session(store::Priority::normal);
    ev_.add_item(100, 9);
    ASSERT_TRUE(q_.enqueue_new_items());
    auto others = q_.runnable(true, 10).value();
    ASSERT_FALSE(others.empty());
    EXPECT_FALSE(q_.same_content_receipt(others.back(), kDfu, &busy).value());
    EXPECT_FALSE(busy);
}

TEST_F(UploadQueueTest, ContentReceivedByAStoreNoLongerConfiguredIsSentToTheNewOne) {
    auto a = ev_.add_item(100, 9);
    auto b = ev_.add_item(100, 9);
    auto c = ev_.add_item(100, 9);
    ASSERT_TRUE(q_.enqueue_new_items());
    ASSERT_NO_FATAL_FAILURE(receive(a, "https://old-dfu/files/a"));
    auto jobs = q_.runnable(true, 10).value();
    ASSERT_EQ(jobs.size(), 2u);
    ASSERT_EQ(jobs[0].key.id, b.id);
    bool busy = false;
    auto same = q_.same_content_receipt(jobs[0], "https://old-dfu/files/", &busy).value();
    ASSERT_TRUE(same) << "the store that has it is still the configured one";
    EXPECT_EQ(same->first, a.id);

    // The DFU moved its store: the new one does not have this content.
    EXPECT_FALSE(q_.same_content_receipt(jobs[0], kDfu, &busy).value());
    EXPECT_FALSE(busy) << "the lowest id not received by the new store travels";
    EXPECT_FALSE(q_.same_content_receipt(jobs[1], kDfu, &busy).value());
    EXPECT_TRUE(busy) << "and its copy waits for it";
    ASSERT_NO_FATAL_FAILURE(receive(b, "https://dfu/files/b"));
    same = q_.same_content_receipt(jobs[1], kDfu, &busy).value();
    ASSERT_TRUE(same);
    EXPECT_EQ(same->first, b.id) << "the receipt from the configured store, not the old one";
    EXPECT_EQ(same->second.url, "https://dfu/files/b");
    EXPECT_EQ(jobs[1].key.id, c.id);
}

TEST_F(UploadQueueTest, EveryFailedItemAndManifestCanBeQueuedAgainAtOnce) {
    auto a = ev_.add_item(10, 1);
    ASSERT_TRUE(q_.enqueue_new_items());
    ASSERT_NO_FATAL_FAILURE(receive(a, "https://dfu/files/a"));
    const auto first = ev_.session_id();
    ev_.end_session();
    ASSERT_TRUE(q_.add_manifest(first, "{}", std::string(64, 'a'), "c2ln", "SHA256:x"));
    ASSERT_TRUE(q_.mark_failed({JobKind::manifest, first}, "HTTP 403: forbidden"));
    ev_.use_session(ev_.new_session(store::Priority::normal));
    auto b = ev_.add_item(11, 2);
    auto c = ev_.add_item(12, 3);
    auto d = ev_.add_item(13, 4);
    ASSERT_TRUE(q_.enqueue_new_items());
    ASSERT_TRUE(q_.mark_failed({JobKind::item, b.id}, "HTTP 403: forbidden"));
    ASSERT_TRUE(q_.mark_failed({JobKind::item, c.id}, "HTTP 400: bad request"));
    auto failed = q_.failed_jobs(10).value();
    ASSERT_EQ(failed.size(), 3u);
    EXPECT_EQ(describe(failed[0].key) + ": " + failed[0].reason,
              fmt::format("item {}: HTTP 403: forbidden", b.id));
    EXPECT_EQ(failed[1].key, (JobKey{JobKind::item, c.id}));
    EXPECT_EQ(failed[2].key, (JobKey{JobKind::manifest, first})) << "items first, then manifests";
    EXPECT_EQ(q_.failed_jobs(2).value().size(), 2u);

    EXPECT_EQ(q_.retry_failed("admin:0").value(), 3u);
    EXPECT_EQ(ev_.upload_column(b.id, "state"), "queued");
    EXPECT_EQ(ev_.upload_column(c.id, "state"), "queued");
    EXPECT_EQ(ev_.upload_column(d.id, "state"), "queued");
    EXPECT_EQ(ev_.upload_column(a.id, "state"), "received") << "untouched";
    EXPECT_EQ(ev_.query("SELECT state FROM manifests"), "queued");
    EXPECT_EQ(audits("upload.retried"), 3);
    EXPECT_EQ(ev_.query_int("SELECT count(*) FROM audit WHERE event = 'upload.retried' AND actor "
                            "= 'admin:0'"),
              3);
    EXPECT_EQ(q_.retry_failed("admin:0").value(), 0u) << "nothing has failed any more";
    EXPECT_TRUE(ev_.store().audit().verify().value().ok());
}

TEST_F(UploadQueueTest, AManifestIsDueOnlyForAnEndedSessionWhoseItemsAreAllSettled) {
    auto a = ev_.add_item(10, 1);
    auto b = ev_.add_item(10, 2);
    ASSERT_TRUE(q_.enqueue_new_items());
    EXPECT_TRUE(q_.sessions_awaiting_manifest().value().empty());
    ev_.end_session();
    EXPECT_TRUE(q_.sessions_awaiting_manifest().value().empty()) << "items not received";
    ASSERT_NO_FATAL_FAILURE(receive(a, "https://dfu/files/a"));
    EXPECT_TRUE(q_.sessions_awaiting_manifest().value().empty());
    ASSERT_TRUE(q_.cancel(b.id, "admin:0"));
    EXPECT_EQ(q_.sessions_awaiting_manifest().value(), std::vector<std::int64_t>{ev_.session_id()});
    auto deliveries = q_.deliveries(ev_.session_id()).value();
    EXPECT_EQ(deliveries[std::to_string(a.id)]["state"], "received");
    EXPECT_EQ(deliveries[std::to_string(a.id)]["url"], "https://dfu/files/a");
    EXPECT_EQ(deliveries[std::to_string(b.id)]["state"], "cancelled");
    ASSERT_TRUE(q_.add_manifest(ev_.session_id(), "{}", std::string(64, 'a'), "c2ln", "SHA256:x"));
    EXPECT_TRUE(q_.sessions_awaiting_manifest().value().empty());
    auto jobs = q_.runnable(true, 10).value();
    ASSERT_EQ(jobs.size(), 1u);
    EXPECT_EQ(jobs[0].key.kind, JobKind::manifest);
    EXPECT_EQ(jobs[0].body, "{}");
}

TEST_F(UploadQueueTest, SnapshotAndRequestedSyncAndRestart) {
    auto a = ev_.add_item(1000, 1);
    clock_.advance(1s);
    ev_.add_item(500, 2);
    ASSERT_TRUE(q_.enqueue_new_items());
    const JobKey ka{JobKind::item, a.id};
    ASSERT_TRUE(q_.mark_uploading(ka));
    ASSERT_TRUE(q_.set_offset(ka, 400));
    auto snap = q_.snapshot().value();
    EXPECT_EQ(snap.items.queued, 1u);
    EXPECT_EQ(snap.items.uploading, 1u);
    EXPECT_EQ(snap.bytes_pending, 600u + 500u);
    EXPECT_EQ(snap.oldest_unsent_item, a.id);
    EXPECT_FALSE(snap.last_success);
    EXPECT_FALSE(snap.sync_requested);

    ASSERT_TRUE(q_.requeue_interrupted());
    EXPECT_EQ(q_.snapshot().value().items.uploading, 0u) << "a restart queues them again";
    EXPECT_EQ(
        ev_.query_int("SELECT remote_offset FROM uploads WHERE item_id = " + std::to_string(a.id)),
        400);

    ASSERT_TRUE(q_.request_sync("admin:0"));
    EXPECT_TRUE(q_.sync_requested().value());
    EXPECT_EQ(q_.normal_pending().value(), 2u);
    ASSERT_TRUE(q_.clear_sync_request());
    EXPECT_FALSE(q_.sync_requested().value());
}

}  // namespace
}  // namespace exhibit::upload
