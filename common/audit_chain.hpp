// One entry of a kiosk's audit chain and how it is hashed (docs/store.md, "The audit chain").
// The store appends and verifies the chain with it (daemon/store/audit_log.hpp); exhibit-verify
// checks a session's audit trail, delivered in its manifest, with the same function.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace exhibit {

struct AuditEntry {
    std::int64_t seq = 0;
    std::string time;     // UTC with milliseconds
    std::string actor;    // "exhibitd", "officer:<id>", "admin:<uid>", ...
    std::string event;    // dotted name: "store.item_added"
    std::string details;  // compact JSON
    std::string prev_hash;
    std::string hash;
};

// SHA-256 (hex) over "exhibit-audit-v1", seq, time, actor, event, details and prev_hash, each
// length-prefixed.
std::string audit_entry_hash(const AuditEntry& entry);
// The bytes the kiosk key signs for the head.
std::string audit_head_message(std::int64_t seq, std::string_view hash);

inline constexpr std::string_view kGenesisHash =
    "0000000000000000000000000000000000000000000000000000000000000000";

}  // namespace exhibit
