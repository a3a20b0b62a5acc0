#include "drivers/ios/afc_protocol.hpp"

#include <charconv>
#include <cstring>

#include <fmt/format.h>

namespace exhibit::ios::afc {

namespace {

void put_u64(std::vector<std::byte>& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
}

std::uint64_t get_u64(const std::byte* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i)
        v = (v << 8) | std::to_integer<std::uint64_t>(p[i]);
    return v;
}

void put_path(std::vector<std::byte>& out, std::string_view path) {
    for (char c : path)
        out.push_back(static_cast<std::byte>(c));
    out.push_back(std::byte{0});
}

Result<std::int64_t> parse_number(std::string_view key, std::string_view text) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || text.empty())
        return fail(Errc::protocol,
                    fmt::format("the phone's file information has {} = \"{}\", not a number", key,
                                text.substr(0, 40)));
    return v;
}

}  // namespace

std::vector<std::byte> encode(std::uint64_t packet_num, Op op, std::span<const std::byte> data) {
    std::vector<std::byte> out;
    out.reserve(kHeaderSize + data.size());
    for (char c : kMagic)
        out.push_back(static_cast<std::byte>(c));
    const std::uint64_t length = kHeaderSize + data.size();
    put_u64(out, length);
    put_u64(out, length);
    put_u64(out, packet_num);
    put_u64(out, static_cast<std::uint64_t>(op));
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

std::vector<std::byte> path_request(std::uint64_t packet_num, Op op, std::string_view path) {
    std::vector<std::byte> data;
    put_path(data, path);
    return encode(packet_num, op, data);
}

std::vector<std::byte> open_request(std::uint64_t packet_num, std::string_view path) {
    std::vector<std::byte> data;
    put_u64(data, kOpenReadOnly);
    put_path(data, path);
    return encode(packet_num, Op::file_open, data);
}

std::vector<std::byte> read_request(std::uint64_t packet_num, std::uint64_t handle,
                                    std::uint64_t length) {
    std::vector<std::byte> data;
    put_u64(data, handle);
    put_u64(data, length);
    return encode(packet_num, Op::file_read, data);
}

std::vector<std::byte> close_request(std::uint64_t packet_num, std::uint64_t handle) {
    std::vector<std::byte> data;
    put_u64(data, handle);
    return encode(packet_num, Op::file_close, data);
}

Result<Header> decode_header(std::span<const std::byte, kHeaderSize> bytes) {
    if (std::memcmp(bytes.data(), kMagic.data(), kMagic.size()) != 0)
        return fail(Errc::protocol, "the phone's AFC answer does not start with CFA6LPAA");
    Header h{.entire_length = get_u64(bytes.data() + 8),
             .this_length = get_u64(bytes.data() + 16),
             .packet_num = get_u64(bytes.data() + 24),
             .operation = get_u64(bytes.data() + 32)};
    if (h.this_length < kHeaderSize || h.this_length > h.entire_length)
        return fail(Errc::protocol,
                    fmt::format("the phone's AFC answer has impossible lengths (whole {}, "
                                "header {})",
                                h.entire_length, h.this_length));
    if (h.header_data_size() > kMaxHeaderData)
        return fail(Errc::protocol, fmt::format("the phone's AFC answer has {} bytes of header "
                                                "data (at most {} are accepted)",
                                                h.header_data_size(), kMaxHeaderData));
    return h;
}

Result<std::uint64_t> read_u64(std::span<const std::byte> bytes) {
    if (bytes.size() < 8)
        return fail(Errc::protocol,
                    fmt::format("the phone's AFC answer has {} bytes where 8 are due",
                                bytes.size()));
    return get_u64(bytes.data());
}

std::string status_text(std::uint64_t code) {
    static constexpr std::string_view kNames[] = {
        "success",           "unknown error",     "header invalid",     "no resources",
        "read error",        "write error",       "unknown packet type", "invalid argument",
        "object not found",  "object is a folder", "permission denied", "service not connected",
        "timeout",           "too much data",     "end of data",        "not supported",
        "object exists",     "object busy",       "no space left",      "operation would block",
        "input/output error", "interrupted",      "operation in progress", "internal error"};
    if (code < std::size(kNames))
        return fmt::format("{} (AFC status {})", kNames[code], code);
    return fmt::format("AFC status {}", code);
}

Result<std::vector<std::string>> split_nul_list(std::span<const std::byte> bytes) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (bytes[i] != std::byte{0})
            continue;
        out.emplace_back(reinterpret_cast<const char*>(bytes.data()) + start, i - start);
        start = i + 1;
    }
    if (start != bytes.size())
        return fail(Errc::protocol,
                    fmt::format("the phone's AFC list ends with {} bytes without their NUL",
                                bytes.size() - start));
    return out;
}

Result<FileInfo> parse_file_info(std::span<const std::byte> bytes) {
    auto items = split_nul_list(bytes);
    if (!items)
        return std::unexpected(items.error());
    if (items->size() % 2 != 0)
        return fail(Errc::protocol, "the phone's file information has a key without a value");
    FileInfo info;
    bool have_size = false;
    bool have_type = false;
    for (std::size_t i = 0; i < items->size(); i += 2) {
        const std::string& key = (*items)[i];
        const std::string& value = (*items)[i + 1];
        if (key == "st_size") {
            auto v = parse_number(key, value);
            if (!v)
                return std::unexpected(v.error());
            if (*v < 0)
                return fail(Errc::protocol, "the phone states a negative file size");
            info.size = static_cast<std::uint64_t>(*v);
            have_size = true;
        } else if (key == "st_ifmt") {
            have_type = true;
            info.type = value == "S_IFREG"   ? FileType::regular
                        : value == "S_IFDIR" ? FileType::directory
                        : value == "S_IFLNK" ? FileType::symlink
                                             : FileType::other;
        } else if (key == "st_mtime" || key == "st_birthtime") {
            auto v = parse_number(key, value);
            if (!v)
                return std::unexpected(v.error());
            (key == "st_mtime" ? info.mtime_ms : info.birthtime_ms) = *v / 1'000'000;
        } else if (key == "LinkTarget") {
            info.link_target = value;
        }
    }
    if (!have_size || !have_type)
        return fail(Errc::protocol,
                    fmt::format("the phone's file information lacks {}",
                                have_size ? "st_ifmt" : "st_size"));
    return info;
}

}  // namespace exhibit::ios::afc
