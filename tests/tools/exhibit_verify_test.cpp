// exhibit-verify on real deliveries: a session stored and signed by the daemon's own store
// and manifest code, laid out as a tus file store (as @tus/file-store writes it) or as a
// folder of files, then checked by the exhibit-verify program. Intact passes; a flipped
// byte, a missing or truncated item, a tampered manifest and another key's signature fail.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include <exhibit/version.hpp>
#include <fmt/format.h>

#include "common/fs.hpp"
#include "common/sha256.hpp"
#include "daemon/store/manifest.hpp"
#include "daemon/upload/tus_protocol.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/upload_fixture.hpp"

namespace exhibit::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Item {
    store::ItemRecord record;
    std::uint64_t seed = 0;
    std::string upload_id;
};

std::string pattern(std::uint64_t size, std::uint64_t seed) {
    std::string bytes(size, '\0');
    fill_pattern(std::as_writable_bytes(std::span(bytes)), 0, seed);
    return bytes;
}

void write_file(const fs::path& path, std::string_view bytes) {
    fs::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
}

std::string read_file(const fs::path& path) {
    return exhibit::fs::read_file(path, 1 << 30).value();
}

// One upload as @tus/file-store keeps it: the data and <id>.json with decoded metadata.
void write_upload(const fs::path& dir, const std::string& id, std::string_view data,
                  const json& metadata) {
    write_file(dir / id, data);
    json info = {{"id", id},
                 {"size", data.size()},
                 {"offset", 0},
                 {"metadata", metadata},
                 {"creation_date", "2026-11-30T12:00:00.000Z"}};
    write_file(dir / (id + ".json"), info.dump());
}

