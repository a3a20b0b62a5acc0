#include "drivers/usb/string_descriptor.hpp"

#include <fmt/format.h>

#include "common/utf8.hpp"

namespace exhibit::usb {

namespace {

constexpr std::uint8_t kStringType = 0x03;
constexpr char32_t kReplacement = 0xfffd;

void append_text(std::string& out, char32_t cp) {
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
        return;  // control characters say nothing about a device
    append_utf8(out, cp);
}

std::string trim_spaces(std::string s) {
    auto first = s.find_first_not_of(' ');
    if (first == std::string::npos)
        return {};
    auto last = s.find_last_not_of(' ');
    return s.substr(first, last - first + 1);
}

}  // namespace

Result<std::string> decode_string_descriptor(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < 2 || bytes[1] != kStringType)
        return fail(Errc::protocol, "not a string descriptor");
    std::size_t length = bytes[0];
    if (length < 2 || length > bytes.size())
        return fail(Errc::protocol, fmt::format("string descriptor claims {} bytes, {} arrived",
                                                length, bytes.size()));
    auto units = bytes.subspan(2, (length - 2) / 2 * 2);  // an odd last byte is ignored
    std::string out;
    for (std::size_t i = 0; i < units.size(); i += 2) {
        char32_t u = static_cast<char32_t>(units[i] | (units[i + 1] << 8));
        if (u >= 0xd800 && u <= 0xdbff && i + 3 < units.size()) {
            char32_t low = static_cast<char32_t>(units[i + 2] | (units[i + 3] << 8));
            if (low >= 0xdc00 && low <= 0xdfff) {
                append_text(out, 0x10000 + ((u - 0xd800) << 10) + (low - 0xdc00));
                i += 2;
                continue;
            }
        }
        if (u >= 0xd800 && u <= 0xdfff)
            u = kReplacement;
        append_text(out, u);
    }
    return trim_spaces(std::move(out));
}

std::uint16_t first_language(std::span<const std::uint8_t> bytes) {
    if (bytes.size() >= 4 && bytes[0] >= 4 && bytes[1] == kStringType)
        return static_cast<std::uint16_t>(bytes[2] | (bytes[3] << 8));
    return 0x0409;
}

}  // namespace exhibit::usb
