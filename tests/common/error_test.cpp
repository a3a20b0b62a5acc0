// common/error: how an error's message is composed as it travels up (issue 22: a full disk
// read "write failed: No space left on device: No space left on device").
#include "common/error.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace exhibit {
namespace {

std::size_t occurrences(const std::string& text, const std::string& needle) {
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1))
        ++n;
    return n;
}

TEST(Error, DescribeNamesTheSystemCauseOnce) {
    auto e = fail_errno("write failed", ENOSPC).error();
    EXPECT_EQ(e.code, Errc::no_space);
    EXPECT_EQ(e.describe(), std::string("write failed: ") + std::strerror(ENOSPC));
}

TEST(Error, ContextGoesInFrontAndTheCauseStaysOnce) {
    auto e = fail_errno("write failed", ENOSPC).error().with_context("cannot write to the spool");
    EXPECT_EQ(e.code, Errc::no_space);
    EXPECT_EQ(e.sys_errno, ENOSPC);
    EXPECT_EQ(e.describe(),
              std::string("cannot write to the spool: write failed: ") + std::strerror(ENOSPC));
    auto outer = e.with_context("session 3");
    EXPECT_EQ(occurrences(outer.describe(), std::strerror(ENOSPC)), 1u) << outer.describe();
    EXPECT_TRUE(outer.describe().starts_with("session 3: cannot write to the spool: "));
}

TEST(Error, ContextWithoutErrnoIsTheMessageAlone) {
    auto e = Error{Errc::protocol, "bad frame", 0}.with_context("device d1");
    EXPECT_EQ(e.describe(), "device d1: bad frame");
    EXPECT_EQ(e.code, Errc::protocol);
}

}  // namespace
}  // namespace exhibit
