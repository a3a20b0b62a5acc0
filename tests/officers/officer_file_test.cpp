// The officers file: round trip, mode 0600, a missing file is no officer, damage is named.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "daemon/officers/officer_file.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::officers {
namespace {

TEST(OfficerFile, WritesAndReadsBackWithModeSixHundred) {
    testing::TempDir dir;
    const auto file = dir / "officers";
    EXPECT_TRUE(read_officers(file).value().empty()) << "missing: nobody may sign in";
    std::vector<Officer> officers = {{"PC1234", "PC Jo Bloggs", "$scrypt$x"},
                                     {"DC.9", "", "$scrypt$y"}};
    ASSERT_TRUE(write_officers(file, officers));
    auto back = read_officers(file).value();
    ASSERT_EQ(back.size(), 2u);
    EXPECT_EQ(back[0].id, "PC1234");
    EXPECT_EQ(back[0].name, "PC Jo Bloggs");
    EXPECT_EQ(back[0].pin_hash, "$scrypt$x");
    EXPECT_EQ(back[1].name, "");
    struct stat st {};
    ASSERT_EQ(::stat(file.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(OfficerFile, ADamagedLineIsNamed) {
    testing::TempDir dir;
    const auto file = dir / "officers";
    std::ofstream(file) << "# comment\nPC1\tName\t$scrypt$x\nno tabs here\n";
    auto r = read_officers(file);
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find(file.string() + ":3:"), std::string::npos)
        << r.error().message;
    std::ofstream(file) << "bad id!\tName\t$scrypt$x\n";
    EXPECT_FALSE(read_officers(file));
}

TEST(OfficerFile, IdsAndNamesThatCannotBreakTheFile) {
    EXPECT_TRUE(is_valid_officer_id("PC_12.a-b"));
    for (auto bad : {"", "a b", "a\tb", "a/b", "ünï", "123456789012345678901234567890123"})
        EXPECT_FALSE(is_valid_officer_id(bad)) << bad;
    EXPECT_TRUE(is_valid_officer_name("PC Jo Bloggs (Response)"));
    EXPECT_FALSE(is_valid_officer_name("a\tb"));
    EXPECT_FALSE(is_valid_officer_name("a\nb"));
    EXPECT_FALSE(is_valid_officer_name(std::string(65, 'x')));
}

}  // namespace
}  // namespace exhibit::officers
