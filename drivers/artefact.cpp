#include "artefact.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

namespace exhibit::drivers {

std::string_view to_string(Category c) {
    switch (c) {
        case Category::photos:
            return "photos";
        case Category::videos:
            return "videos";
        case Category::audio:
            return "audio";
        case Category::documents:
            return "documents";
        case Category::messages:
            return "messages";
        case Category::call_log:
            return "call_log";
        case Category::contacts:
            return "contacts";
        case Category::apps:
            return "apps";
        case Category::device_info:
            return "device_info";
        case Category::cctv_export:
            return "cctv_export";
        case Category::disk_image:
            return "disk_image";
    }
    return "?";
}

std::optional<Category> category_from(std::string_view name) {
    for (auto c : kAllCategories)
        if (to_string(c) == name)
            return c;
    return std::nullopt;
}

bool is_record_category(Category c) {
    return c == Category::messages || c == Category::call_log || c == Category::contacts ||
           c == Category::apps || c == Category::device_info;
}

Status refuse_unoffered(const Scope& scope, std::span<const Category> offered,
                        std::string_view why) {
    for (auto c : scope.categories)
        if (std::ranges::find(offered, c) == offered.end())
            return fail(Errc::unsupported, fmt::format("{} cannot be taken: {}", to_string(c), why));
    return {};
}

bool Scope::includes_time(std::optional<std::int64_t> t_ms) const {
    if (!from_ms && !until_ms)
        return true;
    if (!t_ms)
        return false;  // a date range was asked for and the artefact has no date
    if (from_ms && *t_ms < *from_ms)
        return false;
    if (until_ms && *t_ms >= *until_ms)
        return false;
    return true;
}

bool Scope::includes_party(std::optional<std::string_view> number) const {
    if (numbers.empty())
        return true;
    if (!number)
        return false;
    auto party = parse_phone_number(*number);
    if (!party)
        return false;
    return std::ranges::any_of(numbers, [&](const std::string& wanted) {
        auto w = parse_phone_number(wanted);
        return w && same_number(*w, *party);
    });
}

std::optional<PhoneNumber> parse_phone_number(std::string_view text) {
    std::string digits;
    bool plus = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c >= '0' && c <= '9') {
            digits.push_back(c);
        } else if (c == '+' && digits.empty() && !plus) {
            plus = true;
        } else if (text.substr(i).starts_with("(0)") && (plus || digits.starts_with("00"))) {
            i += 2;  // "+44 (0)7700 900123": the national trunk prefix, written for people
        } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
            return std::nullopt;
        }
    }
    if (digits.size() < 3 || digits.size() > 20)
        return std::nullopt;
    if (plus)
        return PhoneNumber{PhoneNumber::Prefix::international, digits};
    if (digits.starts_with("00"))
        return PhoneNumber{PhoneNumber::Prefix::international, digits.substr(2)};
    if (digits.starts_with("0"))
        return PhoneNumber{PhoneNumber::Prefix::national, digits.substr(1)};
    return PhoneNumber{PhoneNumber::Prefix::none, digits};
}

bool same_number(const PhoneNumber& a, const PhoneNumber& b) {
    using P = PhoneNumber::Prefix;
    if (a.prefix == b.prefix)
        return a.digits == b.digits;
    if (a.prefix == P::none || b.prefix == P::none) {
        // All its digits against the other's as written without separators ("+" dropped).
        const auto& bare = a.prefix == P::none ? a : b;
        const auto& other = a.prefix == P::none ? b : a;
        return other.prefix == P::national ? "0" + other.digits == bare.digits
                                           : other.digits == bare.digits;
    }
    const auto& intl = a.prefix == P::international ? a : b;
    const auto& national = a.prefix == P::national ? a : b;
    const auto country = intl.digits.size() - std::min(intl.digits.size(), national.digits.size());
    return country >= 1 && country <= 3 && intl.digits.ends_with(national.digits);
}

Result<std::int64_t> parse_day_utc(std::string_view day) {
    int y = 0, m = 0, d = 0;
    char tail = 0;
    std::string text(day);
    if (day.size() != 10 || std::sscanf(text.c_str(), "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3)
        return fail(Errc::invalid_argument, fmt::format("\"{}\" is not a date (YYYY-MM-DD)", day));
    namespace ch = std::chrono;
    ch::year_month_day ymd{ch::year{y}, ch::month{static_cast<unsigned>(m)},
                           ch::day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || y < 1970 || y > 2200)
        return fail(Errc::invalid_argument, fmt::format("\"{}\" is not a valid date", day));
    return ch::duration_cast<ch::milliseconds>(ch::sys_days{ymd}.time_since_epoch()).count();
}

Result<Status> stream_file(ArtefactWriter& writer, std::uint64_t declared_size,
                           const std::function<Status(const ChunkConsumer&)>& read) {
    std::uint64_t received = 0;
    std::optional<Error> store_error;
    Status outcome = read([&](std::span<const std::byte> piece) -> Status {
        received += piece.size();
        auto s = writer.append(piece);
        if (!s)
            store_error = s.error();
        return s;
    });
    if (store_error) {
        (void)writer.finish_incomplete(store_error->describe());
        return std::unexpected(*store_error);
    }
    if (outcome && received == declared_size) {
        if (auto s = writer.finish(); !s)
            return std::unexpected(s.error());
        return outcome;
    }
    std::string reason =
        outcome ? fmt::format("size mismatch: the phone stated {} bytes and sent {}",
                              declared_size, received)
                : fmt::format("{} after {} bytes", outcome.error().describe(), received);
    if (auto s = writer.finish_incomplete(std::move(reason)); !s)
        return std::unexpected(s.error());
    return outcome;
}

}  // namespace exhibit::drivers
