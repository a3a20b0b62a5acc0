#include "requests.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>

namespace exhibit::ctl {

namespace {

bool is_path_element(std::string_view s) {
    return !s.empty() && std::ranges::all_of(s, [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '_';
    });
}

bool is_decimal(std::string_view s) {
    return !s.empty() && s.size() <= 19 &&
           std::ranges::all_of(s, [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view trim(std::string_view s) {
    const auto first = s.find_first_not_of(" \t");
    if (first == std::string_view::npos)
        return {};
    const auto last = s.find_last_not_of(" \t");
    return s.substr(first, last - first + 1);
}

// An id or a path below `base`; the last element must be a valid object path element.
Outcome<std::string> child_path(std::string_view arg, std::string_view base, std::string_view what,
                                bool digits_only) {
    std::string_view id = arg;
    if (arg.starts_with('/')) {
        if (!arg.starts_with(base) || arg.size() <= base.size() + 1 || arg[base.size()] != '/')
            return failure(Exit::usage,
                           fmt::format("\"{}\" is not a {} path (expected {}/…)", arg, what, base));
        id = arg.substr(base.size() + 1);
    }
    const bool ok = digits_only ? is_decimal(id) : is_path_element(id);
    if (!ok)
        return failure(Exit::usage, fmt::format("\"{}\" is not a {} id ({})", arg, what,
                                                digits_only ? "a number, e.g. 3"
                                                            : "letters, digits, _; e.g. d1"));
    return fmt::format("{}/{}", base, id);
}

}  // namespace

Outcome<std::string> device_path(std::string_view arg) {
    return child_path(arg, kDevicesPath, "device", false);
}

Outcome<std::string> session_path(std::string_view arg) {
    return child_path(arg, kSessionsPath, "session", true);
}

std::string id_of_path(std::string_view path) {
    const auto slash = path.rfind('/');
    return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

namespace {

// `digits` (taken from `arg`) as a number > 0 that fits 64 bits, or a usage error naming `what`
// with `example`.
Outcome<std::uint64_t> positive_id(std::string_view digits, std::string_view arg,
                                   std::string_view what, std::string_view example) {
    std::uint64_t id = 0;
    const auto* end = digits.data() + digits.size();
    auto [ptr, ec] = std::from_chars(digits.data(), end, id);
    if (!is_decimal(digits) || ec != std::errc() || ptr != end || id == 0)
        return failure(Exit::usage,
                       fmt::format("\"{}\" is not {} (a number, e.g. {})", arg, what, example));
    return id;
}

}  // namespace

Outcome<std::uint64_t> item_id(std::string_view arg) {
    return positive_id(arg, arg, "an item id", "17");
}

Outcome<std::uint64_t> session_id(std::string_view arg) {
    auto path = session_path(arg);
    if (!path)
        return std::unexpected(path.error());
    return positive_id(id_of_path(*path), arg, "a session id", "3");
}

Outcome<std::string> network_address(std::string_view arg) {
    std::string_view rest = arg;
    if (rest.starts_with("tcp:"))
        rest.remove_prefix(4);
    const auto colon = rest.rfind(':');
    const auto host = colon == std::string_view::npos ? std::string_view() : rest.substr(0, colon);
    const auto port_text =
        colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    unsigned port = 0;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (host.empty() || !is_decimal(port_text) || ec != std::errc() ||
        ptr != port_text.data() + port_text.size() || port == 0 || port > 65535)
        return failure(Exit::usage,
                       fmt::format("\"{}\" is not an address: expected tcp:HOST:PORT", arg));
    return std::string(rest);
}

Outcome<std::string> lane_name(std::string_view arg) {
    if (arg == "urgent" || arg == "normal")
        return std::string(arg);
    return failure(Exit::usage,
                   fmt::format("lane must be \"urgent\" or \"normal\", not \"{}\"", arg));
}

namespace {

// The values of an option that takes a comma-separated list and may be repeated, trimmed,
// each once, in their first order.
std::vector<std::string> split_list(const std::vector<std::string>& entries) {
    std::vector<std::string> values;
    for (const auto& entry : entries) {
        std::string_view rest = entry;
        for (;;) {
            const auto comma = rest.find(',');
            const auto name = trim(rest.substr(0, comma));
            if (!name.empty() && std::ranges::find(values, name) == values.end())
                values.emplace_back(name);
            if (comma == std::string_view::npos)
                break;
            rest.remove_prefix(comma + 1);
        }
    }
    return values;
}

}  // namespace

Outcome<ValueMap> build_scope(const ScopeArgs& args) {
    auto categories = split_list(args.categories);
    if (categories.empty())
        return failure(Exit::usage,
                       "--categories needs at least one category, e.g. --categories photos,videos");
    ValueMap scope{{"categories", std::move(categories)}};
    if (!args.from.empty())
        scope["from"] = args.from;
    if (!args.to.empty())
        scope["to"] = args.to;
    // The numbers' form (3 to 20 digits, at most 20) is exhibitd's to judge, like the dates.
    if (auto numbers = split_list(args.numbers); !numbers.empty())
        scope["numbers"] = std::move(numbers);
    return scope;
}

Outcome<ValueMap> build_case(const CaseArgs& args) {
    std::string basis = args.basis;
    const bool consent_details = !args.notice_version.empty() || !args.agreed_by.empty();
    if (basis.empty() && consent_details)
        basis = "consent";
    if (basis.empty())
        return failure(Exit::usage,
                       "say the lawful basis: --basis consent --notice VERSION --agreed-by WHO, "
                       "or --basis other");
    if (basis != "consent" && basis != "other")
        return failure(Exit::usage,
                       fmt::format("--basis must be \"consent\" or \"other\", not \"{}\"", basis));
    if (basis == "consent" && (args.notice_version.empty() || args.agreed_by.empty()))
        return failure(Exit::usage,
                       "--basis consent needs --notice (the notice shown) and --agreed-by (who "
                       "agreed)");
    ValueMap c{{"case_reference", args.case_reference},
               {"exhibit_reference", args.exhibit_reference},
               {"officer_id", args.officer_id},
               {"basis", basis}};
    if (!args.notice_version.empty())
        c["notice_version"] = args.notice_version;
    if (!args.agreed_by.empty())
        c["agreed_by"] = args.agreed_by;
    return c;
}

ValueMap build_extract_options(bool urgent) {
    ValueMap options;
    if (urgent)
        options["priority"] = std::string("urgent");
    return options;
}

}  // namespace exhibit::ctl
