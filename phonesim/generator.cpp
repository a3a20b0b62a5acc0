#include "generator.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>
#include <fstream>
#include <random>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace exhibit::phonesim {

namespace {

namespace fsys = std::filesystem;

void put16(std::string& s, unsigned v, bool big) {
    if (big)
        s += {static_cast<char>(v >> 8), static_cast<char>(v)};
    else
        s += {static_cast<char>(v), static_cast<char>(v >> 8)};
}
void put32le(std::string& s, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        s.push_back(static_cast<char>(v >> (8 * i)));
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    std::mt19937 rng(seed);
    for (auto& c : s)
        c = static_cast<char>(rng());
    return s;
}

std::int64_t epoch(int y, unsigned m, unsigned d, int hh, int mm) {
    using namespace std::chrono;
    auto day = sys_days{year{y} / month{m} / std::chrono::day{d}};
    return duration_cast<seconds>(day.time_since_epoch()).count() + hh * 3600 + mm * 60;
}

Status write(const fsys::path& p, std::string_view bytes, std::int64_t mtime) {
    std::error_code ec;
    fsys::create_directories(p.parent_path(), ec);
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out)
        return fail(Errc::io, fmt::format("cannot write {}", p.string()));
    out.close();
    timespec t[2] = {{mtime, 0}, {mtime, 0}};
    if (::utimensat(AT_FDCWD, p.c_str(), t, 0) != 0)
        return fail_errno(fmt::format("cannot date {}", p.string()));
    return {};
}

// An MP4 header, then a hole: the file takes a few KiB of disk whatever its size.
Status write_sparse(const fsys::path& p, std::uint64_t size, std::int64_t mtime) {
    if (auto s = write(p,
                       std::string("\0\0\0\x18"
                                   "ftypmp42",
                                   12),
                       mtime);
        !s)
        return s;
    std::error_code ec;
    fsys::resize_file(p, size, ec);
    if (ec)
        return fail(Errc::io, fmt::format("cannot grow {}: {}", p.string(), ec.message()));
    timespec t[2] = {{mtime, 0}, {mtime, 0}};
    if (::utimensat(AT_FDCWD, p.c_str(), t, 0) != 0)
        return fail_errno(fmt::format("cannot date {}", p.string()));
    return {};
}

std::string with_header(std::string_view header, std::size_t size, unsigned seed) {
    std::string s(header);
    if (size > s.size())
        s += random_bytes(size - s.size(), seed);
    return s;
}

}  // namespace

