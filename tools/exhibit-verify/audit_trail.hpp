// A session's audit trail as its signed manifest delivers it ("audit_trail", docs/manifest.md):
// checked offline at the DFU by the kiosk's chain rules (every entry of the session hashes to
// what it states and links to the one before, no entry missing or out of order up to the
// head the manifest names) and against the manifest (the case, the session, every item
// stored and delivered, how it ended), and read back as a continuity record. The manifest's
// signature covers the trail: these checks say whether what the kiosk signed is whole and
// consistent. Reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report.hpp"

namespace exhibit::verify {

struct TrailEntry {
    std::int64_t seq = 0;
    std::string time;
    std::string actor;
    std::string event;
    nlohmann::json details;  // an object
};

struct TrailCheck {
    Check chain{"audit trail"};
    Check agreement{"audit trail agrees with the manifest"};
    std::vector<TrailEntry> entries;  // the session's entries, in order (when the chain holds)
};

TrailCheck check_audit_trail(const nlohmann::json& manifest);

// Lines for a person: "2026-11-30T11:58:02.114Z  officer:PC 4711  case CR/2026/0042, exhibit
// EX-7 recorded by PC 4711: consent (notice v3, agreed by owner)". The case, the session, skips,
// failures and retries entry by entry; what happens to every item alike (stored, queued,
// upload created, received) once, with how many more and until when. Strings are as the
// manifest holds them: a terminal needs them made safe (report.cpp does).
std::vector<std::string> continuity_record(const std::vector<TrailEntry>& entries);

}  // namespace exhibit::verify
