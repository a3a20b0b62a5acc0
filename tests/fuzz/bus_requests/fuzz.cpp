// The parsers of a D-Bus caller's a{sv} arguments (daemon/bus/requests): the case, the scope
// and the options of StartExtraction and Preview. The input builds the map the caller sends:
// per entry a key (one of the API's, or bytes of the input), a type (s, as, b, t, x, d: what
// read_value_map lets through, plus d) and a value.
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "daemon/bus/requests.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace exhibit;

namespace {

constexpr std::array<std::string_view, 17> kKeys = {
    "case_reference", "exhibit_reference", "officer_id", "basis", "notice_version",
    "agreed_by", "basis_reason", "owner", "categories", "from", "to", "numbers", "priority",
    "consent", "urgent", "normal", "other"};

std::string text(fuzz::Input& in) {
    return std::string(in.bytes(in.u8()));
}

Value value(fuzz::Input& in) {
    switch (in.u8() % 6) {
    case 0:
        return text(in);
    case 1: {
        std::vector<std::string> list;
        for (auto n = in.u8() % 24; n > 0; --n)
            list.push_back(text(in));
        return list;
    }
    case 2:
        return (in.u8() & 1) != 0;
    case 3:
        return in.u64();
    case 4:
        return static_cast<std::int64_t>(in.u64());
    default: {
        const auto bits = in.u64();
        double d;
        std::memcpy(&d, &bits, sizeof d);
        return d;
    }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    const bool signed_in = (in.u8() & 1) != 0;
    ValueMap map;
    while (!in.empty() && map.size() < 32) {
        const auto pick = in.u8();
        std::string key = pick < kKeys.size() ? std::string(kKeys[pick]) : text(in);
        map[key] = value(in);
    }
    (void)bus::parse_scope(map);
    (void)bus::parse_case(map, signed_in ? std::optional<std::string>("PC1") : std::nullopt);
    (void)bus::parse_priority(map);
    return 0;
}
