#include "process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <thread>
#include <utility>

namespace exhibit::testing {

Process Process::start(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                       bool capture_stdout, bool capture_stderr) {
    int pipefd[2] = {-1, -1};
    if (capture_stdout && ::pipe2(pipefd, O_CLOEXEC) != 0)
        std::abort();
    int errfd[2] = {-1, -1};
    if (capture_stderr && ::pipe2(errfd, O_CLOEXEC) != 0)
        std::abort();
    pid_t pid = ::fork();
    if (pid < 0)
        std::abort();
    if (pid == 0) {
        if (capture_stdout)
            ::dup2(pipefd[1], STDOUT_FILENO);
        if (capture_stderr)
            ::dup2(errfd[1], STDERR_FILENO);
        for (const auto& e : env)
            ::putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> args;
        for (const auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    Process p;
    p.pid_ = pid;
    if (capture_stdout) {
        ::close(pipefd[1]);
        p.out_ = pipefd[0];
    }
    if (capture_stderr) {
        ::close(errfd[1]);
        p.err_ = errfd[0];
    }
    return p;
}

Process::Process(Process&& o) noexcept
    : pid_(std::exchange(o.pid_, -1)),
      out_(std::exchange(o.out_, -1)),
      err_(std::exchange(o.err_, -1)),
      pending_(std::move(o.pending_)) {}

Process& Process::operator=(Process&& o) noexcept {
    if (this != &o) {
        stop();
        pid_ = std::exchange(o.pid_, -1);
        out_ = std::exchange(o.out_, -1);
        err_ = std::exchange(o.err_, -1);
        pending_ = std::move(o.pending_);
    }
    return *this;
}

Process::~Process() {
    stop();
}

bool Process::running() {
    if (pid_ <= 0)
        return false;
    int status = 0;
    pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
        pid_ = -1;
        return false;
    }
    return true;
}

std::optional<std::string> Process::read_line(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto nl = pending_.find('\n');
        if (nl != std::string::npos) {
            auto line = pending_.substr(0, nl);
            pending_.erase(0, nl + 1);
            return line;
        }
        if (out_ < 0)
            return std::nullopt;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return std::nullopt;
        pollfd p{out_, POLLIN, 0};
        if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
            continue;
        char buf[4096];
        ssize_t n = ::read(out_, buf, sizeof buf);
        if (n <= 0) {
            ::close(out_);
            out_ = -1;
            if (!pending_.empty())
                return std::exchange(pending_, {});
            return std::nullopt;
        }
        pending_.append(buf, static_cast<std::size_t>(n));
    }
}

std::optional<std::string> Process::wait_for_line(const std::string& needle,
                                                  std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        auto line = read_line(left);
        if (!line)
            return std::nullopt;
        if (line->find(needle) != std::string::npos)
            return line;
    }
    return std::nullopt;
}

bool Process::drain(std::chrono::milliseconds timeout, const OutputSink& on_stdout,
                    const OutputSink& on_stderr) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    std::vector<std::byte> buf(1 << 16);
    while (out_ >= 0 || err_ >= 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0)
            return false;
        pollfd p[2] = {{out_, POLLIN, 0}, {err_, POLLIN, 0}};  // a negative fd is ignored
        if (::poll(p, 2, static_cast<int>(left.count())) <= 0)
            continue;
        for (int i = 0; i < 2; ++i) {
            int& fd = i == 0 ? out_ : err_;
            if (fd < 0 || p[i].revents == 0)
                continue;
            ssize_t n = ::read(fd, buf.data(), buf.size());
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                ::close(fd);
                fd = -1;
                continue;
            }
            const auto& sink = i == 0 ? on_stdout : on_stderr;
            if (sink)
                sink(std::span(buf.data(), static_cast<std::size_t>(n)));
        }
    }
    return true;
}

std::optional<int> Process::wait(std::chrono::milliseconds timeout) {
    if (pid_ <= 0)
        return std::nullopt;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        int status = 0;
        pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            pid_ = -1;
            return status;
        }
        if (std::chrono::steady_clock::now() >= deadline)
            return std::nullopt;
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
}

void Process::kill(int signo) {
    if (pid_ > 0)
        ::kill(pid_, signo);
}

void Process::stop() {
    if (pid_ > 0) {
        ::kill(pid_, SIGTERM);
        if (!wait(std::chrono::seconds(5))) {
            ::kill(pid_, SIGKILL);
            wait(std::chrono::seconds(5));
        }
    }
    if (out_ >= 0)
        ::close(out_);
    out_ = -1;
    if (err_ >= 0)
        ::close(err_);
    err_ = -1;
}

std::pair<int, std::string> run_command(const std::vector<std::string>& argv,
                                        std::chrono::seconds timeout,
                                        const std::vector<std::string>& env) {
    std::vector<std::string> args = {"/bin/sh", "-c", "exec \"$@\" 2>&1", "sh"};
    args.insert(args.end(), argv.begin(), argv.end());
    auto p = Process::start(args, env);
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (auto line = p.read_line(std::chrono::duration_cast<std::chrono::milliseconds>(
               deadline - std::chrono::steady_clock::now()))) {
        out += *line + "\n";
        if (std::chrono::steady_clock::now() >= deadline)
            break;
    }
    auto status = p.wait(std::chrono::seconds(1));
    if (!status) {
        p.stop();
        return {-1, out + "(timed out)\n"};
    }
    return {WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status), out};
}

StreamedRun run_streaming(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                          const OutputSink& on_stdout) {
    auto p = Process::start(argv, {}, true, true);
    StreamedRun run;
    auto keep_err = [&run](std::span<const std::byte> bytes) {
        run.err.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    };
    if (!p.drain(timeout, on_stdout, keep_err)) {
        p.stop();
        run.status = -1;
        run.err += "(timed out)\n";
        return run;
    }
    auto status = p.wait(std::chrono::seconds(5));
    if (!status) {
        p.stop();
        run.err += "(did not exit after closing its output)\n";
        return run;
    }
    run.status = WIFEXITED(*status) ? WEXITSTATUS(*status) : 128 + WTERMSIG(*status);
    return run;
}

}  // namespace exhibit::testing
