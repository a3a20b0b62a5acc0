// The kiosk trusts receipts, not offsets, where the DFU store writes them (docs/upload.md,
// "Receipts"): against the in-tree tus server with its --receipts modes, which hashes what it
// stored as exhibit-dfu-server does, and lies, stalls or babbles on request. The same rule
// against exhibit-dfu-server on Ceph is tests/dfu.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "daemon/upload/uploader.hpp"
#include "tests/support/upload_fixture.hpp"

namespace exhibit::upload {
namespace {

using namespace std::chrono_literals;
constexpr std::uint64_t MiB = 1 << 20;

class DfuReceipts : public ::testing::Test {
  protected:
    // Starts the server with `args`, stores `items` items of `size` bytes and uploads them
    // until every one is received or `timeout` passes.
    bool deliver(std::vector<std::string> args, int items, std::uint64_t size,
                 std::chrono::milliseconds timeout = 60s,
                 const std::function<void(UploadOptions&)>& adjust = {}) {
        tls_ = testing::make_tls(dir_.path() / "tls", "dfu");
        peer_ = std::make_unique<testing::TusPeer>(testing::PeerKind::checksum_server,
                                                   dir_.path() / "server", tls_, 0,
                                                   std::move(args));
        if (!peer_->ok())
            return false;
        for (int i = 0; i < items; ++i)
            ev_.add_item(size, 100 + i);
        auto o = testing::test_options(peer_->endpoint(), tls_);
        if (adjust)
            adjust(o);
        up_ = Uploader::create(loop_.get(), ev_.store(), std::move(o)).value();
        return loop_.run_until(
            [&] {
                return ev_.query_int("SELECT count(*) FROM uploads WHERE state = 'received'") ==
                       items;
            },
            timeout);
    }
    nlohmann::json receipt(std::int64_t item) {
        return nlohmann::json::parse(ev_.upload_column(item, "receipt"));
    }
    // The server's "receipt <id> <answer>" lines, in order, and its other lines apart.
    std::vector<std::string> receipt_answers() {
        std::vector<std::string> answers;
        while (auto line = peer_->process().read_line(300ms)) {
            lines_.push_back(*line);
            if (line->starts_with("receipt "))
                answers.push_back(line->substr(line->rfind(' ') + 1));
        }
        return answers;
    }

