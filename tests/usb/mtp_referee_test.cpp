// Two referees against exhibit-phonesim --usb's MTP interface: Debian's mtp-tools (libmtp
// 1.1.20) and gphoto2 (libgphoto2, a PTP implementation of its own). Every file of a generated
// phone is listed with its size and read back byte for byte.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;
const std::string kPhonesim = EXHIBIT_BINARY_DIR "/bin/exhibit-phonesim";

std::string run(const std::string& command) {
    std::string out;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (!p)
        return out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    ::pclose(p);
    return out;
}

std::string slurp(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct Listed {
    std::string id, name;
    std::uint64_t size = 0;
};

TEST(MtpReferee, MtpToolsListAndReadEveryFile) {
    fs::path dir = fs::temp_directory_path() / ("mtp-referee-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    const fs::path phone = dir / "phone";
    ASSERT_EQ(std::system((kPhonesim + " --generate " + phone.string() + " >/dev/null").c_str()),
              0);

    auto listing =
        run(kPhonesim + " --usb --interfaces mtp --root " + phone.string() + " -- mtp-files");
    ASSERT_NE(listing.find("usb: mtp-files exited with status 0"), std::string::npos) << listing;
    std::vector<Listed> files;
    std::regex entry(R"(File ID: (\d+)\n\s+Filename: ([^\n]*)\n\s+File size (\d+))");
    for (std::sregex_iterator it(listing.begin(), listing.end(), entry), end; it != end; ++it)
        files.push_back({(*it)[1], (*it)[2], std::stoull((*it)[3])});

    std::multimap<std::string, fs::path> tree;  // name -> path
    for (const auto& e : fs::recursive_directory_iterator(phone))
        if (e.is_regular_file())
            tree.emplace(e.path().filename().string(), e.path());
    ASSERT_EQ(files.size(), tree.size()) << listing;

    std::string script;
    for (const auto& f : files)
        script +=
            "mtp-getfile " + f.id + " " + (dir / ("out-" + f.id)).string() + " >/dev/null && ";
    script += "echo ALL-READ";
    auto got = run(kPhonesim + " --usb --interfaces mtp --root " + phone.string() + " -- sh -c '" +
                   script + "'");
    ASSERT_NE(got.find("ALL-READ"), std::string::npos) << got;

    for (const auto& f : files) {
        auto bytes = slurp(dir / ("out-" + f.id));
        EXPECT_EQ(bytes.size(), f.size) << f.name;
        bool matched = false;
        for (const auto& [name, path] : tree)
            if ((name == f.name || name.starts_with(f.name)) && fs::file_size(path) == f.size &&
                slurp(path) == bytes)
                matched = true;
        EXPECT_TRUE(matched) << f.name << " is not byte-identical to a file of the tree";
    }
    fs::remove_all(dir);
}

// gphoto2 walks the storage with its own PTP code and downloads every file: the files it
// saves are, as a multiset of contents, exactly the phone's files.
TEST(MtpReferee, Gphoto2DownloadsEveryFileByteForByte) {
    fs::path dir = fs::temp_directory_path() / ("gphoto2-referee-" + std::to_string(::getpid()));
    fs::remove_all(dir);
    fs::create_directories(dir / "out");
    const fs::path phone = dir / "phone";
    ASSERT_EQ(std::system((kPhonesim + " --generate " + phone.string() + " >/dev/null").c_str()),
              0);
    auto got = run("cd " + (dir / "out").string() + " && " + kPhonesim +
                   " --usb --interfaces mtp --root " + phone.string() +
                   " -- gphoto2 --get-all-files --filename '%n-%:'");
    ASSERT_NE(got.find("usb: gphoto2 exited with status 0"), std::string::npos) << got;

    std::multiset<std::string> expected, downloaded;
    for (const auto& e : fs::recursive_directory_iterator(phone))
        if (e.is_regular_file())
            expected.insert(slurp(e.path()));
    for (const auto& e : fs::directory_iterator(dir / "out"))
        downloaded.insert(slurp(e.path()));
    ASSERT_GT(expected.size(), 20u) << "the generated phone has files";
    EXPECT_EQ(downloaded.size(), expected.size()) << got;
    EXPECT_TRUE(downloaded == expected) << "a file differs from the phone's: " << got;
    fs::remove_all(dir);
}

}  // namespace
