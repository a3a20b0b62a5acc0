// The DFU's receiving end at force scale (dfu/, docs/dfu.md): the kiosk's uploader delivering
// through exhibit-dfu-server (two tus server processes behind one address, mutual TLS) onto a
// real single-node Ceph cluster started for this binary, with s3cmd as the referee reading the
// bucket. Receipts by hash, not offsets, decide what is received.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "daemon/metrics/heartbeat.hpp"
#include "daemon/upload/uploader.hpp"
#include "tests/support/dfu_store.hpp"
#include "tests/support/upload_fixture.hpp"

namespace exhibit::upload {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
constexpr std::uint64_t MiB = 1 << 20;

class DfuStore : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        dir_ = new testing::TempDir();
        ceph_ = new testing::CephCluster(dir_->path() / "ceph");
        tls_ = testing::make_tls(dir_->path() / "tls", "dfu");
    }
    static void TearDownTestSuite() {
        delete ceph_;
        delete dir_;
    }
    void SetUp() override {
        ASSERT_TRUE(ceph_->ok()) << ceph_->error();
        RecordProperty("ceph_start_ms", std::to_string(ceph_->start_time().count()));
    }

    // A server in front of this test's own bucket (made at its first server).
    std::unique_ptr<testing::DfuServer> start_server(int workers,
                                                     std::vector<std::string> args = {}) {
        const auto dir = dir_->path() / ("server-" + std::to_string(++servers_));
        if (bucket_.empty()) {
            bucket_ = "evidence-" + std::to_string(servers_);
            env_file_ = ceph_->new_bucket(bucket_, dir).value_or(fs::path());
            EXPECT_FALSE(env_file_.empty()) << "cannot make bucket " << bucket_;
        }
        auto server =
            std::make_unique<testing::DfuServer>(env_file_, tls_, dir, workers, std::move(args));
        EXPECT_TRUE(server->ok()) << server->log();
        return server;
    }
    std::unique_ptr<Uploader> start_uploading(const testing::DfuServer& server,
                                              int concurrency = 2) {
        auto o = testing::test_options(server.endpoint(), tls_);
        o.concurrency = concurrency;
        return Uploader::create(loop_.get(), ev_.store(), std::move(o)).value();
    }
    bool all_received(std::chrono::milliseconds timeout) {
        return loop_.run_until(
            [&] {
                return ev_.query_int("SELECT count(*) FROM uploads WHERE state = 'received'") ==
                       ev_.query_int("SELECT count(*) FROM items");
            },
            timeout);
    }
    // Each item's state and last error, for a failure's message.
    std::string queue_report() {
        std::string out;
        for (std::int64_t item = 1; item <= ev_.query_int("SELECT max(id) FROM items"); ++item)
            out += "item " + std::to_string(item) + ": " + ev_.upload_column(item, "state") +
                   ", " + ev_.upload_column(item, "last_error") + "\n";
        return out;
    }
    nlohmann::json receipt(std::int64_t item) {
        return nlohmann::json::parse(ev_.upload_column(item, "receipt"));
    }
    // The store's receipts, by the item they name (Upload-Metadata's item_id).
    std::multimap<std::int64_t, nlohmann::json> stored_receipts() {
        std::multimap<std::int64_t, nlohmann::json> out;
        for (const auto& key : ceph_->keys(bucket_)) {
            if (!key.ends_with(".receipt"))
                continue;
            auto r = nlohmann::json::parse(ceph_->get(bucket_, key).value_or("null"));
            const auto item = r["metadata"].value("item_id", "");
            if (!item.empty())
                out.emplace(std::stoll(item), r);
        }
        return out;
    }
    // Checks item by item: its receipt at the kiosk is the store's, and names the object the
    // store holds (read back by the referee), whose hash is the item's.
    void expect_delivered_once(const std::set<std::int64_t>& items) {
        auto at_store = stored_receipts();
        for (auto item : items) {
            SCOPED_TRACE("item " + std::to_string(item));
            const auto sha = ev_.query("SELECT sha256 FROM items WHERE id = " + std::to_string(item));
            auto r = receipt(item);
            EXPECT_EQ(r["rule"], "dfu-receipt") << r.dump();
            EXPECT_EQ(r["dfu_receipt"]["sha256"], sha);
            ASSERT_EQ(at_store.count(item), 1u) << "the store holds it once, and not twice";
            const auto& stored = at_store.find(item)->second;
            EXPECT_EQ(stored["verdict"], "matches");
            EXPECT_EQ(stored["upload_id"], r["dfu_receipt"]["upload_id"]);
            EXPECT_EQ(ceph_->sha256(bucket_, stored["key"].get<std::string>()), sha);
        }
    }

    // exhibit-verify on this test's bucket, as the DFU runs it: (exit status, output).
    std::pair<int, std::string> verify_bucket(std::vector<std::string> args) {
        std::vector<std::string> argv = {std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibit-verify",
                                         "--s3-env", env_file_.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back("s3://" + bucket_);
        return testing::run_command(argv, 300s);
    }

    static testing::TempDir* dir_;
    static testing::CephCluster* ceph_;
    static testing::TlsFiles tls_;
    static int servers_;
    std::string bucket_;
    fs::path env_file_;
    testing::EvidenceStore ev_;
    testing::EventLoop loop_;
};
testing::TempDir* DfuStore::dir_ = nullptr;
testing::CephCluster* DfuStore::ceph_ = nullptr;
testing::TlsFiles DfuStore::tls_;
int DfuStore::servers_ = 0;

