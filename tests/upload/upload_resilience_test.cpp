// The upload channel when things go wrong, with real processes: a 1 GiB item, the tus server
// SIGKILLed five times during a 1 GiB upload, the uploading process itself SIGKILLed and
// restarted, and a link that drops and stalls connections (the in-tree fault proxy).
#include <gtest/gtest.h>

#include <cstdlib>
#include <thread>

#include "daemon/upload/uploader.hpp"
#include "tests/support/upload_fixture.hpp"

namespace exhibit::upload {
namespace {

using namespace std::chrono_literals;
using testing::EventLoop;
using testing::EvidenceStore;
using testing::PeerKind;
using testing::TusPeer;

constexpr std::uint64_t kGiB = 1ULL << 30;

class ResilienceTest : public ::testing::Test {
  protected:
    void SetUp() override {
        tls_ = testing::make_tls(dir_ / "tls", "dfu");
        peer_ = std::make_unique<TusPeer>(PeerKind::tus_server, dir_ / "server", tls_);
        ASSERT_TRUE(peer_->ok()) << "the tus server did not start (scripts/install-node-deps?)";
    }
    std::optional<testing::StoredUpload> stored_item(std::int64_t item_id) {
        for (auto& u : testing::stored_uploads(dir_ / "server"))
            if (u.meta("item_id") == std::to_string(item_id))
                return u;
        return std::nullopt;
    }
    static bool received(EvidenceStore& ev) {
        return ev.query_int("SELECT count(*) FROM uploads WHERE state != 'received'") == 0 &&
               ev.query_int("SELECT count(*) FROM uploads") > 0;
    }

    testing::TempDir dir_;
    testing::TlsFiles tls_;
    std::unique_ptr<TusPeer> peer_;
    EventLoop loop_;
};

TEST_F(ResilienceTest, OneGibItemArrivesWhole) {
    EvidenceStore ev;
    auto item = ev.add_item(kGiB, 1);
    auto o = testing::test_options(peer_->endpoint(), tls_);
    o.chunk_size = kDefaultChunkSize;
    auto up = Uploader::create(loop_.get(), ev.store(), o).value();
    ASSERT_TRUE(loop_.run_until([&] { return received(ev); }, 180s));
    auto u = stored_item(item.id);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->data_size, kGiB);
    EXPECT_EQ(u->sha256, item.sha256) << "the server's file hashes to the item's sha256";
    EXPECT_EQ(testing::stored_uploads(dir_ / "server").size(), 1u);
}

TEST_F(ResilienceTest, ServerKilledFiveTimesDuringOneGibUploadStillCompletesAndVerifies) {
    EvidenceStore ev;
    auto item = ev.add_item(kGiB, 2);
    auto o = testing::test_options(peer_->endpoint(), tls_);
    o.chunk_size = kDefaultChunkSize;
    auto up = Uploader::create(loop_.get(), ev.store(), o).value();
    for (int kill = 1; kill <= 5; ++kill) {
        const std::uint64_t mark = kGiB * static_cast<std::uint64_t>(kill) / 6;
        ASSERT_TRUE(
            loop_.run_until([&] { return testing::stored_bytes(dir_ / "server") >= mark; }, 120s))
            << "kill " << kill;
        peer_->kill9();
        loop_.run_for(300ms);  // the client sees the dead server and backs off
        ASSERT_TRUE(peer_->restart()) << "restart " << kill;
    }
    ASSERT_TRUE(loop_.run_until([&] { return received(ev); }, 180s));
    auto u = stored_item(item.id);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->data_size, kGiB);
    EXPECT_EQ(u->sha256, item.sha256);
    EXPECT_EQ(testing::stored_uploads(dir_ / "server").size(), 1u)
        << "resumed every time, never created again";
    EXPECT_EQ(ev.query_int("SELECT count(*) FROM audit WHERE event = 'upload.received'"), 1);
}

