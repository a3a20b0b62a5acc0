// exhibitctl's formatting for people: sizes, times, tables and terminal-safe strings.
#include "tools/exhibitctl/format.hpp"

#include <gtest/gtest.h>

namespace exhibit::ctl {
namespace {

TEST(ExhibitctlFormat, Bytes) {
    EXPECT_EQ(format_bytes(0), "0 B");
    EXPECT_EQ(format_bytes(1023), "1023 B");
    EXPECT_EQ(format_bytes(1024), "1.0 KiB");
    EXPECT_EQ(format_bytes(1536), "1.5 KiB");
    EXPECT_EQ(format_bytes(1024 * 1024 - 1), "1.0 MiB") << "rounds up into the next unit";
    EXPECT_EQ(format_bytes(40ull << 30), "40.0 GiB");
    EXPECT_EQ(format_bytes(UINT64_MAX), "16.0 EiB");
}

TEST(ExhibitctlFormat, RatesTimesPercents) {
    EXPECT_EQ(format_rate(0), "-");
    EXPECT_EQ(format_rate(-5), "-");
    EXPECT_EQ(format_rate(35.1 * 1024 * 1024), "35.1 MiB/s");
    EXPECT_EQ(format_time_ms(0), "never");
    EXPECT_EQ(format_time_ms(0, "-"), "-");
    EXPECT_EQ(format_time_ms(1795953600000), "2026-11-29 12:00:00 UTC");
    EXPECT_EQ(format_percent(0.4204), "42.0%");
    EXPECT_EQ(format_percent(1.7), "100.0%");
    EXPECT_EQ(format_percent(-1), "0.0%");
}

TEST(ExhibitctlFormat, NothingFromAPhoneSteersTheTerminal) {
    EXPECT_EQ(printable("IMG_1.jpg"), "IMG_1.jpg");
    EXPECT_EQ(printable("caf\xc3\xa9 \xe2\x82\xac"), "caf\xc3\xa9 \xe2\x82\xac") << "UTF-8 kept";
    EXPECT_EQ(printable("a\x1b[2Jb"), "a?[2Jb") << "escape sequences are cut";
    EXPECT_EQ(printable("a\rb\nc\x7f"), "a?b?c?");
    EXPECT_EQ(printable("x\xc2\x9b"
                        "1m"),
              "x?1m")
        << "C1 CSI as UTF-8";
    EXPECT_EQ(printable("x\x9by"), "x?y") << "a lone 8-bit CSI";
    EXPECT_EQ(printable("\xc0\xaf"), "??") << "overlong encodings";
    EXPECT_EQ(printable("\xed\xa0\x80"), "???") << "surrogates";
}

TEST(ExhibitctlFormat, TailsKeepTheEndOfAPath) {
    EXPECT_EQ(keep_tail("/sdcard/DCIM/IMG_1.jpg", 100), "/sdcard/DCIM/IMG_1.jpg");
    EXPECT_EQ(keep_tail("/sdcard/DCIM/IMG_1.jpg", 10), "…IMG_1.jpg");
    EXPECT_EQ(display_width(keep_tail("/sdcard/caf\xc3\xa9/IMG_\xc3\xa9.jpg", 8)), 8u);
    EXPECT_EQ(keep_tail("abc", 0), "");
}

TEST(ExhibitctlFormat, TablesAlignColumns) {
    Table t({"ID", "STATE", "DETAIL"});
    t.add({"d1", "ready", ""});
    t.add({"d10", "needs_authorisation", "accept the prompt"});
    EXPECT_EQ(t.render(),
              "ID   STATE                DETAIL\n"
              "d1   ready\n"
              "d10  needs_authorisation  accept the prompt\n");
    EXPECT_EQ(render_pairs({{"kiosk", "k1"}, {"disk free", "1.0 GiB"}}),
              "kiosk      k1\n"
              "disk free  1.0 GiB\n");
}

}  // namespace
}  // namespace exhibit::ctl
