#include "common/utf8.hpp"

#include <array>

namespace exhibit {

std::size_t utf8_sequence(std::string_view s, char32_t& cp) {
    if (s.empty())
        return 0;
    const auto b0 = static_cast<unsigned char>(s[0]);
    const std::size_t len = b0 < 0x80           ? 1
                            : (b0 >> 5) == 0x6  ? 2
                            : (b0 >> 4) == 0xe  ? 3
                            : (b0 >> 3) == 0x1e ? 4
                                                : 0;
    if (len == 0 || len > s.size())
        return 0;
    cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1f) : len == 3 ? (b0 & 0x0f) : (b0 & 0x07);
    for (std::size_t i = 1; i < len; ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if ((b & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (b & 0x3f);
    }
    constexpr std::array<char32_t, 5> kMin = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

std::size_t utf8_sequence(std::string_view s) {
    char32_t cp = 0;
    return utf8_sequence(s, cp);
}

bool is_valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto n = utf8_sequence(s.substr(i));
        if (n == 0)
            return false;
        i += n;
    }
    return true;
}

void append_utf8(std::string& out, char32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

std::string printable_text(std::string_view text, std::size_t max) {
    std::string out;
    while (!text.empty()) {
        const std::size_t n = utf8_sequence(text);
        std::string_view piece = n ? text.substr(0, n) : std::string_view("?");
        if (n == 1) {
            const unsigned char c = static_cast<unsigned char>(text[0]);
            if (c == '\n' || c == '\r' || c == '\t')
                piece = " ";
            else if (c < 0x20 || c == 0x7f)
                piece = {};
        }
        if (out.size() + piece.size() > max)
            break;
        out += piece;
        text.remove_prefix(n ? n : 1);
    }
    return out;
}

}  // namespace exhibit
