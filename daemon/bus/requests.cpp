#include "requests.hpp"

#include <fmt/format.h>

namespace exhibit::bus {

namespace {
constexpr std::int64_t kDayMs = 24 * 3600 * 1000;

Result<std::string> text_field(const ValueMap& map, const std::string& key, bool required,
                               std::size_t max = 128) {
    auto v = get_string(map, key, required);
    if (!v)
        return v;
    if (v->size() > max)
        return fail(Errc::invalid_argument,
                    fmt::format("\"{}\" is longer than {} characters", key, max));
    for (unsigned char c : *v)
        if (c < 0x20 || c == 0x7f)
            return fail(Errc::invalid_argument,
                        fmt::format("\"{}\" contains a control character", key));
    if (required && v->find_first_not_of(' ') == std::string::npos)
        return fail(Errc::invalid_argument, fmt::format("\"{}\" must not be empty", key));
    return v;
}
}  // namespace

Result<drivers::Scope> parse_scope(const ValueMap& args) {
    if (auto s = only_keys(args, {"categories", "from", "to"}, "scope"); !s)
        return std::unexpected(s.error());
    drivers::Scope scope;
    auto categories = get_strings(args, "categories");
    if (!categories)
        return std::unexpected(categories.error());
    if (categories->empty())
        return fail(Errc::invalid_argument, "scope: at least one category is required");
    for (const auto& name : *categories) {
        auto c = drivers::category_from(name);
        if (!c) {
            std::string known;
            for (auto k : drivers::kAllCategories)
                known += fmt::format("{}{}", known.empty() ? "" : ", ", drivers::to_string(k));
            return fail(Errc::invalid_argument,
                        fmt::format("scope: unknown category \"{}\" (known: {})", name, known));
        }
        scope.categories.insert(*c);
    }
    auto from = get_string(args, "from", false);
    auto to = get_string(args, "to", false);
    if (!from)
        return std::unexpected(from.error());
    if (!to)
        return std::unexpected(to.error());
    if (!from->empty()) {
        auto ms = drivers::parse_day_utc(*from);
        if (!ms)
            return fail(Errc::invalid_argument, fmt::format("scope: from: {}", ms.error().message));
        scope.from_ms = *ms;
    }
    if (!to->empty()) {
        auto ms = drivers::parse_day_utc(*to);
        if (!ms)
            return fail(Errc::invalid_argument, fmt::format("scope: to: {}", ms.error().message));
        scope.until_ms = *ms + kDayMs;  // "to" is an inclusive day
    }
    if (scope.from_ms && scope.until_ms && *scope.from_ms >= *scope.until_ms)
        return fail(Errc::invalid_argument,
                    fmt::format("scope: the date range is reversed ({} is after {})", *from, *to));
    return scope;
}

Result<store::CaseSpec> parse_case(const ValueMap& args,
                                   const std::optional<std::string>& signed_in) {
    if (auto s = only_keys(args,
                           {"case_reference", "exhibit_reference", "officer_id", "basis",
                            "notice_version", "agreed_by", "basis_reason", "owner"},
                           "case");
        !s)
        return std::unexpected(s.error());
    store::CaseSpec spec;
    auto field = [&](const char* key, bool required, std::string& out,
                     std::size_t max = 128) -> Status {
        auto v = text_field(args, key, required, max);
        if (!v)
            return fail(Errc::invalid_argument, fmt::format("case: {}", v.error().message));
        out = std::move(*v);
        return {};
    };
    std::string basis, notice, agreed, reason, owner;
    for (auto s : {field("case_reference", true, spec.case_reference),
                   field("exhibit_reference", true, spec.exhibit_reference),
                   field("officer_id", !signed_in, spec.officer_id), field("basis", true, basis),
                   field("notice_version", false, notice), field("agreed_by", false, agreed),
                   field("basis_reason", false, reason, 500), field("owner", false, owner)})
        if (!s)
            return std::unexpected(s.error());
    if (signed_in) {
        if (!spec.officer_id.empty() && spec.officer_id != *signed_in)
            return fail(Errc::invalid_argument,
                        fmt::format("case: officer_id \"{}\" is not the officer signed in on "
                                    "this kiosk ({})",
                                    spec.officer_id, *signed_in));
        spec.officer_id = *signed_in;
    }
    if (basis == "consent")
        spec.basis = store::LawfulBasis::consent;
    else if (basis == "other")
        spec.basis = store::LawfulBasis::other;
    else
        return fail(Errc::invalid_argument,
                    fmt::format("case: basis must be \"consent\" or \"other\", not \"{}\"", basis));
    if (spec.basis == store::LawfulBasis::consent && (notice.empty() || agreed.empty()))
        return fail(
            Errc::invalid_argument,
            "case: consent needs notice_version (the notice shown) and agreed_by (who agreed)");
    if (!owner.empty()) {
        spec.owner = store::owner_from(owner);
        if (!spec.owner)
            return fail(Errc::invalid_argument,
                        fmt::format("case: owner must be \"victim\", \"witness\" or \"other\", "
                                    "not \"{}\"",
                                    owner));
    }
    spec.basis_detail = {{"notice_version", notice}, {"agreed_by", agreed}};
    if (!reason.empty())
        spec.basis_detail["basis_reason"] = reason;
    return spec;
}

Result<store::Priority> parse_priority(const ValueMap& options) {
    auto p = get_string(options, "priority", false);
    if (!p)
        return std::unexpected(p.error());
    if (p->empty() || *p == "normal")
        return store::Priority::normal;
    if (*p == "urgent")
        return store::Priority::urgent;
    return fail(Errc::invalid_argument,
                fmt::format("priority must be \"normal\" or \"urgent\", not \"{}\"", *p));
}

}  // namespace exhibit::bus
