// The layers of docs/architecture.md, read from the include lines of every source file: no
// file includes a header of a higher layer, drivers know nothing of the daemon, the generic
// USB layer knows no device family, the extraction core knows no family, and the clients
// (exhibitctl, exhibit-verify, the kiosk) include no daemon header.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

namespace {

namespace fsys = std::filesystem;
const fsys::path kTop = EXHIBIT_SOURCE_DIR;

// Who may include whom: for each folder (the longest matching prefix wins), the folders
// whose headers it may include besides those in its own directory and the system's.
// Generated headers ("exhibit/version.hpp") are allowed everywhere.
const std::map<std::string, std::vector<std::string>> kAllowed = {
    {"common/", {}},
    // drivers/: the API at the top of drivers/, the generic USB layer, each family alone.
    {"drivers/", {"common/"}},
    {"drivers/usb/", {"common/", "drivers/driver", "drivers/artefact"}},
    {"drivers/adb/",
     {"common/", "drivers/driver", "drivers/artefact", "drivers/shared_storage", "drivers/usb/"}},
    // The ADB family's two sides in the driver host (the generic layer below it); the rest of
    // the family does not know the driver host.
    {"drivers/adb/hosted_adb",
     {"common/", "drivers/driver", "drivers/artefact", "drivers/shared_storage", "drivers/usb/",
      "drivers/host/"}},
    {"drivers/mtp/",
     {"common/", "drivers/driver", "drivers/artefact", "drivers/shared_storage", "drivers/usb/"}},
    {"drivers/ios/",
     {"common/", "drivers/driver", "drivers/artefact", "drivers/shared_storage", "drivers/usb/"}},
    // The iPhone family's two sides in the driver host, as ADB's.
    {"drivers/ios/hosted_ios",
     {"common/", "drivers/driver", "drivers/artefact", "drivers/shared_storage", "drivers/usb/",
      "drivers/host/"}},
    // Families whose sessions run in a child process: knows the API and where a USB device
    // sits, no family (the program that picks one is in daemon/exhibitd/).
    {"drivers/host/", {"common/", "drivers/driver", "drivers/artefact", "drivers/usb/"}},
    // Removable storage is not reached through libusb: no drivers/usb/.
    {"drivers/storage/",
     {"common/", "drivers/driver", "drivers/artefact", "drivers/shared_storage"}},
    // daemon, lowest layer first.
    {"daemon/loop/", {"common/"}},
    {"daemon/keys/", {"common/"}},
    {"daemon/config/", {"common/"}},
    {"daemon/store/", {"common/", "daemon/keys/"}},
    {"daemon/upload/", {"common/", "daemon/keys/", "daemon/store/", "daemon/loop/"}},
    {"daemon/officers/", {"common/", "daemon/keys/", "daemon/store/"}},
    {"daemon/metrics/", {"common/", "daemon/keys/", "daemon/store/", "daemon/loop/"}},
    {"daemon/notices/", {"common/", "daemon/config/"}},
    {"daemon/devices/", {"common/", "daemon/loop/", "drivers/"}},
    {"daemon/extract/",
     {"common/", "daemon/keys/", "daemon/store/", "daemon/loop/", "daemon/devices/",
      "drivers/driver", "drivers/artefact"}},
    {"daemon/bus/",
     {"common/", "daemon/keys/", "daemon/store/", "daemon/loop/", "daemon/config/",
      "daemon/upload/", "daemon/officers/", "daemon/notices/", "daemon/devices/",
      "daemon/extract/", "drivers/driver", "drivers/artefact"}},
    {"daemon/exhibitd/", {"common/", "daemon/", "drivers/"}},
    // Programs beside the daemon.
    {"phonesim/", {"common/", "phonesim/", "drivers/adb/", "drivers/usb/", "drivers/artefact"}},
    // The simulated iPhone's services know their transports only through ServiceHost.
    {"phonesim/ios/", {"common/", "phonesim/ios/", "phonesim/virtual_fs"}},
    {"tools/exhibitctl/", {"common/"}},
    {"tools/exhibit-verify/", {"common/", "daemon/keys/"}},
    {"tools/exhibit-fleet/", {"common/", "daemon/keys/", "tools/exhibit-verify/"}},
    {"tools/exhibit-validate/", {"common/", "tools/exhibit-verify/"}},
    {"kiosk/", {"kiosk/"}},
};

std::string folder_rule(const std::string& file) {
    std::string best;
    for (const auto& [prefix, allowed] : kAllowed)
        if (file.starts_with(prefix) && prefix.size() > best.size())
            best = prefix;
    return best;
}

bool allowed(const std::string& file, const std::string& header) {
    if (fsys::path(header).parent_path() == fsys::path(file).parent_path() ||
        header.starts_with("exhibit/"))
        return true;
    for (const auto& a : kAllowed.at(folder_rule(file)))
        if (header.starts_with(a))
            return true;
    return false;
}

bool is_source(const fsys::path& p) {
    const auto ext = p.extension();
    return ext == ".hpp" || ext == ".cpp" || ext == ".h";
}

// Every project include ("a/b/c.hpp" with a folder) of every source file under a ruled folder.
std::vector<std::pair<std::string, std::string>> includes() {
    std::vector<std::pair<std::string, std::string>> out;
    const std::regex include(R"re(^\s*#\s*include\s+"([a-z_-]+/[^"]+)")re");
    for (const auto& top : {"common", "drivers", "daemon", "phonesim", "tools", "kiosk"}) {
        if (!fsys::exists(kTop / top))
            continue;
        for (const auto& e : fsys::recursive_directory_iterator(kTop / top)) {
            if (!e.is_regular_file() || !is_source(e.path()))
                continue;
            const auto rel = fsys::relative(e.path(), kTop).string();
            std::ifstream in(e.path());
            std::smatch m;
            for (std::string line; std::getline(in, line);)
                if (std::regex_search(line, m, include))
                    out.emplace_back(rel, m[1]);
        }
    }
    return out;
}

TEST(Layers, NoFileIncludesAHeaderOfAHigherLayer) {
    auto all = includes();
    ASSERT_GT(all.size(), 300u) << "the include lines were found";
    std::set<std::string> broken;
    for (const auto& [file, header] : all) {
        const auto rule = folder_rule(file);
        ASSERT_FALSE(rule.empty()) << file << " is in no layer of docs/architecture.md";
        if (!allowed(file, header))
            broken.insert(file + " includes " + header);
    }
    std::string list;
    for (const auto& b : broken)
        list += "  " + b + "\n";
    EXPECT_TRUE(broken.empty()) << "includes that run against the layers:\n" << list;
}

TEST(Layers, TheRulesThemselvesForbidWhatTheyShould) {
    // The rule table, checked on a few includes that must never pass.
    EXPECT_FALSE(allowed("daemon/extract/x.cpp", "drivers/adb/connection.hpp"));
    EXPECT_FALSE(allowed("drivers/usb/x.cpp", "drivers/adb/transport.hpp"));
    EXPECT_FALSE(allowed("drivers/adb/x.cpp", "daemon/store/store.hpp"));
    EXPECT_FALSE(allowed("daemon/store/x.cpp", "daemon/upload/uploader.hpp"));
    EXPECT_FALSE(allowed("daemon/extract/x.cpp", "daemon/bus/bus_service.hpp"));
    EXPECT_FALSE(allowed("daemon/devices/x.cpp", "daemon/extract/session_manager.hpp"));
    EXPECT_FALSE(allowed("daemon/loop/x.cpp", "daemon/store/store.hpp"));
    EXPECT_FALSE(allowed("tools/exhibitctl/x.cpp", "daemon/bus/bus_service.hpp"));
    EXPECT_FALSE(allowed("kiosk/src/x.cpp", "daemon/store/store.hpp"));
    EXPECT_TRUE(allowed("daemon/bus/x.cpp", "daemon/extract/session_manager.hpp"));
    EXPECT_TRUE(allowed("daemon/extract/x.cpp", "drivers/driver.hpp"));
    EXPECT_FALSE(allowed("drivers/driver_registry.cpp", "drivers/adb/adb_driver.hpp"));
    EXPECT_TRUE(allowed("drivers/driver_registry.cpp", "drivers/driver.hpp"));
    EXPECT_FALSE(allowed("drivers/mtp/x.cpp", "drivers/adb/adb_extractor.hpp"));
    EXPECT_FALSE(allowed("drivers/adb/x.cpp", "drivers/mtp/mtp_device.hpp"));
}

}  // namespace
