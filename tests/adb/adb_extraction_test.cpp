// Extraction from exhibit-phonesim over TCP, end to end through the real driver, store and
// session code: every item's sha256 equals the source file's; scope filters select exactly
// the right set; the sparse file over 4 GiB arrives whole.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <random>

#include <fmt/format.h>

#include "daemon/extract/extraction.hpp"
#include "drivers/adb/adb_driver.hpp"
#include "tests/support/phonesim.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit {
namespace {

using drivers::Category;
namespace fsys = std::filesystem;

std::int64_t utc(int y, unsigned m, unsigned d, int hh = 0, int mm = 0, int ss = 0) {
    using namespace std::chrono;
    auto day = sys_days{year{y} / month{m} / d};
    return duration_cast<seconds>(day.time_since_epoch()).count() + hh * 3600 + mm * 60 + ss;
}

void write_file(const fsys::path& p, std::size_t size, unsigned seed, std::int64_t mtime) {
    fsys::create_directories(p.parent_path());
    std::string data(size, '\0');
    std::mt19937 rng(seed);
    for (auto& c : data)
        c = static_cast<char>(rng());
    std::ofstream(p, std::ios::binary)
        .write(data.data(), static_cast<std::streamsize>(data.size()));
    timespec times[2] = {{mtime, 0}, {mtime, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0);
}

// The phone's tree: relative path -> category it must be taken as (nullopt: must not be taken).
struct TreeFile {
    std::string path;
    std::optional<Category> category;
    std::size_t size;
    std::int64_t mtime;
};

std::vector<TreeFile> phone_tree() {
    std::string long_name = std::string(251, 'n') + ".jpg";  // 255 bytes
    return {
        {"DCIM/Camera/IMG_20240101_000000.jpg", Category::photos, 300'000, utc(2024, 1, 1)},
        {"DCIM/Camera/IMG_20231231_235959.jpg", Category::photos, 1000,
         utc(2023, 12, 31, 23, 59, 59)},
        {"DCIM/Camera/IMG_20240131_235959.jpg", Category::photos, 2000,
         utc(2024, 1, 31, 23, 59, 59)},
        {"DCIM/Camera/IMG_20240201_000000.jpg", Category::photos, 3000, utc(2024, 2, 1)},
        {"DCIM/Camera/VID_20240110.mp4", Category::videos, 2'500'000, utc(2024, 1, 10)},
        {"DCIM/.thumbnails/cache.dat", std::nullopt, 100, utc(2024, 1, 10)},
        {"Pictures/Ünïcødé 😀 фото.png", Category::photos, 4567, utc(2022, 5, 5)},
        {"Pictures/with spaces/ -leading dash.jpg", Category::photos, 10, utc(2022, 5, 5)},
        {"Pictures/--rf.jpg", Category::photos, 11, utc(2022, 5, 5)},
        {"Pictures/a/b/c/d/e/f/g/nested.gif", Category::photos, 12, utc(2022, 5, 5)},
        {"Pictures/" + long_name, Category::photos, 13, utc(2022, 5, 5)},
        {"Download/empty.pdf", Category::documents, 0, utc(2022, 5, 5)},
        {"Documents/report.DOCX", Category::documents, 70'000, utc(2022, 5, 5)},
        {"Music/song.mp3", Category::audio, 1'000'000, utc(2022, 5, 5)},
        {"Recordings/voice note.m4a", Category::audio, 50'000, utc(2022, 5, 5)},
        {"Android/media/com.whatsapp/WhatsApp/Media/WhatsApp Images/IMG-20240105-WA0001.jpg",
         Category::photos, 40'000, utc(2024, 1, 5)},
        {"Android/data/com.example.private/files/secret.jpg", std::nullopt, 500, utc(2024, 1, 5)},
    };
}

class AdbExtraction : public ::testing::Test {
  protected:
    void SetUp() override {
        for (const auto& f : phone_tree())
            ASSERT_NO_FATAL_FAILURE(
                write_file(phone_ / f.path, f.size, static_cast<unsigned>(f.size), f.mtime));
        auto s = store::Store::open({.state_directory = state_.path(), .kiosk_id = "test"});
        ASSERT_TRUE(s) << s.error().describe();
        store_ = std::move(*s);
        auto key = adb::AdbHostKey::load_or_create(state_ / "keys/adb", "exhibit@test");
        ASSERT_TRUE(key);
        key_ = std::move(*key);
    }

    std::unique_ptr<adb::AdbSession> connect(testing::PhoneSim& sim) {
        auto t = adb::TcpTransport::connect("127.0.0.1", sim.port(), std::chrono::seconds(5));
        EXPECT_TRUE(t) << t.error().describe();
        if (!t)
            return nullptr;
        auto c = adb::Connection::open(std::move(*t), {.key = key_.get()});
        EXPECT_TRUE(c) << c.error().describe();
        return c ? std::make_unique<adb::AdbSession>(std::move(*c), Clock::system()) : nullptr;
    }

    extract::SessionOutcome extract(drivers::DriverSession& conn, const drivers::Scope& scope,
                                    std::int64_t* session = nullptr) {
        auto case_id = store_->catalog().create_case({.case_reference = "CR1",
                                                      .exhibit_reference = "EX1",
                                                      .officer_id = "PC1",
                                                      .scope = extract::scope_to_json(scope)},
                                                     "officer:PC1");
        auto id = store_->catalog().create_session(*case_id, {}, std::nullopt,
                                                   store::Priority::normal, "officer:PC1");
        if (session)
            *session = *id;
        std::stop_source stop;
        return extract::run_extraction(*store_, conn, *id, scope, stop.get_token());
    }

    // source path on the phone -> item, for one session
    std::map<std::string, store::ItemRecord> items_by_path(std::int64_t session) {
        std::map<std::string, store::ItemRecord> out;
        auto items = store_->catalog().items_of_session(session);
        EXPECT_TRUE(items);
        if (items)
            for (auto& item : *items)
                out[item.source_path] = item;
        return out;
    }

    static std::string hash_of(const fsys::path& p) { return to_hex(Sha256::of_file(p).value()); }

    testing::TempDir phone_;
    testing::TempDir state_;
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<adb::AdbHostKey> key_;
};

TEST_F(AdbExtraction, EveryFileInScopeArrivesWithTheSourceHash) {
    // A sparse file just over 4 GiB: sizes must travel as 64-bit values.
    auto big = phone_ / "Movies/long recording.mp4";
    fsys::create_directories(big.parent_path());
    {
        int fd = ::open(big.c_str(), O_CREAT | O_WRONLY, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::ftruncate(fd, (4ll << 30) + 4097), 0);
        ASSERT_EQ(::pwrite(fd, "tail", 4, (4ll << 30) + 4000), 4);
        ::close(fd);
    }
    testing::PhoneSim sim(
        {"--root", phone_.path().string(), "--serial", "SIM0001", "--model", "Pixel Test"});
    ASSERT_TRUE(sim.ok()) << "phonesim did not start";
    auto conn = connect(sim);
    ASSERT_TRUE(conn);
    drivers::Scope scope{
        .categories = {Category::photos, Category::videos, Category::audio, Category::documents}};
    std::int64_t session = 0;
    auto outcome = extract(*conn, scope, &session);
    ASSERT_EQ(outcome.state, store::SessionState::completed) << outcome.reason.value_or("");
    EXPECT_EQ(outcome.progress.bytes_done, outcome.progress.planned_bytes);

    auto items = items_by_path(session);
    std::size_t expected = 0;
    for (const auto& f : phone_tree()) {
        auto it = items.find("/sdcard/" + f.path);
        if (!f.category) {
            EXPECT_EQ(it, items.end()) << f.path << " must not be taken";
            continue;
        }
        ++expected;
        ASSERT_NE(it, items.end()) << f.path << " was not taken";
        EXPECT_EQ(it->second.category, drivers::to_string(*f.category)) << f.path;
        EXPECT_EQ(it->second.sha256, hash_of(phone_ / f.path)) << f.path;
        EXPECT_EQ(it->second.size, static_cast<std::int64_t>(f.size)) << f.path;
        EXPECT_EQ(it->second.state, store::ItemState::complete) << f.path;
        EXPECT_EQ(it->second.source_mtime_ms, f.mtime * 1000) << f.path;
        EXPECT_EQ(hash_of(state_ / it->second.blob), it->second.sha256)
            << "the stored blob is the same bytes";
    }
    auto big_item = items.find("/sdcard/Movies/long recording.mp4");
    ASSERT_NE(big_item, items.end());
    EXPECT_EQ(big_item->second.size, (4ll << 30) + 4097);
    EXPECT_EQ(big_item->second.sha256, hash_of(big));
    EXPECT_EQ(items.size(), expected + 1);
    EXPECT_TRUE(store_->audit().verify().value().ok());
    auto s = store_->catalog().session(session).value();
    EXPECT_EQ(s.device.value("model", ""), "Pixel Test");
    EXPECT_EQ(s.device_serial, "SIM0001");
    ASSERT_TRUE(s.clock_offset_ms);
    EXPECT_LT(std::abs(*s.clock_offset_ms), 5000) << "phonesim's clock is the kiosk's";
}

TEST_F(AdbExtraction, ScopeSelectsCategoriesAndDateRangeEdgesExactly) {
    testing::PhoneSim sim({"--root", phone_.path().string()});
    ASSERT_TRUE(sim.ok());
    auto conn = connect(sim);
    ASSERT_TRUE(conn);
    drivers::Scope scope{.categories = {Category::photos},
                         .from_ms = drivers::parse_day_utc("2024-01-01").value(),
                         .until_ms = drivers::parse_day_utc("2024-02-01").value()};
    std::int64_t session = 0;
    auto outcome = extract(*conn, scope, &session);
    ASSERT_EQ(outcome.state, store::SessionState::completed) << outcome.reason.value_or("");
    std::set<std::string> got;
    for (auto& [path, item] : items_by_path(session))
        got.insert(path);
    std::set<std::string> want = {
        "/sdcard/DCIM/Camera/IMG_20240101_000000.jpg",  // first second of the range
        "/sdcard/DCIM/Camera/IMG_20240131_235959.jpg",  // last second of the range
        "/sdcard/Android/media/com.whatsapp/WhatsApp/Media/WhatsApp "
        "Images/IMG-20240105-WA0001.jpg"};
    EXPECT_EQ(got, want);
}

TEST_F(AdbExtraction, PreviewCountsWithoutTakingAnything) {
    testing::PhoneSim sim({"--root", phone_.path().string()});
    ASSERT_TRUE(sim.ok());
    auto conn = connect(sim);
    ASSERT_TRUE(conn);
    auto preview = conn->preview({.categories = {Category::photos, Category::audio}});
    ASSERT_TRUE(preview) << preview.error().describe();
    std::uint64_t photos = 0, photo_bytes = 0;
    for (const auto& f : phone_tree())
        if (f.category == Category::photos)
            ++photos, photo_bytes += f.size;
    EXPECT_EQ((*preview)[Category::photos].count, photos);
    EXPECT_EQ((*preview)[Category::photos].bytes, photo_bytes);
    EXPECT_EQ((*preview)[Category::audio].count, 2u);
    EXPECT_EQ((*preview)[Category::audio].bytes, 1'050'000u);
    EXPECT_FALSE(preview->contains(Category::videos));
    EXPECT_EQ(store_->health().value().items_complete, 0u);
}

TEST_F(AdbExtraction, StreamsLendWhatTheyReceivedAndAMovedFromStreamAnswersAnError) {
    testing::PhoneSim sim({"--root", phone_.path().string(), "--model", "Pixel Lend"});
    ASSERT_TRUE(sim.ok());
    auto conn = connect(sim);
    ASSERT_TRUE(conn);
    auto opened = conn->connection().open_stream("shell:getprop ro.product.model");
    ASSERT_TRUE(opened) << opened.error().describe();
    adb::Stream stream = std::move(*opened);
    // The moved-from stream is closed: every read is an error, not a crash.
    std::byte one[1];
    EXPECT_EQ(opened->read_some(one).error().code, Errc::invalid_argument);
    EXPECT_EQ(opened->peek(1).error().code, Errc::invalid_argument);
    EXPECT_FALSE(opened->consume(1));
    // peek lends bytes without taking them; consume takes them; at the end peek is empty.
    std::string answer;
    for (;;) {
        auto first = stream.peek(3);
        ASSERT_TRUE(first) << first.error().describe();
        if (first->empty())
            break;
        EXPECT_LE(first->size(), 3u);
        auto again = stream.peek(3);
        ASSERT_TRUE(again);
        EXPECT_EQ(again->data(), first->data()) << "nothing was taken by looking";
        answer.append(reinterpret_cast<const char*>(first->data()), first->size());
        ASSERT_TRUE(stream.consume(first->size()));
    }
    EXPECT_EQ(answer, "Pixel Lend\n");
    EXPECT_FALSE(stream.consume(1)) << "nothing is left to take";
}

}  // namespace
}  // namespace exhibit
