// The programs a validation run starts (exhibitd, exhibit-phonesim, dbus-daemon, the tus
// server) and the ones it runs to their end (exhibitctl, exhibit-verify): started with
// posix_spawn, their output to a log file, stopped by PID (SIGTERM, then SIGKILL) and reaped.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace exhibit::validate {

class Child {
  public:
    // Starts argv[0] (a path, or a name looked up in PATH) with stdin from /dev/null and its
    // stdout and stderr appended to `log`. It inherits this process's environment.
    static Result<Child> start(const std::vector<std::string>& argv,
                               const std::filesystem::path& log);
    Child() = default;
    Child(Child&& o) noexcept;
    Child& operator=(Child&& o) noexcept;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child() { stop(); }

    pid_t pid() const { return pid_; }
    bool running();
    // Waits for the end; the exit status (128 + signal when killed), or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    void stop();  // SIGTERM, up to 5 s, then SIGKILL; reaps

  private:
    explicit Child(pid_t pid) : pid_(pid) {}
    pid_t pid_ = -1;
    std::optional<int> status_;
};

// Runs a program to its end: the exit status (or -1 when it did not end within `timeout`,
// then it is killed) and everything it wrote to stdout and stderr.
struct Ran {
    int status = -1;
    std::string output;
};
Ran run(const std::vector<std::string>& argv, std::chrono::seconds timeout);

// Waits until `log` holds a line containing `needle` and returns it; an error when `child`
// ended first or `timeout` passed (naming `what`, with the end of the log).
Result<std::string> wait_for_line(Child& child, const std::filesystem::path& log,
                                  std::string_view needle, std::chrono::seconds timeout,
                                  std::string_view what);

}  // namespace exhibit::validate
