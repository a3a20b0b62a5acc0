// Logging to journald with structured fields, or to stderr when not run by systemd.
// Thread-safe. Never log evidence content or secrets: paths, hashes and ids only.
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace exhibit::log {

enum class Level { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };
enum class Target { automatic, journal, stderr_only };

// A journald field such as {"EXHIBIT_SESSION", "42"}; names are upper case.
using Field = std::pair<std::string_view, std::string>;

void configure(Target target, Level max_level);
bool to_journal();

void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... a) {
    write(Level::error, fmt::format(f, std::forward<Args>(a)...));
}
template <class... Args>
void warning(fmt::format_string<Args...> f, Args&&... a) {
    write(Level::warning, fmt::format(f, std::forward<Args>(a)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... a) {
    write(Level::info, fmt::format(f, std::forward<Args>(a)...));
}
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) {
    write(Level::debug, fmt::format(f, std::forward<Args>(a)...));
}

}  // namespace exhibit::log
