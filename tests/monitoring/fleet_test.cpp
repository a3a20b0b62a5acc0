// exhibit-fleet's checks of heartbeats (tools/exhibit-fleet/fleet.hpp), on tus file stores
// written here with heartbeats made by exhibitd's own code (daemon/metrics/heartbeat.hpp):
// good ones make a kiosk's row; altered, forged, replayed, misattributed, unenrolled,
// incomplete and non-canonical ones are refused with their reason.
#include <fstream>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "daemon/keys/identity_key.hpp"
#include "daemon/metrics/heartbeat.hpp"
#include "tests/support/temp_dir.hpp"
#include "tools/exhibit-fleet/fleet.hpp"

namespace exhibit::fleet {
namespace {

using ::testing::HasSubstr;

class FleetTest : public ::testing::Test {
  protected:
    testing::TempDir keys_dir_;
    testing::TempDir store_;
    std::unique_ptr<keys::IdentityKey> a_ =
        keys::IdentityKey::load_or_create(keys_dir_.path() / "a.pem").value();
    std::unique_ptr<keys::IdentityKey> b_ =
        keys::IdentityKey::load_or_create(keys_dir_.path() / "b.pem").value();
    Enrolment enrolled_{{"kiosk-a", a_->fingerprint()}, {"kiosk-b", b_->fingerprint()}};
    int minute_ = 0;

    metrics::SignedHeartbeat make(const keys::IdentityKey& key, const std::string& kiosk,
                                  std::uint64_t sequence) {
        metrics::KioskFigures f;
        f.items_complete = 7;
        f.queue[{"normal", "queued"}] = {3, 4096};
        return metrics::build_heartbeat(f, key, kiosk, "9.9.9", sequence,
                                        from_unix_ms(1796400000000))
            .value();
    }

    // Stores `body` as a tus upload `id` as @tus/file-store would, one minute after the last.
    void store(const std::string& id, const std::string& body, const metrics::SignedHeartbeat& hb,
               const std::string& kiosk, std::uint64_t length = 0) {
        std::ofstream(store_.path() / id, std::ios::binary) << body;
        nlohmann::json info = {
            {"id", id},
            {"size", length ? length : body.size()},
            {"offset", body.size()},
            {"metadata",
             {{"type", "heartbeat"},
              {"kiosk_id", kiosk},
              {"signature_algorithm", "ed25519"},
              {"signature", hb.signature},
              {"key_fingerprint", hb.key_fingerprint}}},
            {"creation_date", fmt::format("2026-12-05T10:{:02}:00.000Z", minute_++)}};
        std::ofstream(store_.path() / (id + ".json")) << info.dump();
    }
    void store(const std::string& id, const metrics::SignedHeartbeat& hb, const std::string& kiosk) {
        store(id, hb.body, hb, kiosk);
    }

