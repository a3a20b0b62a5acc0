#include "drivers/adb/adb_protocol.hpp"

#include <gtest/gtest.h>

namespace exhibit::adb {
namespace {

TEST(AdbProtocol, HeaderRoundTripWithChecksumOnlyForOldVersion) {
    std::string payload = "host::features=shell_v2";
    auto bytes = as_bytes(payload);
    auto old = encode_header(kCmdCnxn, kVersion, kMaxPayload, bytes, kVersionMin);
    auto h = decode_header(old, kMaxHandshakePayload);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->command, kCmdCnxn);
    EXPECT_EQ(h->arg0, kVersion);
    EXPECT_EQ(h->data_length, payload.size());
    EXPECT_EQ(h->data_check, payload_checksum(bytes));
    EXPECT_TRUE(check_payload(*h, bytes, kVersionMin));
    auto changed = payload;
    changed[0] = 'H';
    EXPECT_FALSE(check_payload(*h, as_bytes(changed), kVersionMin));

    auto modern = encode_header(kCmdWrte, 1, 2, bytes, kVersionSkipChecksum);
    auto m = decode_header(modern, kMaxPayload);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->data_check, 0u);
    EXPECT_TRUE(check_payload(*m, as_bytes(changed), kVersionSkipChecksum))
        << "not verified once skipped";
    // The wire starts with the command's ASCII name.
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(modern.data()), 4), "WRTE");
}

TEST(AdbProtocol, BadMagicAndOversizedPayloadAreRejected) {
    auto h = encode_header(kCmdOkay, 1, 2, {}, kVersion);
    h[20] ^= std::byte{1};
    auto bad = decode_header(h, kMaxPayload);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::protocol);
    EXPECT_NE(bad.error().message.find("magic"), std::string::npos);

    std::vector<std::byte> big(5000);
    auto big_header = encode_header(kCmdWrte, 1, 2, big, kVersion);
    auto over = decode_header(big_header, 4096);
    ASSERT_FALSE(over);
    EXPECT_NE(over.error().message.find("exceeds"), std::string::npos);
}

TEST(AdbProtocol, ChecksumIsAByteSumNotACrc) {
    std::vector<std::byte> p = {std::byte{0xff}, std::byte{0xff}, std::byte{1}};
    EXPECT_EQ(payload_checksum(p), 0x1ffu);
}

TEST(AdbProtocol, ModernDeviceBanner) {
    auto b = parse_banner(
        "device::ro.product.name=sunfish;ro.product.model=Pixel 4a;ro.product.device=sunfish;"
        "features=shell_v2,cmd,stat_v2,ls_v2");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->system_type, "device");
    EXPECT_EQ(b->serial, "");
    EXPECT_EQ(b->properties.at("ro.product.model"), "Pixel 4a");
    EXPECT_TRUE(b->features.contains("ls_v2"));
    EXPECT_EQ(b->features.size(), 4u);
}

TEST(AdbProtocol, OldDeviceBannerWithTrailingSemicolonAndNul) {
    std::string text = "device::ro.product.name=x;ro.product.model=y;ro.product.device=z;";
    text.push_back('\0');
    auto b = parse_banner(text);
    ASSERT_TRUE(b);
    EXPECT_EQ(b->properties.size(), 3u);
    EXPECT_TRUE(b->features.empty());
    EXPECT_FALSE(parse_banner("garbage"));
    EXPECT_TRUE(parse_banner("recovery::")->system_type == "recovery");
}

TEST(AdbProtocol, BannerFormatParsesBack) {
    Banner b{.system_type = "host"};
    b.features = {"shell_v2", "stat_v2"};
    auto text = format_banner(b);
    EXPECT_EQ(text, "host::features=shell_v2,stat_v2");
    EXPECT_EQ(parse_banner(text)->features, b.features);
}

}  // namespace
}  // namespace exhibit::adb
