// The upload channel against the real @tus/server + @tus/file-store on 127.0.0.1 with
// mutual TLS: sizes around the chunk, manifest last and signed, deduplication, cancellation,
// a server that lost an upload, TLS refusals, lanes and windows, and the bandwidth cap.
#include "daemon/upload/uploader.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/fs.hpp"
#include "daemon/store/manifest.hpp"
#include "daemon/upload/curl_glue.hpp"
#include "daemon/upload/rate_limiter.hpp"
#include "daemon/upload/tus_client.hpp"
#include "daemon/upload/tus_protocol.hpp"
#include "daemon/upload/upload_queue.hpp"
#include "tests/support/upload_fixture.hpp"

namespace exhibit::upload {
namespace {

using namespace std::chrono_literals;
using testing::EventLoop;
using testing::EvidenceStore;
using testing::PeerKind;
using testing::StoredUpload;
using testing::TusPeer;

class UploaderTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
        tls_ = testing::make_tls(dir_ / "tls", "dfu");
        peer_ = std::make_unique<TusPeer>(PeerKind::tus_server, dir_ / "server", tls_);
        ASSERT_TRUE(peer_->ok()) << "the tus server did not start (scripts/install-node-deps?)";
    }

    std::unique_ptr<Uploader> start(EvidenceStore& ev, UploadOptions o, const Clock& clock) {
        auto up = Uploader::create(loop_.get(), ev.store(), std::move(o), clock);
        EXPECT_TRUE(up) << up.error().describe();
        return up ? std::move(*up) : nullptr;
    }
    std::unique_ptr<Uploader> start(EvidenceStore& ev, UploadOptions o) {
        return start(ev, std::move(o), Clock::system());
    }
    UploadOptions options() const { return testing::test_options(peer_->endpoint(), tls_); }

    static std::int64_t count(EvidenceStore& ev, const std::string& where) {
        return ev.query_int("SELECT count(*) FROM uploads WHERE " + where);
    }
    bool all_received(EvidenceStore& ev) {
        return count(ev, "state != 'received'") == 0 && count(ev, "1") > 0;
    }
    std::vector<StoredUpload> stored() { return testing::stored_uploads(dir_ / "server"); }
    std::optional<StoredUpload> stored_item(std::int64_t item_id) {
        for (auto& u : stored())
            if (u.meta("item_id") == std::to_string(item_id))
                return u;
        return std::nullopt;
    }

    testing::TempDir dir_;
    testing::TlsFiles tls_;
    std::unique_ptr<TusPeer> peer_;
    EventLoop loop_;
};

TEST_F(UploaderTest, SizesAroundTheChunkArriveWholeWithTheirMetadata) {
    EvidenceStore ev;
    auto o = options();
    const std::uint64_t chunk = o.chunk_size;
    std::vector<store::ItemRecord> items;
    for (std::uint64_t size : {std::uint64_t{0}, std::uint64_t{1}, chunk - 1, chunk, chunk + 1})
        items.push_back(ev.add_item(size, 100 + size));
    auto up = start(ev, o);
    ASSERT_TRUE(up);
    ASSERT_TRUE(loop_.run_until([&] { return all_received(ev); }, 60s));

    for (const auto& item : items) {
        SCOPED_TRACE("size " + std::to_string(item.size));
        auto u = stored_item(item.id);
        ASSERT_TRUE(u) << "the server has the item";
        EXPECT_EQ(u->data_size, static_cast<std::uint64_t>(item.size));
        EXPECT_EQ(u->sha256, item.sha256) << "the server's file hashes to the item's sha256";
        EXPECT_EQ(u->meta("sha256"), item.sha256);
        EXPECT_EQ(u->meta("case_reference"), "CR/2026/0042");
        EXPECT_EQ(u->meta("exhibit_reference"), "EX-7");
        EXPECT_EQ(u->meta("session_id"), std::to_string(item.session_id));
        EXPECT_EQ(u->meta("category"), "videos");
        EXPECT_EQ(u->meta("kiosk_id"), "kiosk-test-01");
        EXPECT_EQ(u->meta("filename"), item.source_path.substr(item.source_path.rfind('/') + 1));
        auto receipt = nlohmann::json::parse(ev.upload_column(item.id, "receipt"));
        EXPECT_EQ(receipt["offset"], item.size);
        EXPECT_EQ(receipt["length"], item.size);
        EXPECT_EQ(receipt["checksum"], "not-offered");
        EXPECT_EQ(receipt["url"].get<std::string>().rfind(peer_->endpoint(), 0), 0u);
    }
    EXPECT_EQ(stored().size(), items.size()) << "one upload per item, none twice";
    EXPECT_EQ(ev.query_int("SELECT count(*) FROM audit WHERE event = 'upload.received'"), 5);
    EXPECT_EQ(ev.query_int("SELECT count(*) FROM audit WHERE event = 'upload.queued'"), 5);
    EXPECT_EQ(ev.query_int("SELECT count(*) FROM audit WHERE event = 'upload.created'"), 5);
    EXPECT_TRUE(ev.store().audit().verify().value().ok());

    auto st = up->status().value();
    EXPECT_EQ(st.queue.items.received, 5u);
    EXPECT_EQ(st.queue.bytes_pending, 0u);
    EXPECT_FALSE(st.queue.oldest_unsent_item);
    EXPECT_TRUE(st.queue.last_success);
    EXPECT_FALSE(st.last_error);
}

