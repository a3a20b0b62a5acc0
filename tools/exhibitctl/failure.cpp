#include "failure.hpp"

#include <array>

#include <fmt/format.h>

namespace exhibit::ctl {

namespace {

constexpr std::string_view kExhibitPrefix = "org.exhibit.Exhibit1.Error.";
constexpr std::string_view kDBusPrefix = "org.freedesktop.DBus.Error.";

template <std::size_t N>
bool one_of(std::string_view name, const std::array<std::string_view, N>& names) {
    for (auto n : names)
        if (name == n)
            return true;
    return false;
}

std::string with_prefix(std::string_view prefix, std::string_view message) {
    if (message.starts_with(prefix))
        return std::string(message);
    return fmt::format("{}: {}", prefix, message);
}

Failure exhibit_error(std::string_view code, std::string_view message, std::string_view what) {
    if (code == "InvalidArgument")
        return {Exit::invalid, fmt::format("{} refused: {}", what, message)};
    if (code == "NotFound")
        return {Exit::invalid, with_prefix("not found", message)};
    if (code == "NotAuthorized")
        return {Exit::not_authorized, with_prefix("not authorized", message)};
    if (code == "Busy")
        return {Exit::busy, with_prefix("busy", message)};
    if (code == "LowDisk")
        return {Exit::busy, with_prefix("low disk", message)};
    if (code == "InvalidConfig")
        return {Exit::failed, with_prefix("configuration not reloaded", message)};
    if (code == "Unsupported")
        return {Exit::failed, with_prefix("not supported", message)};
    if (code == "Failed")
        return {Exit::failed, fmt::format("{} failed: {}", what, message)};
    return {Exit::failed, fmt::format("{} failed ({}): {}", what, code, message)};
}

Failure dbus_error(std::string_view code, std::string_view message, std::string_view what) {
    constexpr std::array<std::string_view, 2> kGone = {"ServiceUnknown", "NameHasNoOwner"};
    constexpr std::array<std::string_view, 3> kSilent = {"NoReply", "Timeout", "TimedOut"};
    constexpr std::array<std::string_view, 4> kCut = {"Disconnected", "NoServer", "NoNetwork",
                                                      "FileNotFound"};
    constexpr std::array<std::string_view, 3> kMissing = {"UnknownMethod", "UnknownInterface",
                                                          "UnknownProperty"};
    if (one_of(code, kGone))
        return {Exit::unreachable,
                "exhibitd is not running on this bus (no owner of org.exhibit.Exhibit1)"};
    if (one_of(code, kSilent))
        return {Exit::unreachable, fmt::format("exhibitd did not answer {} in time", what)};
    if (one_of(code, kCut))
        return {Exit::unreachable, fmt::format("lost the bus during {}: {}", what, message)};
    if (code == "AccessDenied")
        return {Exit::not_authorized,
                fmt::format("not authorized: the bus policy refused {} ({})", what, message)};
    if (code == "UnknownObject")
        return {Exit::invalid, with_prefix("not found", message)};
    if (code == "InvalidArgs")
        return {Exit::invalid, fmt::format("{} refused: {}", what, message)};
    if (one_of(code, kMissing))
        return {Exit::failed, fmt::format("this exhibitd does not offer {}: {}", what, message)};
    return {Exit::failed, fmt::format("{} failed: {}: {}", what, code, message)};
}

Failure system_error(std::string_view code, std::string_view message, std::string_view what) {
    constexpr std::array<std::string_view, 7> kCut = {
        "ECONNREFUSED", "ECONNRESET", "ENOTCONN", "EPIPE", "ENOENT", "ETIMEDOUT", "ESHUTDOWN"};
    if (one_of(code, kCut))
        return {Exit::unreachable, fmt::format("cannot reach exhibitd ({}): {}", what, message)};
    if (code == "EACCES" || code == "EPERM")
        return {Exit::not_authorized,
                fmt::format("not authorized: {} was refused ({})", what, message)};
    return {Exit::failed, fmt::format("{} failed: {}", what, message)};
}

}  // namespace

Failure failure_from_bus_error(std::string_view name, std::string_view message,
                               std::string_view what) {
    if (message.empty())
        message = name;
    if (name.starts_with(kExhibitPrefix))
        return exhibit_error(name.substr(kExhibitPrefix.size()), message, what);
    if (name.starts_with(kDBusPrefix))
        return dbus_error(name.substr(kDBusPrefix.size()), message, what);
    if (name.starts_with("System.Error."))
        return system_error(name.substr(13), message, what);
    return {Exit::failed, fmt::format("{} failed: {}: {}", what, name, message)};
}

}  // namespace exhibit::ctl
