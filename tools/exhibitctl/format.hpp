// Plain formatting for people: sizes, rates, times, aligned tables and key/value lists, and
// strings from the daemon (which may come from a hostile phone) made safe for a terminal.
// Reentrant.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace exhibit::ctl {

// 0 B, 999 B, 1.0 KiB, 1.5 MiB, 40.0 GiB (IEC units, one decimal above bytes).
std::string format_bytes(std::uint64_t bytes);
// "35.1 MiB/s"; "-" when the rate is not known (0 or negative).
std::string format_rate(double bytes_per_second);
// "2026-11-30 12:00:00 UTC" from ms since the epoch; `none` when 0.
std::string format_time_ms(std::int64_t ms, std::string_view none = "never");
// "42.0%" from 0..1 (clamped).
std::string format_percent(double fraction);

// Valid UTF-8 with every control character (C0, DEL, C1) and every invalid byte replaced by
// '?', so that nothing from a phone can steer the terminal.
std::string printable(std::string_view text);
// Number of code points of valid UTF-8 (what a terminal shows, near enough).
std::size_t display_width(std::string_view text);
// Keeps the last `width` code points, with a leading "…" when something was cut.
std::string keep_tail(std::string_view text, std::size_t width);

// Columns aligned with two spaces; the last column is not padded.
class Table {
  public:
    explicit Table(std::vector<std::string> header) : header_(std::move(header)) {}
    void add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
    bool empty() const { return rows_.empty(); }
    std::string render() const;

  private:
    std::vector<std::string> header_;
    std::vector<std::vector<std::string>> rows_;
};

using Pairs = std::vector<std::pair<std::string, std::string>>;
// "key   value" lines, keys padded to the longest.
std::string render_pairs(const Pairs& pairs);

}  // namespace exhibit::ctl
