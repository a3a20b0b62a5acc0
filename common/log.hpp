// Logging to journald with structured fields, or to stderr when not run by systemd.
// Thread-safe.
//
// Every message above debug is an event: log::event() with a fixed MESSAGE_ID (declared in a
// message_ids.hpp of the module that logs it, explained in packaging/journald/exhibit.catalog)
// and the EXHIBIT_* fields below. Nothing about content, cases or people leaves the kiosk
// through its log: no case or exhibit reference, officer id, device serial number or name or
// path of a file from a phone, in the message or a field. Internal numeric ids (session,
// item), device ids ("d1"), hashes, the kiosk id and store paths are fine.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include "common/error.hpp"

namespace exhibit::log {

enum class Level { error = 3, warning = 4, notice = 5, info = 6, debug = 7 };
enum class Target { automatic, journal, stderr_only };

// A journald field such as {"EXHIBIT_SESSION", "42"}; names are upper case.
using Field = std::pair<std::string_view, std::string>;

void configure(Target target, Level max_level);
bool to_journal();

void write(Level level, std::string_view message, std::initializer_list<Field> fields = {});

// One event: `message_id` is 32 lower-case hex digits (`systemd-id128 new`), fixed forever.
void event(Level level, std::string_view message_id, std::string_view message,
           std::initializer_list<Field> fields = {});

// The fields every module shares (docs/monitoring.md, "The journal").
namespace field {
inline constexpr std::string_view kSession = "EXHIBIT_SESSION";           // catalog session id
inline constexpr std::string_view kItem = "EXHIBIT_ITEM";                 // catalog item id
inline constexpr std::string_view kDevice = "EXHIBIT_DEVICE";             // "d1": no serial
inline constexpr std::string_view kDeviceClass = "EXHIBIT_DEVICE_CLASS";  // "android_adb,..."
inline constexpr std::string_view kErrorClass = "EXHIBIT_ERROR_CLASS";    // an Errc name

inline Field session(std::int64_t id) {
    return {kSession, std::to_string(id)};
}
inline Field item(std::int64_t id) {
    return {kItem, std::to_string(id)};
}
inline Field device(std::string id) {
    return {kDevice, std::move(id)};
}
inline Field device_class(std::string classes) {
    return {kDeviceClass, std::move(classes)};
}
inline Field error_class(Errc code) {
    return {kErrorClass, std::string(to_string(code))};
}
inline Field error_class(const Error& e) {
    return error_class(e.code);
}
}  // namespace field

template <class... Args>
void error(fmt::format_string<Args...> f, Args&&... a) {
    write(Level::error, fmt::format(f, std::forward<Args>(a)...));
}
template <class... Args>
void warning(fmt::format_string<Args...> f, Args&&... a) {
    write(Level::warning, fmt::format(f, std::forward<Args>(a)...));
}
template <class... Args>
void info(fmt::format_string<Args...> f, Args&&... a) {
    write(Level::info, fmt::format(f, std::forward<Args>(a)...));
}
template <class... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) {
    write(Level::debug, fmt::format(f, std::forward<Args>(a)...));
}

}  // namespace exhibit::log
