// exhibit-validate's pack reader (every malformed field named with its file) and its
// comparison of what the DFU received with a case's known answers: a missing item, an extra
// one, another hash, whole where incomplete was expected, the extraction's end, and the
// verdict of exhibit-verify.
#include "tools/exhibit-validate/pack.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.hpp"

namespace exhibit::validate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::string kShaA(64, 'a');
const std::string kShaB(64, 'b');

void write(const fs::path& file, const json& j) {
    fs::create_directories(file.parent_path());
    std::ofstream(file) << j.dump();
}

json good_pack() {
    return {{"name", "test pack"},
            {"requirements", json::array({{{"id", "R1"}, {"text", "copied whole"}}})},
            {"limits", json::array({"simulated phones"})}};
}

json good_case() {
    return {{"title", "a case"},
            {"requirements", {"R1"}},
            {"seed", 3},
            {"categories", {"photos"}},
            {"from", nullptr},
            {"to", "2024-01-31"},
            {"state", "completed"},
            {"items",
             json::array({{{"source_path", "/sdcard/DCIM/a.jpg"}, {"sha256", kShaA}},
                          {{"source_path", "/sdcard/DCIM/b.jpg"},
                           {"sha256", kShaB},
                           {"complete", false}}})}};
}

TEST(ValidationPack, ReadsRequirementsLimitsAndCasesInFolderOrder) {
    testing::TempDir dir;
    write(dir / "pack.json", good_pack());
    auto second = good_case();
    second["title"] = "second";
    write(dir / "cases" / "02-b" / "case.json", second);
    write(dir / "cases" / "01-a" / "case.json", good_case());
    auto pack = load_pack(dir.path());
    ASSERT_TRUE(pack) << pack.error().message;
    EXPECT_EQ(pack->name, "test pack");
    ASSERT_EQ(pack->requirements.size(), 1u);
    EXPECT_EQ(pack->limits, std::vector<std::string>{"simulated phones"});
    ASSERT_EQ(pack->cases.size(), 2u);
    EXPECT_EQ(pack->cases[0].name, "01-a");
    EXPECT_EQ(pack->cases[1].title, "second");
    const auto& c = pack->cases[0];
    EXPECT_EQ(c.seed, 3u);
    EXPECT_EQ(c.transport, "adb-tcp") << "the default";
    EXPECT_EQ(c.from, "");
    EXPECT_EQ(c.to, "2024-01-31");
    ASSERT_EQ(c.items.size(), 2u);
    EXPECT_TRUE(c.items[0].complete);
    EXPECT_FALSE(c.items[1].complete);
    EXPECT_TRUE(c.records.empty() && c.skipped.empty() && c.numbers.empty()) << "all optional";
}

TEST(ValidationPack, ReadsRecordsSkipsNumbersAndAStick) {
    testing::TempDir dir;
    write(dir / "pack.json", good_pack());
    auto c = good_case();
    c.merge_patch({{"transport", "stick-usb"},
                   {"stick", {{"folders", {"DCIM", "Documents"}}}},
                   {"numbers", {"07700 900123"}},
                   {"records",
                    json::array({{{"source_path", "content://sms"},
                                  {"rows", json::array({{{"_id", "1"}, {"body", nullptr}}})}},
                                 {{"source_path", "getprop"},
                                  {"rows", json::array({json::object()})},
                                  {"match", "contains"}}})},
                   {"skipped", json::array({{{"source_path", "/sdcard/DCIM/a/b.jpg"},
                                             {"reason", "containing '/'"}}})}});
    c["items"][1]["why"] = "after 65536 bytes";
    write(dir / "cases" / "01" / "case.json", c);
    auto pack = load_pack(dir.path());
    ASSERT_TRUE(pack) << pack.error().message;
    const auto& read = pack->cases[0];
    EXPECT_EQ(read.stick.folders, (std::vector<std::string>{"DCIM", "Documents"}));
    EXPECT_EQ(read.stick.label, "WITNESS") << "the default label";
    EXPECT_EQ(read.numbers, std::vector<std::string>{"07700 900123"});
    ASSERT_EQ(read.records.size(), 2u);
    EXPECT_FALSE(read.records[0].contains);
    EXPECT_TRUE(read.records[1].contains);
    EXPECT_EQ(read.records[0].rows[0]["body"], nullptr);
    ASSERT_EQ(read.skipped.size(), 1u);
    EXPECT_EQ(read.skipped[0].reason, "containing '/'");
    EXPECT_EQ(read.items[1].why, "after 65536 bytes");
}