    testing::TempDir dir_;
    testing::EvidenceStore ev_;
    testing::EventLoop loop_;
    testing::TlsFiles tls_;
    std::unique_ptr<testing::TusPeer> peer_;
    std::unique_ptr<Uploader> up_;
    std::vector<std::string> lines_;
};

TEST_F(DfuReceipts, AnItemIsReceivedOnlyWithTheStoresReceiptForItsHash) {
    ASSERT_TRUE(deliver({"--no-checksum", "--receipts", "honest"}, 3, MiB + 17));
    for (std::int64_t item = 1; item <= 3; ++item) {
        auto r = receipt(item);
        EXPECT_EQ(r["rule"], "dfu-receipt") << r.dump();
        EXPECT_EQ(r["dfu_receipt"]["sha256"],
                  ev_.query("SELECT sha256 FROM items WHERE id = " + std::to_string(item)));
        EXPECT_EQ(r["dfu_receipt"]["size"], MiB + 17);
        EXPECT_EQ(r["dfu_receipt"]["verdict"], "not-declared");
        // The receipt is kept in the audited custody record too.
        EXPECT_EQ(ev_.query_int("SELECT count(*) FROM audit WHERE event = 'upload.received' "
                                "AND details LIKE '%\"rule\":\"dfu-receipt\"%' AND details LIKE "
                                "'%\"item_id\":" +
                                std::to_string(item) + "%'"),
                  1);
    }
    EXPECT_EQ(receipt_answers(), std::vector<std::string>(3, "honest"));
}

TEST_F(DfuReceipts, APlainTusServerKeepsTheOffsetRuleAndTheReceiptSaysSo) {
    ASSERT_TRUE(deliver({"--no-checksum"}, 1, MiB));
    auto r = receipt(1);
    EXPECT_EQ(r["rule"], "offset") << r.dump();
    EXPECT_FALSE(r.contains("dfu_receipt"));
    EXPECT_FALSE(r.contains("note"));
    EXPECT_TRUE(receipt_answers().empty());
}

TEST_F(DfuReceipts, AReceiptFormatTheKioskDoesNotKnowIsNamedAndTheOffsetRuleApplies) {
    ASSERT_TRUE(deliver({"--no-checksum", "--receipts", "unknown-format"}, 1, MiB));
    auto r = receipt(1);
    EXPECT_EQ(r["rule"], "offset") << r.dump();
    EXPECT_NE(r.value("note", "").find("exhibit-dfu-receipt/9"), std::string::npos) << r.dump();
}

TEST_F(DfuReceipts, AReceiptStillBeingWrittenIsWaitedForAndTheQueueSaysWhy) {
    ASSERT_TRUE(deliver({"--no-checksum", "--receipts", "pending-twice"}, 1, MiB, 60s));
    EXPECT_EQ(receipt_answers(), (std::vector<std::string>{"pending", "pending", "honest"}));
    EXPECT_EQ(receipt(1)["rule"], "dfu-receipt");
    // Waiting is not failing: no attempt was counted (nor backed off).
    EXPECT_EQ(ev_.upload_column(1, "attempts"), "0");
}

TEST_F(DfuReceipts, WhileWaitingTheQueueShowsTheStoresReason) {
    // Looked at while the store has not settled the upload yet (it answers pending twice).
    EXPECT_FALSE(deliver({"--no-checksum", "--receipts", "pending-twice"}, 1, MiB, 100ms));
    const std::string waiting =
        "waiting for the DFU store's receipt by hash: 1048576 of 1048576 bytes are stored";
    ASSERT_TRUE(loop_.run_until([&] { return ev_.upload_column(1, "last_error") == waiting; }, 30s))
        << ev_.upload_column(1, "last_error");
    EXPECT_NE(ev_.upload_column(1, "state"), "received");
}

TEST_F(DfuReceipts, AReceiptNamingOtherBytesSendsTheItemAgainToANewUpload) {
    ASSERT_TRUE(deliver({"--no-checksum", "--receipts", "lie-once"}, 1, MiB + 3));
    EXPECT_EQ(receipt_answers(), (std::vector<std::string>{"lie", "honest"}));
    auto r = receipt(1);
    EXPECT_EQ(r["rule"], "dfu-receipt");
    // Two uploads at the store: the one its receipt disowned stays there for the DFU.
    auto stored = testing::stored_uploads(dir_.path() / "server");
    ASSERT_EQ(stored.size(), 2u);
    EXPECT_EQ(stored[0].sha256, stored[1].sha256);
    EXPECT_NE(r["url"].get<std::string>().find(r["dfu_receipt"]["upload_id"].get<std::string>()),
              std::string::npos);
    EXPECT_EQ(ev_.query_int("SELECT count(*) FROM audit WHERE event = 'upload.recreated' "
                            "AND details LIKE '%receipt%names%'"),
              1);
}

TEST_F(DfuReceipts, AnAnswerThatIsNotAReceiptIsRetriedWithItsReasonAndNeverCountsAsReceived) {
    EXPECT_FALSE(deliver({"--no-checksum", "--receipts", "garbage"}, 1, MiB, 100ms));
    auto named = [&] {
        return ev_.upload_column(1, "last_error")
                   .find("cannot be read: the receipt is not a JSON object") != std::string::npos;
    };
    ASSERT_TRUE(loop_.run_until(named, 30s)) << ev_.upload_column(1, "last_error");
    // Asked again, and refused again: never received.
    loop_.run_for(2s);
    EXPECT_NE(ev_.upload_column(1, "state"), "received");
    EXPECT_GE(std::stoi(ev_.upload_column(1, "attempts")), 1);
}

TEST_F(DfuReceipts, ChunksNeverGoBelowTheStoresMinimumButTheLast) {
    // The kiosk would start with 256 KiB chunks; the store needs 1 MiB but for the last.
    ASSERT_TRUE(deliver({"--no-checksum", "--receipts", "honest", "--min-chunk",
                         std::to_string(MiB)},
                        1, 3 * MiB + 5, 60s, [](UploadOptions& o) {
                            o.chunk_size = 256 * 1024;
                            o.max_chunk_size = 256 * 1024;
                        }));
    receipt_answers();
    std::vector<std::string> patches;
    for (const auto& line : lines_)
        if (line.starts_with("patch ") || line.starts_with("small ")) {
            const auto from = line.find("length=");
            patches.push_back(line.substr(from, line.find(' ', from) - from));
        }
    EXPECT_EQ(patches, (std::vector<std::string>{"length=1048576", "length=1048576",
                                                 "length=1048576", "length=5"}));
}

}  // namespace
}  // namespace exhibit::upload