TEST_F(ResilienceTest, UploaderKilledAndRestartedResumesFromTheServerOffsetAndIsReceivedOnce) {
    EvidenceStore ev;  // the session stays open: no manifest, only the item travels
    const std::uint64_t size = 256ULL << 20;
    const std::uint64_t chunk = kDefaultChunkSize;
    auto item = ev.add_item(size, 3);
    // A proxy that forwards everything and counts what each connection's client sent.
    testing::FaultProxy counter(peer_->port(), {});
    ASSERT_TRUE(counter.ok());
    const auto endpoint = "https://127.0.0.1:" + std::to_string(counter.port()) + "/files/";
    const auto runner = std::string(EXHIBIT_BINARY_DIR) + "/tests/upload_runner";
    const std::vector<std::string> base = {runner,       "upload",
                                           "--state",    (ev.dir() / "state").string(),
                                           "--endpoint", endpoint,
                                           "--ca",       tls_.ca_cert.string(),
                                           "--cert",     tls_.client_cert.string(),
                                           "--key",      tls_.client_key.string(),
                                           "--chunk",    std::to_string(chunk)};
    auto slow = base;
    slow.insert(slow.end(), {"--rate", std::to_string(64 << 20)});
    auto first = testing::Process::start(slow);
    std::uint64_t confirmed = 0;
    const auto prefix = "confirmed " + std::to_string(item.id) + " ";
    while (confirmed < size / 3) {
        auto line = first.read_line(30s);
        ASSERT_TRUE(line) << "the first run made no progress";
        if (line->starts_with(prefix))
            confirmed = std::stoull(line->substr(prefix.size()));
    }
    first.kill(SIGKILL);
    first.wait(10s);
    while (auto line = first.read_line(100ms))  // anything printed before it died
        if (line->starts_with(prefix))
            confirmed = std::stoull(line->substr(prefix.size()));
    std::this_thread::sleep_for(500ms);  // let the server write what it received
    auto partial = stored_item(item.id);
    ASSERT_TRUE(partial);
    const std::uint64_t server_offset = partial->data_size;
    EXPECT_GE(server_offset, confirmed) << "the server kept what it confirmed";
    EXPECT_LT(server_offset, size);
    EXPECT_EQ(ev.query("SELECT state FROM uploads"), "uploading") << "killed mid-upload";

    auto second = testing::Process::start(base);
    auto done = second.wait_for_line("done ", 120s);
    ASSERT_TRUE(done) << "the second run did not finish";
    const auto sent = std::stoull(done->substr(done->find("bytes_sent=") + 11));
    EXPECT_EQ(sent, size - server_offset)
        << "it resumed from the server's offset (a HEAD), not from zero or its own record";
    second.wait(10s);
    // Everything both runs sent, as the proxy counted it once their connections closed: the
    // item once, what the first run had in flight when it died (at most one chunk), and the
    // requests' TLS and HTTP overhead. Starting again from zero would add a third of it.
    std::uint64_t sent_total = 0;
    while (auto line = counter.process().read_line(2s)) {
        const auto at = line->find(" up ");
        if (line->starts_with("closed ") && at != std::string::npos)
            sent_total += std::stoull(line->substr(at + 4));
    }
    EXPECT_GE(sent_total, size);
    EXPECT_LE(sent_total, size + chunk + size / 100) << "bytes sent again: at most one chunk";

    auto uploads = testing::stored_uploads(dir_ / "server");
    ASSERT_EQ(uploads.size(), 1u) << "received exactly once";
    EXPECT_EQ(uploads[0].sha256, item.sha256);
    EXPECT_EQ(ev.query("SELECT state FROM uploads"), "received");
    EXPECT_EQ(ev.query_int("SELECT count(*) FROM audit WHERE event = 'upload.received'"), 1);
    EXPECT_EQ(ev.query_int("SELECT count(*) FROM audit WHERE event = 'upload.created'"), 1);
    EXPECT_TRUE(ev.store().audit().verify().value().ok());
}

TEST_F(ResilienceTest, UploadsCompleteThroughALinkThatDropsAndStallsConnections) {
    testing::FaultProxy proxy(peer_->port(), {"--drop-after", "6000000", "--stall-after", "6000000",
                                              "--every", "1", "--seed", "7"});
    ASSERT_TRUE(proxy.ok());
    EvidenceStore ev;
    auto a = ev.add_item(12 << 20, 4);
    auto b = ev.add_item(3 << 20, 5);
    auto o = testing::test_options("https://127.0.0.1:" + std::to_string(proxy.port()) + "/files/",
                                   tls_);
    o.stall_timeout = 2s;
    auto up = Uploader::create(loop_.get(), ev.store(), o).value();
    ASSERT_TRUE(loop_.run_until([&] { return received(ev); }, 120s));
    int faults = 0;
    while (auto line = proxy.process().read_line(500ms))
        faults += line->starts_with("drop") || line->starts_with("stall");
    EXPECT_GE(faults, 2) << "the proxy did drop and stall connections";
    for (const auto& item : {a, b}) {
        auto u = stored_item(item.id);
        ASSERT_TRUE(u);
        EXPECT_EQ(u->sha256, item.sha256);
    }
    EXPECT_EQ(testing::stored_uploads(dir_ / "server").size(), 2u);
}

}  // namespace
}  // namespace exhibit::upload