class ExhibitVerify : public ::testing::Test {
  protected:
    void SetUp() override {
        add(100'000, 1);
        add(0, 2, "photos");
        add(5'000, 3, "photos");
        key_ = out_ / "kiosk-ed25519.pub.pem";
        write_file(key_, ev_.store().identity().public_key().pem());
    }

    void add(std::uint64_t size, std::uint64_t seed, const std::string& category = "videos") {
        Item item{ev_.add_item(size, seed, category), seed, ""};
        item.upload_id = to_hex(Sha256::of(fmt::format("upload-{}", seed))).substr(0, 32);
        ASSERT_EQ(item.record.sha256, pattern_sha256(size, seed));
        items_.push_back(std::move(item));
    }

    // Ends the session and signs its manifest, with every item received except `cancelled`.
    void sign(const std::set<std::int64_t>& cancelled = {}) {
        ev_.end_session();
        json deliveries = json::object();
        for (const auto& i : items_) {
            deliveries[std::to_string(i.record.id)] =
                cancelled.contains(i.record.id)
                    ? json{{"state", "cancelled"}}
                    : json{{"state", "received"},
                           {"url", "https://dfu.example.org/files/" + i.upload_id},
                           {"received_at", "2026-11-30T12:00:00.000Z"},
                           {"checksum", "not-offered"}};
            // As the upload queue audits a delivery (upload.received with the item's id).
            if (!cancelled.contains(i.record.id)) {
                ASSERT_TRUE(ev_.store().audit().append(
                    "exhibitd", "upload.received",
                    {{"item_id", i.record.id}, {"receipt", deliveries[std::to_string(i.record.id)]}}));
            }
        }
        manifest_ =
            store::build_manifest(ev_.store(), ev_.session_id(), deliveries, clock_).value();
    }

    json item_metadata(const Item& i) const {
        return {{"filename", fs::path(i.record.source_path).filename().string()},
                {"type", "item"},
                {"case_reference", "CR/2026/0042"},
                {"exhibit_reference", "EX-7"},
                {"session_id", std::to_string(ev_.session_id())},
                {"item_id", std::to_string(i.record.id)},
                {"category", i.record.category},
                {"source_path", i.record.source_path},
                {"item_state", "complete"},
                {"sha256", i.record.sha256},
                {"kiosk_id", "kiosk-test-01"}};
    }

    json manifest_metadata(const store::SignedManifest& m) const {
        return {{"filename", fmt::format("session-{}.manifest.json", ev_.session_id())},
                {"type", "manifest"},
                {"case_reference", "CR/2026/0042"},
                {"exhibit_reference", "EX-7"},
                {"session_id", std::to_string(ev_.session_id())},
                {"sha256", m.sha256},
                {"signature_algorithm", "ed25519"},
                {"signature", m.signature},
                {"key_fingerprint", m.key_fingerprint},
                {"kiosk_id", "kiosk-test-01"}};
    }

    // The DFU's tus store after a delivery: every item uploaded, the manifest last.
    fs::path deliver_tus(const std::set<std::int64_t>& cancelled = {}) {
        sign(cancelled);
        const auto dir = out_ / "files";
        fs::create_directories(dir);
        for (const auto& i : items_)
            if (!cancelled.contains(i.record.id))
                write_upload(dir, i.upload_id, pattern(i.record.size, i.seed), item_metadata(i));
        write_upload(dir, manifest_id_, manifest_.body, manifest_metadata(manifest_));
        return dir;
    }

    // The same session as a folder: the manifest, its signature, the phone's tree.
    fs::path deliver_files() {
        sign();
        const auto dir = out_ / "session";
        write_file(dir / "session-1.manifest.json", manifest_.body);
        write_file(dir / "session-1.manifest.json.sig", manifest_.signature + "\n");
        for (const auto& i : items_)
            write_file(dir / fs::path(i.record.source_path).relative_path(),
                       pattern(i.record.size, i.seed));
        return dir;
    }

    // Puts `body` in place of the delivered manifest, signed with the kiosk's key, with its
    // upload's metadata made to agree: what a manifest the kiosk signed would look like.
    void write_signed_manifest(const fs::path& dir, const std::string& body) {
        auto sig = ev_.store().identity().sign(body).value();
        auto meta = manifest_metadata(manifest_);
        meta["signature"] = upload::base64_encode(
            std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
        meta["sha256"] = to_hex(Sha256::of(body));
        write_upload(dir, manifest_id_, body, meta);
    }

    std::pair<int, std::string> verify(const fs::path& dir, std::vector<std::string> args = {}) {
        std::vector<std::string> argv = {std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibit-verify"};
        if (args.empty())
            args = {"--key", key_.string()};
        argv.insert(argv.end(), args.begin(), args.end());
        argv.push_back(dir.string());
        return run_command(argv, std::chrono::seconds(60));  // (exit code, stdout + stderr)
    }

    // The --json report (stdout; the one stderr line on failure is cut away).
    json report(const fs::path& dir, std::vector<std::string> args = {}) {
        if (args.empty())
            args = {"--key", key_.string()};
        args.push_back("--json");
        auto [rc, out] = verify(dir, args);
        const auto first = out.find('{');
        const auto last = out.rfind('}');
        EXPECT_NE(first, std::string::npos) << out;
        auto j = json::parse(out.substr(first, last - first + 1), nullptr, false);
        EXPECT_FALSE(j.is_discarded()) << out;
        j["exit"] = rc;
        return j;
    }

    static json item_status(const json& r, std::int64_t id) {
        for (const auto& i : r["sessions"][0]["items"])
            if (i["id"] == id)
                return i;
        return {};
    }

    static bool check_ok(const json& r, const std::string& name) {
        for (const auto& c : r["sessions"][0]["checks"])
            if (c["name"] == name)
                return c["ok"].get<bool>();
        ADD_FAILURE() << "no check " << name;
        return false;
    }

    FakeClock clock_{utc_time(2026, 11, 30, 12, 0)};
    EvidenceStore ev_{clock_};
    TempDir out_;
    fs::path key_;
    std::vector<Item> items_;
    store::SignedManifest manifest_;
    std::string manifest_id_ = "0f0e0d0c0b0a09080706050403020100";
};

TEST_F(ExhibitVerify, AnIntactTusDeliveryVerifies) {
    auto dir = deliver_tus();
    auto [rc, out] = verify(dir);
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("VERIFIED"), std::string::npos) << out;
    EXPECT_NE(out.find(fmt::format("extracted with exhibit {}, driver adb test through usb:adb; "
                                   "settings: adb.authorisation_wait_seconds=120",
                                   kVersion)),
              std::string::npos)
        << out;

    auto r = report(dir);
    EXPECT_EQ(r["exit"], 0);
    EXPECT_EQ(r["ok"], true);
    EXPECT_EQ(r["layout"], "tus");
    ASSERT_EQ(r["sessions"].size(), 1u);
    const auto& s = r["sessions"][0];
    EXPECT_EQ(s["session_id"], ev_.session_id());
    EXPECT_EQ(s["kiosk_id"], "kiosk-test-01");
    EXPECT_EQ(s["case_reference"], "CR/2026/0042");
    EXPECT_EQ(s["manifest_sha256"], manifest_.sha256);
    EXPECT_EQ(s["seal_sha256"], store::extraction_seal(ev_.store(), ev_.session_id()).value())
        << "the seal on the kiosk's receipt";
    EXPECT_EQ(s["key_fingerprint"], ev_.store().identity().fingerprint());
    EXPECT_EQ(s["method"], EvidenceStore::test_method());
    EXPECT_EQ(s["bytes_verified"], 105'000);
    for (const auto& c : s["checks"])
        EXPECT_TRUE(c["ok"].get<bool>()) << c.dump();
    ASSERT_EQ(s["items"].size(), 3u);
    for (const auto& i : s["items"]) {
        EXPECT_EQ(i["status"], "ok") << i.dump();
        EXPECT_TRUE(i["location"].get<std::string>().starts_with("upload ")) << i.dump();
    }
}

TEST_F(ExhibitVerify, TheEnrolledFingerprintAloneIsEnough) {
    auto dir = deliver_tus();
    auto fp = ev_.store().identity().fingerprint();
    EXPECT_EQ(verify(dir, {"--fingerprint", fp}).first, 0);
    EXPECT_EQ(verify(dir, {"--fingerprint", fp, "--key", key_.string()}).first, 0);
    testing::EvidenceStore other;
    auto [rc, out] = verify(dir, {"--fingerprint", other.store().identity().fingerprint()});
    EXPECT_EQ(rc, 1) << "a manifest from another kiosk is not trusted: " << out;
}

TEST_F(ExhibitVerify, AFlippedByteInOneItemFails) {
    auto dir = deliver_tus();
    const auto& victim = items_[0];
    auto bytes = read_file(dir / victim.upload_id);
    bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x01);
    write_file(dir / victim.upload_id, bytes);

    auto r = report(dir);
    EXPECT_EQ(r["exit"], 1);
    EXPECT_EQ(r["ok"], false);
    EXPECT_EQ(item_status(r, victim.record.id)["status"], "sha256_mismatch");
    EXPECT_EQ(item_status(r, items_[1].record.id)["status"], "ok");
    EXPECT_EQ(item_status(r, items_[2].record.id)["status"], "ok");
    EXPECT_TRUE(check_ok(r, "signature")) << "the manifest itself is intact";
    auto [rc, out] = verify(dir);
    EXPECT_NE(out.find(fmt::format("FAIL  item {}", victim.record.id)), std::string::npos) << out;
    EXPECT_NE(out.find("FAILED"), std::string::npos) << out;
}

TEST_F(ExhibitVerify, AMissingItemFails) {
    auto dir = deliver_tus();
    const auto& victim = items_[2];
    fs::remove(dir / victim.upload_id);
    fs::remove(dir / (victim.upload_id + ".json"));
    auto r = report(dir);
    EXPECT_EQ(r["exit"], 1);
    EXPECT_EQ(item_status(r, victim.record.id)["status"], "missing");
}

TEST_F(ExhibitVerify, ATruncatedUploadFails) {
    auto dir = deliver_tus();
    const auto& victim = items_[0];
    fs::resize_file(dir / victim.upload_id, 4096);  // the server held only part of it
    auto r = report(dir);
    EXPECT_EQ(r["exit"], 1);
    EXPECT_EQ(item_status(r, victim.record.id)["status"], "incomplete_upload");
}

TEST_F(ExhibitVerify, ATamperedManifestFails) {
    auto dir = deliver_tus();
    auto body = manifest_.body;
    body.replace(body.find("PC 4711"), 7, "PC 4712");
    write_file(dir / manifest_id_, body);
    auto r = report(dir);
    EXPECT_EQ(r["exit"], 1);
    EXPECT_FALSE(check_ok(r, "signature"));
    EXPECT_FALSE(check_ok(r, "manifest upload")) << "its sha256 metadata no longer matches";
}

TEST_F(ExhibitVerify, AManifestWithAnItemLeftOutFails) {
    // Dropping an item from the manifest (and fixing totals) needs a new signature.
    auto dir = deliver_tus();
    auto doc = json::parse(manifest_.body);
    doc["items"].erase(doc["items"].begin());
    doc["totals"] = {{"items", 2}, {"bytes", 5'000}};
    auto body = store::canonical_json(doc).value();
    write_file(dir / manifest_id_, body);
    auto r = report(dir);
    EXPECT_EQ(r["exit"], 1);
    EXPECT_FALSE(check_ok(r, "signature"));
    EXPECT_EQ(r["sessions"][0]["warnings"].size(), 1u)
        << "the upload of the dropped item is reported as not in the manifest";
}

TEST_F(ExhibitVerify, AManifestSignedByAnotherKeyFails) {
    auto dir = deliver_tus();
    testing::EvidenceStore other;  // another kiosk, or an attacker's key
    auto sig = other.store().identity().sign(manifest_.body).value();
    auto meta = manifest_metadata(manifest_);
    meta["signature"] = upload::base64_encode(
        std::string_view(reinterpret_cast<const char*>(sig.data()), sig.size()));
    write_upload(dir, manifest_id_, manifest_.body, meta);
    auto r = report(dir);
    EXPECT_EQ(r["exit"], 1);
    EXPECT_FALSE(check_ok(r, "signature"));

    // A full forgery that names the other key inside the manifest fails the kiosk key too.
    auto doc = json::parse(manifest_.body);
    const auto& other_key = other.store().identity().public_key();
    auto raw = other_key.raw();
    doc["kiosk"]["key_fingerprint"] = other_key.fingerprint();
    doc["kiosk"]["public_key_ed25519"] = upload::base64_encode(
        std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()));
    auto forged = store::canonical_json(doc).value();
    auto forged_sig = other.store().identity().sign(forged).value();
    meta["signature"] = upload::base64_encode(
        std::string_view(reinterpret_cast<const char*>(forged_sig.data()), forged_sig.size()));
    meta["sha256"] = to_hex(Sha256::of(forged));
    meta["key_fingerprint"] = other_key.fingerprint();
    write_upload(dir, manifest_id_, forged, meta);
    for (const auto& args :
         {std::vector<std::string>{"--key", key_.string()},
          std::vector<std::string>{"--fingerprint", ev_.store().identity().fingerprint()}}) {
        r = report(dir, args);
        EXPECT_EQ(r["exit"], 1) << args[0];
        EXPECT_FALSE(check_ok(r, "kiosk key")) << args[0];
        EXPECT_FALSE(check_ok(r, "signature")) << args[0];
    }
}

TEST_F(ExhibitVerify, ANonCanonicalManifestFailsEvenWhenSigned) {
    auto dir = deliver_tus();
    write_signed_manifest(dir, json::parse(manifest_.body).dump(1));
    auto r = report(dir);
    EXPECT_EQ(r["exit"], 1);
    EXPECT_TRUE(check_ok(r, "signature"));
    EXPECT_FALSE(check_ok(r, "canonical form"));
}

// The audit trail in the manifest: the kiosk's chain from the case's creation to the head,
// the session's entries whole and the others as runs. Even a manifest signed with the
// kiosk's key fails when an entry of its trail was altered, dropped or moved, or when the
// trail and the manifest disagree, and the report says where.
TEST_F(ExhibitVerify, TheAuditTrailIsCheckedAndReadAsAContinuityRecord) {
    // Another session's entries in between: they travel as a run of hashes.
    const auto mine = ev_.session_id();
    ev_.new_session(store::Priority::normal);
    ev_.add_item(10, 9);
    ev_.use_session(mine);
    auto dir = deliver_tus();
    std::size_t runs = 0;
    const auto delivered = json::parse(manifest_.body);
    for (const auto& e : delivered["audit_trail"])
        runs += e.contains("elided_from");
    EXPECT_GE(runs, 1u) << manifest_.body;
    auto [rc, out] = verify(dir);
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("ok    audit trail: "), std::string::npos) << out;
    EXPECT_NE(out.find("ok    audit trail agrees with the manifest"), std::string::npos) << out;
    EXPECT_NE(out.find("officer:4711  case CR/2026/0042, exhibit EX-7 recorded by PC 4711: "
                       "consent (notice v3, agreed by owner)"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("item 1 received by the DFU"), std::string::npos) << out;
    auto r = report(dir);
    EXPECT_EQ(r["sessions"][0]["trail"][0]["event"], "case.created");

    const auto original = json::parse(manifest_.body);
    auto index_of = [&](const std::string& event) {
        const auto& trail = original["audit_trail"];
        for (std::size_t i = 0; i < trail.size(); ++i)
            if (auto it = trail[i].find("event"); it != trail[i].end() && *it == event)
                return i;
        ADD_FAILURE() << "no " << event;
        return std::size_t{0};
    };
    auto fails_with = [&](json doc, const std::string& check, const std::string& words) {
        write_signed_manifest(dir, store::canonical_json(doc).value());
        auto got = report(dir);
        EXPECT_EQ(got["exit"], 1) << words;
        EXPECT_TRUE(check_ok(got, "signature")) << "signed by the kiosk key all the same";
        for (const auto& c : got["sessions"][0]["checks"])
            if (c["name"] == check) {
                EXPECT_FALSE(c["ok"].get<bool>()) << c.dump();
                EXPECT_NE(c["detail"].get<std::string>().find(words), std::string::npos)
                    << c.dump();
            }
    };
    {  // an altered entry: the item's hash in its store.item_added
        auto doc = original;
        auto& e = doc["audit_trail"][index_of("store.item_added")];
        auto details = json::parse(e["details"].get<std::string>());
        details["sha256"] = std::string(64, '0');
        e["details"] = details.dump();
        fails_with(doc, "audit trail", "(store.item_added) was altered");
    }
    {  // a missing entry
        auto doc = original;
        auto& trail = doc["audit_trail"];
        trail.erase(trail.begin() + static_cast<std::ptrdiff_t>(index_of("session.running")));
        fails_with(doc, "audit trail", fmt::format("entry {} is missing",
                                                   original["audit_trail"][index_of(
                                                       "session.running")]["seq"].get<int>()));
    }
    {  // two entries swapped
        auto doc = original;
        auto& trail = doc["audit_trail"];
        const auto i = index_of("store.item_added");
        std::swap(trail[i], trail[i + 1]);
        fails_with(doc, "audit trail", "is out of order (it comes after entry");
    }
    {  // the trail cut short of the head the manifest names
        auto doc = original;
        doc["audit_trail"].erase(doc["audit_trail"].end() - 1);
        fails_with(doc, "audit trail", "the manifest's audit head is");
    }
    {  // whole, but disagreeing: a delivery the trail does not record (its entry made a run)
        auto doc = original;
        auto& e = doc["audit_trail"][index_of("upload.received")];
        e = {{"elided_from", e["seq"]}, {"elided_to", e["seq"]}, {"hash", e["hash"]}};
        fails_with(doc, "audit trail agrees with the manifest",
                   "received as the manifest says, not in the trail");
    }
    {  // whole, but disagreeing: the case recorded under another reference
        auto doc = original;
        doc["case"]["case_reference"] = "CR/2026/9999";
        fails_with(doc, "audit trail agrees with the manifest",
                   "records case_reference \"CR/2026/0042\", the manifest \"CR/2026/9999\"");
    }
}

// A manifest signed by the kiosk key whose stated seal is not its extraction record's (or that
// states none) does not tie the delivery to the owner's receipt: the seal check fails.
TEST_F(ExhibitVerify, AStatedSealThatIsNotTheRecordsFails) {
    auto dir = deliver_tus();
    for (bool drop : {false, true}) {
        auto doc = json::parse(manifest_.body);
        if (drop)
            doc.erase("extraction_sha256");
        else
            doc["extraction_sha256"] = std::string(64, 'e');
        write_signed_manifest(dir, store::canonical_json(doc).value());
        auto r = report(dir);
        EXPECT_EQ(r["exit"], 1) << (drop ? "no seal" : "wrong seal");
        EXPECT_TRUE(check_ok(r, "signature"));
        EXPECT_TRUE(check_ok(r, "canonical form"));
        EXPECT_FALSE(check_ok(r, "seal")) << (drop ? "no seal" : "wrong seal");
    }
}

TEST_F(ExhibitVerify, CancelledItemsAreReportedNotRequired) {
    auto dir = deliver_tus({items_[1].record.id});
    auto r = report(dir);
    EXPECT_EQ(r["exit"], 0) << r.dump(1);
    EXPECT_EQ(item_status(r, items_[1].record.id)["status"], "cancelled");
}

TEST_F(ExhibitVerify, NoManifestIsAFailure) {
    auto dir = deliver_tus();
    fs::remove(dir / manifest_id_);
    fs::remove(dir / (manifest_id_ + ".json"));
    auto [rc, out] = verify(dir);
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("no manifest"), std::string::npos) << out;
}

TEST_F(ExhibitVerify, AFolderOfFilesVerifiesAndCatchesAMissingFile) {
    auto dir = deliver_files();
    auto r = report(dir);
    EXPECT_EQ(r["exit"], 0) << r.dump(1);
    EXPECT_EQ(r["layout"], "files");
    EXPECT_EQ(item_status(r, items_[0].record.id)["location"], "sdcard/DCIM/Camera/VID_1.mp4");

    // The same bytes named by item id are found too.
    const auto rel = fs::path(items_[0].record.source_path).relative_path();
    fs::create_directories(dir / "items");
    fs::rename(dir / rel, dir / "items" / std::to_string(items_[0].record.id));
    EXPECT_EQ(verify(dir).first, 0);

    fs::remove(dir / "items" / std::to_string(items_[0].record.id));
    r = report(dir);
    EXPECT_EQ(r["exit"], 1);
    EXPECT_EQ(item_status(r, items_[0].record.id)["status"], "missing");

    fs::remove(dir / "session-1.manifest.json.sig");
    r = report(dir);
    EXPECT_FALSE(check_ok(r, "signature")) << "no signature, no trust";
}

TEST_F(ExhibitVerify, UsageErrorsExitTwo) {
    auto dir = deliver_tus();
    EXPECT_EQ(verify(dir, {"--json"}).first, 2) << "no key to trust";
    EXPECT_EQ(verify(dir, {"--fingerprint", "SHA256:abc"}).first, 2);
    write_file(out_ / "not-a-key.pem", "hello");
    EXPECT_EQ(verify(dir, {"--key", (out_ / "not-a-key.pem").string()}).first, 2);
    EXPECT_EQ(verify(out_ / "nowhere").first, 2);
    testing::EvidenceStore other;
    EXPECT_EQ(verify(dir, {"--key", key_.string(), "--fingerprint",
                           other.store().identity().fingerprint()})
                  .first,
              2)
        << "--key and --fingerprint disagree";
}

}  // namespace
}  // namespace exhibit::testing
