// The file rules every phone family shares: categories by extension, the folders walked,
// the names a phone may list but no file can have.
#include "drivers/shared_storage.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

namespace exhibit::drivers {
namespace {

TEST(SharedStorage, ClassifiesByExtensionCaseInsensitive) {
    EXPECT_EQ(classify_file("IMG_0001.JPG"), Category::photos);
    EXPECT_EQ(classify_file("a.heic"), Category::photos);
    EXPECT_EQ(classify_file("VID.mp4"), Category::videos);
    EXPECT_EQ(classify_file("note.m4a"), Category::audio);
    EXPECT_EQ(classify_file("report.PDF"), Category::documents);
    EXPECT_EQ(classify_file("noextension"), std::nullopt);
    EXPECT_EQ(classify_file("archive.tar.gz"), std::nullopt);
    EXPECT_EQ(classify_file("trailingdot."), std::nullopt);
}

TEST(SharedStorage, NamesNoFileCanHaveAreRefusedWithAReason) {
    EXPECT_EQ(unusable_name("IMG_1.jpg"), std::nullopt);
    EXPECT_EQ(unusable_name("..hidden"), std::nullopt);
    EXPECT_EQ(unusable_name(std::string(255, 'a')), std::nullopt);
    EXPECT_EQ(unusable_name(""), "an empty name");
    EXPECT_EQ(unusable_name("."), "a name that is '.' or '..'");
    EXPECT_EQ(unusable_name(".."), "a name that is '.' or '..'");
    EXPECT_EQ(unusable_name("a/b.jpg"), "a name containing '/'");
    EXPECT_EQ(unusable_name(std::string("a\0b.jpg", 7)), "a name containing a NUL byte");
    EXPECT_EQ(unusable_name(std::string(256, 'a')), "a name of 256 bytes (limit 255)");
}

TEST(SharedStorage, WalksTheCameraAndMessagingFoldersOnly) {
    const auto& roots = shared_storage_roots();
    EXPECT_NE(std::ranges::find(roots, "DCIM"), roots.end());
    EXPECT_NE(std::ranges::find(roots, "Android/media/com.whatsapp/WhatsApp/Media"), roots.end());
    EXPECT_EQ(std::ranges::find(roots, "Android/data"), roots.end());
    for (const auto& r : roots)
        EXPECT_TRUE(!r.empty() && r.front() != '/' && r.back() != '/') << r;
}

}  // namespace
}  // namespace exhibit::drivers
