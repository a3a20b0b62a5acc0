// Helpers for the referee tests: Debian's real `adb` client on a private server port with a
// private HOME, and exhibit-phonesim on 127.0.0.1. Both are started in the foreground and
// stopped by PID when the object goes away; nothing here touches a shared adb server.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "common/unique_fd.hpp"
#include "tests/support/process.hpp"

namespace exhibit::testing {

using namespace std::chrono_literals;

// A TCP port that was free a moment ago on 127.0.0.1.
inline std::uint16_t free_tcp_port() {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0)
        return 0;
    socklen_t len = sizeof sa;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len);
    return ntohs(sa.sin_port);
}

inline bool tcp_port_accepts(std::uint16_t port) {
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons(port);
    return ::connect(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) == 0;
}

// True when process `pid` itself holds the socket listening on 127.0.0.1:`port` (so a
// server that lost the race for a "free" port is never mistaken for ours).
inline bool pid_listens_on(pid_t pid, std::uint16_t port) {
    std::ifstream tcp("/proc/net/tcp");
    std::string line, inode;
    std::getline(tcp, line);  // header
    while (std::getline(tcp, line)) {
        std::istringstream f(line);
        std::string slot, local, remote, state, queues, timer, retr, uid, timeout, node;
        f >> slot >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >> node;
        auto colon = local.find(':');
        if (state == "0A" && colon != std::string::npos &&
            std::stoul(local.substr(colon + 1), nullptr, 16) == port)
            inode = node;
    }
    if (inode.empty())
        return false;
    std::error_code ec;
    auto fds = "/proc/" + std::to_string(pid) + "/fd";
    for (const auto& e : std::filesystem::directory_iterator(fds, ec))
        if (std::filesystem::read_symlink(e.path(), ec).string() == "socket:[" + inode + "]")
            return true;
    return false;
}

// Polls `done` every 100 ms until it is true or `timeout` passes.
template <class F>
bool eventually(F done, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (done())
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(100ms);
    }
}

inline std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// A private adb server (`adb -P PORT nodaemon server`) with HOME in `home`, so its
// ~/.android/adbkey is the test's own. The destructor asks it to quit, then stops it by PID.
class AdbServer {
  public:
    explicit AdbServer(std::filesystem::path home) : home_(std::move(home)) {
        std::filesystem::create_directories(home_);
        port_ = free_tcp_port();
        log_ = home_ / "adb-server.log";
        // exec keeps the PID: the one we stop is the server itself.
        process_ = Process::start({"/bin/sh", "-c", "exec adb -P \"$1\" nodaemon server 2>>\"$2\"",
                                   "sh", std::to_string(port_), log_.string()},
                                  env(), false);
        // Until the server listens, a client would fork a daemon of its own: never call one
        // before this.
        started_ = eventually([&] { return pid_listens_on(process_.pid(), port_); }, 20s);
    }
    ~AdbServer() { stop(); }
    AdbServer(const AdbServer&) = delete;
    AdbServer& operator=(const AdbServer&) = delete;

    bool ok() const { return started_; }
    std::uint16_t port() const { return port_; }
    pid_t pid() const { return process_.pid(); }
    std::filesystem::path public_key() const { return home_ / ".android" / "adbkey.pub"; }
    std::string log() const { return read_text(log_); }

    // Runs `adb -P PORT args...`; returns (exit status, stdout+stderr).
    std::pair<int, std::string> run(const std::vector<std::string>& args,
                                    std::chrono::seconds timeout = 60s) const {
        std::vector<std::string> argv = {"adb", "-P", std::to_string(port_)};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, timeout, env());
    }

    // The state `adb devices` shows for `serial` ("device", "unauthorized", "offline", ...).
    std::optional<std::string> state_of(const std::string& serial) const {
        auto [rc, out] = run({"devices"}, 20s);
        std::istringstream lines(out);
        for (std::string line; std::getline(lines, line);)
            if (line.starts_with(serial + "\t"))
                return line.substr(serial.size() + 1);
        return std::nullopt;
    }

    // Asks the server to quit, then makes sure the process is gone (SIGTERM, SIGKILL).
    void stop() {
        if (process_.pid() <= 0)
            return;
        if (started_)
            run({"kill-server"}, 10s);
        if (!process_.wait(5s))
            process_.stop();
    }

    bool running() { return process_.running(); }

  private:
    std::vector<std::string> env() const {
        return {"HOME=" + home_.string(), "ANDROID_ADB_SERVER_PORT=" + std::to_string(port_),
                "ADB_VENDOR_KEYS=", "ANDROID_SDK_HOME=" + home_.string()};
    }

    std::filesystem::path home_;
    std::filesystem::path log_;
    std::uint16_t port_ = 0;
    Process process_;
    bool started_ = false;
};

inline std::string phonesim_program() {
    return std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibit-phonesim";
}

// exhibit-phonesim --listen 127.0.0.1:0 <args>, stopped by PID at the end.
class SimPhone {
  public:
    explicit SimPhone(const std::vector<std::string>& args) {
        std::vector<std::string> argv = {phonesim_program(), "--listen", "127.0.0.1:0"};
        argv.insert(argv.end(), args.begin(), args.end());
        process_ = Process::start(argv);
        auto line = process_.wait_for_line("listening on 127.0.0.1:", 20s);
        if (line)
            port_ = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
    }
    bool ok() const { return port_ != 0; }
    std::string serial() const { return "127.0.0.1:" + std::to_string(port_); }
    Process& process() { return process_; }

  private:
    Process process_;
    std::uint16_t port_ = 0;
};

}  // namespace exhibit::testing