namespace {

// One TIFF tag: type 2 ASCII (data includes the NUL), 3 SHORT, 4 LONG, 7 UNDEFINED.
struct TiffTag {
    std::uint16_t tag;
    std::uint16_t type;
    std::uint32_t count;
    std::string data;  // little-endian value bytes
};

TiffTag ascii_tag(std::uint16_t tag, std::string_view text) {
    std::string data(text);
    data.push_back('\0');
    return {tag, 2, static_cast<std::uint32_t>(data.size()), data};
}

std::size_t ifd_size(const std::vector<TiffTag>& tags) {
    std::size_t n = 2 + 12 * tags.size() + 4;
    for (const auto& t : tags)
        if (t.data.size() > 4)
            n += (t.data.size() + 1) & ~std::size_t{1};
    return n;
}

// Appends an IFD that starts at TIFF offset `at`, its long values right after it.
void put_ifd(std::string& out, std::size_t at, const std::vector<TiffTag>& tags) {
    std::size_t values = at + 2 + 12 * tags.size() + 4;
    std::string tail;
    put16(out, static_cast<unsigned>(tags.size()), false);
    for (const auto& t : tags) {
        put16(out, t.tag, false);
        put16(out, t.type, false);
        put32le(out, t.count);
        if (t.data.size() <= 4) {
            out += t.data + std::string(4 - t.data.size(), '\0');
        } else {
            put32le(out, static_cast<std::uint32_t>(values + tail.size()));
            tail += t.data;
            if (tail.size() % 2)
                tail.push_back('\0');
        }
    }
    put32le(out, 0);  // no next IFD
    out += tail;
}

void put_segment(std::string& jpeg, unsigned marker, std::string_view body) {
    jpeg += {'\xFF', static_cast<char>(marker)};
    put16(jpeg, static_cast<unsigned>(body.size() + 2), true);
    jpeg += body;
}

// APP1 "Exif": IFD0 (Make, Model, Orientation, DateTime, Exif IFD pointer) and the Exif IFD
// (ExifVersion, DateTimeOriginal, DateTimeDigitized).
std::string exif_segment(std::string_view datetime) {
    std::string dt(datetime.substr(0, 19));
    dt.resize(19, ' ');
    std::vector<TiffTag> exif = {
        {0x9000, 7, 4, "0232"}, ascii_tag(0x9003, dt), ascii_tag(0x9004, dt)};
    std::vector<TiffTag> ifd0 = {ascii_tag(0x010F, "Google"),
                                 ascii_tag(0x0110, "Pixel 7"),
                                 {0x0112, 3, 1, std::string("\1\0", 2)},
                                 ascii_tag(0x0132, dt),
                                 {0x8769, 4, 1, ""}};
    std::size_t exif_at = 8 + ifd_size(ifd0);
    put32le(ifd0.back().data, static_cast<std::uint32_t>(exif_at));
    std::string tiff("II*\0", 4);
    put32le(tiff, 8);
    put_ifd(tiff, 8, ifd0);
    put_ifd(tiff, exif_at, exif);
    return std::string("Exif\0\0", 6) + tiff;
}

// A baseline grayscale image of flat blocks: every block codes DC difference 0 and EOB, each
// with a one-bit Huffman code, so the scan is 2 bits per 8x8 block.
void put_flat_image(std::string& jpeg, unsigned width, unsigned height) {
    put_segment(jpeg, 0xDB, std::string(1, '\0') + std::string(64, '\x08'));  // DQT 0
    std::string sof = "\x08";                                                 // 8-bit samples
    put16(sof, height, true);
    put16(sof, width, true);
    sof += std::string("\x01\x01\x11\x00", 4);  // one component: id 1, 1x1, table 0
    put_segment(jpeg, 0xC0, sof);
    std::string one_code = std::string("\x01", 1) + std::string(15, '\0') + std::string(1, '\0');
    put_segment(jpeg, 0xC4, std::string(1, '\x00') + one_code);  // DC 0: category 0 -> "0"
    put_segment(jpeg, 0xC4, std::string(1, '\x10') + one_code);  // AC 0: EOB -> "0"
    put_segment(jpeg, 0xDA, std::string("\x01\x01\x00\x00\x3F\x00", 6));
    std::size_t blocks = ((width + 7) / 8) * ((height + 7) / 8);
    std::size_t bits = 2 * blocks;
    std::string scan(bits / 8, '\0');
    if (bits % 8)  // pad the last byte with 1-bits
        scan.push_back(static_cast<char>(0xFF >> (bits % 8)));
    jpeg += scan;
}

}  // namespace

std::string jpeg_with_exif(std::string_view datetime, std::size_t filler, unsigned seed) {
    std::string jpeg = "\xFF\xD8";
    put_segment(jpeg, 0xE1, exif_segment(datetime));
    // Camera-like bulk: opaque application data (APP11 segments of at most 60000 bytes).
    std::string data = random_bytes(filler, seed);
    for (std::size_t pos = 0; pos < data.size(); pos += 60000)
        put_segment(jpeg, 0xEB, std::string_view(data).substr(pos, 60000));
    put_flat_image(jpeg, 160 + seed % 8 * 8, 120);
    jpeg += "\xFF\xD9";
    return jpeg;
}

