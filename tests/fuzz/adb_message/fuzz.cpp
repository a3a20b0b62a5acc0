// ADB's framing, one piece at a time: a message header (magic, length bound), the payload
// check of both protocol versions, a CNXN banner, and the sync protocol's fixed records
// (STAT, STA2, DENT, DNT2) decoded from the same bytes. adb_session drives them in order;
// this target reaches each decoder without the handshake in front of it.
#include <cstdint>
#include <span>

#include "drivers/adb/adb_protocol.hpp"
#include "drivers/adb/sync_protocol.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace exhibit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto all = std::span(reinterpret_cast<const std::byte*>(data), size);
    if (all.size() >= adb::kHeaderSize) {
        auto header = adb::decode_header(all.first<adb::kHeaderSize>(), adb::kMaxPayload);
        if (header) {
            (void)adb::command_name(header->command);
            const auto payload = all.subspan(adb::kHeaderSize);
            (void)adb::check_payload(*header, payload, adb::kVersionMin);
            (void)adb::check_payload(*header, payload, adb::kVersion);
        }
    }
    if (all.size() >= adb::sync::kStatV1Size)
        (void)adb::sync::decode_stat_v1(all.first<adb::sync::kStatV1Size>());
    if (all.size() >= adb::sync::kStatV2Size)
        (void)adb::sync::decode_stat_v2(all.first<adb::sync::kStatV2Size>());
    std::uint32_t name_length = 0;
    if (all.size() >= adb::sync::kDentV1Size)
        (void)adb::sync::decode_dent_v1(all.first<adb::sync::kDentV1Size>(), &name_length);
    if (all.size() >= adb::sync::kDentV2Size)
        (void)adb::sync::decode_dent_v2(all.first<adb::sync::kDentV2Size>(), &name_length);
    fuzz::Input in(data, size);
    if (auto banner = adb::parse_banner(in.rest()))
        (void)adb::format_banner(*banner);
    return 0;
}
