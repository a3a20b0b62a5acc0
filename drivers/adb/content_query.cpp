#include "content_query.hpp"

#include <fmt/format.h>

namespace exhibit::adb {

namespace {
// "Row: <n> " at the start of a line; returns the offset just after it, or npos.
std::size_t row_prefix(std::string_view text, std::size_t pos, std::size_t expected_row) {
    auto prefix = fmt::format("Row: {} ", expected_row);
    return text.substr(pos).starts_with(prefix) ? pos + prefix.size() : std::string_view::npos;
}
}  // namespace

Result<std::vector<ContentRow>> parse_content_query(std::string_view output,
                                                    const std::vector<std::string>& columns) {
    std::vector<ContentRow> rows;
    if (columns.empty())
        return fail(Errc::invalid_argument, "a projection is required");
    // Normalise CRLF from PTY shells of old phones.
    std::string text;
    text.reserve(output.size());
    for (std::size_t i = 0; i < output.size(); ++i)
        if (!(output[i] == '\r' && i + 1 < output.size() && output[i + 1] == '\n'))
            text.push_back(output[i]);
    std::string_view all(text);
    while (!all.empty() && all.back() == '\n')
        all.remove_suffix(1);
    if (all.empty() || all == "No result found.")
        return rows;

    std::size_t pos = row_prefix(all, 0, 0);
    if (pos == std::string_view::npos) {
        auto line = all.substr(0, all.find('\n'));
        return fail(Errc::protocol, fmt::format("content query failed: {}", line.substr(0, 200)));
    }
    for (std::size_t row_index = 0; pos != std::string_view::npos; ++row_index) {
        ContentRow row;
        std::size_t next_row_start = std::string_view::npos;
        for (std::size_t c = 0; c < columns.size(); ++c) {
            auto head = columns[c] + "=";
            if (!all.substr(pos).starts_with(head))
                return fail(Errc::protocol,
                            fmt::format("row {}: expected column {}", row_index, columns[c]));
            pos += head.size();
            std::size_t end;
            if (c + 1 < columns.size()) {
                end = all.find(fmt::format(", {}=", columns[c + 1]), pos);
                if (end == std::string_view::npos)
                    return fail(Errc::protocol, fmt::format("row {}: column {} missing", row_index,
                                                            columns[c + 1]));
            } else {
                // The last value runs to the line that starts the next row (or the end).
                auto marker = fmt::format("\nRow: {} {}=", row_index + 1, columns[0]);
                end = all.find(marker, pos);
                next_row_start = end == std::string_view::npos ? end : end + 1;
                if (end == std::string_view::npos)
                    end = all.size();
            }
            auto value = all.substr(pos, end - pos);
            if (value == "NULL")
                row[columns[c]] = std::nullopt;
            else
                row[columns[c]] = std::string(value);
            pos = c + 1 < columns.size() ? end + 2 : end;
        }
        rows.push_back(std::move(row));
        pos = next_row_start == std::string_view::npos
                  ? next_row_start
                  : row_prefix(all, next_row_start, row_index + 1);
    }
    return rows;
}

}  // namespace exhibit::adb