TEST(ValidationPack, AMalformedCaseIsRefusedNamingItsFileAndField) {
    struct Bad {
        const char* why;
        json patch;  // merged into a good case
        const char* named;
    };
    const std::vector<Bad> bad = {
        {"unknown requirement", {{"requirements", {"R9"}}}, "R9"},
        {"short hash", {{"items", json::array({{{"source_path", "/x"}, {"sha256", "abc"}}})}},
         "sha256"},
        {"seed as text", {{"seed", "3"}}, "seed"},
        {"no categories", {{"categories", "photos"}}, "categories"},
        {"complete as text",
         {{"items", json::array({{{"source_path", "/x"}, {"sha256", kShaA}, {"complete", "no"}}})}},
         "complete"},
        {"scenario as a list", {{"scenario", json::array()}}, "scenario"},
        {"unknown transport", {{"transport", "bluetooth"}}, "transport"},
        {"a stick for a phone", {{"stick", {{"folders", {"DCIM"}}}}}, "stick"},
        {"a stick without folders", {{"transport", "stick-usb"}}, "folders"},
        {"a stick folder outside the phone",
         {{"transport", "stick-usb"}, {"stick", {{"folders", {"../etc"}}}}}, "../etc"},
        {"numbers as text", {{"numbers", "07700900123"}}, "numbers"},
        {"rows not objects",
         {{"records", json::array({{{"source_path", "content://sms"}, {"rows", {1, 2}}}})}},
         "content://sms"},
        {"unknown row match",
         {{"records",
           json::array({{{"source_path", "getprop"}, {"rows", json::array()}, {"match", "some"}}})}},
         "match"},
        {"a skip without its reason",
         {{"skipped", json::array({{{"source_path", "/sdcard/DCIM/a/b"}}})}}, "reason"},
    };
    for (const auto& b : bad) {
        SCOPED_TRACE(b.why);
        testing::TempDir dir;
        write(dir / "pack.json", good_pack());
        auto c = good_case();
        c.merge_patch(b.patch);
        write(dir / "cases" / "01" / "case.json", c);
        auto pack = load_pack(dir.path());
        ASSERT_FALSE(pack);
        EXPECT_NE(pack.error().message.find("case.json"), std::string::npos) << pack.error().message;
        EXPECT_NE(pack.error().message.find(b.named), std::string::npos) << pack.error().message;
    }
    testing::TempDir empty;
    write(empty / "pack.json", good_pack());
    EXPECT_FALSE(load_pack(empty.path())) << "a pack without cases";
    EXPECT_FALSE(load_pack(empty / "nowhere"));
}

// What exhibit-verify reports for one session holding `items`.
Observed observed(json items, bool ok = true, int extract_status = 0) {
    Observed o;
    o.extract_status = extract_status;
    o.verify_text = "{}";
    o.verify = {{"ok", ok},
                {"sessions", json::array({{{"session_state", "completed"},
                                           {"manifest", "upload 1"},
                                           {"items", std::move(items)}}})}};
    return o;
}

json item(const std::string& path, const std::string& sha, bool incomplete = false) {
    return {{"source_path", path},
            {"sha256", sha},
            {"status", "ok"},
            {"note", incomplete ? "recorded incomplete (size mismatch); the bytes stored are intact"
                                : ""}};
}

Case the_case() {
    Case c;
    c.name = "01";
    c.state = "completed";
    c.items = {{"/sdcard/DCIM/a.jpg", kShaA, true}, {"/sdcard/DCIM/b.jpg", kShaB, false}};
    return c;
}

std::vector<std::string> failed(const std::vector<Check>& checks) {
    std::vector<std::string> out;
    for (const auto& k : checks)
        if (!k.pass)
            out.push_back(k.what);
    return out;
}

TEST(ValidationCompare, TheKnownAnswersPass) {
    auto checks = compare(the_case(), observed(json::array({item("/sdcard/DCIM/a.jpg", kShaA),
                                                             item("/sdcard/DCIM/b.jpg", kShaB,
                                                                  true)})));
    EXPECT_EQ(failed(checks), std::vector<std::string>{});
    EXPECT_EQ(checks.size(), 6u) << "end, verdict, sessions, state and one per item";
}

TEST(ValidationCompare, EveryDepartureFromThemFailsItsOwnCheck) {
    using V = std::vector<std::string>;
    // Another hash for a, b whole although the phone misstated it, and an item not expected.
    auto checks = compare(the_case(),
                          observed(json::array({item("/sdcard/DCIM/a.jpg", kShaB),
                                                item("/sdcard/DCIM/b.jpg", kShaB),
                                                item("/sdcard/Android/data/x.jpg", kShaA)})));
    EXPECT_EQ(failed(checks), (V{"/sdcard/DCIM/a.jpg", "/sdcard/DCIM/b.jpg",
                                 "/sdcard/Android/data/x.jpg"}));
    // One missing; exhibit-verify failed; the extraction did not complete.
    checks = compare(the_case(),
                     observed(json::array({item("/sdcard/DCIM/a.jpg", kShaA)}), false, 6));
    EXPECT_EQ(failed(checks), (V{"the extraction ends", "exhibit-verify on what the DFU store holds",
                                 "/sdcard/DCIM/b.jpg"}));
    // Nothing reached the DFU store at all.
    Observed nothing;
    nothing.extract_status = 0;
    checks = compare(the_case(), nothing);
    EXPECT_EQ(failed(checks),
              (V{"exhibit-verify on what the DFU store holds", "sessions delivered",
                 "the session's state in its signed manifest", "/sdcard/DCIM/a.jpg",
                 "/sdcard/DCIM/b.jpg"}));
}

