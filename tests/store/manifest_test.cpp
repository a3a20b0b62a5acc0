// The signed session manifest: canonical JSON, contents, signature and its checks.
#include "daemon/store/manifest.hpp"

#include <gtest/gtest.h>

#include <exhibit/version.hpp>

#include "common/extraction_record.hpp"
#include "common/sha256.hpp"
#include "daemon/upload/tus_protocol.hpp"
#include "tests/support/upload_fixture.hpp"

namespace exhibit::store {
namespace {

TEST(CanonicalJson, SortedCompactMinimalEscapes) {
    auto j = nlohmann::json::parse(R"({"b": 1, "a": {"z": [3, "x\ny"], "\u00e9": "\u0001"}})");
    EXPECT_EQ(canonical_json(j).value(),
              "{\"a\":{\"z\":[3,\"x\\ny\"],\"\xc3\xa9\":\"\\u0001\"},\"b\":1}");
    EXPECT_FALSE(canonical_json(nlohmann::json{{"x", 1.5}})) << "integers only";
    EXPECT_FALSE(canonical_json(nlohmann::json{{"x", std::string("\xff")}})) << "UTF-8 only";
}

class ManifestTest : public ::testing::Test {
  protected:
    testing::FakeClock clock_{testing::utc_time(2026, 11, 30, 12, 0)};
    testing::EvidenceStore ev_{clock_};
};

TEST_F(ManifestTest, OnlyForAnEndedSession) {
    ev_.add_item(10, 1);
    auto m = build_manifest(ev_.store(), ev_.session_id(), {}, clock_);
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message.find("has not ended"), std::string::npos);
}

TEST_F(ManifestTest, ListsEverythingAndVerifiesWithTheKioskKey) {
    auto a = ev_.add_item(1234, 1);
    auto b = ev_.add_item(0, 2, "photos");
    ev_.end_session();
    nlohmann::json deliveries = {
        {std::to_string(a.id), {{"state", "received"}, {"url", "https://dfu/files/1"}}}};
    auto m = build_manifest(ev_.store(), ev_.session_id(), deliveries, clock_).value();
    const auto& key = ev_.store().identity().public_key();
    EXPECT_TRUE(verify_manifest(m.body, m.signature, key));
    EXPECT_EQ(m.sha256, to_hex(Sha256::of(m.body)));
    EXPECT_EQ(m.key_fingerprint, key.fingerprint());

    auto doc = nlohmann::json::parse(m.body);
    EXPECT_EQ(doc["format"], "exhibit-manifest-v1");
    EXPECT_EQ(doc["kiosk"]["id"], "kiosk-test-01");
    EXPECT_EQ(doc["kiosk"]["key_fingerprint"], key.fingerprint());
    EXPECT_EQ(doc["case"]["case_reference"], "CR/2026/0042");
    EXPECT_EQ(doc["case"]["officer_id"], "PC 4711");
    EXPECT_EQ(doc["case"]["scope"]["categories"][1], "videos");
    EXPECT_EQ(doc["session"]["device"]["manufacturer"], "Google");
    EXPECT_EQ(doc["session"]["state"], "completed");
    EXPECT_EQ(doc["created_at"], "2026-11-30T12:00:00.000Z");
    ASSERT_EQ(doc["items"].size(), 2u);
    EXPECT_EQ(doc["items"][0]["sha256"], a.sha256);
    EXPECT_EQ(doc["items"][0]["size"], 1234);
    EXPECT_EQ(doc["items"][0]["source_path"], a.source_path);
    EXPECT_EQ(doc["items"][0]["delivery"]["url"], "https://dfu/files/1");
    EXPECT_EQ(doc["items"][1]["category"], "photos");
    EXPECT_EQ(doc["items"][1]["delivery"]["state"], "none");
    EXPECT_EQ(doc["totals"]["bytes"], 1234);
    EXPECT_TRUE(doc["audit_head"]["hash"].is_string());
    (void)b;
}

// The seal is known when the session ends and never changes after: not with deliveries, the
// time the manifest is written or later integrity checks. The manifest states it, and it is
// the SHA-256 of the record derived from the manifest (what exhibit-verify recomputes).
TEST_F(ManifestTest, TheSealIsFixedAtTheEndAndTheManifestStatesIt) {
    auto a = ev_.add_item(1234, 1);
    EXPECT_FALSE(extraction_seal(ev_.store(), ev_.session_id())) << "no seal while it runs";
    ev_.end_session();
    auto seal = extraction_seal(ev_.store(), ev_.session_id());
    ASSERT_TRUE(seal) << seal.error().describe();
    EXPECT_EQ(seal->size(), 64u);

    clock_.advance(std::chrono::hours(30));
    // Send now, after the session: the upload priority changes, the seal does not.
    ASSERT_TRUE(ev_.store().database().exec("UPDATE sessions SET priority = 'urgent'"));
    nlohmann::json deliveries = {
        {std::to_string(a.id), {{"state", "received"}, {"url", "https://dfu/files/1"}}}};
    auto m = build_manifest(ev_.store(), ev_.session_id(), deliveries, clock_).value();
    auto doc = nlohmann::json::parse(m.body);
    EXPECT_EQ(doc["extraction_sha256"], *seal);
    EXPECT_EQ(extraction_seal(ev_.store(), ev_.session_id()).value(), *seal);

    auto record = extraction_record(doc);
    EXPECT_EQ(to_hex(Sha256::of(canonical_json(record).value())), *seal);
    EXPECT_EQ(record["format"], "exhibit-extraction-v1");
    EXPECT_FALSE(record.contains("extraction_sha256"));
    EXPECT_FALSE(record.contains("audit_head"));
    EXPECT_FALSE(record.contains("created_at"));
    EXPECT_FALSE(record["kiosk"].contains("id"));
    EXPECT_FALSE(record["session"].contains("priority")) << "Send now may change it later";
    EXPECT_EQ(record["items"][0]["sha256"], a.sha256);
    EXPECT_FALSE(record["items"][0].contains("delivery"));
    EXPECT_FALSE(record["items"][0].contains("integrity"));

    // What was taken is in the seal: another item's hash gives another seal.
    auto changed = doc;
    changed["items"][0]["sha256"] = std::string(64, '0');
    EXPECT_NE(to_hex(Sha256::of(canonical_json(extraction_record(changed)).value())), *seal);
}

// How the session was extracted (exhibit's version, the driver, the settings) is stated under
// the session, sealed with what was taken and audited as the session is created; a session
// recorded before exhibit kept it says nothing rather than something made up.
TEST_F(ManifestTest, TheMethodIsStatedSealedAndAudited) {
    ev_.add_item(10, 1);
    ev_.end_session();
    auto doc = nlohmann::json::parse(build_manifest(ev_.store(), ev_.session_id(), {}, clock_)
                                         .value()
                                         .body);
    const auto method = testing::EvidenceStore::test_method();
    EXPECT_EQ(doc["session"]["method"], method);
    EXPECT_EQ(doc["session"]["method"]["software"]["version"], kVersion);
    EXPECT_EQ(extraction_record(doc)["session"]["method"], method);
    auto changed = doc;
    changed["session"]["method"]["driver"]["version"] = "test-2";
    EXPECT_NE(to_hex(Sha256::of(canonical_json(extraction_record(changed)).value())),
              doc["extraction_sha256"])
        << "another driver version gives another seal";
    auto created = ev_.store().database().prepare(
        "SELECT details FROM audit WHERE event = 'session.created' ORDER BY seq DESC LIMIT 1");
    ASSERT_TRUE(created);
    ASSERT_TRUE(created->step().value());
    EXPECT_EQ(nlohmann::json::parse(created->column_text(0))["method"], method);

    const auto older = ev_.new_session(Priority::normal, nullptr);
    ev_.add_item(20, 2);
    ev_.end_session();
    auto old_doc = nlohmann::json::parse(build_manifest(ev_.store(), older, {}, clock_).value().body);
    EXPECT_FALSE(old_doc["session"].contains("method"));
    EXPECT_FALSE(extraction_record(old_doc)["session"].contains("method"));

    auto refused = ev_.store().catalog().create_session(
        ev_.store().catalog().session(older).value().case_id, nlohmann::json::object(),
        std::nullopt, Priority::normal, "officer:4711", nlohmann::json::array({"adb"}));
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::invalid_argument);
}

TEST_F(ManifestTest, TamperingWrongKeysAndNonCanonicalBytesAreCaught) {
    ev_.add_item(10, 1);
    ev_.end_session();
    auto m = build_manifest(ev_.store(), ev_.session_id(), {}, clock_).value();
    const auto& key = ev_.store().identity().public_key();
    auto tampered = m.body;
    tampered[tampered.find("PC 4711")] = 'X';
    EXPECT_FALSE(verify_manifest(tampered, m.signature, key));
    EXPECT_FALSE(verify_manifest(m.body, "AAAA", key));

    testing::EvidenceStore other;  // another kiosk
    EXPECT_FALSE(verify_manifest(m.body, m.signature, other.store().identity().public_key()));

    // A valid signature over bytes that are not canonical is still refused.
    auto spaced = nlohmann::json::parse(m.body).dump(1);
    auto sig = ev_.store().identity().sign(spaced).value();
    auto sig64 = upload::base64_encode(
        std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
    auto s = verify_manifest(spaced, sig64, key);
    ASSERT_FALSE(s);
    EXPECT_NE(s.error().message.find("canonical"), std::string::npos);
}

}  // namespace
}  // namespace exhibit::store
