// exhibit-fleet's reading of the heartbeats kiosks sent to the DFU store (daemon/metrics/
// heartbeat.hpp; docs/monitoring.md, "Heartbeats"): each one checked against the enrolled
// kiosks' keys, replays refused, and the newest good one of each kiosk as its row.
//
// Files only, like exhibit-verify (it links no daemon code). Reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace exhibit::fleet {

// The kiosks the DFU trusts: kiosk id -> "SHA256:<hex>" of its identity key (exhibitctl
// status shows it; so does the kiosk's first signed manifest).
using Enrolment = std::map<std::string, std::string>;

// Lines "<kiosk id> SHA256:<hex>"; blank lines and lines starting with '#' are skipped.
// A malformed line or a kiosk listed twice is an error naming the line.
Result<Enrolment> parse_enrolment(std::string_view text, std::string_view source);

// One heartbeat that was not accepted, and why.
struct Rejected {
    std::string upload;  // the upload's id in the store
    std::string kiosk;   // as the upload or the document claims (may be empty or false)
    std::string reason;
};

// What the newest good heartbeat of a kiosk says.
struct KioskRow {
    std::string kiosk;
    bool seen = false;        // false: enrolled, no good heartbeat yet
    std::string received_at;  // when the DFU store created its upload (the DFU's clock)
    std::string sent_at;      // the kiosk's clock
    std::uint64_t sequence = 0;
    std::uint64_t heartbeats = 0;  // good ones received
    nlohmann::json document;       // the whole heartbeat
};

struct FleetReport {
    std::vector<KioskRow> kiosks;  // every enrolled kiosk, by id
    std::vector<Rejected> rejected;
    std::uint64_t uploads_read = 0;  // heartbeat uploads looked at
};

// Reads every heartbeat in the tus stores `dirs` (other uploads are left alone).
Result<FleetReport> read_fleet(const std::vector<std::filesystem::path>& dirs,
                               const Enrolment& enrolled);

}  // namespace exhibit::fleet