    FleetReport read() {
        auto r = read_fleet({store_.path()}, enrolled_);
        EXPECT_TRUE(r) << r.error().describe();
        return r.value_or(FleetReport{});
    }
    static const KioskRow& row(const FleetReport& r, const std::string& kiosk) {
        for (const auto& k : r.kiosks)
            if (k.kiosk == kiosk)
                return k;
        throw std::runtime_error("no row for " + kiosk);
    }
    static std::string reason(const FleetReport& r, const std::string& upload) {
        for (const auto& x : r.rejected)
            if (x.upload == upload)
                return x.reason;
        return "(accepted)";
    }
};

TEST_F(FleetTest, GoodHeartbeatsMakeTheKiosksRowAndOthersAreLeftAlone) {
    store("h1", make(*a_, "kiosk-a", 100), "kiosk-a");
    store("h2", make(*a_, "kiosk-a", 200), "kiosk-a");
    std::ofstream(store_.path() / "item") << "evidence";
    std::ofstream(store_.path() / "item.json")
        << R"({"id":"item","size":8,"offset":8,"metadata":{"type":"item"}})";
    auto r = read();
    EXPECT_TRUE(r.rejected.empty());
    EXPECT_EQ(r.uploads_read, 2u) << "the item is not a heartbeat";
    const auto& a = row(r, "kiosk-a");
    EXPECT_TRUE(a.seen);
    EXPECT_EQ(a.sequence, 200u);
    EXPECT_EQ(a.heartbeats, 2u);
    EXPECT_EQ(a.received_at, "2026-12-05T10:01:00.000Z");
    EXPECT_EQ(a.document["figures"]["items"]["complete"], 7);
    EXPECT_EQ(a.document["figures"]["upload_queue"]["normal"]["queued"]["bytes"], 4096);
    EXPECT_FALSE(row(r, "kiosk-b").seen) << "enrolled, never heard from";
}

TEST_F(FleetTest, AReplayIsRefusedAndDoesNotChangeTheRow) {
    const auto first = make(*a_, "kiosk-a", 100);
    store("h1", first, "kiosk-a");
    store("h2", make(*a_, "kiosk-a", 200), "kiosk-a");
    store("h3", first, "kiosk-a");  // the first again, received last
    auto r = read();
    EXPECT_THAT(reason(r, "h3"), HasSubstr("replayed: sequence 100 arrived after sequence 200"));
    EXPECT_EQ(row(r, "kiosk-a").sequence, 200u);
    EXPECT_EQ(row(r, "kiosk-a").heartbeats, 2u);
}

TEST_F(FleetTest, AlteredForgedAndMisattributedHeartbeatsAreRefused) {
    auto hb = make(*a_, "kiosk-a", 100);
    auto altered = hb.body;
    altered[altered.find("\"complete\":7") + 11] = '8';
    store("altered", altered, hb, "kiosk-a");
    // Kiosk B's key signing a heartbeat that says it is kiosk A.
    store("b-as-a", make(*b_, "kiosk-a", 300), "kiosk-a");
    // Signed by a key nobody enrolled.
    testing::TempDir other_dir;
    auto other = keys::IdentityKey::load_or_create(other_dir.path() / "c.pem").value();
    store("unknown", make(*other, "kiosk-c", 100), "kiosk-c");
    // The upload's metadata names another kiosk than the document.
    store("mismatch", make(*b_, "kiosk-b", 100), "kiosk-a");
    auto r = read();
    EXPECT_THAT(reason(r, "altered"), HasSubstr("forged or altered"));
    EXPECT_THAT(reason(r, "b-as-a"), HasSubstr("not the key enrolled for kiosk \"kiosk-a\""));
    EXPECT_THAT(reason(r, "unknown"), HasSubstr("kiosk \"kiosk-c\" is not enrolled"));
    EXPECT_THAT(reason(r, "mismatch"), HasSubstr("the upload says kiosk \"kiosk-a\""));
    EXPECT_FALSE(row(r, "kiosk-a").seen);
    EXPECT_FALSE(row(r, "kiosk-b").seen);
}

TEST_F(FleetTest, IncompleteOrNonCanonicalHeartbeatsAreRefused) {
    auto hb = make(*a_, "kiosk-a", 100);
    store("short", hb.body, hb, "kiosk-a", hb.body.size() + 10);
    // Pretty-printed and validly signed: still not the one byte form a kiosk sends.
    auto pretty = nlohmann::json::parse(hb.body).dump(2);
    auto sig = a_->sign(pretty).value();
    auto resigned = hb;
    resigned.signature = base64_encode(std::span<const std::byte>(sig));
    store("pretty", pretty, resigned, "kiosk-a");
    store("garbage", "not json at all", hb, "kiosk-a");
    auto r = read();
    EXPECT_EQ(reason(r, "short"), "incomplete upload");
    EXPECT_THAT(reason(r, "pretty"), HasSubstr("not in canonical form"));
    EXPECT_EQ(reason(r, "garbage"), "not a JSON object");
}

// A heartbeat signed by the enrolled key is still read field by field: a field of another
// type, or a key object without its public key, is a refusal with its reason or an absent
// figure, never an exception or a read past the document (found by fuzzing, tests/fuzz).
TEST_F(FleetTest, MistypedFieldsOfASignedHeartbeatAreRefusalsNotCrashes) {
    auto signed_as = [&](nlohmann::json doc) {
        auto body = doc.dump();  // keys sorted, no spaces: the canonical form
        auto hb = make(*a_, "kiosk-a", 1);
        hb.body = body;
        hb.signature = base64_encode(std::span<const std::byte>(a_->sign(body).value()));
        return hb;
    };
    auto good = nlohmann::json::parse(make(*a_, "kiosk-a", 500).body);
    auto format_number = good;
    format_number["format"] = 1;
    store("format-number", signed_as(format_number), "kiosk-a");
    auto no_public_key = good;
    no_public_key["key"] = nlohmann::json{{"fingerprint", a_->fingerprint()}};
    store("no-public-key", signed_as(no_public_key), "kiosk-a");
    auto kiosk_text = good;
    kiosk_text["kiosk"] = "kiosk-a";
    store("kiosk-text", signed_as(kiosk_text), "kiosk-a");
    auto odd_figures = good;
    odd_figures["sent_at"] = 12;
    odd_figures["figures"]["free_bytes"] = "lots";
    odd_figures["figures"]["upload_queue"] = "none";
    store("odd-figures", signed_as(odd_figures), "kiosk-a");
    auto r = read();
    EXPECT_EQ(reason(r, "format-number"), "format is not exhibit-heartbeat-v1");
    EXPECT_EQ(reason(r, "no-public-key"), "carries no public key");
    EXPECT_EQ(reason(r, "kiosk-text"), "names no kiosk");
    EXPECT_EQ(reason(r, "odd-figures"), "(accepted)") << "signed, in form: its figures are its own";
    EXPECT_EQ(row(r, "kiosk-a").sent_at, "") << "a sent_at that is not text reads as absent";
}

TEST(FleetEnrolment, ReadsKiosksAndRefusesMalformedLines) {
    const std::string fp = "SHA256:" + std::string(64, 'a');
    auto e = parse_enrolment("# kiosks\n\nkiosk-1 " + fp + "\n  kiosk-2\t" + fp + "\n", "k");
    ASSERT_TRUE(e) << e.error().describe();
    EXPECT_EQ(e->size(), 2u);
    EXPECT_EQ(e->at("kiosk-2"), fp);
    auto bad = parse_enrolment("kiosk-1 SHA256:xyz\n", "kiosks");
    ASSERT_FALSE(bad);
    EXPECT_THAT(bad.error().describe(), HasSubstr("kiosks:1: expected"));
    auto extra = parse_enrolment("kiosk-1 " + fp + " more\n", "kiosks");
    EXPECT_FALSE(extra);
    auto twice = parse_enrolment("k " + fp + "\nk " + fp + "\n", "kiosks");
    ASSERT_FALSE(twice);
    EXPECT_THAT(twice.error().describe(), HasSubstr("kiosks:2: kiosk \"k\" is enrolled twice"));
}

}  // namespace
}  // namespace exhibit::fleet
