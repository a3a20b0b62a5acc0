// exhibitd as systemd runs it: a real process, a real notification socket, real signals.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <exhibit/version.hpp>

#include "tests/support/private_bus.hpp"

namespace {

namespace stdfs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;

const stdfs::path kExhibitd = stdfs::path(EXHIBIT_BINARY_DIR) / "bin" / "exhibitd";

class Fd {
  public:
    explicit Fd(int fd = -1) : fd_(fd) {}
    Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
    Fd& operator=(Fd&& o) noexcept {
        std::swap(fd_, o.fd_);
        return *this;
    }
    ~Fd() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    int get() const { return fd_; }

  private:
    int fd_;
};

// Reads what is available on `fd` until EOF or `timeout`.
std::string read_until_eof(int fd, std::chrono::milliseconds timeout) {
    std::string out;
    auto deadline = Clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        if (left <= 0ms)
            break;
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
            break;
        char buf[4096];
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n <= 0)
            break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    return out;
}

// The service manager's end of $NOTIFY_SOCKET.
class NotifySocket {
  public:
    explicit NotifySocket(const stdfs::path& path) : path_(path) {
        fd_ = Fd(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
        ok_ = fd_.get() >= 0 &&
              ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    bool ok() const { return ok_; }
    const stdfs::path& path() const { return path_; }

    // The next datagram, or nullopt after `timeout`.
    std::optional<std::string> receive(std::chrono::milliseconds timeout) {
        pollfd p{fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0)
            return std::nullopt;
        char buf[4096];
        ssize_t n = ::recv(fd_.get(), buf, sizeof buf, 0);
        if (n < 0)
            return std::nullopt;
        return std::string(buf, static_cast<std::size_t>(n));
    }

    // Messages until one contains `needle` (returned last), or all received by `timeout`.
    std::vector<std::string> receive_until(std::string_view needle,
                                           std::chrono::milliseconds timeout) {
        std::vector<std::string> got;
        auto deadline = Clock::now() + timeout;
        while (Clock::now() < deadline) {
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
            auto m = receive(std::max(left, 1ms));
            if (!m)
                continue;
            got.push_back(*m);
            if (m->find(needle) != std::string::npos)
                break;
        }
        return got;
    }

  private:
    stdfs::path path_;
    Fd fd_;
    bool ok_ = false;
};

// exhibitd started with fork/exec; killed (SIGKILL) and reaped if a test leaves it running.
class Child {
  public:
    struct Options {
        std::vector<std::string> args;
        std::optional<stdfs::path> notify_socket;
        std::optional<std::string> watchdog_usec;  // WATCHDOG_PID is then the child's pid
    };

    explicit Child(const Options& o) {
        std::vector<std::string> env = {"PATH=/usr/bin:/bin", "LANG=C.UTF-8"};
        if (o.notify_socket)
            env.push_back("NOTIFY_SOCKET=" + o.notify_socket->string());
        if (o.watchdog_usec)
            env.push_back("WATCHDOG_USEC=" + *o.watchdog_usec);
        std::vector<std::string> args = {kExhibitd.string()};
        args.insert(args.end(), o.args.begin(), o.args.end());

        // Everything the child needs is allocated before fork; after it, only
        // async-signal-safe calls.
        std::vector<char*> argv, envp;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        for (auto& e : env)
            envp.push_back(e.data());
        char pid_env[64] = "WATCHDOG_PID=";
        if (o.watchdog_usec)
            envp.push_back(pid_env);
        envp.push_back(nullptr);

        int out[2], err[2];
        if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0)
            return;
        pid_ = ::fork();
        if (pid_ == 0) {
            // WATCHDOG_PID must name the daemon itself, so it is written here, after fork.
            char digits[24];
            int n = 0;
            for (pid_t p = ::getpid(); p > 0; p /= 10)
                digits[n++] = static_cast<char>('0' + p % 10);
            char* w = pid_env + std::strlen("WATCHDOG_PID=");
            while (n > 0)
                *w++ = digits[--n];
            *w = '\0';
            sigset_t none;
            sigemptyset(&none);
            ::sigprocmask(SIG_SETMASK, &none, nullptr);
            ::dup2(out[1], STDOUT_FILENO);
            ::dup2(err[1], STDERR_FILENO);
            ::execve(argv[0], argv.data(), envp.data());
            ::_exit(127);
        }
        ::close(out[1]);
        ::close(err[1]);
        stdout_ = Fd(out[0]);
        stderr_ = Fd(err[0]);
    }
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() {
        if (pid_ > 0 && !status_) {
            ::kill(pid_, SIGKILL);
            int st = 0;
            ::waitpid(pid_, &st, 0);
        }
    }

    pid_t pid() const { return pid_; }

    // The wait status once the child exited, or nullopt if it is still running at `timeout`.
    std::optional<int> wait(std::chrono::milliseconds timeout) {
        auto deadline = Clock::now() + timeout;
        while (!status_) {
            int st = 0;
            pid_t r = ::waitpid(pid_, &st, WNOHANG);
            if (r == pid_) {
                status_ = st;
                break;
            }
            if (r < 0 || Clock::now() >= deadline)
                break;
            std::this_thread::sleep_for(2ms);
        }
        return status_;
    }

    std::string read_stdout() { return read_until_eof(stdout_.get(), 2s); }
    std::string read_stderr() { return read_until_eof(stderr_.get(), 2s); }

  private:
    pid_t pid_ = -1;
    std::optional<int> status_;
    Fd stdout_;
    Fd stderr_;
};

class ExhibitdTest : public ::testing::Test {
  protected:
    void SetUp() override {
        ASSERT_TRUE(stdfs::exists(kExhibitd)) << kExhibitd << " not built";
        std::string tmpl = (stdfs::temp_directory_path() / "exhibitd-test-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        config_ = dir_ / "exhibitd.conf";
    }
    void TearDown() override {
        bus_.reset();
        std::error_code ec;
        stdfs::remove_all(dir_, ec);
    }

    void write_config(std::string_view text) {
        std::ofstream out(config_, std::ios::trunc);
        out << text;
        ASSERT_TRUE(out.good());
    }
    // exhibitd offers its API on D-Bus: each test gets a private bus with the project's policy.
    void write_good_config(std::string_view extra_daemon_keys = "") {
        if (!bus_)
            bus_ = std::make_unique<exhibit::testing::PrivateBus>(dir_);
        ASSERT_TRUE(bus_->ok()) << "dbus-daemon did not start";
        write_config("[daemon]\nkiosk_id = \"test-kiosk\"\nlog_target = \"stderr\"\n" +
                     std::string(extra_daemon_keys) + "\n[store]\nstate_directory = \"" +
                     (dir_ / "state").string() + "\"\n[dbus]\nbus = \"" + bus_->address() + "\"\n");
    }
    std::unique_ptr<exhibit::testing::PrivateBus> bus_;

    static bool contains(const std::vector<std::string>& messages, std::string_view needle) {
        for (const auto& m : messages)
            if (m.find(needle) != std::string::npos)
                return true;
        return false;
    }

    stdfs::path dir_;
    stdfs::path config_;
};

TEST_F(ExhibitdTest, ReadyWatchdogAndCleanStopOnSigterm) {
    write_good_config();
    NotifySocket notify(dir_ / "notify");
    ASSERT_TRUE(notify.ok());
    Child child({{"--config", config_.string()}, notify.path(), "200000"});
    ASSERT_GT(child.pid(), 0);

    auto messages = notify.receive_until("READY=1", 10s);
    if (!contains(messages, "READY=1")) {
        ::kill(child.pid(), SIGKILL);
        child.wait(2s);
        FAIL() << "no READY=1 within 10 s; stderr: " << child.read_stderr();
    }
    const auto& ready = messages.back();
    EXPECT_THAT(ready, HasSubstr("STATUS=Ready: 0 items, 0 flagged, key SHA256:"));
    EXPECT_FALSE(child.wait(0ms)) << "exhibitd exited after READY";

    // WATCHDOG_USEC=200000: sd-event pings at least every 150 ms.
    int pings = 0;
    auto window_end = Clock::now() + 1s;
    while (Clock::now() < window_end) {
        auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(window_end - Clock::now());
        if (auto m = notify.receive(std::max(left, 1ms)); m && *m == "WATCHDOG=1")
            ++pings;
    }
    EXPECT_GE(pings, 3);

    ASSERT_EQ(::kill(child.pid(), SIGTERM), 0);
    auto t0 = Clock::now();
    auto status = child.wait(5s);
    auto took = Clock::now() - t0;
    ASSERT_TRUE(status) << "exhibitd did not exit after SIGTERM";
    EXPECT_LT(took, 2s);
    ASSERT_TRUE(WIFEXITED(*status)) << "status " << *status;
    EXPECT_EQ(WEXITSTATUS(*status), 0);
    EXPECT_TRUE(contains(notify.receive_until("STOPPING=1", 1s), "STOPPING=1"));
    auto log = child.read_stderr();
    EXPECT_THAT(log, HasSubstr("MESSAGE_ID=5253a2a1c8284727983c794769760251"));  // started
    EXPECT_THAT(log, HasSubstr("MESSAGE_ID=079ff9e9e74b428592e85e4c3fb74940"));  // stopped
}

TEST_F(ExhibitdTest, SigintAlsoStopsCleanly) {
    write_good_config();
    NotifySocket notify(dir_ / "notify");
    ASSERT_TRUE(notify.ok());
    Child child({{"--config", config_.string()}, notify.path(), std::nullopt});
    ASSERT_TRUE(contains(notify.receive_until("READY=1", 10s), "READY=1"));
    ASSERT_EQ(::kill(child.pid(), SIGINT), 0);
    auto status = child.wait(2s);
    ASSERT_TRUE(status);
    ASSERT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 0);
}

// The soft limit of a process's open files, from /proc/PID/limits.
std::optional<unsigned long> open_files_soft_limit(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/limits");
    for (std::string line; std::getline(in, line);)
        if (line.starts_with("Max open files"))
            return std::stoul(line.substr(std::string_view("Max open files").size()));
    return std::nullopt;
}

TEST_F(ExhibitdTest, RaisesItsOpenFileLimitForBatchesOfOpenSpoolFiles) {
    rlimit saved{};
    ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
    ASSERT_GT(saved.rlim_max, 256u) << "a hard limit this low leaves nothing to raise";
    rlimit low = saved;
    low.rlim_cur = 256;  // exhibitd inherits this
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
    write_good_config();
    NotifySocket notify(dir_ / "notify");
    Child child({{"--config", config_.string()}, notify.path(), std::nullopt});
    ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &saved), 0);
    ASSERT_TRUE(contains(notify.receive_until("READY=1", 10s), "READY=1"));
    auto soft = open_files_soft_limit(child.pid());
    ASSERT_TRUE(soft);
    EXPECT_EQ(*soft, std::min<unsigned long>(saved.rlim_max, 65536));
    ::kill(child.pid(), SIGTERM);
    EXPECT_TRUE(child.wait(5s));
}

