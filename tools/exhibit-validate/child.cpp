#include "tools/exhibit-validate/child.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "common/fs.hpp"


extern char** environ;

namespace exhibit::validate {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

Result<Child> Child::start(const std::vector<std::string>& argv, const fs::path& log) {
    if (argv.empty())
        return fail(Errc::invalid_argument, "nothing to start");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    std::vector<char*> args;
    std::vector<std::string> copy = argv;
    for (auto& a : copy)
        args.push_back(a.data());
    args.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, copy[0].c_str(), &actions, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0)
        return fail_errno(fmt::format("cannot start {}", argv[0]), rc);
    return Child(pid);
}

Child::Child(Child&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)), status_(std::exchange(o.status_, std::nullopt)) {}

Child& Child::operator=(Child&& o) noexcept {
    if (this != &o) {
        stop();
        pid_ = std::exchange(o.pid_, -1);
        status_ = std::exchange(o.status_, std::nullopt);
    }
    return *this;
}

bool Child::running() {
    return pid_ > 0 && !status_ && !wait(0ms);
}

std::optional<int> Child::wait(std::chrono::milliseconds timeout) {
    if (status_ || pid_ <= 0)
        return status_;
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int st = 0;
        const pid_t r = ::waitpid(pid_, &st, WNOHANG);
        if (r == pid_ || (r < 0 && errno != EINTR)) {
            status_ = r < 0 ? 127 : WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
            return status_;
        }
        if (std::chrono::steady_clock::now() >= end)
            return std::nullopt;
        std::this_thread::sleep_for(20ms);
    }
}

void Child::stop() {
    if (pid_ <= 0 || status_)
        return;
    ::kill(pid_, SIGTERM);
    if (!wait(5s)) {
        ::kill(pid_, SIGKILL);
        wait(10s);
    }
}

// More than any of exhibit's programs prints: a JSON report of thousands of items.
constexpr std::size_t kMaxOutput = 256u << 20;

Ran run(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
    std::error_code ec;
    std::string name = (fs::temp_directory_path(ec) / "exhibit-validate-run.XXXXXX").string();
    const int fd = ::mkstemp(name.data());
    if (fd < 0)
        return {-1, "cannot make a temporary file"};
    ::close(fd);
    const fs::path out = name;
    Ran ran;
    {
        auto child = Child::start(argv, out);
        if (!child) {
            fs::remove(out);
            return {127, child.error().describe()};
        }
        auto st = child->wait(timeout);
        ran.status = st ? *st : -1;
    }  // a program still running is stopped here
    auto text = exhibit::fs::read_file(out, kMaxOutput);
    ran.output = text ? std::move(*text) : text.error().describe();
    fs::remove(out);
    return ran;
}

namespace {
std::string tail(const fs::path& log, std::size_t lines) {
    std::ifstream in(log);
    std::vector<std::string> all;
    for (std::string line; std::getline(in, line);)
        all.push_back(line);
    std::string out;
    for (std::size_t i = all.size() > lines ? all.size() - lines : 0; i < all.size(); ++i)
        out += "\n  " + all[i];
    return out;
}
}  // namespace

Result<std::string> wait_for_line(Child& child, const fs::path& log, std::string_view needle,
                                  std::chrono::seconds timeout, std::string_view what) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        std::ifstream in(log);
        for (std::string line; std::getline(in, line);)
            if (line.find(needle) != std::string::npos)
                return line;
        if (!child.running())
            return fail(Errc::io, fmt::format("{} ended before it was ready:{}", what, tail(log, 8)));
        if (std::chrono::steady_clock::now() >= end)
            return fail(Errc::timeout, fmt::format("{} was not ready within {} s:{}", what,
                                                   timeout.count(), tail(log, 8)));
        std::this_thread::sleep_for(50ms);
    }
}

}  // namespace exhibit::validate
