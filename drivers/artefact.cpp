#include "artefact.hpp"

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

}  // namespace exhibit::drivers
