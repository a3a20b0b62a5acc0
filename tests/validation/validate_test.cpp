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

}  // namespace
}  // namespace exhibit::validate