TEST_F(ExhibitdTest, WatchdogOffInConfigSendsNoPings) {
    write_good_config("watchdog = false\n");
    NotifySocket notify(dir_ / "notify");
    ASSERT_TRUE(notify.ok());
    Child child({{"--config", config_.string()}, notify.path(), "200000"});
    ASSERT_TRUE(contains(notify.receive_until("READY=1", 10s), "READY=1"));
    auto later = notify.receive_until("WATCHDOG=1", 700ms);
    EXPECT_FALSE(contains(later, "WATCHDOG=1"));
    ::kill(child.pid(), SIGTERM);
    EXPECT_TRUE(child.wait(2s));
    EXPECT_THAT(child.read_stderr(), HasSubstr("set WatchdogSec=0 as well"));
}

TEST_F(ExhibitdTest, BadConfigExitsWithExConfigNamingFileAndLine) {
    write_config("[daemon]\nlog_target = \"stderr\"\n[store]\nverfy_on_start = \"full\"\n");
    NotifySocket notify(dir_ / "notify");
    ASSERT_TRUE(notify.ok());
    Child child({{"--config", config_.string()}, notify.path(), std::nullopt});
    auto status = child.wait(5s);
    ASSERT_TRUE(status) << "exhibitd kept running with a bad configuration";
    ASSERT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 78);
    auto err = child.read_stderr();
    EXPECT_THAT(err, HasSubstr(config_.string() + ":4: unknown key \"store.verfy_on_start\""));
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_FALSE(contains(notify.receive_until("READY=1", 100ms), "READY=1"));
}

