// exhibitctl's command-line arguments turned into the arguments of the D-Bus API
// (interface/org.exhibit.Exhibit1.xml): object paths from short ids, and the a{sv} maps of
// Preview and StartExtraction. Only the shape is checked here; the daemon validates the
// content and answers with named errors. Reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tools/exhibitctl/failure.hpp"
#include "tools/exhibitctl/values.hpp"

namespace exhibit::ctl {

inline constexpr const char* kBusName = "org.exhibit.Exhibit1";
inline constexpr const char* kRootPath = "/org/exhibit/Exhibit1";
inline constexpr const char* kHealthPath = "/org/exhibit/Exhibit1/health";
inline constexpr const char* kQueuePath = "/org/exhibit/Exhibit1/queue";
inline constexpr const char* kDevicesPath = "/org/exhibit/Exhibit1/devices";
inline constexpr const char* kSessionsPath = "/org/exhibit/Exhibit1/sessions";
inline constexpr const char* kManagerIface = "org.exhibit.Exhibit1.Manager";
inline constexpr const char* kHealthIface = "org.exhibit.Exhibit1.Health";
inline constexpr const char* kQueueIface = "org.exhibit.Exhibit1.Queue";
inline constexpr const char* kDeviceIface = "org.exhibit.Exhibit1.Device";
inline constexpr const char* kSessionIface = "org.exhibit.Exhibit1.Session";

struct ScopeArgs {
    std::vector<std::string> categories;  // entries may hold several, comma-separated
    std::string from;                     // YYYY-MM-DD or empty
    std::string to;
    std::vector<std::string> numbers;  // the other parties' numbers, comma-separated entries
};

struct CaseArgs {
    std::string case_reference;
    std::string exhibit_reference;
    std::string officer_id;
    std::string basis;  // "consent", "other", or empty: consent when notice/agreed_by are given
    std::string notice_version;
    std::string agreed_by;
};

// "d1" or "/org/exhibit/Exhibit1/devices/d1" -> the device's object path.
Outcome<std::string> device_path(std::string_view arg);
// "3" or "/org/exhibit/Exhibit1/sessions/3" -> the session's object path.
Outcome<std::string> session_path(std::string_view arg);
// The id at the end of a device or session path ("/…/devices/d1" -> "d1").
std::string id_of_path(std::string_view path);
// A queue item id: a decimal number > 0.
Outcome<std::uint64_t> item_id(std::string_view arg);
// A session id as a number: "3" or "/org/exhibit/Exhibit1/sessions/3" -> 3.
Outcome<std::uint64_t> session_id(std::string_view arg);
// "tcp:HOST:PORT" (or "HOST:PORT") -> "HOST:PORT" for AddNetworkDevice.
Outcome<std::string> network_address(std::string_view arg);
// "urgent" or "normal" for SetPriority.
Outcome<std::string> lane_name(std::string_view arg);

// The scope a{sv}: categories (as, split at commas, trimmed, duplicates dropped, order kept),
// from and to (s) only when given.
Outcome<ValueMap> build_scope(const ScopeArgs& args);
// The case a{sv} of StartExtraction.
Outcome<ValueMap> build_case(const CaseArgs& args);
// The options a{sv} of StartExtraction: priority only when urgent.
ValueMap build_extract_options(bool urgent);

}  // namespace exhibit::ctl