TEST_F(UploaderTest, ManifestGoesLastOnlyWhenEveryItemHasAReceiptAndItsSignatureVerifies) {
    EvidenceStore ev;
    auto a = ev.add_item(300'000, 1);
    auto b = ev.add_item(2'500'000, 2);
    auto up = start(ev, options());
    ASSERT_TRUE(up);
    ASSERT_TRUE(loop_.run_until([&] { return all_received(ev); }, 60s));
    loop_.run_for(500ms);
    EXPECT_EQ(ev.query_int("SELECT count(*) FROM manifests"), 0)
        << "no manifest while the session is still running";

    auto c = ev.add_item(700'000, 3);
    ev.end_session();
    up->items_added();
    ASSERT_TRUE(loop_.run_until(
        [&] { return ev.query("SELECT state FROM manifests") == "received"; }, 60s));

    // Audit order: every item received before the manifest was made, the manifest last.
    const auto last_item = ev.query_int(
        "SELECT max(seq) FROM audit WHERE event = 'upload.received' AND details LIKE "
        "'%\"item_id\"%'");
    const auto created = ev.query_int("SELECT seq FROM audit WHERE event = 'manifest.created'");
    const auto manifest_received = ev.query_int(
        "SELECT seq FROM audit WHERE event = 'upload.received' AND details LIKE "
        "'%manifest_of_session%'");
    EXPECT_LT(last_item, created);
    EXPECT_LT(created, manifest_received);

    std::optional<StoredUpload> manifest;
    for (auto& u : stored())
        if (u.meta("type") == "manifest")
            manifest = u;
    ASSERT_TRUE(manifest);
    auto body = fs::read_file(manifest->data, 1 << 20).value();
    EXPECT_EQ(manifest->sha256, ev.query("SELECT sha256 FROM manifests"));
    const auto& key = ev.store().identity().public_key();
    auto verified = store::verify_manifest(body, manifest->meta("signature"), key);
    EXPECT_TRUE(verified) << verified.error().message;
    EXPECT_EQ(manifest->meta("key_fingerprint"), key.fingerprint());
    auto doc = nlohmann::json::parse(body);
    ASSERT_EQ(doc["items"].size(), 3u);
    for (const auto& [i, item] : std::vector{std::pair{0, a}, {1, b}, {2, c}}) {
        EXPECT_EQ(doc["items"][i]["sha256"], item.sha256);
        EXPECT_EQ(doc["items"][i]["delivery"]["state"], "received");
        EXPECT_EQ(doc["items"][i]["delivery"]["url"].get<std::string>().rfind("https://", 0), 0u);
    }
    EXPECT_EQ(doc["kiosk"]["id"], "kiosk-test-01");
    EXPECT_EQ(doc["case"]["officer_id"], "PC 4711");
    EXPECT_EQ(doc["session"]["device"]["model"], "Pixel 7");

    // A tampered manifest does not verify.
    auto tampered = body;
    tampered[tampered.find("Pixel 7")] = 'Q';
    EXPECT_FALSE(store::verify_manifest(tampered, manifest->meta("signature"), key));
}

TEST_F(UploaderTest, SameContentInOneSessionIsSentOnce) {
    EvidenceStore ev;
    auto a = ev.add_item(1'500'000, 7);
    auto b = ev.add_item(1'500'000, 7);  // the same photo twice on the phone
    auto up = start(ev, options());
    ASSERT_TRUE(up);
    ASSERT_TRUE(loop_.run_until([&] { return all_received(ev); }, 60s));
    EXPECT_EQ(stored().size(), 1u) << "content the server already has is not sent twice";
    auto receipt_b = nlohmann::json::parse(ev.upload_column(b.id, "receipt"));
    EXPECT_EQ(receipt_b["same_content_as_item"], a.id);
    EXPECT_EQ(receipt_b["url"], nlohmann::json::parse(ev.upload_column(a.id, "receipt"))["url"]);
}

TEST_F(UploaderTest, ContentOnlyAStoreNoLongerConfiguredReceivedIsSentToTheNewOne) {
    EvidenceStore ev;
    auto a = ev.add_item(1'500'000, 7);
    TusPeer old(PeerKind::tus_server, dir_ / "old", tls_);
    ASSERT_TRUE(old.ok());
    {
        auto up = start(ev, testing::test_options(old.endpoint(), tls_));
        ASSERT_TRUE(up);
        ASSERT_TRUE(loop_.run_until([&] { return all_received(ev); }, 60s));
    }
    auto b = ev.add_item(1'500'000, 7);  // the same photo again, after the DFU moved its store
    auto up = start(ev, options());
    ASSERT_TRUE(up);
    ASSERT_TRUE(
        loop_.run_until([&] { return ev.upload_column(b.id, "state") == "received"; }, 60s));
    auto u = stored_item(b.id);
    ASSERT_TRUE(u) << "the configured store receives the content";
    EXPECT_EQ(u->sha256, a.sha256);
    auto receipt_b = nlohmann::json::parse(ev.upload_column(b.id, "receipt"));
    EXPECT_FALSE(receipt_b.contains("same_content_as_item"));
    EXPECT_TRUE(receipt_b["url"].get<std::string>().starts_with(peer_->endpoint()));
}

TEST_F(UploaderTest, AdminCancelStopsTheUploadAndDeletesItOnTheServer) {
    EvidenceStore ev;
    auto item = ev.add_item(40 << 20, 9);
    auto o = options();
    o.max_rate_in_window = 4 << 20;  // slow enough to cancel mid-way
    auto up = start(ev, o);
    ASSERT_TRUE(up);
    ASSERT_TRUE(
        loop_.run_until([&] { return testing::stored_bytes(dir_ / "server") > (2u << 20); }, 30s));
    ASSERT_TRUE(up->cancel_item(item.id, "admin:0"));
    ASSERT_TRUE(loop_.run_until(
        [&] {
            return ev.query_int("SELECT count(*) FROM audit WHERE event = 'upload.terminated'") ==
                   1;
        },
        30s));
    EXPECT_TRUE(stored().empty()) << "the server deleted the partial upload (termination)";
    EXPECT_EQ(ev.query("SELECT state FROM uploads"), "cancelled");
    EXPECT_EQ(ev.query("SELECT actor FROM audit WHERE event = 'upload.cancelled'"), "admin:0");
    EXPECT_FALSE(up->cancel_item(item.id, "admin:0"))
        << "a cancelled item cannot be cancelled again";
}

TEST_F(UploaderTest, AnUploadTheServerLostIsCreatedAgainAndAudited) {
    EvidenceStore ev;
    auto item = ev.add_item(12 << 20, 11);
    auto o = options();
    o.max_rate_in_window = 6 << 20;
    auto up = start(ev, o);
    ASSERT_TRUE(up);
    ASSERT_TRUE(
        loop_.run_until([&] { return testing::stored_bytes(dir_ / "server") > (1u << 20); }, 30s));
    for (auto& u : stored()) {  // the DFU lost it (expired, wiped)
        std::filesystem::remove(u.data);
        std::filesystem::remove(u.data.string() + ".json");
    }
    ASSERT_TRUE(loop_.run_until([&] { return all_received(ev); }, 60s));
    EXPECT_EQ(ev.query_int("SELECT count(*) FROM audit WHERE event = 'upload.recreated'"), 1);
    auto u = stored_item(item.id);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->sha256, item.sha256);
}

// An empty item would be whole at its creation: were the answer to that POST lost (the kiosk
// killed, the link cut), the kiosk would create it again and the DFU would hold the item
// twice (tests/daemon: crash_campaign found it). Its length is deferred instead, and declared
// by a bodiless PATCH once the upload's URL is in the catalog.
class UploaderEmptyItemTest : public UploaderTest {
  protected:
    void SetUp() override {
        ::setenv("TZ", "UTC", 1);
        ::tzset();
        tls_ = testing::make_tls(dir_ / "tls", "dfu");
        peer_ = std::make_unique<TusPeer>(PeerKind::tus_server, dir_ / "server", tls_, 0,
                                          std::vector<std::string>{"--log-requests"});
        ASSERT_TRUE(peer_->ok());
    }
    // The requests the server logged so far, as "METHOD id upload-length=… …" lines.
    std::vector<std::string> requests() {
        while (auto line = peer_->process().read_line(300ms))
            requests_.push_back(*line);
        return requests_;
    }
    // What an earlier kiosk's creation left on the server: an upload of `item` with its
    // length deferred. Returns its URL.
    std::string create_deferred(EvidenceStore& ev, const store::ItemRecord& item) {
        auto glue = CurlGlue::create(loop_.get()).value();
        const auto o = options();
        RateLimiter limiter;
        TusClient client(*glue, o, limiter);
        std::optional<Result<HttpResponse>> answer;
        auto metadata = encode_metadata({{"type", "item"},
                                         {"session_id", std::to_string(ev.session_id())},
                                         {"item_id", std::to_string(item.id)}})
                            .value();
        auto request = client.create(std::nullopt, metadata,
                                     [&](Result<HttpResponse> r) { answer = std::move(r); });
        EXPECT_TRUE(request);
        EXPECT_TRUE(loop_.run_until([&] { return answer.has_value(); }, 10s));
        if (!answer || !*answer || (*answer)->status != 201)
            return "";
        return resolve_location(o.endpoint, (*answer)->headers.get("location").value_or(""))
            .value_or("");
    }
    std::vector<std::string> requests_;
};

TEST_F(UploaderEmptyItemTest, ItsCreationDefersTheLengthThatAPatchDeclaresAfterTheUrlIsRecorded) {
    EvidenceStore ev;
    auto empty = ev.add_item(0, 40);
    auto one = ev.add_item(1, 41);
    auto up = start(ev, options());
    ASSERT_TRUE(up);
    ASSERT_TRUE(loop_.run_until([&] { return all_received(ev); }, 60s));
    auto u = stored_item(empty.id);
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->length_known);
    EXPECT_EQ(u->length, 0u);
    EXPECT_EQ(u->data_size, 0u);
    EXPECT_EQ(u->sha256, empty.sha256);
    EXPECT_EQ(stored().size(), 2u);

    const auto id = u->id;
    std::vector<std::string> posts, empty_patches;
    for (const auto& line : requests()) {
        if (line.starts_with("POST "))
            posts.push_back(line);
        if (line.starts_with("PATCH " + id + " "))
            empty_patches.push_back(line);
    }
    ASSERT_EQ(posts.size(), 2u);
    const auto deferred = std::ranges::count_if(posts, [](const std::string& l) {
        return l.find("upload-length=- upload-defer-length=1 ") != std::string::npos;
    });
    EXPECT_EQ(deferred, 1) << "the empty item's creation, and only it, defers its length";
    EXPECT_TRUE(std::ranges::any_of(posts, [](const std::string& l) {
        return l.find("upload-length=1 upload-defer-length=- ") != std::string::npos;
    })) << "a one-byte item states its length";
    ASSERT_EQ(empty_patches.size(), 1u);
    EXPECT_NE(empty_patches[0].find("upload-length=0 "), std::string::npos)
        << "the PATCH declares the length: " << empty_patches[0];
    EXPECT_EQ(nlohmann::json::parse(ev.upload_column(one.id, "receipt"))["length"], 1);
}