TEST_F(DfuStore, AKioskDeliversThroughTwoServersOntoCephWithAReceiptForEveryItem) {
    auto server = start_server(2);
    ASSERT_TRUE(server->ok());
    // Sizes around the store's 5 MiB parts, and an empty item.
    std::set<std::int64_t> items;
    for (std::uint64_t size : {std::uint64_t{0}, std::uint64_t{1}, 5 * MiB - 1, 5 * MiB + 1,
                               12 * MiB, 3 * MiB})
        items.insert(ev_.add_item(size, 10 + items.size()).id);
    auto up = start_uploading(*server, 3);
    ASSERT_TRUE(all_received(120s)) << queue_report() << server->log();
    expect_delivered_once(items);
    // The uploads were spread over both tus server processes.
    const auto log = server->log();
    for (const char* worker : {"worker 1: ", "worker 2: "})
        EXPECT_NE(log.find(std::string(worker)), std::string::npos) << worker << "\n" << log;
    EXPECT_NE(log.find("bytes stored; hashing"), std::string::npos) << log;
}

TEST_F(DfuStore, TwentyKilledServersLoseNothingAndDeliverNothingTwice) {
    auto server = start_server(2);
    ASSERT_TRUE(server->ok());
    std::set<std::int64_t> items;
    for (int i = 0; i < 10; ++i)
        items.insert(ev_.add_item((3 + 3 * i) * MiB + 7 * i, 100 + i).id);
    auto up = start_uploading(*server, 2);

    // Kill one of the tus server processes at a random moment, twenty times, while the kiosk
    // delivers; the primary starts another in its place.
    std::mt19937 random(20261207);
    int kills = 0;
    std::atomic<bool> stop = false;
    std::thread killer([&] {
        while (kills < 20 && !stop) {
            std::this_thread::sleep_for(
                std::chrono::milliseconds(std::uniform_int_distribution(150, 900)(random)));
            auto workers = server->workers();
            if (workers.empty())
                continue;
            ::kill(workers[std::uniform_int_distribution<std::size_t>(0, workers.size() - 1)(random)],
                   SIGKILL);
            ++kills;
        }
    });
    const bool received = all_received(300s);
    stop = true;
    killer.join();
    ASSERT_TRUE(received) << queue_report() << server->log();
    EXPECT_EQ(kills, 20) << "the deliveries ended before 20 kills";
    expect_delivered_once(items);
    // How many kills fell in the crash window (the object assembled from its parts by a
    // receipt request or the sweeper, not by the tus server that took the last bytes).
    int crash_windows = 0;
    for (const auto& [item, r] : stored_receipts())
        crash_windows += r["assembled_by"] != "upload";
    RecordProperty("kills", std::to_string(kills));
    RecordProperty("crash_windows", std::to_string(crash_windows));
    std::cout << "20 kills, " << crash_windows << " in the crash window\n";
}

