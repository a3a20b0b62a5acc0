// Notices: the current one is the configured version or the greatest name; what a consent
// records ties it to the exact text; bad files are errors, not shown.
#include <gtest/gtest.h>

#include <fstream>

#include "common/sha256.hpp"
#include "daemon/notices/notice_library.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::notices {
namespace {

class NoticeLibraryTest : public ::testing::Test {
  protected:
    void write(const std::string& name, const std::string& text) {
        std::ofstream(dir_ / name) << text;
    }
    testing::TempDir dir_;
};

TEST_F(NoticeLibraryTest, TheCurrentNoticeIsTheConfiguredOneOrTheGreatestVersion) {
    NoticeLibrary lib(dir_.path(), "");
    EXPECT_EQ(lib.current().error().code, Errc::not_found) << "none installed";
    write("DPN-2024-1.md", "# Old\n");
    write("DPN-2025-2.md", "# New\n");
    write("README.txt", "not a notice");
    write("bad name.md", "not a version");
    auto now = lib.current().value();
    EXPECT_EQ(now.version, "DPN-2025-2");
    EXPECT_EQ(now.text, "# New\n");
    EXPECT_EQ(now.sha256, to_hex(Sha256::of("# New\n")));
    lib.configure(dir_.path(), "DPN-2024-1");
    EXPECT_EQ(lib.current().value().version, "DPN-2024-1");
    lib.configure(dir_.path(), "DPN-2099-1");
    EXPECT_EQ(lib.current().error().code, Errc::not_found) << "configured but missing";
}

TEST_F(NoticeLibraryTest, AConsentRecordsTheVersionAndTheHashOfItsText) {
    write("v7.md", "Words shown.\n");
    NoticeLibrary lib(dir_.path(), "");
    auto r = lib.consent_record("v7").value();
    EXPECT_EQ(r["notice_version"], "v7");
    EXPECT_EQ(r["notice_sha256"], to_hex(Sha256::of("Words shown.\n")));
    auto paper = lib.consent_record("Paper form 3").value();
    EXPECT_EQ(paper["notice_version"], "Paper form 3");
    EXPECT_FALSE(paper.contains("notice_sha256")) << "not installed here: recorded as given";
}

TEST_F(NoticeLibraryTest, ANoticeThatIsNotUtf8OrTooLargeIsAnError) {
    write("bad.md", "caf\xE9\n");
    write("big.md", std::string(kMaxNoticeBytes + 1, 'x'));
    NoticeLibrary lib(dir_.path(), "");
    EXPECT_EQ(lib.find("bad").error().code, Errc::corrupt);
    EXPECT_EQ(lib.find("big").error().code, Errc::corrupt);
    EXPECT_EQ(lib.consent_record("bad").error().code, Errc::corrupt);
    EXPECT_EQ(lib.find("../etc/passwd").error().code, Errc::not_found);
}

}  // namespace
}  // namespace exhibit::notices