TEST_F(UploaderEmptyItemTest, ACreationWhoseAnswerWasLostLeavesNothingWholeAtTheDfu) {
    EvidenceStore ev;
    auto item = ev.add_item(0, 42);
    const auto lost = create_deferred(ev, item);  // the kiosk was killed before recording it
    ASSERT_FALSE(lost.empty());
    auto up = start(ev, options());
    ASSERT_TRUE(up);
    ASSERT_TRUE(loop_.run_until([&] { return all_received(ev); }, 60s));
    const auto url = nlohmann::json::parse(ev.upload_column(item.id, "receipt"))["url"];
    EXPECT_NE(url, lost) << "the kiosk never knew the lost creation's URL";
    int whole = 0;
    for (const auto& u : stored()) {
        EXPECT_EQ(u.meta("item_id"), std::to_string(item.id));
        whole += u.length_known && u.data_size == u.length;
    }
    EXPECT_EQ(stored().size(), 2u);
    EXPECT_EQ(whole, 1) << "the DFU holds the item once; the lost creation stays unfinished";
}

TEST_F(UploaderEmptyItemTest, AKioskStoppedBeforeThePatchDeclaresTheLengthOnTheSameUpload) {
    EvidenceStore ev;
    auto item = ev.add_item(0, 43);
    const auto url = create_deferred(ev, item);
    ASSERT_FALSE(url.empty());
    UploadQueue queue(ev.store(), Clock::system());
    ASSERT_EQ(queue.enqueue_new_items().value(), 1);
    ASSERT_TRUE(queue.set_remote(JobKey{JobKind::item, item.id}, url, std::nullopt));
    ASSERT_EQ(stored().size(), 1u);
    EXPECT_FALSE(stored()[0].length_known) << "not whole before the PATCH";

    auto up = start(ev, options());
    ASSERT_TRUE(up);
    ASSERT_TRUE(loop_.run_until([&] { return all_received(ev); }, 60s));
    EXPECT_EQ(nlohmann::json::parse(ev.upload_column(item.id, "receipt"))["url"], url)
        << "resumed on the recorded upload";
    ASSERT_EQ(stored().size(), 1u);
    EXPECT_TRUE(stored()[0].length_known);
    EXPECT_EQ(stored()[0].data_size, 0u);
    EXPECT_EQ(ev.query_int("SELECT count(*) FROM audit WHERE event = 'upload.recreated'"), 0);
    bool head = false;
    for (const auto& line : requests())
        head = head || line.starts_with("HEAD ");
    EXPECT_TRUE(head) << "it asked the server where the upload stood";
}

