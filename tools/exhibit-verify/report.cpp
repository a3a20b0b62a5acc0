#include "report.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "json_fields.hpp"

namespace exhibit::verify {

const char* to_string(ItemStatus status) {
    switch (status) {
        case ItemStatus::ok:
            return "ok";
        case ItemStatus::cancelled:
            return "cancelled";
        case ItemStatus::missing:
            return "missing";
        case ItemStatus::incomplete_upload:
            return "incomplete_upload";
        case ItemStatus::size_mismatch:
            return "size_mismatch";
        case ItemStatus::sha256_mismatch:
            return "sha256_mismatch";
        case ItemStatus::metadata_mismatch:
            return "metadata_mismatch";
        case ItemStatus::unreadable:
            return "unreadable";
        case ItemStatus::invalid_entry:
            return "invalid_entry";
    }
    return "unknown";
}

bool is_failure(ItemStatus status) {
    return status != ItemStatus::ok && status != ItemStatus::cancelled;
}

bool SessionReport::ok() const {
    return std::ranges::all_of(checks, [](const Check& c) { return c.ok; }) &&
           std::ranges::none_of(items, [](const ItemResult& i) { return is_failure(i.status); });
}

std::uint64_t SessionReport::bytes_verified() const {
    std::uint64_t total = 0;
    for (const auto& i : items)
        if (i.status == ItemStatus::ok)
            total += i.size;
    return total;
}

bool Report::ok() const {
    return problems.empty() && !sessions.empty() &&
           std::ranges::all_of(sessions, [](const SessionReport& s) { return s.ok(); });
}

nlohmann::json to_json(const Report& report) {
    nlohmann::json sessions = nlohmann::json::array();
    for (const auto& s : report.sessions) {
        nlohmann::json checks = nlohmann::json::array();
        for (const auto& c : s.checks)
            checks.push_back({{"name", c.name}, {"ok", c.ok}, {"detail", c.detail}});
        nlohmann::json items = nlohmann::json::array();
        for (const auto& i : s.items)
            items.push_back({{"id", i.id},
                             {"source_path", i.source_path},
                             {"size", i.size},
                             {"sha256", i.sha256},
                             {"status", to_string(i.status)},
                             {"detail", i.detail},
                             {"location", i.location},
                             {"note", i.note}});
        sessions.push_back({{"ok", s.ok()},
                            {"manifest", s.manifest},
                            {"manifest_sha256", s.manifest_sha256},
                            {"seal_sha256", s.seal_sha256},
                            {"session_id", s.session_id ? nlohmann::json(*s.session_id) : nullptr},
                            {"kiosk_id", s.kiosk_id},
                            {"case_reference", s.case_reference},
                            {"exhibit_reference", s.exhibit_reference},
                            {"session_state", s.session_state},
                            {"session_reason", s.session_reason},
                            {"method", s.method},
                            {"trail", s.trail},
                            {"key_fingerprint", s.key_fingerprint},
                            {"checks", std::move(checks)},
                            {"items", std::move(items)},
                            {"bytes_verified", s.bytes_verified()},
                            {"warnings", s.warnings}});
    }
    return {{"ok", report.ok()},       {"directory", report.directory},
            {"layout", report.layout}, {"problems", report.problems},
            {"notes", report.notes},   {"sessions", std::move(sessions)}};
}

namespace {

// Strings from a manifest or an upload may hold anything: keep the terminal safe.
std::string safe(std::string_view text) {
    std::string out;
    for (char c : text) {
        const auto b = static_cast<unsigned char>(c);
        out += (b < 0x20 || b == 0x7f) ? '?' : c;
    }
    return out;
}

// "exhibit 0.9.0, driver adb 1.0 through usb:adb; settings: a=1, b=false".
std::string render_method(const nlohmann::json& method) {
    if (!method.is_object())
        return "the manifest does not say how the session was extracted (made before exhibit "
               "recorded it)";
    const auto& software = json_member(method, "software");
    const auto& driver = json_member(method, "driver");
    auto named = [](const nlohmann::json& what) {
        auto name = json_string(what, "name"), version = json_string(what, "version");
        return safe(fmt::format("{} {}", name.empty() ? "?" : name, version.empty() ? "?" : version));
    };
    std::string out = fmt::format("extracted with {}, driver {}", named(software), named(driver));
    if (auto function = json_string(driver, "function"); !function.empty())
        out += " through " + safe(function);
    std::vector<std::string> settings;
    if (const auto& configuration = json_member(method, "configuration"); configuration.is_object())
        for (const auto& [key, value] : configuration.items())
            settings.push_back(safe(fmt::format("{}={}", key, value.dump())));
    if (!settings.empty())
        out += fmt::format("; settings: {}", fmt::join(settings, ", "));
    return out;
}

std::string render_session(const SessionReport& s) {
    std::string out = fmt::format("\nsession {} of kiosk {}: case {}, exhibit {} (manifest {})\n",
                                  s.session_id ? std::to_string(*s.session_id) : "?",
                                  safe(s.kiosk_id.empty() ? "?" : s.kiosk_id),
                                  safe(s.case_reference.empty() ? "?" : s.case_reference),
                                  safe(s.exhibit_reference.empty() ? "?" : s.exhibit_reference),
                                  safe(s.manifest));
    // Reasons mostly begin with the state ("interrupted: device disconnected"): said once.
    if (!s.session_state.empty())
        out += fmt::format(
            "  the session ended {}\n",
            s.session_reason.empty() ? safe(s.session_state)
            : s.session_reason.starts_with(s.session_state)
                ? safe(s.session_reason)
                : fmt::format("{} ({})", safe(s.session_state), safe(s.session_reason)));
    out += fmt::format("  {}\n", render_method(s.method));
    for (const auto& c : s.checks)
        out += fmt::format("  {:<5} {}: {}\n", c.ok ? "ok" : "FAIL", c.name, safe(c.detail));
    if (!s.continuity.empty()) {
        out += "  continuity record (the session's audit trail, kiosk clock, UTC):\n";
        for (const auto& line : s.continuity)
            out += fmt::format("    {}\n", safe(line));
    }
    std::size_t verified = 0, cancelled = 0;
    for (const auto& i : s.items) {
        if (i.status == ItemStatus::ok)
            ++verified;
        if (i.status == ItemStatus::cancelled)
            ++cancelled;
        if (is_failure(i.status))
            out += fmt::format("  FAIL  item {} {}: {}: {}{}\n", i.id, safe(i.source_path),
                               to_string(i.status), safe(i.detail),
                               i.location.empty() ? "" : " [" + safe(i.location) + "]");
        else if (i.status == ItemStatus::cancelled)
            out +=
                fmt::format("  note  item {} {}: {}\n", i.id, safe(i.source_path), safe(i.detail));
        else if (!i.note.empty())
            out += fmt::format("  note  item {} {}: {}\n", i.id, safe(i.source_path), safe(i.note));
    }
    for (const auto& w : s.warnings)
        out += fmt::format("  warn  {}\n", safe(w));
    const auto failed = s.items.size() - verified - cancelled;
    out += fmt::format("  {:<5} items: {} of {} verified ({} bytes){}{}\n", failed ? "FAIL" : "ok",
                       verified, s.items.size(), s.bytes_verified(),
                       cancelled ? fmt::format(", {} cancelled (not delivered)", cancelled) : "",
                       failed ? fmt::format(", {} failed", failed) : "");
    out += s.ok() ? "  => VERIFIED\n" : "  => FAILED\n";
    return out;
}

}  // namespace

std::string render_text(const Report& report) {
    std::string out = fmt::format("{} ({})\n", safe(report.directory), report.layout_description);
    for (const auto& n : report.notes)
        out += fmt::format("  note  {}\n", safe(n));
    for (const auto& p : report.problems)
        out += fmt::format("  FAIL  {}\n", safe(p));
    for (const auto& s : report.sessions)
        out += render_session(s);
    const auto failed =
        std::ranges::count_if(report.sessions, [](const auto& s) { return !s.ok(); });
    if (report.ok())
        out += fmt::format("\nVERIFIED: {} session(s), every item intact and signed for\n",
                           report.sessions.size());
    else
        out +=
            fmt::format("\nFAILED: {} of {} session(s) failed{}\n", failed, report.sessions.size(),
                        report.problems.empty() ? "" : ", and the delivery has problems");
    return out;
}

}  // namespace exhibit::verify
