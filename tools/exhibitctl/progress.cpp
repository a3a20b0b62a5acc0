#include "progress.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "tools/exhibitctl/format.hpp"

namespace exhibit::ctl {

namespace {

double fraction_of(const ValueMap& s) {
    double f = double_of(s, "Progress");
    if (!std::isfinite(f) || f < 0)
        return 0;
    return std::min(f, 1.0);
}

std::string items_of(const ValueMap& s) {
    return fmt::format("{}/{}", u64_of(s, "ItemsDone"), u64_of(s, "ItemsTotal"));
}

std::string bytes_of(const ValueMap& s) {
    return fmt::format("{}/{}", format_bytes(u64_of(s, "BytesDone")),
                       format_bytes(u64_of(s, "BytesTotal")));
}

}  // namespace

std::string progress_bar(const ValueMap& s, std::size_t width) {
    const double f = fraction_of(s);
    const std::size_t bar_width = std::clamp<std::size_t>(width / 8, 10, 30);
    const auto filled = static_cast<std::size_t>(std::floor(f * static_cast<double>(bar_width)));
    std::string line = "[" + std::string(filled, '#') + std::string(bar_width - filled, '-') + "]";
    line += fmt::format("  {:>6}  {}  {}  {} items", format_percent(f), bytes_of(s),
                        format_rate(double_of(s, "Rate")), items_of(s));
    const auto current = printable(text_of(s, "CurrentItem"));
    const auto used = display_width(line);
    if (!current.empty() && used + 2 + 8 <= width)
        line += "  " + keep_tail(current, width - used - 2);
    if (display_width(line) > width)
        line = keep_tail(line, width);  // a very narrow terminal: show what fits
    return line;
}

std::string progress_line(const ValueMap& s) {
    auto line = fmt::format("session {} {} {} {} {} items {}", u64_of(s, "Id"),
                            printable(text_of(s, "State")), format_percent(fraction_of(s)),
                            bytes_of(s), format_rate(double_of(s, "Rate")), items_of(s));
    if (auto n = u64_of(s, "ItemsIncomplete"))
        line += fmt::format(" incomplete {}", n);
    if (auto n = u64_of(s, "ItemsSkipped"))
        line += fmt::format(" skipped {}", n);
    if (auto current = text_of(s, "CurrentItem"); !current.empty())
        line += " current " + printable(current);
    return line;
}

std::string queue_line(const ValueMap& q) {
    auto line = fmt::format("queue: {} queued, {} uploading, {} received, {} failed, {} pending",
                            u64_of(q, "ItemsQueued"), u64_of(q, "ItemsUploading"),
                            u64_of(q, "ItemsReceived"), u64_of(q, "ItemsFailed"),
                            format_bytes(u64_of(q, "BytesPending")));
    if (auto error = text_of(q, "CurrentError"); !error.empty())
        line += " (last error: " + printable(error) + ")";
    return line;
}

}  // namespace exhibit::ctl