// The DFU moved its store and the configuration names the new one: an upload begun on the
// old store starts again on the new one (audited), and nothing more goes to the old one.
class UploaderMovedTest : public UploaderTest {
  protected:
    // Begins item_'s upload on a second ("old") server, stops it part-way, then starts an
    // uploader configured for the new server (peer_) in up_, which has not run yet.
    void SetUp() override {
        UploaderTest::SetUp();
        item_ = ev_.add_item(12 << 20, 31);
        old_ = std::make_unique<TusPeer>(PeerKind::tus_server, dir_ / "old", tls_);
        ASSERT_TRUE(old_->ok());
        auto o = testing::test_options(old_->endpoint(), tls_);
        o.max_rate_in_window = 4 << 20;
        auto up = start(ev_, o);
        ASSERT_TRUE(up);
        ASSERT_TRUE(
            loop_.run_until([&] { return testing::stored_bytes(dir_ / "old") > (1u << 20); }, 30s));
        up.reset();  // exhibitd stopped; its configuration is changed
        loop_.run_for(200ms);
        old_bytes_ = testing::stored_bytes(dir_ / "old");
        ASSERT_NE(ev_.query("SELECT remote_url FROM uploads").find(old_->endpoint()),
                  std::string::npos);
        up_ = start(ev_, options());
        ASSERT_TRUE(up_);
    }
    EvidenceStore ev_;
    store::ItemRecord item_;
    std::unique_ptr<TusPeer> old_;
    std::uint64_t old_bytes_ = 0;
    std::unique_ptr<Uploader> up_;
};

