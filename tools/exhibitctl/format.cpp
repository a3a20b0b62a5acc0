#include "format.hpp"

#include <algorithm>
#include <array>
#include <ctime>

#include <fmt/format.h>

#include "common/utf8.hpp"

namespace exhibit::ctl {

std::string format_bytes(std::uint64_t bytes) {
    if (bytes < 1024)
        return fmt::format("{} B", bytes);
    constexpr std::array<const char*, 6> kUnits = {"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};
    double value = static_cast<double>(bytes) / 1024.0;
    std::size_t unit = 0;
    while (value >= 1023.95 && unit + 1 < kUnits.size()) {
        value /= 1024.0;
        ++unit;
    }
    return fmt::format("{:.1f} {}", value, kUnits[unit]);
}

std::string format_rate(double bytes_per_second) {
    if (!(bytes_per_second > 0))
        return "-";
    const double capped = std::min(bytes_per_second, 1.8e19);
    return format_bytes(static_cast<std::uint64_t>(capped)) + "/s";
}

std::string format_time_ms(std::int64_t ms, std::string_view none) {
    if (ms == 0)
        return std::string(none);
    std::time_t seconds = static_cast<std::time_t>(ms / 1000 - (ms % 1000 < 0 ? 1 : 0));
    std::tm tm{};
    if (!::gmtime_r(&seconds, &tm))
        return fmt::format("{} ms", ms);
    return fmt::format("{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC", tm.tm_year + 1900, tm.tm_mon + 1,
                       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

std::string format_percent(double fraction) {
    if (!(fraction > 0))
        fraction = 0;
    return fmt::format("{:.1f}%", std::min(fraction, 1.0) * 100.0);
}

std::string printable(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    while (!text.empty()) {
        char32_t cp = 0;
        const auto len = utf8_sequence(text, cp);
        if (len == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0))
            out += '?';
        else
            out.append(text.substr(0, len));
        text.remove_prefix(len == 0 ? 1 : len);
    }
    return out;
}

std::size_t display_width(std::string_view text) {
    return static_cast<std::size_t>(std::ranges::count_if(
        text, [](char c) { return (static_cast<unsigned char>(c) & 0xc0) != 0x80; }));
}

std::string keep_tail(std::string_view text, std::size_t width) {
    const auto have = display_width(text);
    if (have <= width)
        return std::string(text);
    if (width == 0)
        return {};
    std::size_t drop = have - (width - 1);  // code points to drop, making room for "…"
    std::size_t i = 0;
    while (i < text.size() && drop > 0) {
        ++i;
        while (i < text.size() && (static_cast<unsigned char>(text[i]) & 0xc0) == 0x80)
            ++i;
        --drop;
    }
    return "…" + std::string(text.substr(i));
}

std::string Table::render() const {
    std::vector<std::size_t> widths(header_.size(), 0);
    auto measure = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i)
            widths[i] = std::max(widths[i], display_width(row[i]));
    };
    measure(header_);
    for (const auto& row : rows_)
        measure(row);
    std::string out;
    auto line = [&](const std::vector<std::string>& row) {
        std::string text;
        for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
            text += row[i];
            if (i + 1 < row.size())
                text.append(widths[i] - display_width(row[i]) + 2, ' ');
        }
        while (text.ends_with(' '))
            text.pop_back();
        out += text + "\n";
    };
    line(header_);
    for (const auto& row : rows_)
        line(row);
    return out;
}

std::string render_pairs(const Pairs& pairs) {
    std::size_t width = 0;
    for (const auto& [key, value] : pairs)
        width = std::max(width, display_width(key));
    std::string out;
    for (const auto& [key, value] : pairs)
        out += fmt::format("{}{}  {}\n", key, std::string(width - display_width(key), ' '), value);
    return out;
}

}  // namespace exhibit::ctl
