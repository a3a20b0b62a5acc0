#include "phonesim/usb/usbmuxd_process.hpp"

#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace exhibit::usbsim {

namespace {

constexpr const char* kUsbmuxd = "/usr/sbin/usbmuxd";
constexpr const char* kUnshare = "/usr/bin/unshare";

bool connectable(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    ::close(fd);
    return ok;
}

}  // namespace

bool Usbmuxd::available() {
    return ::access(kUsbmuxd, X_OK) == 0 && ::access(kUnshare, X_OK) == 0;
}

Result<std::unique_ptr<Usbmuxd>> Usbmuxd::start(const Options& options) {
    if (!available())
        return fail(Errc::unsupported,
                    fmt::format("{} is missing (Debian package usbmuxd) or {} is", kUsbmuxd,
                                kUnshare));
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/exhibit-usbmuxd.XXXXXX";
    if (!::mkdtemp(pattern.data()))
        return fail_errno("cannot create a folder for usbmuxd");
    std::unique_ptr<Usbmuxd> u(new Usbmuxd(pattern));
    std::error_code ec;
    std::filesystem::create_directories(u->folder_ / "run", ec);
    std::filesystem::create_directories(u->folder_ / "varlib" / "lockdown", ec);
    if (ec)
        return fail(Errc::io, fmt::format("cannot prepare {}: {}", u->folder_.string(),
                                          ec.message()));
    std::string flags = "-f";
    for (int i = 0; i < options.verbosity; ++i)
        flags += " -v";
    if (!options.preflight)
        flags += " -p";
    // unshare execs sh, which execs env, which execs usbmuxd: one PID throughout.
    const std::string script =
        "set -e\n"
        "mount --bind \"$1/run\" /run\n"
        "mount --bind \"$1/varlib\" /var/lib\n"
        "exec env LD_PRELOAD=libumockdev-preload.so.0 UMOCKDEV_DIR=\"$2\" " +
        std::string(kUsbmuxd) + " " + flags + " >\"$1/usbmuxd.log\" 2>&1\n";
    std::vector<std::string> args = {kUnshare, "-m", "--propagation", "private"};
    if (::geteuid() != 0)
        args.push_back("-r");  // mount needs capabilities: a user namespace gives them
    for (const auto& a : {std::string("--"), std::string("sh"), std::string("-c"), script,
                          std::string("sh"), u->folder_.string(), options.umockdev_dir})
        args.push_back(a);
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid < 0)
        return fail_errno("cannot start usbmuxd");
    if (pid == 0) {  // only async-signal-safe calls from here on
        sigset_t none;
        sigemptyset(&none);
        ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
        ::execv(kUnshare, argv.data());
        ::_exit(127);
    }
    u->pid_ = pid;
    const auto deadline = std::chrono::steady_clock::now() + options.start_timeout;
    while (!connectable(u->socket_path())) {
        if (!u->running() || std::chrono::steady_clock::now() >= deadline) {
            u->stop();
            return fail(Errc::timeout,
                        fmt::format("usbmuxd did not come up; its log:\n{}", u->log()));
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return u;
}

Usbmuxd::~Usbmuxd() {
    stop();
    std::error_code ec;
    std::filesystem::remove_all(folder_, ec);
}

bool Usbmuxd::running() {
    if (pid_ <= 0)
        return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;  // it ended, and is reaped
        return false;
    }
    return true;
}

void Usbmuxd::stop() {
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
}

std::string Usbmuxd::log() const {
    std::ifstream in(folder_ / "usbmuxd.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace exhibit::usbsim
