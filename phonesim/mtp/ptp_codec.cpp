#include "phonesim/mtp/ptp_codec.hpp"

#include <algorithm>
#include <cstring>
#include <map>

#include "common/utf8.hpp"

namespace exhibit::phonesim::mtp {

namespace {

std::uint32_t le32(std::span<const std::byte> b, std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i)
        v |= std::to_integer<std::uint32_t>(b[at + i]) << (8 * i);
    return v;
}

std::uint16_t le16(std::span<const std::byte> b, std::size_t at) {
    return static_cast<std::uint16_t>(std::to_integer<unsigned>(b[at]) |
                                      (std::to_integer<unsigned>(b[at + 1]) << 8));
}

}  // namespace

std::optional<Container> parse_container(std::span<const std::byte> bytes) {
    if (bytes.size() < kHeaderSize)
        return std::nullopt;
    Container c;
    c.length = le32(bytes, 0);
    if (c.length != bytes.size())
        return std::nullopt;
    auto type = le16(bytes, 4);
    if (type < 1 || type > 4)
        return std::nullopt;
    c.type = static_cast<ContainerType>(type);
    c.code = le16(bytes, 6);
    c.transaction = le32(bytes, 8);
    if (c.type == ContainerType::command || c.type == ContainerType::response)
        for (std::size_t at = kHeaderSize; at + 4 <= bytes.size() && c.params.size() < 5; at += 4)
            c.params.push_back(le32(bytes, at));
    return c;
}

Writer& Writer::u8(std::uint8_t v) {
    out_.push_back(static_cast<std::byte>(v));
    return *this;
}

Writer& Writer::u16(std::uint16_t v) {
    return u8(static_cast<std::uint8_t>(v)).u8(static_cast<std::uint8_t>(v >> 8));
}

Writer& Writer::u32(std::uint32_t v) {
    return u16(static_cast<std::uint16_t>(v)).u16(static_cast<std::uint16_t>(v >> 16));
}

Writer& Writer::u64(std::uint64_t v) {
    return u32(static_cast<std::uint32_t>(v)).u32(static_cast<std::uint32_t>(v >> 32));
}

Writer& Writer::str(std::u16string_view s) {
    if (s.empty())
        return u8(0);
    s = s.substr(0, std::min<std::size_t>(s.size(), 254));
    u8(static_cast<std::uint8_t>(s.size() + 1));
    for (char16_t c : s)
        u16(static_cast<std::uint16_t>(c));
    return u16(0);
}

Writer& Writer::array16(std::span<const std::uint16_t> v) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (auto x : v)
        u16(x);
    return *this;
}

Writer& Writer::array32(std::span<const std::uint32_t> v) {
    u32(static_cast<std::uint32_t>(v.size()));
    for (auto x : v)
        u32(x);
    return *this;
}

std::u16string Writer::to_utf16(std::string_view s) {
    std::u16string out;
    for (std::size_t i = 0; i < s.size();) {
        char32_t cp = 0;
        const std::size_t n = utf8_sequence(s.substr(i), cp);
        if (n == 0) {  // a byte of no valid sequence: a lone low surrogate carrying it
            out.push_back(static_cast<char16_t>(0xdc00 + static_cast<unsigned char>(s[i])));
            ++i;
            continue;
        }
        if (cp >= 0x10000) {
            cp -= 0x10000;
            out.push_back(static_cast<char16_t>(0xd800 + (cp >> 10)));
            out.push_back(static_cast<char16_t>(0xdc00 + (cp & 0x3ff)));
        } else {
            out.push_back(static_cast<char16_t>(cp));
        }
        i += n;
    }
    return out;
}

void put_header(std::vector<std::byte>& out, std::uint32_t length, ContainerType type,
                std::uint16_t code, std::uint32_t transaction) {
    Writer w;
    w.u32(length).u16(static_cast<std::uint16_t>(type)).u16(code).u32(transaction);
    out.insert(out.begin(), w.bytes().begin(), w.bytes().end());
}

std::vector<std::byte> make_container(ContainerType type, std::uint16_t code,
                                      std::uint32_t transaction,
                                      std::span<const std::uint32_t> params) {
    Writer w;
    for (auto p : params)
        w.u32(p);
    auto out = std::move(w.bytes());
    put_header(out, static_cast<std::uint32_t>(kHeaderSize + out.size()), type, code, transaction);
    return out;
}

std::string ptp_date(std::time_t t) {
    std::tm tm{};
    if (!::localtime_r(&t, &tm))
        return {};
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%S", &tm);
    return buf;
}

std::uint16_t format_for_name(std::string_view name) {
    static const std::map<std::string, std::uint16_t> kFormats = {
        {"txt", 0x3004}, {"htm", 0x3005}, {"html", 0x3005}, {"wav", 0x3008},  {"mp3", 0x3009},
        {"avi", 0x300A}, {"mpg", 0x300B}, {"mpeg", 0x300B}, {"jpg", 0x3801},  {"jpeg", 0x3801},
        {"bmp", 0x3804}, {"gif", 0x3807}, {"png", 0x380B},  {"tif", 0x380D},  {"tiff", 0x380D},
        {"wma", 0xB901}, {"ogg", 0xB902}, {"aac", 0xB903},  {"flac", 0xB906}, {"wmv", 0xB981},
        {"mp4", 0xB982}, {"m4a", 0xB982}, {"3gp", 0xB984},
    };
    auto dot = name.rfind('.');
    if (dot == std::string_view::npos || dot == 0)
        return fmt_code::kUndefined;
    std::string ext(name.substr(dot + 1));
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    auto it = kFormats.find(ext);
    return it == kFormats.end() ? fmt_code::kUndefined : it->second;
}

}  // namespace exhibit::phonesim::mtp
