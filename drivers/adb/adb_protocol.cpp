#include "adb_protocol.hpp"

#include <fmt/format.h>

namespace exhibit::adb {

std::uint32_t payload_checksum(std::span<const std::byte> payload) {
    std::uint32_t sum = 0;
    for (auto b : payload)
        sum += std::to_integer<std::uint32_t>(b);
    return sum;
}

std::array<std::byte, kHeaderSize> encode_header(std::uint32_t command, std::uint32_t arg0,
                                                 std::uint32_t arg1,
                                                 std::span<const std::byte> payload,
                                                 std::uint32_t version) {
    std::array<std::byte, kHeaderSize> out{};
    const std::uint32_t check = version >= kVersionSkipChecksum ? 0 : payload_checksum(payload);
    const std::uint32_t words[6] = {command, arg0,
                                    arg1,    static_cast<std::uint32_t>(payload.size()),
                                    check,   command ^ 0xFFFFFFFFu};
    for (std::size_t w = 0; w < 6; ++w)
        for (std::size_t i = 0; i < 4; ++i)
            out[w * 4 + i] = static_cast<std::byte>(words[w] >> (8 * i));
    return out;
}

Result<MessageHeader> decode_header(std::span<const std::byte, kHeaderSize> bytes,
                                    std::uint32_t max_payload) {
    MessageHeader h;
    h.command = get_u32(bytes, 0);
    h.arg0 = get_u32(bytes, 4);
    h.arg1 = get_u32(bytes, 8);
    h.data_length = get_u32(bytes, 12);
    h.data_check = get_u32(bytes, 16);
    h.magic = get_u32(bytes, 20);
    if (h.magic != (h.command ^ 0xFFFFFFFFu))
        return fail(Errc::protocol, fmt::format("bad message magic {:#010x} for command {}",
                                                h.magic, command_name(h.command)));
    if (h.data_length > max_payload)
        return fail(Errc::protocol,
                    fmt::format("{} message of {} bytes exceeds the limit of {} bytes",
                                command_name(h.command), h.data_length, max_payload));
    return h;
}

Status check_payload(const MessageHeader& header, std::span<const std::byte> payload,
                     std::uint32_t version) {
    if (version >= kVersionSkipChecksum)
        return {};
    if (payload_checksum(payload) != header.data_check)
        return fail(Errc::protocol,
                    fmt::format("{} payload checksum mismatch", command_name(header.command)));
    return {};
}

std::string command_name(std::uint32_t command) {
    switch (command) {
        case kCmdSync:
            return "SYNC";
        case kCmdCnxn:
            return "CNXN";
        case kCmdOpen:
            return "OPEN";
        case kCmdOkay:
            return "OKAY";
        case kCmdClse:
            return "CLSE";
        case kCmdWrte:
            return "WRTE";
        case kCmdAuth:
            return "AUTH";
        case kCmdStls:
            return "STLS";
    }
    return fmt::format("{:#010x}", command);
}

namespace {
std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i <= s.size(); ++i) {
        if (i == s.size() || s[i] == sep) {
            out.push_back(s.substr(start, i - start));
            start = i + 1;
        }
    }
    return out;
}
}  // namespace

Result<Banner> parse_banner(std::string_view text) {
    while (!text.empty() && text.back() == '\0')
        text.remove_suffix(1);
    auto first = text.find(':');
    if (first == std::string_view::npos)
        return fail(Errc::protocol, "CNXN banner has no ':'");
    auto second = text.find(':', first + 1);
    Banner b;
    b.system_type = text.substr(0, first);
    if (b.system_type.empty())
        return fail(Errc::protocol, "CNXN banner has no system type");
    if (second == std::string_view::npos) {
        b.serial = text.substr(first + 1);
        return b;
    }
    b.serial = text.substr(first + 1, second - first - 1);
    for (auto prop : split(text.substr(second + 1), ';')) {
        if (prop.empty())
            continue;
        auto eq = prop.find('=');
        if (eq == std::string_view::npos)
            continue;
        auto key = prop.substr(0, eq), value = prop.substr(eq + 1);
        if (key == "features") {
            for (auto f : split(value, ','))
                if (!f.empty())
                    b.features.emplace(f);
        } else {
            b.properties.emplace(key, value);
        }
    }
    return b;
}

std::string format_banner(const Banner& banner) {
    std::string props;
    for (const auto& [k, v] : banner.properties)
        props += fmt::format("{}{}={}", props.empty() ? "" : ";", k, v);
    if (!banner.features.empty()) {
        std::string f;
        for (const auto& name : banner.features)
            f += fmt::format("{}{}", f.empty() ? "" : ",", name);
        props += fmt::format("{}features={}", props.empty() ? "" : ";", f);
    }
    return fmt::format("{}:{}:{}", banner.system_type, banner.serial, props);
}

}  // namespace exhibit::adb