// A session with one record item (`content://sms`, its bytes `lines`), an audit trail
// skipping `skipped` (path -> reason), and item a.jpg recorded incomplete with `note`.
Observed with_records(const std::string& lines,
                      const std::vector<std::pair<std::string, std::string>>& skipped,
                      const std::string& note) {
    auto o = observed(json::array({item("content://sms", kShaA)}));
    auto a = item("/sdcard/DCIM/a.jpg", kShaA);
    a["note"] = note;
    o.verify["sessions"][0]["items"].push_back(a);
    json trail = json::array({{{"event", "store.item_added"}, {"details", {{"item_id", 1}}}}});
    for (const auto& [path, reason] : skipped)
        trail.push_back({{"event", "extract.artefact_skipped"},
                         {"details", {{"source_path", path}, {"reason", reason}}}});
    o.verify["sessions"][0]["trail"] = trail;
    o.delivered["content://sms"] = lines;
    return o;
}

Case records_case() {
    Case c;
    c.state = "completed";
    c.items = {{"/sdcard/DCIM/a.jpg", kShaA, false, "after 100 bytes"}};
    c.records = {{"content://sms",
                  {{{"_id", "1"}, {"body", "a, b=c"}}, {{"_id", "2"}, {"body", nullptr}}},
                  false}};
    c.skipped = {{"/sdcard/DCIM/a\\x00b", "NUL byte"}};
    return c;
}

TEST(ValidationCompare, RecordsRowsSkipsAndReasonsPassWhenTheyAgree) {
    const auto good = with_records(
        "{\"_id\":\"1\",\"body\":\"a, b=c\"}\n{\"_id\":\"2\",\"body\":null}\n",
        {{"/sdcard/DCIM/a\\x00b", "the phone listed a name containing a NUL byte in /sdcard/DCIM"}},
        "recorded incomplete (connection closed after 100 bytes); the bytes stored are intact");
    auto checks = compare(records_case(), good);
    EXPECT_EQ(failed(checks), std::vector<std::string>{});
    // end, verdict, sessions, state; a.jpg and its why; the record item, its row count and
    // two rows; the skip.
    EXPECT_EQ(checks.size(), 11u);
}

TEST(ValidationCompare, ARowOrSkipThatDiffersFailsNamingIt) {
    using V = std::vector<std::string>;
    // Row 2 altered, a third row not expected, a skip not expected, the expected one absent,
    // and the wrong count of bytes in the reason.
    auto checks = compare(
        records_case(),
        with_records("{\"_id\":\"1\",\"body\":\"a, b=c\"}\n{\"_id\":\"2\",\"body\":\"\"}\n"
                     "{\"_id\":\"3\",\"body\":null}\n",
                     {{"/sdcard/DCIM/x.jpg", "the phone could not send it"}},
                     "recorded incomplete (connection closed after 99 bytes)"));
    EXPECT_EQ(failed(checks),
              (V{"/sdcard/DCIM/a.jpg: why it is incomplete", "content://sms: rows",
                 "content://sms: row 2", "content://sms: row 3", "/sdcard/DCIM/a\\x00b: skipped",
                 "/sdcard/DCIM/x.jpg: skipped"}));
    // A line that is not JSON fails its row; bytes never read fail the rows.
    checks = compare(records_case(), with_records("{\"_id\":\"1\",\"body\":\"a, b=c\"}\nnot json\n",
                                                  {{"/sdcard/DCIM/a\\x00b", "NUL byte"}},
                                                  "recorded incomplete (after 100 bytes)"));
    EXPECT_EQ(failed(checks), V{"content://sms: row 2"});
    auto unread = with_records("", {{"/sdcard/DCIM/a\\x00b", "NUL byte"}},
                               "recorded incomplete (after 100 bytes)");
    unread.delivered.clear();
    EXPECT_EQ(failed(compare(records_case(), unread)), V{"content://sms: rows"});
}

TEST(ValidationCompare, AContainsRowNeedsOnlyItsMembers) {
    auto c = records_case();
    c.records = {{"content://sms", {{{"properties", {{"ro.product.model", "Pixel 7"}}}}}, true}};
    c.skipped.clear();
    c.items.clear();
    auto o = with_records(
        R"({"properties":{"ro.product.model":"Pixel 7","ro.serialno":"X"}})" "\n", {}, "");
    o.verify["sessions"][0]["items"].erase(1);
    EXPECT_EQ(failed(compare(c, o)), std::vector<std::string>{});
    o.delivered["content://sms"] = R"({"properties":{"ro.product.model":"Pixel 8"}})" "\n";
    EXPECT_EQ(failed(compare(c, o)), std::vector<std::string>{"content://sms: row 1"});
}

}  // namespace
}  // namespace exhibit::validate
