// Runs a command on the phone through the shell: service and returns its output: with the
// shell protocol (shell,v2) when the phone offers it, so stdout, stderr and the exit code
// come separately; otherwise the classic merged stream. Thread-bound to the connection.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/error.hpp"
#include "drivers/adb/connection.hpp"

namespace exhibit::adb {

struct ShellResult {
    std::string out;
    std::string err;               // empty without shell_v2 (merged into out)
    std::optional<int> exit_code;  // known only with shell_v2
};

// Output beyond `limit` bytes is an error, never silently cut.
Result<ShellResult> run_shell(Connection& connection, std::string_view command, std::size_t limit);

// Shell protocol packets (reference §6): id u8 + length u32 LE + data.
namespace shell {
inline constexpr std::uint8_t kStdin = 0;
inline constexpr std::uint8_t kStdout = 1;
inline constexpr std::uint8_t kStderr = 2;
inline constexpr std::uint8_t kExit = 3;
inline constexpr std::uint8_t kCloseStdin = 4;
inline constexpr std::uint8_t kWindowSize = 5;
}  // namespace shell

// Decodes a complete shell-protocol byte stream into a ShellResult.
Result<ShellResult> decode_shell_v2(std::string_view stream, std::size_t limit);

// Quotes one argument for the phone's sh (single quotes).
std::string shell_quote(std::string_view arg);

}  // namespace exhibit::adb
