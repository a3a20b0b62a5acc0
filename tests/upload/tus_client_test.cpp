// Requests as the in-tree tus server (tests/peers/tus-checksum-server.mjs) logs them. With the
// checksum extension (which @tus/server does not offer): every chunk carries its sha256, a
// chunk damaged in transit (460) is sent again, and the receipt says the server verified it.
// Without it: chunks grow while they go fast, and a body refused as too large (413, as by a
// proxy) halves them for that server.
#include "daemon/upload/tus_client.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <sstream>
#include <vector>

#include "daemon/upload/uploader.hpp"
#include "tests/support/upload_fixture.hpp"

namespace exhibit::upload {
namespace {

using namespace std::chrono_literals;

TEST(TusClientChecksum, EveryChunkCarriesItsSha256AndADamagedChunkIsSentAgain) {
    testing::TempDir dir;
    auto tls = testing::make_tls(dir / "tls", "dfu");
    testing::TusPeer peer(testing::PeerKind::checksum_server, dir / "server", tls, 0,
                          {"--corrupt-patch", "3"});
    ASSERT_TRUE(peer.ok());
    testing::EvidenceStore ev;
    auto big = ev.add_item((5 << 20) + 123, 1);  // 6 PATCHes of 1 MiB chunks
    auto small = ev.add_item(1000, 2);           // one PATCH after an empty creation
    testing::EventLoop loop;
    auto up = Uploader::create(loop.get(), ev.store(), testing::test_options(peer.endpoint(), tls))
                  .value();
    std::vector<std::string> lines;
    ASSERT_TRUE(loop.run_until(
        [&] { return ev.query_int("SELECT count(*) FROM uploads WHERE state = 'received'") == 2; },
        60s));
    while (auto line = peer.process().read_line(500ms))  // the server's log of PATCHes
        lines.push_back(*line);
    int ok = 0, mismatch = 0, absent = 0;
    for (const auto& l : lines) {
        ok += l.find("checksum=ok") != std::string::npos;
        mismatch += l.find("checksum=mismatch") != std::string::npos;
        absent += l.find("checksum=absent") != std::string::npos;
    }
    EXPECT_EQ(absent, 0) << "every body went with an Upload-Checksum";
    EXPECT_EQ(mismatch, 1) << "the damaged chunk was detected";
    EXPECT_EQ(ok, 7) << "6 chunks and the small item's PATCH";
    for (const auto& item : {big, small}) {
        bool found = false;
        for (auto& u : testing::stored_uploads(dir / "server"))
            if (u.meta("item_id") == std::to_string(item.id)) {
                found = true;
                EXPECT_EQ(u.sha256, item.sha256);
            }
        EXPECT_TRUE(found);
        auto receipt = nlohmann::json::parse(ev.upload_column(item.id, "receipt"));
        EXPECT_EQ(receipt["checksum"], "sha256-per-chunk");
    }
}

// What the server logged: for each item, the body sizes it took in order (PATCHes), and the
// sizes it refused as too large.
struct Requests {
    std::map<std::int64_t, std::vector<std::uint64_t>> taken;
    std::vector<std::uint64_t> refused;
    // Bodies whose connection was broken unanswered. curl sends a request again, once, when a
    // connection it reused dies before any answer: such a repeat is counted once.
    std::vector<std::uint64_t> reset;
    std::vector<std::uint64_t> unavailable;  // bodies answered 503
};

constexpr std::uint64_t MiB = 1 << 20;

class TusClientChunks : public ::testing::Test {
  protected:
    void start_server(std::vector<std::string> args) {
        tls_ = testing::make_tls(dir_ / "tls", "dfu");
        peer_ = std::make_unique<testing::TusPeer>(testing::PeerKind::checksum_server,
                                                   dir_ / "server", tls_, 0, std::move(args));
        ASSERT_TRUE(peer_->ok());
    }
    UploadOptions options() const {
        auto o = testing::test_options(peer_->endpoint(), tls_);
        o.concurrency = 1;         // one item after the other: what the first taught, the next uses
        o.chunk_growth_time = 1h;  // every chunk counts as fast: sizes do not depend on load
        return o;
    }
    // Starts uploading every item of `ev` on loop_; keep the uploader for no longer than `ev`.
    std::unique_ptr<Uploader> start_uploading(testing::EvidenceStore& ev, UploadOptions o) {
        return Uploader::create(loop_.get(), ev.store(), std::move(o)).value();
    }
    // Starts the server with `args` and starts uploading one new 1 MiB item of `ev`, with the
    // options as `adjust` leaves them; keep the uploader for no longer than `ev`.
    std::unique_ptr<Uploader> start_one_item(testing::EvidenceStore& ev,
                                             std::vector<std::string> args,
                                             const std::function<void(UploadOptions&)>& adjust) {
        start_server(std::move(args));
        ev.add_item(MiB, 1);
        auto o = options();
        adjust(o);
        return start_uploading(ev, std::move(o));
    }
    // Uploads every item of `ev` and returns what the server logged.
    Requests upload(testing::EvidenceStore& ev, UploadOptions o) {
        auto up = start_uploading(ev, std::move(o));
        EXPECT_TRUE(loop_.run_until(
            [&] {
                return ev.query_int("SELECT count(*) FROM uploads WHERE state = 'received'") ==
                       ev.query_int("SELECT count(*) FROM items");
            },
            60s));
        std::map<std::string, std::int64_t> item_of;  // server id -> item id
        for (auto& u : testing::stored_uploads(dir_ / "server")) {
            if (u.meta("type") != "item")
                continue;
            item_of[u.id] = std::stoll(u.meta("item_id"));
            EXPECT_EQ(u.sha256,
                      ev.query("SELECT sha256 FROM items WHERE id = " + u.meta("item_id")));
        }
        return server_log(item_of);
    }
    // What the server logged; PATCHes are attributed through `item_of` (server id -> item).
    Requests server_log(const std::map<std::string, std::int64_t>& item_of = {}) {
        Requests seen;
        while (auto line = peer_->process().read_line(500ms)) {
            std::istringstream in(*line);
            std::string verb, id, field;
            in >> verb >> id;
            while (in >> field)
                if (field.starts_with("length=")) {
                    const auto n = std::stoull(field.substr(7));
                    if (verb == "refused")
                        seen.refused.push_back(n);
                    else if (verb == "reset" && (seen.reset.empty() || seen.reset.back() != n))
                        seen.reset.push_back(n);
                    else if (verb == "unavailable")
                        seen.unavailable.push_back(n);
                    else if (verb == "patch" && item_of.contains(id))
                        seen.taken[item_of.at(id)].push_back(n);
                }
        }
        return seen;
    }