TEST_F(UploaderMovedTest, AnUploadBegunOnAStoreNoLongerConfiguredStartsAgainOnTheNewOne) {
    ASSERT_TRUE(loop_.run_until([&] { return all_received(ev_); }, 60s));
    auto u = stored_item(item_.id);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->sha256, item_.sha256);
    auto receipt = nlohmann::json::parse(ev_.upload_column(item_.id, "receipt"));
    EXPECT_TRUE(receipt["url"].get<std::string>().starts_with(peer_->endpoint()));
    const auto reason = ev_.query(
        "SELECT json_extract(details, '$.reason') FROM audit WHERE event = 'upload.recreated'");
    EXPECT_NE(reason.find("not on the configured DFU store"), std::string::npos) << reason;
    EXPECT_EQ(testing::stored_bytes(dir_ / "old"), old_bytes_) << "nothing more sent there";
}

TEST_F(UploaderMovedTest, CancellingSuchAnUploadDoesNotContactTheOldStore) {
    ASSERT_TRUE(up_->cancel_item(item_.id, "admin:0"));
    const auto error = ev_.query(
        "SELECT json_extract(details, '$.error') FROM audit WHERE event = "
        "'upload.termination_failed'");
    EXPECT_NE(error.find("not on the configured DFU store"), std::string::npos) << error;
    loop_.run_for(500ms);
    EXPECT_EQ(testing::stored_bytes(dir_ / "old"), old_bytes_) << "not deleted, not contacted";
    EXPECT_TRUE(stored().empty());
    EXPECT_EQ(ev_.query("SELECT state FROM uploads"), "cancelled");
}

