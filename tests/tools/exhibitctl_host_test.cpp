// exhibitctl --host through a real sshd on 127.0.0.1 to a private bus with the project's
// policy and a real exhibitd: what a user in exhibit-admin may do from afar, that a user in no
// exhibit group is refused, that nobody starts an extraction remotely, and the sentences for a
// refused login, an unreachable host and a missing bridge.
//
// Runs as root (as CI does): it creates two throwaway system users, exhibit-test-admin (in
// exhibit-admin) and exhibit-test-other (in no exhibit group), and removes them when the suite
// ends (and before it starts, should a killed run have left them). sshd runs with its own
// host key, configuration and authorized keys in a temporary directory; the client's ssh gets
// its key, port and known_hosts through a wrapper named by EXHIBIT_SSH.
//
// systemd-stdio-bridge connects to /run/dbus/system_bus_socket whatever the environment says
// (it honours only --bus-path), so the sshd's sessions find, first in their PATH, a
// systemd-stdio-bridge that execs the real one with --bus-path of the private bus; the client
// still asks for `systemd-stdio-bridge` by name, as it does on a kiosk.
#include <arpa/inet.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "tests/dbus/bus_client.hpp"
#include "tests/support/private_bus.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kAdminUser = "exhibit-test-admin";
constexpr const char* kOtherUser = "exhibit-test-other";

int shell(const std::string& command) {
    return std::system(command.c_str());
}

void remove_user(const char* name) {
    if (::getpwnam(name))
        shell(fmt::format("userdel {} >/dev/null 2>&1", name));
}

// A system user with /bin/sh (sshd runs the session's command through it) and password "*":
// no password login, but not "locked" either (sshd without PAM refuses locked accounts).
void add_user(const char* name, const std::string& groups) {
    remove_user(name);
    const std::string g = groups.empty() ? "" : " -G " + groups;
    ASSERT_EQ(shell(fmt::format("useradd --system --no-create-home --shell /bin/sh -p '*'{} {}", g,
                                name)),
              0)
        << name;
}

std::uint16_t free_port() {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(s);
    return ntohs(a.sin_port);
}

bool listening(std::uint16_t port) {
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = htons(port);
    const bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(s);
    return ok;
}

void write_file(const fs::path& path, const std::string& text, fs::perms mode) {
    std::ofstream(path) << text;
    fs::permissions(path, mode);
}