    testing::TempDir dir_;
    testing::TlsFiles tls_;
    std::unique_ptr<testing::TusPeer> peer_;
    testing::EventLoop loop_;
};

TEST_F(TusClientChunks, WithoutChecksumsAFastChunkDoublesTheNextUpToTheMaximum) {
    start_server({"--no-checksum"});
    testing::EvidenceStore ev;
    auto big = ev.add_item(40 * MiB + 5, 1);
    auto small = ev.add_item(1000, 2);
    auto o = options();
    o.max_chunk_size = 16 * MiB;
    auto seen = upload(ev, o);
    EXPECT_EQ(seen.taken[big.id],
              (std::vector<std::uint64_t>{MiB, 2 * MiB, 4 * MiB, 8 * MiB, 16 * MiB, 9 * MiB + 5}));
    EXPECT_EQ(seen.taken[small.id], std::vector<std::uint64_t>{1000}) << "in the creation";
    EXPECT_TRUE(seen.refused.empty());
    EXPECT_EQ(ev.upload_column(big.id, "json_extract(receipt, '$.checksum')"), "not-offered");
}

TEST_F(TusClientChunks, ChunksStayTheSameWhenTheyAreSlow) {
    start_server({"--no-checksum"});
    testing::EvidenceStore ev;
    auto slow = ev.add_item(3 * MiB, 1);
    auto o = options();
    o.chunk_growth_time = 0ms;  // no chunk is fast enough
    EXPECT_EQ(upload(ev, o).taken[slow.id], (std::vector<std::uint64_t>{MiB, MiB, MiB}));
}

TEST_F(TusClientChunks, ChunksStayTheSameWhenTheMaximumIsTheChunk) {
    start_server({"--no-checksum"});
    testing::EvidenceStore ev;
    auto item = ev.add_item(3 * MiB, 1);
    auto o = options();
    o.max_chunk_size = o.chunk_size;
    EXPECT_EQ(upload(ev, o).taken[item.id], (std::vector<std::uint64_t>{MiB, MiB, MiB}));
}

TEST_F(TusClientChunks, ABodyRefusedAsTooLargeHalvesTheChunkForThatServer) {
    start_server({"--no-checksum", "--max-body", std::to_string(3 * MiB)});
    testing::EvidenceStore ev;
    // Smaller than the first chunk, so its first PATCH carries it whole and is refused; half
    // of that is the server's limit from then on. (The creation carries no body.)
    const std::uint64_t first = 3 * MiB + MiB / 2;
    auto a = ev.add_item(first, 1);
    auto b = ev.add_item(5 * MiB, 2);
    auto o = options();
    o.chunk_size = 4 * MiB;
    auto seen = upload(ev, o);
    EXPECT_EQ(seen.refused, (std::vector<std::uint64_t>{first})) << "the PATCH of the whole item";
    EXPECT_EQ(seen.taken[a.id], (std::vector<std::uint64_t>{first / 2, first / 2}));
    EXPECT_EQ(seen.taken[b.id], (std::vector<std::uint64_t>{first / 2, first / 2, 5 * MiB - first}))
        << "the next item starts within the learned limit and never goes above it";
    EXPECT_EQ(ev.query_int("SELECT count(*) FROM uploads WHERE state = 'received'"), 2);
}

// Every counted retry makes the uploader ask the server's capabilities again; what it learned
// about body sizes stays: the retry does not send a refused size again.
TEST_F(TusClientChunks, ALearnedBodyLimitOutlivesTheRetryAfterAServerError) {
    start_server(
        {"--no-checksum", "--max-body", std::to_string(3 * MiB), "--unavailable-patch", "2"});
    testing::EvidenceStore ev;
    auto a = ev.add_item(10 * MiB, 1);
    auto o = options();
    o.chunk_size = 4 * MiB;
    auto seen = upload(ev, o);
    EXPECT_EQ(seen.unavailable, std::vector<std::uint64_t>{2 * MiB});
    EXPECT_EQ(seen.refused, std::vector<std::uint64_t>{4 * MiB}) << "once, before the 503";
    EXPECT_EQ(seen.taken[a.id], std::vector<std::uint64_t>(5, 2 * MiB));
}

// A learned limit lapses after kBodyLimitLifetime (a proxy's limit may have been raised):
// then the configured chunk is tried again.
TEST_F(TusClientChunks, ALearnedBodyLimitHoldsForItsLifetimeOnly) {
    start_server({"--no-checksum", "--max-body", std::to_string(3 * MiB)});
    testing::FakeClock clock(testing::utc_time(2026, 11, 29, 10, 0));
    testing::EvidenceStore ev(clock);
    auto o = options();
    o.chunk_size = 4 * MiB;
    auto up = Uploader::create(loop_.get(), ev.store(), o, clock).value();
    auto upload_one = [&](std::uint64_t seed) {
        auto item = ev.add_item(5 * MiB, seed);
        up->items_added();
        return loop_.run_until([&] { return ev.upload_column(item.id, "state") == "received"; },
                               30s);
    };
    ASSERT_TRUE(upload_one(1));
    EXPECT_EQ(server_log().refused, std::vector<std::uint64_t>{4 * MiB}) << "learned";
    clock.advance(kBodyLimitLifetime - 1min);
    ASSERT_TRUE(upload_one(2));
    EXPECT_TRUE(server_log().refused.empty()) << "still within the limit";
    clock.advance(1min);
    ASSERT_TRUE(upload_one(3));
    EXPECT_EQ(server_log().refused, std::vector<std::uint64_t>{4 * MiB}) << "lapsed, learned again";
}

// A proxy that resets the connection on a large body instead of answering 413: the server
// still answers a HEAD and has none of that body, so the body's size is taken as the cause.
TEST_F(TusClientChunks, ABodyWhoseConnectionIsResetUnansweredHalvesTheChunkForThatServer) {
    start_server({"--no-checksum", "--reset-body-over", std::to_string(3 * MiB)});
    testing::EvidenceStore ev;
    auto a = ev.add_item(10 * MiB, 1);
    auto b = ev.add_item(5 * MiB, 2);
    auto o = options();
    o.chunk_size = 4 * MiB;
    auto seen = upload(ev, o);
    EXPECT_EQ(seen.reset, std::vector<std::uint64_t>{4 * MiB}) << "once, then within the limit";
    EXPECT_EQ(seen.taken[a.id], std::vector<std::uint64_t>(5, 2 * MiB));
    EXPECT_EQ(seen.taken[b.id], (std::vector<std::uint64_t>{2 * MiB, 2 * MiB, MiB}));
    EXPECT_TRUE(seen.refused.empty());
    EXPECT_EQ(ev.upload_column(a.id, "attempts"), "0") << "no retry, no back-off";
}

// Reset even at the smallest chunk: not a size limit; the item waits with the error and is
// tried again later, as after any broken link.
TEST_F(TusClientChunks, ABodyResetEvenAtTheSmallestChunkIsRetriedWithTheError) {
    testing::EvidenceStore ev;
    auto up = start_one_item(ev, {"--no-checksum", "--reset-body-over", "1000"},
                             [](UploadOptions& o) { o.chunk_size = 256 * 1024; });
    ASSERT_TRUE(
        loop_.run_until([&] { return ev.query_int("SELECT attempts FROM uploads") >= 2; }, 30s));
    EXPECT_EQ(ev.query("SELECT state FROM uploads"), "queued");
    EXPECT_NE(ev.query("SELECT last_error FROM uploads").find("upload: "), std::string::npos)
        << ev.query("SELECT last_error FROM uploads");
    const auto reset = server_log().reset;
    ASSERT_GE(reset.size(), 3u);
    EXPECT_EQ((std::vector<std::uint64_t>{reset[0], reset[1], reset[2]}),
              (std::vector<std::uint64_t>{256 * 1024, 128 * 1024, 64 * 1024}))
        << "halved down to the smallest chunk, then a retry";
}

TEST_F(TusClientChunks, ASmallBodyRefusedAsTooLargeFailsTheItemUntilAnAdminRetriesIt) {
    testing::EvidenceStore ev;
    auto up = start_one_item(ev, {"--no-checksum", "--max-body", "1000"}, [](UploadOptions& o) {
        o.chunk_size = 64 * 1024;
        o.max_rejections = 1;
    });
    ASSERT_TRUE(
        loop_.run_until([&] { return ev.query("SELECT state FROM uploads") == "failed"; }, 30s));
    EXPECT_NE(ev.query("SELECT last_error FROM uploads").find("HTTP 413"), std::string::npos)
        << ev.query("SELECT last_error FROM uploads");

    // An administrator queues it again (once the DFU has raised its limit, say): it is tried
    // again from the start of its attempts, and here fails again.
    EXPECT_FALSE(
        up->retry({JobKind::item, ev.query_int("SELECT item_id FROM uploads") + 1}, "admin:0"))
        << "no such failed item";
    ASSERT_EQ(up->retry_failed("admin:0").value(), 1u);
    EXPECT_EQ(ev.query("SELECT state FROM uploads"), "queued");
    ASSERT_TRUE(loop_.run_until(
        [&] {
            return ev.query_int("SELECT count(*) FROM audit WHERE event = 'upload.failed'") == 2;
        },
        30s));
    EXPECT_EQ(ev.query("SELECT actor FROM audit WHERE event = 'upload.retried'"), "admin:0");
    EXPECT_EQ(up->retry_failed("admin:0").value(), 1u) << "failed again, so queued again";
}

TEST_F(TusClientChunks, AFailedManifestIsQueuedAgainOnItsOwn) {
    testing::EvidenceStore ev;
    start_server({"--no-checksum", "--max-body", "1000"});
    ev.add_item(10, 1);
    ev.end_session();
    auto o = options();
    o.max_rejections = 1;
    auto up = start_uploading(ev, o);
    ASSERT_TRUE(
        loop_.run_until([&] { return ev.query("SELECT state FROM manifests") == "failed"; }, 30s))
        << "the signed manifest is larger than the server takes";
    EXPECT_EQ(ev.query("SELECT state FROM uploads"), "received");
    const auto session = ev.query_int("SELECT session_id FROM manifests");
    EXPECT_FALSE(up->retry({JobKind::manifest, session + 1}, "admin:0")) << "no such manifest";
    EXPECT_FALSE(up->retry({JobKind::item, ev.query_int("SELECT item_id FROM uploads")}, "admin:0"))
        << "a received item is not retried";

    // The DFU raises its limit; an administrator queues the manifest again, and only it.
    const auto port = peer_->port();
    peer_.reset();
    peer_ =
        std::make_unique<testing::TusPeer>(testing::PeerKind::checksum_server, dir_ / "server",
                                           tls_, port, std::vector<std::string>{"--no-checksum"});
    ASSERT_TRUE(peer_->ok());
    ASSERT_TRUE(up->retry({JobKind::manifest, session}, "admin:0"));
    EXPECT_EQ(ev.query("SELECT state FROM manifests"), "queued");
    ASSERT_TRUE(loop_.run_until(
        [&] { return ev.query("SELECT state FROM manifests") == "received"; }, 30s));
    EXPECT_EQ(ev.query("SELECT json_extract(details, '$.manifest_of_session') FROM audit WHERE "
                       "event = 'upload.retried'"),
              std::to_string(session));
    int items = 0, manifests = 0;
    for (auto& u : testing::stored_uploads(dir_ / "server")) {
        items += u.meta("type") == "item";
        manifests +=
            u.meta("type") == "manifest" && u.sha256 == ev.query("SELECT sha256 FROM manifests");
    }
    EXPECT_EQ(items, 1) << "the item was not sent again";
    EXPECT_EQ(manifests, 1);
}

// A hostile or broken server whose answer never ends: the request is cut off with a named
// error, the item stays queued and is tried again later; nothing hangs.
class TusClientAnswers : public TusClientChunks {
  protected:
    void expect_cut_off(const std::string& what, const std::string& words) {
        testing::EvidenceStore ev;
        auto up = start_one_item(ev, {"--endless-answer", what}, [](UploadOptions&) {});
        ASSERT_TRUE(
            loop_.run_until([&] { return ev.query_int("SELECT attempts FROM uploads") >= 2; }, 30s))
            << "each attempt ends";
        EXPECT_EQ(ev.query("SELECT state FROM uploads"), "queued");
        const auto error = ev.query("SELECT last_error FROM uploads");
        EXPECT_NE(error.find(words), std::string::npos) << error;
    }
};

TEST_F(TusClientAnswers, HeadersThatNeverEndAreCutOff) {
    expect_cut_off("headers", "more than 65536 bytes of headers");
}

TEST_F(TusClientAnswers, ABodyThatNeverEndsIsCutOff) {
    expect_cut_off("body", "more than 1048576 bytes of body");
}

// A refusal in bytes that are not UTF-8, with terminal escapes: the item fails with a clean
// reason, which the catalog, its audit log and D-Bus strings can all hold.
TEST_F(TusClientAnswers, AGarbledRefusalFailsTheItemWithACleanReason) {
    testing::EvidenceStore ev;
    auto up =
        start_one_item(ev, {"--garbage-refusal"}, [](UploadOptions& o) { o.max_rejections = 1; });
    ASSERT_TRUE(
        loop_.run_until([&] { return ev.query("SELECT state FROM uploads") == "failed"; }, 30s));
    const auto reason = ev.query("SELECT last_error FROM uploads");
    EXPECT_NE(reason.find("HTTP 403: denied ??[31m red ?("), std::string::npos) << reason;
    EXPECT_TRUE(ev.store().audit().verify().value().ok());
    auto failed = up->failed_jobs(10).value();
    ASSERT_EQ(failed.size(), 1u);
    EXPECT_EQ(failed[0].reason, reason);
}

}  // namespace
}  // namespace exhibit::upload
