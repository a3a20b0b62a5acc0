#include "common/sha256.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

namespace exhibit {
namespace {

TEST(Sha256, KnownVectors) {
    EXPECT_EQ(to_hex(Sha256::of(std::string_view(""))),
              "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    EXPECT_EQ(to_hex(Sha256::of(std::string_view("abc"))),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, StreamingEqualsOneShot) {
    std::string data(1'000'003, '\0');
    for (std::size_t i = 0; i < data.size(); ++i)
        data[i] = static_cast<char>(i * 31 + 7);
    Sha256 h;
    for (std::size_t off = 0; off < data.size(); off += 4093)
        h.update(std::string_view(data).substr(off, 4093));
    EXPECT_EQ(h.finish(), Sha256::of(data));
    // finish() resets: the hasher is reusable for a new stream.
    h.update(std::string_view("abc"));
    EXPECT_EQ(h.finish(), Sha256::of(std::string_view("abc")));
}

TEST(Sha256, OfFileMatchesAndReportsSize) {
    auto path = std::filesystem::temp_directory_path() / "exhibit-sha256-test.bin";
    std::string data(3 << 20, 'x');
    data[12345] = 'y';
    std::ofstream(path, std::ios::binary)
        .write(data.data(), static_cast<std::streamsize>(data.size()));
    std::uint64_t size = 0;
    auto d = Sha256::of_file(path, &size);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(*d, Sha256::of(data));
    EXPECT_EQ(size, data.size());
    std::filesystem::remove(path);
    EXPECT_EQ(Sha256::of_file(path).error().code, Errc::not_found);
}

TEST(Hex, RoundTripAndRejects) {
    auto d = Sha256::of(std::string_view("abc"));
    auto back = digest_from_hex(to_hex(d));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, d);
    EXPECT_FALSE(digest_from_hex("abc").has_value());
    EXPECT_FALSE(digest_from_hex(std::string(64, 'g')).has_value());
    EXPECT_FALSE(from_hex("0").has_value());
    auto upper = from_hex("ABff");
    ASSERT_TRUE(upper.has_value());
    EXPECT_EQ(upper->size(), 2u);
    EXPECT_EQ(std::to_integer<int>((*upper)[0]), 0xab);
}

}  // namespace
}  // namespace exhibit