TEST_F(ExhibitdTest, MissingExplicitConfigExitsWithExConfig) {
    Child child({{"--config", (dir_ / "absent.conf").string()}, std::nullopt, std::nullopt});
    auto status = child.wait(5s);
    ASSERT_TRUE(status);
    ASSERT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 78);
    EXPECT_THAT(child.read_stderr(), HasSubstr((dir_ / "absent.conf").string()));
}

TEST_F(ExhibitdTest, StoreThatCannotOpenExitsOneAndSaysWhyInStatus) {
    auto not_a_dir = dir_ / "plain-file";
    std::ofstream(not_a_dir) << "x";
    write_config(
        "[daemon]\nkiosk_id = \"k\"\nlog_target = \"stderr\"\n[store]\n"
        "state_directory = \"" +
        not_a_dir.string() + "\"\n");
    NotifySocket notify(dir_ / "notify");
    ASSERT_TRUE(notify.ok());
    Child child({{"--config", config_.string()}, notify.path(), std::nullopt});
    auto status = child.wait(5s);
    ASSERT_TRUE(status);
    ASSERT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 1);
    auto messages = notify.receive_until("Startup failed", 1s);
    EXPECT_FALSE(contains(messages, "READY=1"));
    ASSERT_TRUE(contains(messages, "STATUS=Startup failed"));
    EXPECT_THAT(messages.back(), HasSubstr(not_a_dir.string()));
    EXPECT_THAT(child.read_stderr(), HasSubstr("MESSAGE_ID=5db0e2f2bf0f4c48bb1101ccf9584f40"));
}

