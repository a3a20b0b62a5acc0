// The catalog as systemd reads it: journalctl --update-catalog compiles the file installed
// under a temporary root (as systemd's dpkg trigger does on /usr/lib/systemd/catalog), and
// --list-catalog and --dump-catalog then show every MESSAGE_ID of the code with its subject
// and its explanation. A file journalctl cannot parse, or an entry it drops, fails here.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "tests/journal/catalog_sources.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

using namespace std::chrono_literals;
namespace fsys = std::filesystem;

class CatalogRoot : public ::testing::Test {
  protected:
    void SetUp() override {
        fsys::create_directories(root_ / "usr/lib/systemd/catalog");
        fsys::copy_file(kCatalogFile, root_ / "usr/lib/systemd/catalog/exhibit.catalog");
        auto [status, out] = journalctl({"--update-catalog"});
        ASSERT_EQ(status, 0) << out;
        ASSERT_TRUE(fsys::exists(root_ / "var/lib/systemd/catalog/database")) << out;
    }
    std::pair<int, std::string> journalctl(std::vector<std::string> args) {
        std::vector<std::string> argv = {"journalctl", "--root=" + root_.path().string()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, 30s);
    }

    TempDir root_;
};

TEST_F(CatalogRoot, ListsEveryIdOfTheCodeWithItsSubject) {
    auto [status, out] = journalctl({"--list-catalog"});
    ASSERT_EQ(status, 0) << out;
    std::map<std::string, std::string> listed;  // id -> "exhibit: subject"
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
        if (line.size() > 33 && line[32] == ' ')
            listed[line.substr(0, 32)] = line.substr(33);
    std::map<std::string, std::string> subject;
    for (const auto& e : catalog_entries(kCatalogFile))
        subject[e.id] = e.headers.contains("Subject") ? e.headers.at("Subject") : "";
    const auto ids = declared_ids();
    ASSERT_GE(ids.size(), 40u);
    for (const auto& d : ids) {
        ASSERT_TRUE(listed.contains(d.id)) << d.name << " (" << d.id << ") not listed:\n" << out;
        EXPECT_EQ(listed[d.id], "exhibit: " + subject[d.id]) << d.name;
    }
    EXPECT_EQ(listed.size(), ids.size()) << out;
}

TEST_F(CatalogRoot, DumpsTheExplanationOfAnId) {
    for (const auto& e : catalog_entries(kCatalogFile)) {
        auto [status, out] = journalctl({"--dump-catalog", e.id});
        ASSERT_EQ(status, 0) << e.id << ": " << out;
        EXPECT_NE(out.find("-- " + e.id), std::string::npos) << out;
        EXPECT_NE(out.find("Defined-By: exhibit"), std::string::npos) << out;
        // The first line of the explanation, as written in the file.
        const auto first = e.text.substr(0, e.text.find('\n'));
        EXPECT_NE(out.find(first), std::string::npos) << e.id << ": " << out;
    }
}

}  // namespace
}  // namespace exhibit::testing