// TLS refusals: nothing of the evidence leaves, the item stays queued with a clear error.
class UploaderTlsTest : public UploaderTest {
  protected:
    void expect_refused(UploadOptions o, const std::string& words) {
        EvidenceStore ev;
        ev.add_item(3 << 20, 21);
        auto up = start(ev, std::move(o));
        ASSERT_TRUE(up);
        ASSERT_TRUE(loop_.run_until(
            [&] { return !ev.query("SELECT last_error FROM uploads").empty(); }, 30s));
        // A few retries; between two attempts the item is back in the queue, never failed
        // or lost (sampled between attempts: during one it is briefly "uploading").
        ASSERT_TRUE(loop_.run_until(
            [&] {
                return ev.query_int("SELECT attempts FROM uploads") >= 2 &&
                       ev.query("SELECT state FROM uploads") == "queued" &&
                       up->status().value().queue.items.queued == 1;
            },
            30s))
            << "nothing is lost: " << ev.query("SELECT state FROM uploads");
        const auto error = ev.query("SELECT last_error FROM uploads");
        EXPECT_NE(error.find(words), std::string::npos) << error;
        EXPECT_TRUE(stored().empty()) << "no upload was created: no evidence was sent";
        EXPECT_EQ(testing::stored_bytes(dir_ / "server"), 0u);
        auto st = up->status().value();
        ASSERT_TRUE(st.last_error);
        EXPECT_NE(st.last_error->find(words), std::string::npos);
        EXPECT_EQ(st.queue.items.failed, 0u) << "a refusal by TLS is retried, not failed";
    }
};