Status generate_iphone(const fsys::path& dir, const GenerateOptions& o) {
    std::mt19937 rng(o.seed);
    auto file = [&](const std::string& rel, std::string_view bytes, std::int64_t mtime) {
        return write(dir / rel, bytes, mtime);
    };
    // Camera photos across four years, numbered as an iPhone numbers them.
    for (int i = 0; i < 12; ++i) {
        int y = 2021 + i % 4;
        unsigned m = 1 + static_cast<unsigned>(i * 5 % 12),
                 d = 1 + static_cast<unsigned>(i * 7 % 28);
        int hh = 8 + i % 12, mm = i * 3 % 60;
        auto dt = fmt::format("{:04}:{:02}:{:02} {:02}:{:02}:00", y, m, d, hh, mm);
        if (auto s = file(fmt::format("DCIM/100APPLE/IMG_{:04}.JPG", i + 1),
                          jpeg_with_exif(dt, 20000 + rng() % 40000, o.seed + static_cast<unsigned>(i)),
                          epoch(y, m, d, hh, mm));
            !s)
            return s;
    }
    const std::string png_header("\x89PNG\r\n\x1a\n", 8);
    const std::string heic_header("\0\0\0\x18" "ftypheic", 12);
    const std::string mov_header("\0\0\0\x14" "ftypqt  ", 12);
    struct Plain {
        std::string path;
        std::string header;
        std::size_t size;
        std::int64_t mtime;
    };
    const std::vector<Plain> plain = {
        {"DCIM/100APPLE/IMG_0013.HEIC", heic_header, 140000, epoch(2024, 6, 12, 20, 14)},
        {"DCIM/100APPLE/IMG_0014.MOV", mov_header, o.large ? (512u << 20) : (8u << 20),
         epoch(2024, 6, 12, 20, 20)},
        {"DCIM/100APPLE/IMG_0015.PNG", png_header, 210000, epoch(2024, 6, 11, 22, 1)},
        {"DCIM/101APPLE/IMG_0101.JPG", png_header, 30000, epoch(2024, 7, 1, 9, 0)},
        {"DCIM/101APPLE/IMG_0102.MP4", std::string("\0\0\0\x18" "ftypmp42", 12), 600000,
         epoch(2024, 7, 2, 9, 0)},
        // Names that trip up careless tools.
        {"DCIM/101APPLE/Ünïcødé café 😀.JPG", png_header, 5000, epoch(2023, 12, 24, 18, 0)},
        {"DCIM/101APPLE/ -starts with space and dash.PNG", png_header, 3000,
         epoch(2023, 12, 25, 9, 0)},
        {"DCIM/101APPLE/empty.JPG", "", 0, epoch(2024, 1, 1, 0, 0)},
        // An edited photo: the library keeps its render beside the original.
        {"PhotoData/Mutations/DCIM/100APPLE/IMG_0003/Adjustments/FullSizeRender.jpg", png_header,
         45000, epoch(2024, 3, 3, 12, 0)},
        // Not the camera roll: never taken.
        {"PhotoData/Mutations/DCIM/100APPLE/IMG_0003/Adjustments/Adjustments.plist",
         "<?xml version=\"1.0\"?>\n", 800, epoch(2024, 3, 3, 12, 0)},
        {"PhotoData/Photos.sqlite", "SQLite format 3", 400000, epoch(2024, 7, 2, 9, 5)},
        {"PhotoData/Thumbnails/V2/DCIM/100APPLE/IMG_0001.JPG/5005.JPG", png_header, 4000,
         epoch(2024, 7, 2, 9, 5)},
        {"Downloads/ticket.pdf", "%PDF-1.5\n", 60000, epoch(2024, 6, 1, 7, 0)},
        {"Recordings/20240612 201500.m4a", std::string("\0\0\0\x1c" "ftypM4A ", 12), 300000,
         epoch(2024, 6, 12, 20, 15)},
        {"iTunes_Control/Music/F00/ABCD.mp3", "ID3\x03", 150000, epoch(2022, 8, 1, 12, 0)},
    };
    for (const auto& f : plain)
        if (auto s = file(f.path, with_header(f.header, f.size, static_cast<unsigned>(rng())),
                          f.mtime);
            !s)
            return s;
    if (o.sparse_4g)
        if (auto s = write_sparse(dir / "DCIM/101APPLE/IMG_0199.MOV", kSparseVideoSize,
                                  epoch(2024, 6, 12, 23, 59));
            !s)
            return s;
    return {};
}

