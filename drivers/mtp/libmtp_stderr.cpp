#include "drivers/mtp/libmtp_stderr.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <condition_variable>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace exhibit::mtp {

namespace {

// A line the watcher writes to itself: once it is read, everything before it was too.
constexpr std::string_view kMark = "\x01" "exhibit-stderr-mark ";

class Watch {
  public:
    bool start() {
        int p[2];
        if (::pipe2(p, O_CLOEXEC) != 0)
            return false;
        const int saved = ::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
        if (saved < 0 || ::dup2(p[1], STDERR_FILENO) < 0) {
            ::close(p[0]);
            ::close(p[1]);
            if (saved >= 0)
                ::close(saved);
            return false;
        }
        ::close(p[1]);
        std::thread([this, in = p[0], out = saved] { read_lines(in, out); }).detach();
        return true;
    }

    PtpErrors errors() {
        std::unique_lock lock(mutex_);
        const auto mark = ++marks_sent_;
        lock.unlock();
        const auto line = fmt::format("{}{}\n", kMark, mark);
        if (::write(STDERR_FILENO, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
            return current();
        lock.lock();
        cv_.wait(lock, [&] { return marks_seen_ >= mark || ended_; });
        return errors_;
    }

  private:
    PtpErrors current() {
        std::lock_guard lock(mutex_);
        return errors_;
    }

    void read_lines(int in, int out) {
        std::string pending;
        char buffer[4096];
        for (;;) {
            auto n = ::read(in, buffer, sizeof buffer);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            pending.append(buffer, static_cast<std::size_t>(n));
            for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
                take(std::string_view(pending).substr(0, nl + 1), out);
                pending.erase(0, nl + 1);
            }
            if (pending.size() > 64 * 1024) {  // a line without end: pass it on as it is
                take(pending, out);
                pending.clear();
            }
        }
        std::lock_guard lock(mutex_);
        ended_ = true;
        cv_.notify_all();
    }

    // One line read (with its newline), or what came before a mark inside it: libmtp writes
    // its "PTP: …" errors without a newline, so the next text, a mark included, follows on
    // the same line.
    void take(std::string_view line, int out) {
        const auto mark = line.find(kMark);
        auto text = line.substr(0, mark);
        if (auto at = text.find("PTP: "); at != std::string_view::npos) {
            std::lock_guard lock(mutex_);
            ++errors_.count;
            auto error = text.substr(at);
            while (!error.empty() && (error.back() == '\n' || error.back() == '\r'))
                error.remove_suffix(1);
            errors_.last = std::string(error.substr(0, 300));
        }
        pass_on(text, out);
        if (mark != std::string_view::npos) {
            if (!text.empty() && text.back() != '\n')
                pass_on("\n", out);
            std::lock_guard lock(mutex_);
            ++marks_seen_;
            cv_.notify_all();
        }
    }

    static void pass_on(std::string_view text, int out) {
        while (!text.empty()) {
            auto w = ::write(out, text.data(), text.size());
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            text.remove_prefix(static_cast<std::size_t>(w));
        }
    }

    std::mutex mutex_;
    std::condition_variable cv_;
    std::uint64_t marks_sent_ = 0, marks_seen_ = 0;
    bool ended_ = false;
    PtpErrors errors_;
};

Watch* the_watch = nullptr;
std::once_flag started;

}  // namespace

bool watch_libmtp_stderr() {
    std::call_once(started, [] {
        auto* w = new Watch();  // for the life of the process: its thread reads until exit
        if (w->start())
            the_watch = w;
        else
            delete w;
    });
    return the_watch != nullptr;
}

PtpErrors libmtp_ptp_errors() {
    return the_watch != nullptr ? the_watch->errors() : PtpErrors{};
}

}  // namespace exhibit::mtp
