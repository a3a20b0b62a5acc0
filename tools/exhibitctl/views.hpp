// What each read command shows: the JSON documents (stable snake_case keys, listed in
// docs/exhibitctl.md) and the plain, aligned text for people, built from the properties and
// replies of the D-Bus API. Pure functions; reentrant.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tools/exhibitctl/values.hpp"

namespace exhibit::ctl {

// Objects of one interface: (object path, properties), in display order.
using Objects = std::vector<std::pair<std::string, ValueMap>>;

struct PreviewRow {
    std::string category;
    std::uint64_t count = 0;
    std::uint64_t bytes = 0;
};

struct AuditReport {
    bool ok = false;
    std::uint64_t entries = 0;
    std::uint64_t first_broken = 0;
    std::string problem;
};

// Sorts devices by id (d2 before d10) and sessions by number.
void sort_devices(Objects& devices);
void sort_sessions(Objects& sessions);

nlohmann::json health_json(const ValueMap& health);
nlohmann::json queue_json(const ValueMap& queue);
nlohmann::json device_json(const std::string& path, const ValueMap& device);
nlohmann::json session_json(const std::string& path, const ValueMap& session);
nlohmann::json status_json(const ValueMap& health, const std::optional<ValueMap>& queue);
nlohmann::json devices_json(const Objects& devices);
nlohmann::json sessions_json(const Objects& sessions);
nlohmann::json preview_json(const std::string& device_path, const std::vector<PreviewRow>& rows);
nlohmann::json receipt_json(const std::string& session_path, const ValueMap& receipt);
nlohmann::json audit_json(const AuditReport& report);

// Indented JSON with a final newline; invalid UTF-8 from a phone is replaced, not fatal.
std::string dump_json(const nlohmann::json& doc);
// One line of JSON (for --wait --json updates).
std::string dump_json_line(const nlohmann::json& doc);

std::string render_status(const ValueMap& health, const std::optional<ValueMap>& queue);
std::string render_queue(const ValueMap& queue);
std::string render_devices(const Objects& devices);
std::string render_sessions(const Objects& sessions);
std::string render_session(const std::string& path, const ValueMap& session);
std::string render_preview(const std::vector<PreviewRow>& rows);
std::string render_receipt(const std::string& session_path, const ValueMap& receipt);
std::string render_audit(const AuditReport& report);

}  // namespace exhibit::ctl