TEST_F(DfuStore, AnUploadLeftInTheCrashWindowIsAssembledOnAskingAndByTheSweeper) {
    auto crash_window = [&] {
        auto [status, out] = testing::run_command(
            {testing::node_binary(), (testing::source_dir() / "tests/dfu/crash-window.mjs").string(),
             env_file_.string(), std::to_string(12 * MiB + 3), "1"},
            60s, {"EXHIBIT_DFU_NODE_DEPS=" + (testing::source_dir() / ".node-deps/dfu").string()});
        EXPECT_EQ(status, 0) << out;
        std::istringstream in(out);
        std::pair<std::string, std::string> id_sha;
        in >> id_sha.first >> id_sha.second;
        return id_sha;
    };
    // A server whose sweeper has run once (at its start) and not again for an hour.
    auto server = start_server(1, {"--sweep-interval", "3600"});
    ASSERT_TRUE(server->ok());
    auto [id, sha] = crash_window();
    auto keys = ceph_->keys(bucket_);
    ASSERT_TRUE(std::ranges::count(keys, id + ".info"));
    ASSERT_FALSE(std::ranges::count(keys, id)) << "no object yet: the crash window";

    // Asking for its receipt (as a kiosk does once HEAD says offset = length) assembles it.
    // (curl's status, the answer's body and its HTTP status on a last line)
    auto ask = [&](const std::string& upload) {
        auto answer = testing::run_command(
            {"curl", "-sS", "-w", "\n%{http_code}", "--cacert", tls_.ca_cert.string(), "--cert",
             tls_.client_cert.string(), "--key", tls_.client_key.string(),
             server->endpoint() + upload + "/receipt"},
            60s);
        while (answer.second.ends_with('\n'))
            answer.second.pop_back();
        return answer;
    };
    auto [status, answer] = ask(id);
    ASSERT_EQ(status, 0) << answer;
    ASSERT_TRUE(answer.ends_with("\n200")) << answer;
    answer.resize(answer.rfind('\n'));
    auto r = nlohmann::json::parse(answer, nullptr, false);
    ASSERT_TRUE(r.is_object()) << answer;
    EXPECT_EQ(r["sha256"], sha);
    EXPECT_EQ(r["verdict"], "matches");
    EXPECT_EQ(r["assembled_by"], "worker 1");
    EXPECT_EQ(ceph_->sha256(bucket_, id), sha);

    // Another process hashing the object (its marker fresh) is waited for, not duplicated;
    // its marker left unrenewed (the process died) is taken over after the lease of 15 s.
    auto [id3, sha3] = crash_window();
    ASSERT_TRUE(ceph_->put(bucket_, id3 + ".hashing",
                           nlohmann::json{{"by", "worker 9"}, {"at", format_utc_ms(Clock::system().now())}}
                               .dump()));
    // (The server watches for the receipt for up to 10 s before it answers pending.)
    const auto marked = std::chrono::steady_clock::now();
    auto [busy_status, busy] = ask(id3);
    EXPECT_TRUE(busy.ends_with("\n202")) << busy;
    EXPECT_NE(busy.find("being hashed"), std::string::npos) << busy;
    std::this_thread::sleep_until(marked + 16s);
    auto [taken_status, taken] = ask(id3);
    ASSERT_TRUE(taken.ends_with("\n200")) << taken;
    EXPECT_NE(taken.find(sha3), std::string::npos) << taken;
    EXPECT_FALSE(ceph_->get(bucket_, id3 + ".hashing")) << "the marker goes with the receipt";

    // A record that is not one (sorted first, so the sweeper meets it first) is named, answered
    // 503, and keeps the sweeper from nothing else.
    const std::string bogus(32, '0');
    ASSERT_TRUE(ceph_->put(bucket_, bogus + ".info", "not a tus record"));
    auto [bogus_status, bogus_answer] = ask(bogus);
    EXPECT_TRUE(bogus_answer.ends_with("\n503")) << bogus_answer;
    EXPECT_NE(bogus_answer.find("cannot be read"), std::string::npos) << bogus_answer;

    // One no kiosk asks about any more: the sweeper of a server started now closes it.
    auto [id2, sha2] = crash_window();
    auto sweeping = start_server(1, {"--sweep-interval", "1"});
    ASSERT_TRUE(sweeping->ok());
    std::optional<std::string> receipt;
    for (int i = 0; i < 100 && !receipt; ++i) {
        receipt = ceph_->get(bucket_, id2 + ".receipt");
        if (!receipt)
            std::this_thread::sleep_for(200ms);
    }
    ASSERT_TRUE(receipt) << sweeping->log();
    EXPECT_NE(sweeping->log().find(bogus + ": cannot settle it"), std::string::npos)
        << sweeping->log();
    auto r2 = nlohmann::json::parse(*receipt);
    EXPECT_EQ(r2["assembled_by"], "sweeper");
    EXPECT_EQ(r2["verdict"], "matches");
    EXPECT_EQ(ceph_->sha256(bucket_, id2), sha2);
}

