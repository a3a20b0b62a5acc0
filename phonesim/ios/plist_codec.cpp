#include "phonesim/ios/plist_codec.hpp"

#include <cstdlib>
#include <cstring>
#include <memory>

namespace exhibit::phonesim::ios {

Result<PlistPtr> parse_plist_dict(std::span<const std::byte> bytes) {
    if (bytes.size() > kMaxPlistMessage)
        return fail(Errc::protocol, "plist too large");
    plist_t node = nullptr;
    const auto* data = reinterpret_cast<const char*>(bytes.data());
    auto size = static_cast<std::uint32_t>(bytes.size());
    if (plist_is_binary(data, size))
        plist_from_bin(data, size, &node);
    else
        plist_from_xml(data, size, &node);
    PlistPtr owned(node);
    if (!owned)
        return fail(Errc::protocol, "not a plist");
    if (plist_get_node_type(owned.get()) != PLIST_DICT)
        return fail(Errc::protocol, "plist is not a dictionary");
    return owned;
}

std::vector<std::byte> plist_to_xml_bytes(plist_t node) {
    char* xml = nullptr;
    std::uint32_t length = 0;
    plist_to_xml(node, &xml, &length);
    std::unique_ptr<char, CRelease<plist_to_xml_free>> owned(xml);
    const auto* begin = reinterpret_cast<const std::byte*>(xml);
    return std::vector<std::byte>(begin, begin + (xml ? length : 0));
}

std::optional<std::string> dict_string(plist_t dict, const char* key) {
    plist_t item = plist_dict_get_item(dict, key);
    if (!item || plist_get_node_type(item) != PLIST_STRING)
        return std::nullopt;
    std::uint64_t length = 0;
    const char* value = plist_get_string_ptr(item, &length);
    return value ? std::string(value, length) : std::string();
}

std::optional<std::vector<std::byte>> dict_data(plist_t dict, const char* key) {
    plist_t item = plist_dict_get_item(dict, key);
    if (!item || plist_get_node_type(item) != PLIST_DATA)
        return std::nullopt;
    std::uint64_t length = 0;
    const auto* value = reinterpret_cast<const std::byte*>(plist_get_data_ptr(item, &length));
    return std::vector<std::byte>(value, value + (value ? length : 0));
}

std::optional<std::uint64_t> dict_uint(plist_t dict, const char* key) {
    plist_t item = plist_dict_get_item(dict, key);
    if (!item || plist_get_node_type(item) != PLIST_UINT)
        return std::nullopt;
    std::uint64_t value = 0;
    plist_get_uint_val(item, &value);
    return value;
}

plist_t dict_dict(plist_t dict, const char* key) {
    plist_t item = plist_dict_get_item(dict, key);
    return item && plist_get_node_type(item) == PLIST_DICT ? item : nullptr;
}

void set_string(plist_t dict, const char* key, std::string_view value) {
    plist_dict_set_item(dict, key, plist_new_string(std::string(value).c_str()));
}

void set_data(plist_t dict, const char* key, std::span<const std::byte> value) {
    plist_dict_set_item(dict, key,
                        plist_new_data(reinterpret_cast<const char*>(value.data()), value.size()));
}

void set_uint(plist_t dict, const char* key, std::uint64_t value) {
    plist_dict_set_item(dict, key, plist_new_uint(value));
}

void set_bool(plist_t dict, const char* key, bool value) {
    plist_dict_set_item(dict, key, plist_new_bool(value ? 1 : 0));
}

Result<bool> read_exact(Stream& stream, std::span<std::byte> buffer) {
    std::size_t done = 0;
    while (done < buffer.size()) {
        auto n = stream.read_some(buffer.subspan(done));
        if (!n)
            return std::unexpected(n.error());
        if (*n == 0) {
            if (done == 0)
                return false;
            return fail(Errc::protocol, "host closed mid-message");
        }
        done += *n;
    }
    return true;
}

Result<std::optional<PlistPtr>> read_lockdown_message(Stream& stream) {
    std::byte head[4];
    auto got = read_exact(stream, head);
    if (!got)
        return std::unexpected(got.error());
    if (!*got)
        return std::optional<PlistPtr>();
    std::uint32_t length = (std::to_integer<std::uint32_t>(head[0]) << 24) |
                           (std::to_integer<std::uint32_t>(head[1]) << 16) |
                           (std::to_integer<std::uint32_t>(head[2]) << 8) |
                           std::to_integer<std::uint32_t>(head[3]);
    if (length == 0 || length > kMaxPlistMessage)
        return fail(Errc::protocol, "lockdown message length out of range");
    std::vector<std::byte> body(length);
    got = read_exact(stream, body);
    if (!got)
        return std::unexpected(got.error());
    if (!*got)
        return fail(Errc::protocol, "host closed mid-message");
    auto dict = parse_plist_dict(body);
    if (!dict)
        return std::unexpected(dict.error());
    return std::optional<PlistPtr>(std::move(*dict));
}

Status write_lockdown_raw(Stream& stream, std::span<const std::byte> body) {
    std::vector<std::byte> out(4 + body.size());
    auto length = static_cast<std::uint32_t>(body.size());
    out[0] = std::byte(length >> 24);
    out[1] = std::byte(length >> 16);
    out[2] = std::byte(length >> 8);
    out[3] = std::byte(length);
    std::memcpy(out.data() + 4, body.data(), body.size());
    return stream.write_all(out);
}

Status write_lockdown_message(Stream& stream, plist_t dict) {
    return write_lockdown_raw(stream, plist_to_xml_bytes(dict));
}

}  // namespace exhibit::phonesim::ios