class ExhibitctlHost : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        ASSERT_EQ(::geteuid(), 0u) << "this test creates users and runs sshd: run it as root";
        for (const char* g : {"exhibit-kiosk", "exhibit-admin"})
            if (!::getgrnam(g)) {
                ASSERT_EQ(shell(fmt::format("groupadd -f -r {}", g)), 0);
            }
        ASSERT_NO_FATAL_FAILURE(add_user(kAdminUser, "exhibit-admin"));
        ASSERT_NO_FATAL_FAILURE(add_user(kOtherUser, ""));
        // sshd's privilege separation directory (Debian's unit makes it; this sshd is ours).
        std::error_code ec;
        fs::create_directories("/run/sshd", ec);
        fs::permissions("/run/sshd", fs::perms(0755), ec);
    }
    static void TearDownTestSuite() {
        remove_user(kAdminUser);
        remove_user(kOtherUser);
    }

    void SetUp() override {
        // Other users (the ssh sessions) reach the bus socket and the bridge in here.
        fs::permissions(dir_.path(), fs::perms(0755));
        bus_ = std::make_unique<PrivateBus>(dir_.path());
        ASSERT_TRUE(bus_->ok()) << "dbus-daemon did not start";
        ASSERT_NO_FATAL_FAILURE(start_exhibitd());
        ASSERT_NO_FATAL_FAILURE(make_keys());
        ASSERT_NO_FATAL_FAILURE(start_sshd((dir_ / "bin").string() + ":/usr/bin:/bin"));
    }

    void start_exhibitd() {
        // An upload endpoint on a closed loopback port: SyncNow is accepted (the uploads then
        // fail, which does not matter here).
        auto conf = dir_ / "exhibitd.conf";
        std::ofstream(conf) << fmt::format(
            "[daemon]\nkiosk_id = \"remote-kiosk\"\nwatchdog = false\nlog_target = \"stderr\"\n"
            "[store]\nstate_directory = \"{}\"\nmin_free_mb = 0\n[dbus]\nbus = \"{}\"\n"
            "[adb]\nnetwork_devices = [\"127.0.0.1:9\"]\nauthorisation_wait_seconds = 5\n"
            "[upload]\nendpoint = \"http://127.0.0.1:9/files/\"\n"
            "allow_insecure_loopback = true\n",
            (dir_ / "state").string(), bus_->address());
        daemon_ = Process::start(
            {std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibitd", "--config", conf.string()});
        for (int i = 0; i < 100 && !daemon_ready(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ASSERT_TRUE(daemon_ready()) << "exhibitd did not appear on the bus";
    }

    bool daemon_ready() {
        return call_method(bus_->address(), "/org/exhibit/Exhibit1/health",
                           "org.freedesktop.DBus.Properties", "GetAll",
                           [](sd_bus_message* m) {
                               return sd_bus_message_append(m, "s", "org.exhibit.Exhibit1.Health");
                           })
            .error_name.empty();
    }

    // The server's host key, the client's key (authorized for both test users), the client's
    // ssh configuration and known_hosts, and the ssh wrapper exhibitctl runs.
    void make_keys() {
        for (const char* key : {"host_key", "client_key"}) {
            auto [rc, out] = run_command(
                {"ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", (dir_ / key).string()},
                std::chrono::seconds(30));
            ASSERT_EQ(rc, 0) << out;
        }
        std::string client_pub, host_pub;
        std::getline(std::ifstream(dir_ / "client_key.pub"), client_pub);
        std::getline(std::ifstream(dir_ / "host_key.pub"), host_pub);
        fs::create_directory(dir_ / "authorized");
        fs::permissions(dir_ / "authorized", fs::perms(0755));
        // The admin's key as docs/monitoring.md advises: good for the D-Bus bridge only.
        write_file(dir_ / "authorized" / kAdminUser,
                   "restrict,command=\"systemd-stdio-bridge\" " + client_pub + "\n",
                   fs::perms(0644));
        write_file(dir_ / "authorized" / kOtherUser, client_pub + "\n", fs::perms(0644));
        port_ = free_port();
        write_file(dir_ / "known_hosts", fmt::format("[127.0.0.1]:{} {}\n", port_, host_pub),
                   fs::perms(0644));
        write_file(dir_ / "ssh_config",
                   fmt::format("Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n"
                               "  UserKnownHostsFile {}\n  GlobalKnownHostsFile /dev/null\n"
                               "  StrictHostKeyChecking yes\n  BatchMode yes\n",
                               (dir_ / "client_key").string(), (dir_ / "known_hosts").string()),
                   fs::perms(0644));
        write_file(
            dir_ / "ssh",
            fmt::format("#!/bin/sh\nexec ssh -F {} \"$@\"\n", (dir_ / "ssh_config").string()),
            fs::perms(0755));
        // The bridge the sessions find first in their PATH: the real one, on the private bus.
        fs::create_directory(dir_ / "bin");
        fs::permissions(dir_ / "bin", fs::perms(0755));
        write_file(dir_ / "bin" / "systemd-stdio-bridge",
                   fmt::format("#!/bin/sh\nexec /usr/bin/systemd-stdio-bridge "
                               "--bus-path=unix:path={} \"$@\"\n",
                               (dir_ / "bus").string()),
                   fs::perms(0755));
    }

    // sshd on 127.0.0.1:port_, public keys only, its sessions' PATH `path`.
    void start_sshd(const std::string& path) {
        sshd_.stop();
        const auto conf = dir_ / "sshd_config";
        write_file(conf,
                   fmt::format("ListenAddress 127.0.0.1:{}\nHostKey {}\nPidFile {}\n"
                               "AuthorizedKeysFile {}/%u\nUsePAM no\nPasswordAuthentication no\n"
                               "KbdInteractiveAuthentication no\nPermitRootLogin no\n"
                               "StrictModes no\nSetEnv PATH={}\n",
                               port_, (dir_ / "host_key").string(), (dir_ / "sshd.pid").string(),
                               (dir_ / "authorized").string(), path),
                   fs::perms(0644));
        sshd_ = Process::start({"/usr/sbin/sshd", "-D", "-e", "-f", conf.string()});
        for (int i = 0; i < 100 && !listening(port_); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        ASSERT_TRUE(listening(port_)) << "sshd did not listen on 127.0.0.1:" << port_;
    }

    std::string host(const char* user) const { return fmt::format("{}@127.0.0.1:{}", user, port_); }

    // exhibitctl --host USER@127.0.0.1:PORT ARGS…; (exit code, stdout and stderr).
    std::pair<int, std::string> ctl(const char* user, std::vector<std::string> args) {
        std::vector<std::string> argv = {std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibitctl",
                                         "--host", host(user)};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, std::chrono::seconds(60),
                           {"EXHIBIT_SSH=" + (dir_ / "ssh").string()});
    }

    static std::vector<std::string> extract_args() {
        return {"extract",   "d1",      "--case",       "CR/2026/0042", "--exhibit", "JD/1",
                "--officer", "PC 4711", "--categories", "photos",       "--basis",   "other"};
    }

    TempDir dir_;
    std::unique_ptr<PrivateBus> bus_;
    Process daemon_;
    Process sshd_;
    std::uint16_t port_ = 0;
};

TEST_F(ExhibitctlHost, AnAdminSteersTheKioskFromAfar) {
    auto [rc, out] = ctl(kAdminUser, {"status"});
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("remote-kiosk"), std::string::npos) << out;

    std::tie(rc, out) = ctl(kAdminUser, {"--json", "sync", "--now"});
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("\"sync_requested\": true"), std::string::npos) << out;

    // --wait follows the queue's signals, which come back through the bridge too.
    std::tie(rc, out) = ctl(kAdminUser, {"sync", "--now", "--wait", "--timeout", "30"});
    EXPECT_EQ(rc, 0) << out;

    std::tie(rc, out) = ctl(kAdminUser, {"audit", "verify"});
    EXPECT_EQ(rc, 0) << out;
    EXPECT_NE(out.find("audit chain intact"), std::string::npos) << out;

    std::tie(rc, out) = ctl(kAdminUser, {"reload"});
    EXPECT_EQ(rc, 0) << out;

    // A refusal from exhibitd itself comes back through the bridge as well: no such item.
    std::tie(rc, out) = ctl(kAdminUser, {"retry", "upload", "999"});
    EXPECT_EQ(rc, 3) << out;
}

TEST_F(ExhibitctlHost, NobodyStartsAnExtractionRemotely) {
    auto [rc, out] = ctl(kAdminUser, extract_args());
    EXPECT_EQ(rc, 4) << out;
    EXPECT_NE(out.find("exhibitctl: not authorized: the bus policy refused StartExtraction"),
              std::string::npos)
        << out;
    std::tie(rc, out) = ctl(kOtherUser, extract_args());
    EXPECT_EQ(rc, 4) << out;
    // Nothing was started.
    std::tie(rc, out) = ctl(kAdminUser, {"--json", "sessions"});
    ASSERT_EQ(rc, 0) << out;
    EXPECT_EQ(out, "[]\n");
}

TEST_F(ExhibitctlHost, AUserOutsideTheGroupsIsRefused) {
    for (const auto& args : std::vector<std::vector<std::string>>{
             {"status"}, {"sync", "--now"}, {"audit", "verify"}, {"reload"}}) {
        auto [rc, out] = ctl(kOtherUser, args);
        EXPECT_EQ(rc, 4) << args[0] << ": " << out;
        EXPECT_TRUE(out.starts_with("exhibitctl: not authorized: the bus policy refused ")) << out;
        EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << "one line: " << out;
    }
}

TEST_F(ExhibitctlHost, ARefusedLoginNamesTheHost) {
    auto [rc, out] = ctl("exhibit-test-nosuchuser", {"status"});
    EXPECT_EQ(rc, 4) << out;
    EXPECT_EQ(out,
              fmt::format("exhibitctl: ssh refused the login to {}: {}: Permission denied "
                          "(publickey).\n",
                          host("exhibit-test-nosuchuser"), "exhibit-test-nosuchuser@127.0.0.1"));
}

TEST_F(ExhibitctlHost, AnUnreachableHostNamesTheHost) {
    sshd_.stop();
    auto [rc, out] = ctl(kAdminUser, {"status"});
    EXPECT_EQ(rc, 5) << out;
    EXPECT_EQ(out, fmt::format("exhibitctl: cannot reach {} over ssh: connect to host 127.0.0.1 "
                               "port {}: Connection refused\n",
                               host(kAdminUser), port_));
}

TEST_F(ExhibitctlHost, AMissingBridgeNamesTheHost) {
    fs::create_directory(dir_ / "empty");
    fs::permissions(dir_ / "empty", fs::perms(0755));
    ASSERT_NO_FATAL_FAILURE(start_sshd((dir_ / "empty").string()));  // no bridge in PATH
    auto [rc, out] = ctl(kAdminUser, {"status"});
    EXPECT_EQ(rc, 5) << out;
    EXPECT_TRUE(out.starts_with(fmt::format(
        "exhibitctl: systemd-stdio-bridge is missing on {} (package systemd): ", host(kAdminUser))))
        << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << "one line: " << out;
}

TEST_F(ExhibitctlHost, ABridgeWithoutABusNamesTheHost) {
    fs::create_directory(dir_ / "nobus");
    fs::permissions(dir_ / "nobus", fs::perms(0755));
    write_file(dir_ / "nobus" / "systemd-stdio-bridge",
               fmt::format("#!/bin/sh\nexec /usr/bin/systemd-stdio-bridge "
                           "--bus-path=unix:path={} \"$@\"\n",
                           (dir_ / "no-such-bus").string()),
               fs::perms(0755));
    ASSERT_NO_FATAL_FAILURE(start_sshd((dir_ / "nobus").string() + ":/usr/bin:/bin"));
    auto [rc, out] = ctl(kAdminUser, {"status"});
    EXPECT_EQ(rc, 5) << out;
    EXPECT_TRUE(
        out.starts_with(fmt::format("exhibitctl: the D-Bus bridge on {} could not reach "
                                    "its system bus (systemd-stdio-bridge exited with "
                                    "status 1",
                                    host(kAdminUser))))
        << out;
}

}  // namespace
}  // namespace exhibit::testing