TEST_F(DfuStore, ExhibitVerifyReadsASessionFromTheBucketAndFailsOnceAnObjectIsAltered) {
    auto server = start_server(2);
    ASSERT_TRUE(server->ok());
    std::set<std::int64_t> items;
    for (std::uint64_t size : {7 * MiB + 5, 2 * MiB, std::uint64_t{11}})
        items.insert(ev_.add_item(size, 40 + items.size()).id);
    ev_.end_session();
    auto up = start_uploading(*server, 2);
    ASSERT_TRUE(loop_.run_until(
        [&] {
            return ev_.query_int("SELECT count(*) FROM manifests WHERE state = 'received'") == 1;
        },
        120s))
        << server->log();
    expect_delivered_once(items);
    const auto fingerprint = ev_.store().identity().fingerprint();
    const auto session = std::to_string(ev_.session_id());

    auto [rc, out] = verify_bucket({"--fingerprint", fingerprint, "--session-id", session});
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("VERIFIED"), std::string::npos) << out;

    // Another session's filter finds no manifest: nothing is verified.
    auto [none_rc, none_out] = verify_bucket({"--fingerprint", fingerprint, "--session-id", "999"});
    EXPECT_NE(none_rc, 0) << none_out;

    // One byte of one item changed in the store: the DFU's check fails on that item.
    const auto receipts = stored_receipts();
    const auto& victim = receipts.find(*items.begin())->second;
    const auto key = victim["key"].get<std::string>();
    auto bytes = ceph_->get(bucket_, key);
    ASSERT_TRUE(bytes && !bytes->empty());
    (*bytes)[bytes->size() / 2] ^= 0x20;
    ASSERT_TRUE(ceph_->put(bucket_, key, *bytes));
    auto [bad_rc, bad_out] = verify_bucket({"--fingerprint", fingerprint, "--session-id", session});
    EXPECT_EQ(bad_rc, 1) << bad_out;
    EXPECT_NE(bad_out.find("FAILED"), std::string::npos) << bad_out;
}

TEST_F(DfuStore, ExhibitFleetReadsTheKiosksHeartbeatsFromTheBucket) {
    auto server = start_server(1);
    ASSERT_TRUE(server->ok());
    auto up = start_uploading(*server, 1);
    // Two heartbeats, sent as exhibitd sends them (Uploader::send_now, its metadata).
    const auto& key = ev_.store().identity();
    for (std::uint64_t sequence : {1u, 2u}) {
        metrics::KioskFigures figures;
        figures.items_complete = 5;
        auto hb = metrics::build_heartbeat(figures, key, "kiosk-ceph", "9.9.9", sequence,
                                           Clock::system().now())
                      .value();
        MetadataPairs metadata = {{"filename", "heartbeat.json"},
                                  {"type", "heartbeat"},
                                  {"kiosk_id", "kiosk-ceph"},
                                  {"sequence", std::to_string(sequence)},
                                  {"signature_algorithm", "ed25519"},
                                  {"signature", hb.signature},
                                  {"key_fingerprint", hb.key_fingerprint}};
        std::optional<Result<std::string>> sent;
        ASSERT_TRUE(up->send_now(hb.body, metadata, [&](Result<std::string> url) { sent = url; }));
        ASSERT_TRUE(loop_.run_until([&] { return sent.has_value(); }, 60s));
        ASSERT_TRUE(*sent) << sent->error().describe();
    }
    const auto kiosks = dir_->path() / "kiosks";
    std::ofstream(kiosks) << "kiosk-ceph " << key.fingerprint() << "\n";
    auto [rc, out] = testing::run_command(
        {std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibit-fleet", "--kiosks", kiosks.string(),
         "--s3-env", env_file_.string(), "--json", "s3://" + bucket_},
        120s);
    ASSERT_EQ(rc, 0) << out;
    auto report = nlohmann::json::parse(out.substr(out.find('{')), nullptr, false);
    ASSERT_TRUE(report.is_object()) << out;
    ASSERT_EQ(report["kiosks"].size(), 1u) << out;
    EXPECT_EQ(report["kiosks"][0]["kiosk"], "kiosk-ceph") << out;
    EXPECT_EQ(report["kiosks"][0]["heartbeats"], 2) << out;
}

TEST_F(DfuStore, TheServerEmptiesItsTemporaryFolderAtStart) {
    const auto tmp = dir_->path() / ("server-" + std::to_string(servers_ + 1)) / "tmp";
    fs::create_directories(tmp / "worker-1");
    std::ofstream(tmp / "worker-1" / "left-by-a-killed-worker") << std::string(1 << 20, 'x');
    std::ofstream(tmp / "stray") << "x";
    auto server = start_server(1);
    ASSERT_TRUE(server->ok());
    EXPECT_FALSE(fs::exists(tmp / "stray"));
    EXPECT_FALSE(fs::exists(tmp / "worker-1" / "left-by-a-killed-worker"));
}

}  // namespace
}  // namespace exhibit::upload
