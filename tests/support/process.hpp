// Child processes for tests: started with fork/exec, their stdout readable line by line,
// stopped by PID (SIGTERM, then SIGKILL) when the object goes away.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace exhibit::testing {

class Process {
  public:
    // Starts argv[0] with the given arguments; extra environment entries "K=V" are added.
    static Process start(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {}, bool capture_stdout = true);
    Process() = default;
    Process(Process&& o) noexcept;
    Process& operator=(Process&& o) noexcept;
    ~Process();

    pid_t pid() const { return pid_; }
    bool running();
    // The next line of stdout, or nullopt on timeout or end of output.
    std::optional<std::string> read_line(std::chrono::milliseconds timeout);
    // Reads lines until one contains `needle`; returns it.
    std::optional<std::string> wait_for_line(const std::string& needle,
                                             std::chrono::milliseconds timeout);
    // Waits for exit; returns the wait status, or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    void kill(int signo);
    void stop();  // SIGTERM, up to 5 s, then SIGKILL; reaps

  private:
    pid_t pid_ = -1;
    int out_ = -1;
    std::string pending_;
};

// Runs a command to completion, returning (exit status, stdout+stderr).
std::pair<int, std::string> run_command(const std::vector<std::string>& argv,
                                        std::chrono::seconds timeout,
                                        const std::vector<std::string>& env = {});

}  // namespace exhibit::testing