TEST_F(ExhibitdTest, VersionPrintsTheVersion) {
    Child child({{"--version"}, std::nullopt, std::nullopt});
    auto status = child.wait(5s);
    ASSERT_TRUE(status);
    ASSERT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 0);
    EXPECT_EQ(child.read_stdout(), std::string("exhibitd ") + exhibit::kVersion + "\n");
}

TEST_F(ExhibitdTest, UnknownOptionIsAUsageError) {
    Child child({{"--no-such-option"}, std::nullopt, std::nullopt});
    auto status = child.wait(5s);
    ASSERT_TRUE(status);
    ASSERT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 64);
}

// A downgrade: the catalog was written by a newer exhibit. exhibitd refuses with a distinct exit
// code (the unit does not restart it) and leaves the catalog byte for byte as it was.
TEST_F(ExhibitdTest, CatalogFromANewerExhibitExits76AndIsLeftUntouched) {
    write_good_config();
    stdfs::create_directories(dir_ / "state");
    const auto catalog = dir_ / "state" / "exhibit.db";
    ASSERT_EQ(std::system(("sqlite3 '" + catalog.string() +
                           "' 'CREATE TABLE future (x); PRAGMA user_version = 99;'")
                              .c_str()),
              0);
    auto read_all = [&] {
        std::ifstream in(catalog, std::ios::binary);
        std::ostringstream bytes;
        bytes << in.rdbuf();
        return bytes.str();
    };
    const auto before = read_all();
    Child child({{"--config", config_.string()}, std::nullopt, std::nullopt});
    auto status = child.wait(10s);
    ASSERT_TRUE(status) << "exhibitd kept running on a newer catalog";
    ASSERT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 76);
    EXPECT_THAT(child.read_stderr(), HasSubstr("schema version 99"));
    EXPECT_EQ(read_all(), before);
    EXPECT_FALSE(stdfs::exists(dir_ / "state" / "keys")) << "nothing else is created";
}

// exhibitd --undelivered, as the package's removal scripts run it: 0 when nothing is waiting for
// a DFU receipt, 1 when it cannot tell (never "nothing").
TEST_F(ExhibitdTest, UndeliveredReportsAnEmptyStoreAndRefusesAnUnknownOne) {
    write_good_config();
    {
        Child child({{"--config", config_.string(), "--undelivered"}, std::nullopt, std::nullopt});
        auto status = child.wait(5s);
        ASSERT_TRUE(status);
        ASSERT_TRUE(WIFEXITED(*status));
        EXPECT_EQ(WEXITSTATUS(*status), 0);
        EXPECT_THAT(child.read_stdout(), HasSubstr("0 items, 0 without a DFU receipt"));
    }
    stdfs::create_directories(dir_ / "state");
    ASSERT_EQ(std::system(("sqlite3 '" + (dir_ / "state" / "exhibit.db").string() +
                           "' 'CREATE TABLE future (x); PRAGMA user_version = 99;'")
                              .c_str()),
              0);
    Child child({{"--config", config_.string(), "--undelivered"}, std::nullopt, std::nullopt});
    auto status = child.wait(5s);
    ASSERT_TRUE(status);
    ASSERT_TRUE(WIFEXITED(*status));
    EXPECT_EQ(WEXITSTATUS(*status), 1);
    EXPECT_THAT(child.read_stderr(), HasSubstr("cannot tell what"));
}

}  // namespace
