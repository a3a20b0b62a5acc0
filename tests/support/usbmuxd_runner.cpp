#include "tests/support/usbmuxd_runner.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

namespace exhibit::testing {

namespace {

constexpr const char* kUsbmuxd = "/usr/sbin/usbmuxd";

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

template <class F>
bool wait_until(std::chrono::milliseconds timeout, F&& done) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (done())
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace

bool UsbmuxdRunner::available() {
    return ::access(kUsbmuxd, X_OK) == 0 && ::access("/usr/bin/unshare", X_OK) == 0;
}

std::optional<UsbmuxdRunner> UsbmuxdRunner::start(const Options& options, std::string* why) {
    UsbmuxdRunner r;
    r.dir_ = std::make_unique<TempDir>();
    const auto& d = r.dir_->path();
    std::filesystem::create_directories(d / "run");
    std::filesystem::create_directories(d / "varlib" / "lockdown");
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
    r.process_ = Process::start({"unshare", "-m", "--propagation", "private", "--", "sh", "-c",
                                 script, "sh", d.string(), options.umockdev_dir},
                                {}, false, false);
    if (!wait_until(std::chrono::seconds(10),
                    [&] { return connectable(r.socket_path()) || !r.process_.running(); }) ||
        !r.process_.running()) {
        if (why)
            *why = "usbmuxd did not come up; its log:\n" + r.log();
        return std::nullopt;
    }
    return r;
}

void UsbmuxdRunner::kill() {
    if (process_.pid() > 0) {
        process_.kill(SIGKILL);
        process_.wait(std::chrono::seconds(10));
    }
}

std::string UsbmuxdRunner::log() const {
    if (!dir_)
        return {};
    std::ifstream in(dir_->path() / "usbmuxd.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool UsbmuxdRunner::wait_for_log(const std::string& needle,
                                 std::chrono::milliseconds timeout) const {
    return wait_until(timeout, [&] { return log().find(needle) != std::string::npos; });
}

std::vector<std::string> UsbmuxdRunner::list_udids() const {
    auto [status, out] = run_command({"idevice_id", "-l"}, std::chrono::seconds(10), client_env());
    std::vector<std::string> udids;
    if (status != 0)
        return udids;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
        if (!line.empty())
            udids.push_back(line.substr(0, line.find(' ')));
    return udids;
}

bool UsbmuxdRunner::wait_listed(const std::string& udid, bool present,
                                std::chrono::milliseconds timeout) const {
    return wait_until(timeout, [&] {
        auto u = list_udids();
        return (std::find(u.begin(), u.end(), udid) != u.end()) == present;
    });
}

}  // namespace exhibit::testing
