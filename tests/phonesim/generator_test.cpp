// --generate: a realistic test phone. Photos are real JPEGs whose EXIF date agrees with the
// file name and mtime; the awkward names and the records the host tests need are there.
#include "phonesim/generator.hpp"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <map>
#include <optional>

#include "common/fs.hpp"
#include "common/sha256.hpp"
#include "phonesim/records.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::phonesim {
namespace {

namespace fsys = std::filesystem;

unsigned be16(std::string_view s, std::size_t at) {
    return static_cast<unsigned char>(s[at]) << 8 | static_cast<unsigned char>(s[at + 1]);
}
std::uint32_t le(std::string_view s, std::size_t at, int bytes) {
    std::uint32_t v = 0;
    for (int i = bytes - 1; i >= 0; --i)
        v = v << 8 | static_cast<unsigned char>(s[at + static_cast<std::size_t>(i)]);
    return v;
}

// The ASCII value of `tag` in the IFD at `ifd` of a little-endian TIFF block.
std::optional<std::string> tiff_ascii(std::string_view tiff, std::size_t ifd, unsigned tag) {
    auto n = le(tiff, ifd, 2);
    for (std::size_t i = 0; i < n; ++i) {
        auto e = ifd + 2 + 12 * i;
        if (le(tiff, e, 2) != tag)
            continue;
        auto count = le(tiff, e + 4, 4);
        auto at = count <= 4 ? e + 8 : le(tiff, e + 8, 4);
        return std::string(tiff.substr(at, count - 1));
    }
    return std::nullopt;
}

struct JpegFacts {
    bool valid = false;
    std::string date_time_original;
    unsigned width = 0, height = 0;
};

// Walks the JPEG's segments the way a reader does: SOI, marker segments, SOS, scan, EOI.
JpegFacts read_jpeg(std::string_view j) {
    JpegFacts f;
    if (j.size() < 4 || j.substr(0, 2) != "\xFF\xD8" || j.substr(j.size() - 2) != "\xFF\xD9")
        return f;
    std::size_t pos = 2;
    bool frame = false;
    while (pos + 4 <= j.size() && static_cast<unsigned char>(j[pos]) == 0xFF) {
        auto marker = static_cast<unsigned char>(j[pos + 1]);
        auto len = be16(j, pos + 2);
        auto body = j.substr(pos + 4, len - 2);
        if (marker == 0xE1 && body.substr(0, 6) == std::string_view("Exif\0\0", 6)) {
            auto tiff = body.substr(6);
            EXPECT_EQ(tiff.substr(0, 4), std::string_view("II*\0", 4));
            auto ifd0 = le(tiff, 4, 4);
            auto n = le(tiff, ifd0, 2);
            for (std::size_t i = 0; i < n; ++i)
                if (le(tiff, ifd0 + 2 + 12 * i, 2) == 0x8769)
                    f.date_time_original =
                        tiff_ascii(tiff, le(tiff, ifd0 + 10 + 12 * i, 4), 0x9003).value_or("");
        }
        if (marker == 0xC0) {
            frame = true;
            f.height = be16(body, 1);
            f.width = be16(body, 3);
        }
        pos += 2 + len;
        if (marker == 0xDA) {
            f.valid = frame && pos < j.size() - 2;  // entropy-coded data follows SOS
            return f;
        }
    }
    return f;
}

std::int64_t mtime_of(const fsys::path& p) {
    struct stat st {};
    ::stat(p.c_str(), &st);
    return st.st_mtim.tv_sec;
}

// "2023:12:24 18:00:00" as seconds since the epoch (UTC).
std::int64_t exif_epoch(const std::string& dt) {
    using namespace std::chrono;
    auto n = [&](std::size_t at, std::size_t len) { return std::stoi(dt.substr(at, len)); };
    auto day = sys_days{year{n(0, 4)} / month{static_cast<unsigned>(n(5, 2))} /
                        std::chrono::day{static_cast<unsigned>(n(8, 2))}};
    return duration_cast<seconds>(day.time_since_epoch()).count() + n(11, 2) * 3600 +
           n(14, 2) * 60 + n(17, 2);
}

std::map<std::string, std::string> hashes(const fsys::path& root) {
    std::map<std::string, std::string> out;
    for (const auto& e : fsys::recursive_directory_iterator(root))
        if (e.is_regular_file())
            out[fsys::relative(e.path(), root).string()] = to_hex(*Sha256::of_file(e.path()));
    return out;
}

TEST(PhonesimGenerator, JpegCarriesTheExifDateAndAFrame) {
    auto j = jpeg_with_exif("2022:02:03 04:05:06", 100'000, 3);
    auto f = read_jpeg(j);
    EXPECT_TRUE(f.valid);
    EXPECT_EQ(f.date_time_original, "2022:02:03 04:05:06");
    EXPECT_GE(f.width, 160u);
    EXPECT_EQ(f.height, 120u);
    EXPECT_GT(j.size(), 100'000u);
}

TEST(PhonesimGenerator, PhotosAcrossYearsWithMatchingDatesAndMtimes) {
    testing::TempDir dir;
    ASSERT_TRUE(generate_phone(dir.path(), {.seed = 4}));
    std::set<std::string> years;
    std::size_t photos = 0;
    for (const auto& e : fsys::directory_iterator(dir / "DCIM/Camera")) {
        if (e.path().extension() != ".jpg")
            continue;
        ++photos;
        auto f = read_jpeg(*fs::read_file(e.path(), 1 << 24));
        EXPECT_TRUE(f.valid) << e.path();
        ASSERT_EQ(f.date_time_original.size(), 19u) << e.path();
        years.insert(f.date_time_original.substr(0, 4));
        EXPECT_EQ(mtime_of(e.path()), exif_epoch(f.date_time_original)) << e.path();
        // IMG_YYYYMMDD_HHMMSS.jpg names the same moment.
        auto name = e.path().filename().string();
        auto d = f.date_time_original;
        EXPECT_EQ(name.substr(4, 15), d.substr(0, 4) + d.substr(5, 2) + d.substr(8, 2) + "_" +
                                          d.substr(11, 2) + d.substr(14, 2) + d.substr(17, 2));
    }
    EXPECT_GE(photos, 10u);
    EXPECT_GE(years.size(), 3u);
}

TEST(PhonesimGenerator, MediaDocumentsMessagingFoldersAndAwkwardNames) {
    testing::TempDir dir;
    ASSERT_TRUE(generate_phone(dir.path(), {.seed = 4}));
    auto starts_with = [&](const std::string& rel, std::string_view magic) {
        auto text = fs::read_file(dir / rel, 1 << 30);
        return text && text->starts_with(magic);
    };
    EXPECT_TRUE(starts_with("DCIM/Camera/VID_20240704_181200.mp4", std::string_view("\0\0\0\x18"
                                                                                    "ftyp",
                                                                                    8)));
    EXPECT_GE(fsys::file_size(dir / "DCIM/Camera/VID_20240704_181200.mp4"), 8u << 20);
    EXPECT_TRUE(starts_with("Recordings/Voice 001.m4a", std::string_view("\0\0\0\x1c"
                                                                         "ftypM4A",
                                                                         11)));
    EXPECT_TRUE(starts_with("Music/Band - Song.mp3", "ID3"));
    EXPECT_TRUE(starts_with("Documents/tenancy agreement.pdf", "%PDF-"));
    EXPECT_TRUE(starts_with("Documents/notes.docx", "PK"));
    EXPECT_TRUE(fsys::exists(dir / "Android/media/com.whatsapp/WhatsApp/Media/WhatsApp Images"));
    EXPECT_TRUE(fsys::exists(dir / "Android/media/org.telegram.messenger/Telegram"));

    bool long_name = false, emoji = false, dash = false, space = false, empty = false;
    std::size_t depth = 0;
    for (const auto& e : fsys::recursive_directory_iterator(dir.path())) {
        auto name = e.path().filename().string();
        long_name |= name.size() == 255;
        emoji |= name.find("\xF0\x9F") != std::string::npos;
        dash |= name.starts_with("-");
        space |= name.starts_with(" ");
        empty |= e.is_regular_file() && e.file_size() == 0;
        depth = std::max(depth, static_cast<std::size_t>(
                                    std::distance(fsys::relative(e.path(), dir.path()).begin(),
                                                  fsys::relative(e.path(), dir.path()).end())));
    }
    EXPECT_TRUE(long_name && emoji && dash && space && empty);
    EXPECT_GE(depth, 6u);
}

TEST(PhonesimGenerator, RecordsHoldTheValuesThatMakeParsingHard) {
    testing::TempDir dir;
    ASSERT_TRUE(generate_phone(dir.path(), {.seed = 4}));
    auto r = load_records(dir / "records.json");
    ASSERT_TRUE(r) << r.error().describe();
    std::string bodies;
    for (const auto& m : r->sms)
        bodies += m.value("body", "") + "\x1e";
    EXPECT_NE(bodies.find(", "), std::string::npos);
    EXPECT_NE(bodies.find("="), std::string::npos);
    EXPECT_NE(bodies.find("\n"), std::string::npos);
    EXPECT_GE(r->sms.size(), 5u);
    EXPECT_FALSE(r->call_log.empty());
    EXPECT_FALSE(r->contacts.empty());
    EXPECT_FALSE(r->packages.empty());
    for (auto key : {"ro.product.manufacturer", "ro.product.model", "ro.product.brand",
                     "ro.build.version.release", "ro.build.fingerprint"})
        EXPECT_TRUE(r->properties.contains(key)) << key;
    auto inbox = content_query(*r, "content://sms/inbox", {});
    ASSERT_TRUE(inbox);
    EXPECT_TRUE(inbox->starts_with("Row: 0 _id="));
}

TEST(PhonesimGenerator, TheSeedDecidesEveryByte) {
    testing::TempDir a, b, c;
    ASSERT_TRUE(generate_phone(a.path(), {.seed = 9}));
    ASSERT_TRUE(generate_phone(b.path(), {.seed = 9}));
    ASSERT_TRUE(generate_phone(c.path(), {.seed = 10}));
    auto ha = hashes(a.path());
    EXPECT_EQ(ha, hashes(b.path()));
    auto hc = hashes(c.path());
    EXPECT_EQ(ha.size(), hc.size());
    EXPECT_NE(ha, hc);
}

TEST(PhonesimGenerator, SparseVideoOver4GiBTakesAlmostNoDisk) {
    testing::TempDir dir;
    ASSERT_TRUE(generate_phone(dir.path(), {.seed = 1, .sparse_4g = true}));
    auto p = dir / std::string(kSparseVideo);
    struct stat st {};
    ASSERT_EQ(::stat(p.c_str(), &st), 0);
    EXPECT_EQ(static_cast<std::uint64_t>(st.st_size), kSparseVideoSize);
    EXPECT_GT(kSparseVideoSize, 4ull << 30);
    EXPECT_LT(st.st_blocks * 512, 1 << 20);
    testing::TempDir plain;
    ASSERT_TRUE(generate_phone(plain.path(), {.seed = 1}));
    EXPECT_FALSE(fsys::exists(plain / std::string(kSparseVideo)));
}

}  // namespace
}  // namespace exhibit::phonesim