Status generate_phone(const fsys::path& dir, const GenerateOptions& o) {
    std::mt19937 rng(o.seed);
    auto file = [&](const std::string& rel, std::string_view bytes, std::int64_t mtime) {
        return write(dir / rel, bytes, mtime);
    };
    // Camera photos across four years.
    for (int i = 0; i < 16; ++i) {
        int y = 2021 + i % 4;
        unsigned m = 1 + static_cast<unsigned>(i * 5 % 12),
                 d = 1 + static_cast<unsigned>(i * 7 % 28);
        int hh = 8 + i % 12, mm = i * 3 % 60;
        auto dt = fmt::format("{:04}:{:02}:{:02} {:02}:{:02}:00", y, m, d, hh, mm);
        auto name =
            fmt::format("DCIM/Camera/IMG_{:04}{:02}{:02}_{:02}{:02}00.jpg", y, m, d, hh, mm);
        if (auto s = file(
                name, jpeg_with_exif(dt, 20000 + rng() % 40000, o.seed + static_cast<unsigned>(i)),
                epoch(y, m, d, hh, mm));
            !s)
            return s;
    }
    const std::string png_header("\x89PNG\r\n\x1a\n", 8);
    struct Plain {
        std::string path;
        std::string header;
        std::size_t size;
        std::int64_t mtime;
    };
    std::vector<Plain> plain = {
        {"Pictures/Screenshots/Screenshot_20240305-101500.png", png_header, 180000,
         epoch(2024, 3, 5, 10, 15)},
        {"Pictures/Screenshots/Screenshot_20240611-220102.png", png_header, 210000,
         epoch(2024, 6, 11, 22, 1)},
        {"DCIM/Camera/VID_20240704_181200.mp4",
         std::string("\0\0\0\x18"
                     "ftypmp42",
                     12),
         o.large ? (512u << 20) : (8u << 20), epoch(2024, 7, 4, 18, 12)},
        {"Recordings/Voice 001.m4a",
         std::string("\0\0\0\x1c"
                     "ftypM4A ",
                     12),
         300000, epoch(2024, 2, 2, 9, 0)},
        {"Music/Band - Song.mp3", "ID3\x03", 1500000, epoch(2022, 8, 1, 12, 0)},
        {"Documents/tenancy agreement.pdf", "%PDF-1.7\n", 250000, epoch(2023, 4, 1, 9, 30)},
        {"Download/invoice-2024-05.pdf", "%PDF-1.4\n", 90000, epoch(2024, 5, 20, 14, 0)},
        {"Documents/notes.docx", std::string("PK\x03\x04", 4), 40000, epoch(2024, 1, 15, 16, 45)},
        {"Android/media/com.whatsapp/WhatsApp/Media/WhatsApp Images/IMG-20240612-WA0003.jpg", "", 0,
         0},
        {"Android/media/com.whatsapp/WhatsApp/Media/WhatsApp Voice "
         "Notes/202424/PTT-20240612-WA0001.opus",
         "OggS", 45000, epoch(2024, 6, 12, 21, 5)},
        {"Android/media/org.telegram.messenger/Telegram/Telegram Documents/ticket.pdf",
         "%PDF-1.5\n", 60000, epoch(2024, 6, 1, 7, 0)},
        // Names that trip up careless tools.
        {"Pictures/Ünïcødé café 😀.png", png_header, 5000, epoch(2023, 12, 24, 18, 0)},
        {"Pictures/with spaces/ -starts with space and dash.png", png_header, 3000,
         epoch(2023, 12, 25, 9, 0)},
        {"Pictures/--help.png", png_header, 2000, epoch(2023, 12, 26, 9, 0)},
        {"Pictures/" + std::string(251, 'x') + ".png", png_header, 1000, epoch(2023, 12, 27, 9, 0)},
        {"Pictures/deep/a/b/c/d/e/f/nested.png", png_header, 1500, epoch(2023, 12, 28, 9, 0)},
        {"Download/empty.pdf", "", 0, epoch(2024, 1, 1, 0, 0)},
        {"Android/data/com.example.bank/files/cache.jpg", png_header, 900, epoch(2024, 1, 1, 0, 0)},
    };
    for (const auto& f : plain) {
        if (f.path.find("WA0003.jpg") != std::string::npos) {
            if (auto s = file(f.path, jpeg_with_exif("2024:06:12 20:14:00", 35000, o.seed + 99),
                              epoch(2024, 6, 12, 20, 14));
                !s)
                return s;
            continue;
        }
        if (auto s =
                file(f.path, with_header(f.header, f.size, static_cast<unsigned>(rng())), f.mtime);
            !s)
            return s;
    }

    if (o.sparse_4g)
        if (auto s = write_sparse(dir / kSparseVideo, kSparseVideoSize, epoch(2024, 6, 12, 23, 59));
            !s)
            return s;

    nlohmann::ordered_json records;
    records["properties"] = {
        {"ro.product.manufacturer", "Google"},
        {"ro.product.brand", "google"},
        {"ro.product.model", "Pixel 7"},
        {"ro.build.version.release", "14"},
        {"ro.build.version.sdk", "34"},
        {"persist.sys.timezone", "Europe/London"},
        {"ro.build.fingerprint",
         "google/panther/panther:14/AP1A.240505.004/11583682:user/release-keys"}};
    auto ms = [](int y, unsigned m, unsigned d, int hh, int mm) {
        return epoch(y, m, d, hh, mm) * 1000;
    };
    struct Sms {
        int thread;
        const char* address;
        std::int64_t date;
        int type;
        const char* body;
    };
    std::vector<Sms> sms = {
        {1, "+447700900123", ms(2024, 6, 12, 20, 1), 1, "Are you home? I saw him outside again"},
        {1, "+447700900123", ms(2024, 6, 12, 20, 3), 2,
         "Yes, door locked. Calling 999 if he comes back"},
        {1, "+447700900123", ms(2024, 6, 12, 20, 9), 1, "ok, stay safe, love you = always"},
        {2, "+447700900456", ms(2024, 5, 2, 9, 30), 1,
         "Meeting moved to 3pm, Room 4, bring the forms"},
        {2, "+447700900456", ms(2024, 5, 2, 9, 41), 2, "Fine.\nSee you there,\nJ"},
        {3, "BANK", ms(2023, 11, 20, 7, 0), 1,
         "Your code is 481516. Never share it, not even with us."},
        {4, "+447700900789", ms(2024, 6, 13, 1, 12), 1,
         "Row: 9 _id=forged, body=this is just text"},
    };
    records["sms"] = nlohmann::ordered_json::array();
    int id = 1;
    for (const auto& m : sms)
        records["sms"].push_back({{"_id", id++},
                                  {"thread_id", m.thread},
                                  {"address", m.address},
                                  {"date", m.date},
                                  {"date_sent", m.date - 1000},
                                  {"read", 1},
                                  {"type", m.type},
                                  {"subject", nullptr},
                                  {"body", m.body}});
    records["call_log"] = nlohmann::ordered_json::array();
    records["call_log"].push_back({{"_id", 1},
                                   {"number", "+447700900123"},
                                   {"date", ms(2024, 6, 12, 20, 4)},
                                   {"duration", 312},
                                   {"type", 1},
                                   {"name", "Sam"}});
    records["call_log"].push_back({{"_id", 2},
                                   {"number", "999"},
                                   {"date", ms(2024, 6, 12, 20, 11)},
                                   {"duration", 640},
                                   {"type", 2},
                                   {"name", nullptr}});
    records["call_log"].push_back({{"_id", 3},
                                   {"number", "+447700900789"},
                                   {"date", ms(2024, 6, 13, 1, 10)},
                                   {"duration", 0},
                                   {"type", 3},
                                   {"name", nullptr}});
    records["contacts"] = nlohmann::ordered_json::array();
    records["contacts"].push_back({{"_id", 1},
                                   {"raw_contact_id", 1},
                                   {"mimetype", "vnd.android.cursor.item/name"},
                                   {"data1", "Sam O'Neill, Jr."},
                                   {"data2", "Sam"},
                                   {"data3", "O'Neill"}});
    records["contacts"].push_back({{"_id", 2},
                                   {"raw_contact_id", 1},
                                   {"mimetype", "vnd.android.cursor.item/phone_v2"},
                                   {"data1", "+447700900123"},
                                   {"data2", "2"},
                                   {"data3", nullptr}});
    records["packages"] = {"com.whatsapp", "org.telegram.messenger", "com.google.android.apps.maps",
                           "uk.gov.nhs"};
    return write(dir / "records.json", records.dump(2) + "\n", epoch(2024, 6, 13, 2, 0));
}

}  // namespace exhibit::phonesim
