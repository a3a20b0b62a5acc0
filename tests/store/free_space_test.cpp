// The low-disk rule: a sentence the kiosk can show, and Errc::no_space (LowDisk on the bus).
#include <gtest/gtest.h>

#include "daemon/store/free_space.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::store {
namespace {

TEST(FreeSpace, RefusesNewExtractionsWithAClearSentence) {
    testing::TempDir dir;
    EXPECT_TRUE(check_free_space(dir.path(), 1));
    auto s = check_free_space(dir.path(), std::uint64_t{1} << 62);
    ASSERT_FALSE(s);
    EXPECT_EQ(s.error().code, Errc::no_space);
    EXPECT_NE(s.error().message.find("New extractions are paused; uploads continue"),
              std::string::npos)
        << s.error().message;
}

TEST(FreeSpace, AMissingDirectoryIsAnErrorNotAPass) {
    testing::TempDir dir;
    EXPECT_FALSE(check_free_space(dir / "absent", 0));
}

}  // namespace
}  // namespace exhibit::store
