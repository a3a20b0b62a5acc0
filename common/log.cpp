#include "log.hpp"

#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace exhibit::log {

namespace {
std::atomic<bool> g_journal{false};
std::atomic<int> g_max_level{static_cast<int>(Level::info)};
std::mutex g_stderr_mutex;

// systemd sets JOURNAL_STREAM to "dev:ino" of the stderr it connected to the journal; if our
// stderr is still that stream, structured logging goes to the journal directly.
bool stderr_is_journal() {
    const char* env = std::getenv("JOURNAL_STREAM");
    if (!env)
        return false;
    unsigned long long dev = 0, ino = 0;
    if (std::sscanf(env, "%llu:%llu", &dev, &ino) != 2)
        return false;
    struct stat st {};
    if (::fstat(STDERR_FILENO, &st) != 0)
        return false;
    return st.st_dev == dev && st.st_ino == ino;
}

const char* level_name(Level l) {
    switch (l) {
        case Level::error:
            return "error";
        case Level::warning:
            return "warning";
        case Level::notice:
            return "notice";
        case Level::info:
            return "info";
        case Level::debug:
            return "debug";
    }
    return "?";
}
}  // namespace

void configure(Target target, Level max_level) {
    g_max_level = static_cast<int>(max_level);
    switch (target) {
        case Target::automatic:
            g_journal = stderr_is_journal();
            break;
        case Target::journal:
            g_journal = true;
            break;
        case Target::stderr_only:
            g_journal = false;
            break;
    }
}

bool to_journal() {
    return g_journal;
}

namespace {
void send(Level level, std::string_view message_id, std::string_view message,
          std::initializer_list<Field> fields) {
    if (g_journal) {
        std::vector<std::string> lines;
        lines.reserve(fields.size() + 4);
        lines.push_back(fmt::format("MESSAGE={}", message));
        if (!message_id.empty())
            lines.push_back(fmt::format("MESSAGE_ID={}", message_id));
        lines.push_back(fmt::format("PRIORITY={}", static_cast<int>(level)));
        lines.push_back("SYSLOG_IDENTIFIER=exhibitd");
        for (const auto& [name, value] : fields)
            lines.push_back(fmt::format("{}={}", name, value));
        std::vector<iovec> iov;
        iov.reserve(lines.size());
        for (auto& l : lines)
            iov.push_back({l.data(), l.size()});
        if (sd_journal_sendv(iov.data(), static_cast<int>(iov.size())) >= 0)
            return;
        // fall through to stderr if the journal is gone
    }
    std::string line = fmt::format("exhibitd[{}]: {}", level_name(level), message);
    if (!message_id.empty())
        line += fmt::format(" MESSAGE_ID={}", message_id);
    for (const auto& [name, value] : fields)
        line += fmt::format(" {}={}", name, value);
    line += '\n';
    std::lock_guard lock(g_stderr_mutex);
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
}
}  // namespace

void write(Level level, std::string_view message, std::initializer_list<Field> fields) {
    if (static_cast<int>(level) > g_max_level)
        return;
    send(level, {}, message, fields);
}

void event(Level level, std::string_view message_id, std::string_view message,
           std::initializer_list<Field> fields) {
    if (static_cast<int>(level) > g_max_level)
        return;
    send(level, message_id, message, fields);
}

}  // namespace exhibit::log
