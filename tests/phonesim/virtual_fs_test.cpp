// Path confinement: only the root is served, under the phone's names for shared storage.
#include "phonesim/virtual_fs.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.hpp"

namespace exhibit::phonesim {
namespace {

namespace fsys = std::filesystem;

class PhonesimVirtualFs : public ::testing::Test {
  protected:
    void SetUp() override {
        fsys::create_directories(root_ / "DCIM/Camera");
        std::ofstream(root_ / "DCIM/Camera/a.jpg") << "photo";
        fsys::create_directories(dir_ / "outside");
        std::ofstream(dir_ / "outside/secret.txt") << "secret";
        fsys::create_directory_symlink(dir_ / "outside", root_ / "escape");
        fsys::create_symlink(dir_ / "outside/secret.txt", root_ / "DCIM/leak.jpg");
        fsys::create_symlink("Camera/a.jpg", root_ / "DCIM/inside.jpg");
        fsys::create_symlink("../..", root_ / "DCIM/up");
    }
    testing::TempDir dir_;
    fsys::path root_ = dir_ / "root";
    VirtualFs fs_{root_};
};

TEST_F(PhonesimVirtualFs, SharedStorageNamesMapOntoTheRoot) {
    for (std::string p :
         {"/sdcard/DCIM/Camera/a.jpg", "/storage/emulated/0/DCIM/Camera/a.jpg",
          "/sdcard//DCIM/./Camera/a.jpg", "/storage/self/primary/DCIM/Camera/a.jpg"}) {
        auto st = fs_.stat(p, true);
        EXPECT_EQ(st.error, 0u) << p;
        EXPECT_TRUE(st.is_regular()) << p;
        EXPECT_EQ(st.size, 5u) << p;
    }
    EXPECT_TRUE(fs_.stat("/sdcard", true).is_directory());
    EXPECT_TRUE(fs_.stat("/sdcard/", true).is_directory());
    for (std::string p : {"/sdcardx/DCIM", "/data/data", "sdcard/DCIM", "/", "/storage/emulated/1"})
        EXPECT_EQ(fs_.stat(p, false).error, static_cast<std::uint32_t>(ENOENT)) << p;
}

TEST_F(PhonesimVirtualFs, DotDotAndNulAreNeverServed) {
    for (const std::string& p : std::vector<std::string>{
             "/sdcard/..", "/sdcard/../outside/secret.txt", "/sdcard/DCIM/../../outside/secret.txt",
             "/sdcard/DCIM/Camera/../a.jpg", std::string("/sdcard/DCIM\0/x", 15)}) {
        EXPECT_FALSE(fs_.resolve(p)) << p;
        EXPECT_EQ(fs_.stat(p, true).error, static_cast<std::uint32_t>(ENOENT)) << p;
        EXPECT_FALSE(fs_.open_file(p)) << p;
    }
}

TEST_F(PhonesimVirtualFs, SymlinksLeavingTheRootLeadNowhere) {
    // The link itself may be seen (lstat), like adbd shows it; nothing behind it is served.
    auto link = fs_.stat("/sdcard/DCIM/leak.jpg", false);
    EXPECT_EQ(link.error, 0u);
    EXPECT_TRUE(link.is_symlink());
    EXPECT_EQ(fs_.stat("/sdcard/DCIM/leak.jpg", true).error, static_cast<std::uint32_t>(ENOENT));
    auto leak = fs_.open_file("/sdcard/DCIM/leak.jpg");
    ASSERT_FALSE(leak);
    EXPECT_EQ(leak.error().sys_errno, ENOENT);
    EXPECT_FALSE(fs_.open_file("/sdcard/escape/secret.txt"));
    EXPECT_TRUE(fs_.list("/sdcard/escape").empty());
    EXPECT_TRUE(fs_.list("/sdcard/DCIM/up").empty());
    EXPECT_FALSE(fs_.open_file("/sdcard/DCIM/up/outside/secret.txt"));
}

TEST_F(PhonesimVirtualFs, SymlinksInsideTheRootWork) {
    auto st = fs_.stat("/sdcard/DCIM/inside.jpg", true);
    EXPECT_EQ(st.error, 0u);
    EXPECT_TRUE(st.is_regular());
    auto fd = fs_.open_file("/sdcard/DCIM/inside.jpg");
    ASSERT_TRUE(fd) << fd.error().describe();
    char buf[8] = {};
    EXPECT_EQ(::read(fd->get(), buf, sizeof buf), 5);
    EXPECT_STREQ(buf, "photo");
}

TEST_F(PhonesimVirtualFs, ListingHasDotEntriesAndLstatData) {
    auto entries = fs_.list("/sdcard/DCIM");
    std::map<std::string, adb::sync::FileStat> by_name;
    for (const auto& e : entries)
        by_name[e.name] = e.stat;
    EXPECT_TRUE(by_name.contains("."));
    EXPECT_TRUE(by_name.contains(".."));
    EXPECT_TRUE(by_name.at("Camera").is_directory());
    EXPECT_TRUE(by_name.at("leak.jpg").is_symlink());
    EXPECT_TRUE(fs_.list("/sdcard/DCIM/Camera/a.jpg").empty()) << "not a directory";
    EXPECT_TRUE(fs_.list("/sdcard/nope").empty());
}

TEST_F(PhonesimVirtualFs, OpenRefusesDirectoriesWithIsADirectory) {
    auto fd = fs_.open_file("/sdcard/DCIM");
    ASSERT_FALSE(fd);
    EXPECT_EQ(fd.error().sys_errno, EISDIR);
    auto missing = fs_.open_file("/sdcard/DCIM/none.jpg");
    ASSERT_FALSE(missing);
    EXPECT_EQ(missing.error().sys_errno, ENOENT);
}

}  // namespace
}  // namespace exhibit::phonesim
