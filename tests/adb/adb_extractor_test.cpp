// Pure parts of the ADB driver: getprop and shell-protocol decoding, sync
// records, scope times.
#include "drivers/adb/adb_extractor.hpp"

#include <gtest/gtest.h>

#include "drivers/adb/shell_client.hpp"
#include "drivers/adb/sync_protocol.hpp"

namespace exhibit::adb {
namespace {

using drivers::Category;

TEST(Getprop, ParsesBracketedLines) {
    auto p = parse_getprop(
        "[ro.product.model]: [Pixel 7]\n[ro.build.fingerprint]: "
        "[google/x:14/AB:user/release-keys]\n"
        "garbage line\n[empty]: []\n");
    EXPECT_EQ(p.at("ro.product.model"), "Pixel 7");
    EXPECT_EQ(p.at("ro.build.fingerprint"), "google/x:14/AB:user/release-keys");
    EXPECT_EQ(p.at("empty"), "");
    EXPECT_EQ(p.size(), 3u);
}

TEST(ShellV2, DecodesStreamsAndExit) {
    std::string s;
    auto packet = [&](char id, std::string_view data) {
        s.push_back(id);
        auto n = static_cast<std::uint32_t>(data.size());
        for (int i = 0; i < 4; ++i)
            s.push_back(static_cast<char>(n >> (8 * i)));
        s.append(data);
    };
    packet(1, "out1 ");
    packet(2, "err");
    packet(1, "out2");
    packet(3, std::string(1, '\x7f'));
    auto r = decode_shell_v2(s, 1000);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->out, "out1 out2");
    EXPECT_EQ(r->err, "err");
    EXPECT_EQ(r->exit_code, 127);
    EXPECT_FALSE(decode_shell_v2(s.substr(0, s.size() - 1), 1000)) << "truncated";
    EXPECT_FALSE(decode_shell_v2(s, 4)) << "over the limit";
}

TEST(SyncRecords, StatV2RoundTripWithSizeOver4GiB) {
    sync::FileStat st{
        .mode = sync::kModeRegular | 0644, .size = (4ull << 30) + 7, .mtime = 1700000000};
    std::vector<std::byte> out;
    sync::encode_stat_v2(out, sync::kSta2, st);
    ASSERT_EQ(out.size(), sync::kStatV2Size);
    auto back = sync::decode_stat_v2(
        std::span<const std::byte, sync::kStatV2Size>(out.data(), sync::kStatV2Size));
    EXPECT_EQ(back.size, st.size);
    EXPECT_EQ(back.mtime, st.mtime);
    EXPECT_TRUE(back.is_regular());

    out.clear();
    sync::encode_dent_v2(out, {"name with space", st});
    std::uint32_t len = 0;
    auto dent = sync::decode_dent_v2(
        std::span<const std::byte, sync::kDentV2Size>(out.data(), sync::kDentV2Size), &len);
    EXPECT_EQ(len, 15u);
    EXPECT_EQ(dent.size, st.size);
    out.clear();
    sync::encode_stat_v1(out, st);
    auto v1 = sync::decode_stat_v1(
        std::span<const std::byte, sync::kStatV1Size>(out.data(), sync::kStatV1Size));
    EXPECT_EQ(v1.size, 7u) << "STAT v1 truncates sizes to 32 bits, as real adbd does";
}

TEST(Scope, TimeWindowEdges) {
    auto from = drivers::parse_day_utc("2024-01-01").value();
    auto until = drivers::parse_day_utc("2024-02-01").value();
    EXPECT_EQ(from, 1704067200000);
    drivers::Scope s{.categories = {Category::photos}, .from_ms = from, .until_ms = until};
    EXPECT_TRUE(s.includes_time(from));
    EXPECT_FALSE(s.includes_time(from - 1));
    EXPECT_TRUE(s.includes_time(until - 1));
    EXPECT_FALSE(s.includes_time(until));
    EXPECT_FALSE(s.includes_time(std::nullopt));
    EXPECT_TRUE(drivers::Scope{}.includes_time(std::nullopt));
    EXPECT_FALSE(drivers::parse_day_utc("2024-02-30"));
    EXPECT_FALSE(drivers::parse_day_utc("2024-2-3"));
    EXPECT_FALSE(drivers::parse_day_utc("yesterday"));
}

}  // namespace
}  // namespace exhibit::adb