TEST_F(UploaderTlsTest, MissingClientCertificate) {
    auto o = options();
    o.client_cert = dir_ / "tls/not-there.pem";
    expect_refused(o, "client certificate");
}

TEST_F(UploaderTlsTest, ClientCertificateFromAnotherCa) {
    auto other = testing::make_tls(dir_ / "tls-other", "rogue");
    auto o = options();
    o.client_cert = other.client_cert;
    o.client_key = other.client_key;
    expect_refused(o, "client certificate");
}

TEST_F(UploaderTlsTest, ServerCertificateFromAnUnknownCa) {
    auto other = testing::make_tls(dir_ / "tls-other", "rogue");
    auto o = options();
    o.ca_file = other.ca_cert;
    expect_refused(o, "server certificate is not trusted");
}

TEST_F(UploaderTlsTest, PinnedKeyThatDoesNotMatch) {
    auto other = testing::make_tls(dir_ / "tls-other", "rogue");
    auto o = options();
    o.pinned_public_key = testing::public_key_pin(other.server_cert);
    expect_refused(o, "pinned_public_key");
}

TEST_F(UploaderTest, PinnedKeyThatMatchesIsAccepted) {
    EvidenceStore ev;
    ev.add_item(100'000, 5);
    auto o = options();
    o.pinned_public_key = testing::public_key_pin(tls_.server_cert);
    auto up = start(ev, o);
    ASSERT_TRUE(up);
    EXPECT_TRUE(loop_.run_until([&] { return all_received(ev); }, 30s));
}

TEST_F(UploaderTest, NormalWaitsForTheWindowUrgentGoesAtOnceARequestedSyncOverrides) {
    testing::FakeClock clock(testing::utc_time(2026, 11, 30, 12, 0));  // midday
    EvidenceStore ev(clock);
    auto normal = ev.add_item(200'000, 31);
    ev.new_session(store::Priority::urgent);
    auto urgent = ev.add_item(200'000, 32);
    auto o = options();
    o.window_start = 22h;
    o.window_end = 6h;
    auto up = start(ev, o, clock);
    ASSERT_TRUE(up);
    auto state_of = [&](const store::ItemRecord& i) { return ev.upload_column(i.id, "state"); };
    ASSERT_TRUE(loop_.run_until([&] { return state_of(urgent) == "received"; }, 30s))
        << "urgent items go at any hour";
    loop_.run_for(1s);
    EXPECT_EQ(state_of(normal), "queued") << "normal items wait for the window";
    EXPECT_FALSE(up->status().value().window_open);

    clock.set(testing::utc_time(2026, 11, 30, 21, 59));
    up->reschedule();
    loop_.run_for(500ms);
    EXPECT_EQ(state_of(normal), "queued");

    clock.set(testing::utc_time(2026, 11, 30, 22, 0));
    up->reschedule();
    ASSERT_TRUE(loop_.run_until([&] { return state_of(normal) == "received"; }, 30s))
        << "the window opened at 22:00";

    // Next day at noon: a requested sync sends the normal lane outside the window.
    clock.set(testing::utc_time(2026, 12, 1, 12, 0));
    ev.use_session(ev.new_session(store::Priority::normal));
    auto later = ev.add_item(200'000, 33);
    up->items_added();
    loop_.run_for(1s);
    EXPECT_EQ(state_of(later), "queued");
    ASSERT_TRUE(up->request_sync("admin:0"));
    EXPECT_TRUE(up->status().value().normal_lane_open);
    ASSERT_TRUE(loop_.run_until([&] { return state_of(later) == "received"; }, 30s));
    ASSERT_TRUE(loop_.run_until([&] { return !up->status().value().queue.sync_requested; }, 10s))
        << "the request ends when nothing of the normal lane is left";
    EXPECT_EQ(ev.query("SELECT actor FROM audit WHERE event = 'upload.sync_requested'"), "admin:0");
}

// A reload that moves the window takes effect at once, without a restart.
TEST_F(UploaderTest, AScheduleChangedWhileRunningOpensTheNewWindow) {
    testing::FakeClock clock(testing::utc_time(2026, 11, 30, 12, 0));  // midday
    EvidenceStore ev(clock);
    auto normal = ev.add_item(200'000, 34);
    auto o = options();
    o.window_start = 22h;
    o.window_end = 6h;
    auto up = start(ev, o, clock);
    ASSERT_TRUE(up);
    auto state = [&] { return ev.upload_column(normal.id, "state"); };
    loop_.run_for(1s);
    EXPECT_EQ(state(), "queued") << "outside the configured window";
    up->set_schedule(11h, 13h, 0, 0, 1);
    EXPECT_TRUE(up->status().value().window_open);
    ASSERT_TRUE(loop_.run_until([&] { return state() == "received"; }, 30s))
        << "the new window (11:00-13:00) holds midday";
    EXPECT_EQ(up->options().concurrency, 1u);
}

TEST_F(UploaderTest, ANormalUploadStopsWhenTheWindowClosesAndResumesInTheNext) {
    testing::FakeClock clock(testing::utc_time(2026, 11, 30, 5, 59));
    EvidenceStore ev(clock);
    auto item = ev.add_item(16 << 20, 41);
    auto o = options();
    o.window_start = 22h;
    o.window_end = 6h;
    o.max_rate_in_window = 4 << 20;
    auto up = start(ev, o, clock);
    ASSERT_TRUE(up);
    ASSERT_TRUE(
        loop_.run_until([&] { return testing::stored_bytes(dir_ / "server") > (2u << 20); }, 30s));
    clock.set(testing::utc_time(2026, 11, 30, 6, 0));
    up->reschedule();
    ASSERT_TRUE(
        loop_.run_until([&] { return ev.query("SELECT state FROM uploads") == "queued"; }, 10s));
    const auto parked = testing::stored_bytes(dir_ / "server");
    loop_.run_for(1500ms);
    EXPECT_EQ(testing::stored_bytes(dir_ / "server"), parked) << "nothing sent after 06:00";
    EXPECT_LT(parked, static_cast<std::uint64_t>(item.size));
    clock.set(testing::utc_time(2026, 11, 30, 22, 0));
    up->reschedule();
    ASSERT_TRUE(loop_.run_until([&] { return all_received(ev); }, 60s));
    EXPECT_EQ(stored_item(item.id)->sha256, item.sha256);
    EXPECT_EQ(stored().size(), 1u) << "resumed, not restarted";
}

TEST_F(UploaderTest, BandwidthCapHoldsWithinTenPercent) {
    EvidenceStore ev;
    const std::uint64_t size = 32 << 20;
    ev.add_item(size, 51);
    auto o = options();
    const std::uint64_t cap = 8 << 20;
    o.max_rate_in_window = cap;
    o.chunk_size = 8 << 20;
    auto up = start(ev, o);
    ASSERT_TRUE(up);
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(loop_.run_until([&] { return all_received(ev); }, 60s));
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double rate = static_cast<double>(size) / seconds;
    EXPECT_GT(rate, 0.9 * static_cast<double>(cap)) << rate / (1 << 20) << " MiB/s";
    EXPECT_LT(rate, 1.1 * static_cast<double>(cap)) << rate / (1 << 20) << " MiB/s";
}

TEST_F(UploaderTest, TwoUploadsRunAtOnceUnderTheConcurrencyCap) {
    EvidenceStore ev;
    for (int i = 0; i < 4; ++i)
        ev.add_item(6 << 20, 60 + static_cast<std::uint64_t>(i));
    auto o = options();
    o.max_rate_in_window = 12 << 20;
    auto up = start(ev, o);
    ASSERT_TRUE(up);
    std::size_t most = 0;
    ASSERT_TRUE(loop_.run_until(
        [&] {
            most = std::max(most, up->status().value().active.size());
            return all_received(ev);
        },
        60s));
    EXPECT_EQ(most, 2u) << "default concurrency is 2";
}

}  // namespace
}  // namespace exhibit::upload
