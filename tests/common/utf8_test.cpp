// The one UTF-8 decoder: what it accepts and what it refuses.
#include <gtest/gtest.h>

#include "common/utf8.hpp"

namespace exhibit {
namespace {

TEST(Utf8, AcceptsEveryLengthAndGivesTheCodePoint) {
    char32_t cp = 0;
    EXPECT_EQ(utf8_sequence("A", cp), 1u);
    EXPECT_EQ(cp, U'A');
    EXPECT_EQ(utf8_sequence("\xC3\xA9", cp), 2u);  // é
    EXPECT_EQ(cp, U'\u00E9');
    EXPECT_EQ(utf8_sequence("\xE2\x82\xAC", cp), 3u);  // €
    EXPECT_EQ(cp, U'\u20AC');
    EXPECT_EQ(utf8_sequence("\xF0\x9F\x93\xB1", cp), 4u);  // 📱
    EXPECT_EQ(cp, U'\U0001F4F1');
    EXPECT_TRUE(is_valid_utf8("Caf\xC3\xA9 \xE2\x82\xAC 5"));
    EXPECT_TRUE(is_valid_utf8(""));
}

TEST(Utf8, RefusesOverlongSurrogatesTruncatedAndOutOfRange) {
    for (std::string_view bad : {"\x80", "\xC0\xAF", "\xC1\xBF", "\xE0\x80\xAF", "\xED\xA0\x80",
                                 "\xF0\x80\x80\xAF", "\xF4\x90\x80\x80", "\xF5\x80\x80\x80",
                                 "\xE2\x82", "\xFF"}) {
        EXPECT_EQ(utf8_sequence(bad), 0u) << testing::PrintToString(bad);
        EXPECT_FALSE(is_valid_utf8(bad));
    }
    EXPECT_EQ(utf8_sequence(""), 0u);
    EXPECT_FALSE(is_valid_utf8("ok\xC3"));
}

}  // namespace
TEST(Utf8, EncodesEveryLengthAndReadsBackTheSame) {
    for (char32_t cp : {U'A', U'\u00e9', U'\u20ac', U'\U0001F600', char32_t{0x10FFFF}}) {
        std::string out;
        append_utf8(out, cp);
        char32_t back = 0;
        EXPECT_EQ(utf8_sequence(out, back), out.size()) << static_cast<std::uint32_t>(cp);
        EXPECT_EQ(back, cp);
    }
    std::string euro;
    append_utf8(euro, 0x20AC);
    EXPECT_EQ(euro, "\xE2\x82\xAC");
}

TEST(Utf8, PrintableTextDropsControlsAndNeverCutsACharacter) {
    EXPECT_EQ(printable_text("a\tb\nc\x1b[31m\x7f", 100), "a b c[31m");
    EXPECT_EQ(printable_text("x\xff\xfey", 100), "x??y");
    EXPECT_EQ(printable_text("ab\xE2\x82\xAC", 4), "ab");
    EXPECT_EQ(printable_text("ab\xE2\x82\xAC", 5), "ab\xE2\x82\xAC");
}

}  // namespace exhibit
