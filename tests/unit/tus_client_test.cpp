// Upload-Checksum against the in-tree tus server that offers the checksum extension
// (tools/tus-checksum-server.mjs; @tus/server does not): every chunk carries its sha256, a
// chunk damaged in transit (460) is sent again, and the receipt says the server verified it.
#include "daemon/sync/tus_client.hpp"

#include <gtest/gtest.h>

#include "daemon/sync/uploader.hpp"
#include "tests/support/upload_fixture.hpp"

namespace exhibit::sync {
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
    auto small = ev.add_item(1000, 2);           // creation-with-upload
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
    EXPECT_EQ(ok, 7) << "6 chunks and the small item's creation-with-upload";
    for (const auto& item : {big, small}) {
        bool found = false;
        for (auto& u : testing::stored_uploads(dir / "server"))
            if (u.meta("item_id") == std::to_string(item.id)) {
                found = true;
                EXPECT_EQ(u.sha256, item.sha256);
            }
        EXPECT_TRUE(found);
        auto receipt = nlohmann::json::parse(
            ev.query("SELECT receipt FROM uploads WHERE item_id = " + std::to_string(item.id)));
        EXPECT_EQ(receipt["checksum"], "sha256-per-chunk");
    }
}

}  // namespace
}  // namespace exhibit::sync
