// Child processes for tests: started with fork/exec, their stdout readable line by line (or,
// for binary output, as raw bytes with its stderr apart: drain, run_streaming), stopped by PID
// (SIGTERM, then SIGKILL) when the object goes away.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace exhibit::testing {

// Receives a child's output as it comes, in chunks of any size.
using OutputSink = std::function<void(std::span<const std::byte>)>;

class Process {
  public:
    // Starts argv[0] with the given arguments; extra environment entries "K=V" are added.
    // With capture_stderr, its stderr goes to a pipe of its own, read by drain().
    static Process start(const std::vector<std::string>& argv,
                         const std::vector<std::string>& env = {}, bool capture_stdout = true,
                         bool capture_stderr = false);
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
    // Reads stdout and stderr (those captured) as raw bytes, each to its sink, until both
    // end; false when `timeout` passed first. Not to be mixed with read_line.
    bool drain(std::chrono::milliseconds timeout, const OutputSink& on_stdout,
               const OutputSink& on_stderr);
    // Waits for exit; returns the wait status, or nullopt on timeout.
    std::optional<int> wait(std::chrono::milliseconds timeout);
    void kill(int signo);
    void stop();  // SIGTERM, up to 5 s, then SIGKILL; reaps

  private:
    pid_t pid_ = -1;
    int out_ = -1;
    int err_ = -1;
    std::string pending_;
};

// Runs a command to completion, returning (exit status, stdout+stderr).
std::pair<int, std::string> run_command(const std::vector<std::string>& argv,
                                        std::chrono::seconds timeout,
                                        const std::vector<std::string>& env = {});

// Runs a command to completion, its stdout handed to `on_stdout` as raw bytes (binary output
// survives: icat's file contents, gzip -dc) and its stderr kept apart. The exit status
// (128 + signal when killed, -1 on timeout, 127 when it could not be started) and stderr.
struct StreamedRun {
    int status = -1;
    std::string err;
};
StreamedRun run_streaming(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                          const OutputSink& on_stdout);

}  // namespace exhibit::testing
