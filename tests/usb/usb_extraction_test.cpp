// Extractions over emulated USB through exhibitd's core (registry, session manager, store)
// and phonesim's engine behind the emulated ADB interface: every item's sha256 equals the
// source's and matches what the same phone gives over TCP; an unplug in the middle of a
// large file ends the session interrupted with the finished items intact; eight phones at
// once each extract correctly.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <set>
#include <tuple>

#include "tests/support/phonesim.hpp"
#include "tests/usb/usb_kiosk.hpp"

namespace exhibit {
namespace {

using namespace std::chrono_literals;
using drivers::Category;
namespace fsys = std::filesystem;

using testing::PhoneFile;  // paths below the phone's root (/sdcard)
using testing::write_tree;

std::vector<PhoneFile> small_tree(unsigned variant) {
    auto v = std::to_string(variant);
    return {{"DCIM/Camera/IMG_" + v + "_1.jpg", 150'000 + variant},
            {"DCIM/Camera/IMG_" + v + "_2.jpg", 512 * 64},  // a whole number of packets
            {"Pictures/Ünïcødé 😀 " + v + ".png", 4567},
            {"Pictures/with spaces/ -dash " + v + ".jpg", 10},
            {"Movies/VID_" + v + ".mp4", 3'000'000 + variant * 1000},
            {"Music/song " + v + ".mp3", 700'000},
            {"Download/empty " + v + ".pdf", 0},
            {"Documents/report " + v + ".docx", 65'536}};
}

class UsbExtraction : public testing::UsbKiosk {
  protected:
    // Every file of `files` is a complete item of `session` with the source's hash, and its
    // blob holds those bytes.
    void expect_items_match(std::int64_t session, const fsys::path& root,
                            const std::vector<PhoneFile>& files) {
        auto items = items_of(session);
        EXPECT_EQ(items.size(), files.size());
        for (const auto& f : files) {
            auto it = items.find("/sdcard/" + f.path);
            ASSERT_NE(it, items.end()) << f.path << " was not taken";
            EXPECT_EQ(it->second.state, store::ItemState::complete) << f.path;
            EXPECT_EQ(it->second.size, static_cast<std::int64_t>(f.size)) << f.path;
            EXPECT_EQ(it->second.sha256, testing::sha256_of(root / f.path)) << f.path;
            EXPECT_EQ(testing::sha256_of(state_ / it->second.blob), it->second.sha256) << f.path;
        }
    }

    std::int64_t extract(const std::string& device_id, drivers::Scope scope,
                         std::chrono::seconds timeout = 60s) {
        auto id = start_session(device_id, std::move(scope));
        EXPECT_TRUE(id) << id.error().describe();
        if (!id)
            return 0;
        auto end = wait_session(*id, timeout);
        EXPECT_TRUE(end) << "session " << *id << " did not end in time";
        if (end) {
            EXPECT_EQ(end->state, store::SessionState::completed) << end->reason.value_or("");
        }
        return *id;
    }
};

TEST_F(UsbExtraction, EveryItemMatchesTheSourceAndTheTcpResult) {
    testing::TempDir phone;
    auto files = small_tree(1);
    write_tree(phone.path(), files, 1);
    ASSERT_NO_FATAL_FAILURE(start_core());
    ASSERT_TRUE(plug_phone(phone.path(), "USBX0001", 1));
    const auto* d = wait_device("usb:1-1");
    ASSERT_TRUE(d);
    auto usb_session = extract(d->id, media_scope());
    ASSERT_NO_FATAL_FAILURE(expect_items_match(usb_session, phone.path(), files));
    auto s = store_->catalog().session(usb_session).value();
    EXPECT_EQ(s.device_serial, "USBX0001");
    EXPECT_EQ(s.device.value("model", ""), "Pixel USB");
    EXPECT_EQ(registry_.find(d->id)->state, devices::DeviceState::ready);

    // The same phone over TCP (exhibit-phonesim --listen) gives the same items.
    testing::PhoneSim sim({"--root", phone.path().string(), "--serial", "USBX0001"});
    ASSERT_TRUE(sim.ok()) << "phonesim did not start";
    devices::DeviceRecord net;
    net.classes = {devices::DeviceClass::android_adb};
    net.functions = {adb::tcp_function()};
    net.transport = "tcp:" + sim.address();
    net.state = devices::DeviceState::ready;
    auto tcp_session = extract(registry_.add(net), media_scope());
    using Row = std::tuple<std::string, std::string, std::int64_t, std::string>;
    auto rows = [&](std::int64_t session) {
        std::set<Row> out;
        for (auto& [path, item] : items_of(session))
            out.insert({path, item.sha256, item.size, item.category});
        return out;
    };
    EXPECT_EQ(rows(usb_session), rows(tcp_session));
    EXPECT_TRUE(store_->audit().verify().value().ok());
}

TEST_F(UsbExtraction, UnplugInTheMiddleOfALargeFileKeepsWhatWasFinished) {
    testing::TempDir phone;
    std::vector<PhoneFile> photos;
    for (int i = 0; i < 5; ++i)
        photos.push_back({"DCIM/Camera/IMG_" + std::to_string(i) + ".jpg", 100'000u + i});
    write_tree(phone.path(), photos, 7);
    // DCIM is walked before Movies: the photos are done before the large file starts.
    auto big = phone.path() / "Movies/long video.mp4";
    fsys::create_directories(big.parent_path());
    {
        int fd = ::open(big.c_str(), O_CREAT | O_WRONLY, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::ftruncate(fd, 4ll << 30), 0);  // sparse 4 GiB: never finishes in time
        ::close(fd);
    }
    ASSERT_NO_FATAL_FAILURE(start_core());
    auto* device = plug_phone(phone.path(), "USBX0002", 2);
    ASSERT_TRUE(device);
    const auto* d = wait_device("usb:1-2");
    ASSERT_TRUE(d);
    const auto device_id = d->id;
    auto id = start_session(device_id, {.categories = {Category::photos, Category::videos}});
    ASSERT_TRUE(id) << id.error().describe();
    std::uint64_t small = 0;
    for (const auto& p : photos)
        small += p.size;
    ASSERT_TRUE(run_until(
        [&] {
            auto it = last_.find(*id);
            return it != last_.end() && it->second.progress.bytes_done > small + (20u << 20);
        },
        60s))
        << "the large file did not start";
    ASSERT_FALSE(ended_.contains(*id)) << "the large file finished before the unplug";
    bus_->unplug(*device);
    auto end = wait_session(*id, 10s);
    ASSERT_TRUE(end) << "the session did not end after the unplug";
    EXPECT_EQ(end->state, store::SessionState::interrupted);
    EXPECT_EQ(end->reason, "interrupted: device disconnected");
    auto row = store_->catalog().session(*id).value();
    EXPECT_EQ(row.state, store::SessionState::interrupted);

    auto items = items_of(*id);
    for (const auto& p : photos) {
        auto it = items.find("/sdcard/" + p.path);
        ASSERT_NE(it, items.end()) << p.path << " finished before the unplug but was lost";
        EXPECT_EQ(it->second.state, store::ItemState::complete);
        EXPECT_EQ(it->second.sha256, testing::sha256_of(phone.path() / p.path));
        EXPECT_EQ(testing::sha256_of(state_ / it->second.blob), it->second.sha256);
    }
    auto partial = items.find("/sdcard/Movies/long video.mp4");
    if (partial != items.end()) {
        EXPECT_EQ(partial->second.state, store::ItemState::incomplete)
            << "a partial file must not count as evidence";
    }
    std::size_t complete = 0;
    for (auto& [path, item] : items)
        complete += item.state == store::ItemState::complete;
    EXPECT_EQ(complete, photos.size());
    EXPECT_TRUE(store_->audit().verify().value().ok());
    EXPECT_EQ(registry_.find(device_id), nullptr);

    // The core keeps running: the next plug is detected and extracts.
    ASSERT_TRUE(plug_phone(phone.path(), "USBX0002", 2));
    const auto* again = wait_device("usb:1-2");
    ASSERT_TRUE(again) << "the next plug was not detected";
    EXPECT_NE(again->id, device_id);
    auto next = extract(again->id, {.categories = {Category::photos}});
    EXPECT_EQ(items_of(next).size(), photos.size());
}

TEST_F(UsbExtraction, EightPhonesAtOnce) {
    constexpr int kPhones = 8;
    std::vector<std::unique_ptr<testing::TempDir>> roots;
    ASSERT_NO_FATAL_FAILURE(start_core());
    for (int i = 0; i < kPhones; ++i) {
        roots.push_back(std::make_unique<testing::TempDir>());
        write_tree(roots.back()->path(), small_tree(static_cast<unsigned>(i)),
                   static_cast<unsigned>(100 * i));
        ASSERT_TRUE(plug_phone(roots.back()->path(), "EIGHT" + std::to_string(i),
                               static_cast<std::uint8_t>(i + 1)));
    }
    std::vector<std::int64_t> sessions;
    for (int i = 0; i < kPhones; ++i) {
        const auto* d = wait_device("usb:1-" + std::to_string(i + 1), 5s);
        ASSERT_TRUE(d) << "phone " << i << " not detected";
        EXPECT_EQ(d->identity.serial, "EIGHT" + std::to_string(i));
        auto id = start_session(d->id, media_scope());
        ASSERT_TRUE(id) << id.error().describe();
        sessions.push_back(*id);
    }
    auto t0 = std::chrono::steady_clock::now();
    ASSERT_TRUE(run_until([&] { return ended_.size() == kPhones; }, 120s))
        << ended_.size() << " of " << kPhones << " sessions ended";
    std::printf("eight extractions in %.2f s\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    for (int i = 0; i < kPhones; ++i) {
        SCOPED_TRACE("phone " + std::to_string(i));
        auto end = ended_[sessions[static_cast<std::size_t>(i)]];
        EXPECT_EQ(end.state, store::SessionState::completed) << end.reason.value_or("");
        expect_items_match(sessions[static_cast<std::size_t>(i)],
                           roots[static_cast<std::size_t>(i)]->path(),
                           small_tree(static_cast<unsigned>(i)));
    }
}

}  // namespace
}  // namespace exhibit
