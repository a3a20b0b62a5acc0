#include "shell_client.hpp"

#include <fmt/format.h>

namespace exhibit::adb {

Result<ShellResult> decode_shell_v2(std::string_view stream, std::size_t limit) {
    ShellResult r;
    std::size_t pos = 0;
    while (pos < stream.size()) {
        if (stream.size() - pos < 5)
            return fail(Errc::protocol, "truncated shell protocol packet");
        auto id = static_cast<std::uint8_t>(stream[pos]);
        std::uint32_t len = 0;
        for (int i = 3; i >= 0; --i)
            len =
                len << 8 | static_cast<std::uint8_t>(stream[pos + 1 + static_cast<std::size_t>(i)]);
        pos += 5;
        if (len > stream.size() - pos)
            return fail(Errc::protocol, "truncated shell protocol packet");
        auto data = stream.substr(pos, len);
        pos += len;
        switch (id) {
            case shell::kStdout:
                r.out.append(data);
                break;
            case shell::kStderr:
                r.err.append(data);
                break;
            case shell::kExit:
                if (len != 1)
                    return fail(Errc::protocol, "shell exit packet without a status byte");
                r.exit_code = static_cast<std::uint8_t>(data[0]);
                break;
            default:
                break;  // other packet types carry nothing for us
        }
        if (r.out.size() + r.err.size() > limit)
            return fail(Errc::protocol, fmt::format("shell output exceeds {} bytes", limit));
    }
    return r;
}

Result<ShellResult> run_shell(Connection& connection, std::string_view command, std::size_t limit) {
    const bool v2 = connection.has_feature("shell_v2");
    auto service = v2 ? fmt::format("shell,v2,raw:{}", command) : fmt::format("shell:{}", command);
    auto stream = connection.open_stream(service);
    if (!stream)
        return std::unexpected(stream.error());
    // The framing adds 5 bytes per packet; allow for it in the raw limit.
    auto raw = stream->read_to_end(v2 ? limit + limit / 8 + 4096 : limit);
    if (!raw)
        return std::unexpected(raw.error());
    if (!v2)
        return ShellResult{std::move(*raw), {}, std::nullopt};
    return decode_shell_v2(*raw, limit);
}

std::string shell_quote(std::string_view arg) {
    std::string out = "'";
    for (char c : arg) {
        if (c == '\'')
            out += "'\\''";
        else
            out.push_back(c);
    }
    out += "'";
    return out;
}

}  // namespace exhibit::adb
