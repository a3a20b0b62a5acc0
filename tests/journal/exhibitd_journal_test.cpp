// exhibitd's events as a real systemd-journald stores them: exhibitd runs with log_target =
// "journal" (and no JOURNAL_STREAM) against journald started in a private mount namespace
// (under_journald.sh, run with `unshare --mount`: needs root), is started, reloaded by
// SIGHUP and stopped by SIGTERM, with a network phone configured that does not answer; the
// entries exported with `journalctl -o export` must carry their MESSAGE_IDs and fields, each
// id must be in the catalog, no entry may carry a serial, and `journalctl -x` must explain
// the start with the catalog's text and the entry's fields.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <sstream>

#include "daemon/exhibitd/message_ids.hpp"
#include "daemon/extract/message_ids.hpp"
#include "tests/journal/catalog_sources.hpp"
#include "tests/support/private_bus.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

using namespace std::chrono_literals;
namespace ids = exhibitd::message_id;
using Entry = std::map<std::string, std::string>;

// The entries of `journalctl -o export` (text fields only; exhibitd writes no binary ones).
std::vector<Entry> parse_export(const std::string& text) {
    std::vector<Entry> out(1);
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        if (line.empty()) {
            if (!out.back().empty())
                out.emplace_back();
            continue;
        }
        const auto eq = line.find('=');
        if (eq != std::string::npos)
            out.back()[line.substr(0, eq)] = line.substr(eq + 1);
    }
    if (out.back().empty())
        out.pop_back();
    return out;
}

// A TCP port on 127.0.0.1 nobody listens on (bound, then closed).
int closed_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0)
        return 9;
    ::close(fd);
    return ntohs(a.sin_port);
}

// The first entry with this MESSAGE_ID (and, if given, this field starting with `prefix`).
const Entry* find(const std::vector<Entry>& entries, std::string_view id,
                  const std::string& name = {}, std::string_view prefix = {}) {
    for (const auto& e : entries) {
        auto it = e.find("MESSAGE_ID");
        if (it == e.end() || it->second != id)
            continue;
        if (name.empty())
            return &e;
        if (auto f = e.find(name); f != e.end() && f->second.starts_with(prefix))
            return &e;
    }
    return nullptr;
}

std::string field(const Entry* e, const std::string& name) {
    if (!e)
        return "(no entry)";
    auto it = e->find(name);
    return it == e->end() ? "(no field)" : it->second;
}

TEST(ExhibitdJournal, EventsReachJournaldWithTheirIdsAndFields) {
    ASSERT_EQ(::geteuid(), 0u) << "journald in a private mount namespace needs root";
    TempDir dir;
    PrivateBus bus(dir.path());
    ASSERT_TRUE(bus.ok()) << "dbus-daemon did not start";
    const auto config = dir / "exhibitd.conf";
    std::ofstream(config) << "[daemon]\nkiosk_id = \"journal-kiosk\"\nlog_target = \"journal\"\n"
                          << "[store]\nstate_directory = \"" << (dir / "state").string() << "\"\n"
                          << "[dbus]\nbus = \"" << bus.address() << "\"\n"
                          << "[adb]\nnetwork_devices = [\"127.0.0.1:" << closed_port() << "\"]\n";
    const std::string exhibitd = std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibitd";
    auto [status, out] = run_command(
        {"unshare", "--mount", (kSourceTop / "tests/journal/under_journald.sh").string(), exhibitd,
         config.string(), dir.path().string(), std::string(ids::kDaemonStarted),
         std::string(ids::kReloaded), std::string(ids::kDaemonStopped), kCatalogFile.string()},
        60s);
    const auto exported = read_text(dir / "export");
    ASSERT_EQ(status, 0) << out << "\nexhibitd: " << read_text(dir / "exhibitd.out")
                         << "\njournald: " << read_text(dir / "journald.log") << "\n"
                         << exported;
    const auto entries = parse_export(exported);
    ASSERT_GE(entries.size(), 5u) << exported;

    const auto* started = find(entries, ids::kDaemonStarted);
    EXPECT_EQ(field(started, "EXHIBIT_KIOSK_ID"), "journal-kiosk");
    EXPECT_EQ(field(started, "PRIORITY"), "6");
    EXPECT_EQ(field(started, "_TRANSPORT"), "journal");  // sd_journal_send, not stderr
    EXPECT_TRUE(field(started, "EXHIBIT_KEY_FINGERPRINT").starts_with("SHA256:"));
    EXPECT_TRUE(
        field(find(entries, ids::kReloadRequested), "EXHIBIT_ACTOR").starts_with("signal:SIGHUP:"));
    EXPECT_NE(find(entries, ids::kReloaded), nullptr);
    EXPECT_NE(find(entries, ids::kUploadsOff), nullptr);
    EXPECT_EQ(field(find(entries, ids::kStopRequested), "EXHIBIT_SIGNAL"), "SIGTERM");
    EXPECT_EQ(field(find(entries, ids::kDaemonStopped), "EXHIBIT_SIGNAL"), "SIGTERM");

    // The network phone: its device object, and the failed connection with its error class.
    const auto* device = find(entries, ids::kDeviceChanged, "EXHIBIT_TRANSPORT", "tcp:");
    const auto device_id = field(device, "EXHIBIT_DEVICE");
    EXPECT_TRUE(device_id.starts_with("d")) << device_id;
    EXPECT_EQ(field(device, "EXHIBIT_DEVICE_CLASS"), "android_adb");
    const auto* refused =
        find(entries, extract::message_id::kLinkFailed, "EXHIBIT_DEVICE", device_id);
    EXPECT_EQ(field(refused, "EXHIBIT_DEVICE_CLASS"), "android_adb");
    EXPECT_NE(field(refused, "EXHIBIT_ERROR_CLASS"), "(no field)");

    // journalctl -x explains the start with the catalog's text, the entry's fields filled in.
    const auto explained = read_text(dir / "explained");
    EXPECT_NE(explained.find("opened its evidence store in " + (dir / "state").string()),
              std::string::npos)
        << explained;
    EXPECT_NE(explained.find("Kiosk: journal-kiosk."), std::string::npos) << explained;

    // Every entry above debug is an event the catalog explains.
    std::set<std::string> catalogued;
    for (const auto& e : catalog_entries(kCatalogFile))
        catalogued.insert(e.id);
    for (const auto& e : entries) {
        const auto id = field(&e, "MESSAGE_ID");
        EXPECT_TRUE(catalogued.contains(id)) << field(&e, "MESSAGE") << " has MESSAGE_ID " << id;
        for (const auto& [name, value] : e)
            EXPECT_EQ(name.find("SERIAL"), std::string::npos) << name << "=" << value;
    }
}

}  // namespace
}  // namespace exhibit::testing
