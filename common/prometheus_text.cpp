#include "common/prometheus_text.hpp"

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

namespace exhibit::prom {

namespace {

bool name_char(char c, bool first, bool colon_allowed) {
    const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    if (letter || (colon_allowed && c == ':'))
        return true;
    return !first && c >= '0' && c <= '9';
}

bool valid_name(std::string_view name, bool colon_allowed) {
    if (name.empty())
        return false;
    for (std::size_t i = 0; i < name.size(); ++i)
        if (!name_char(name[i], i == 0, colon_allowed))
            return false;
    return true;
}

// HELP text escapes backslash and newline; label values also escape the double quote.
void append_escaped(std::string& out, std::string_view text, bool quote) {
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else if (quote && c == '"')
            out += "\\\"";
        else
            out += c;
    }
}

void append_value(std::string& out, double v) {
    if (std::isnan(v))
        out += "NaN";
    else if (std::isinf(v))
        out += v > 0 ? "+Inf" : "-Inf";
    else if (v == std::floor(v) && std::fabs(v) < 9.007199254740992e15)  // exact integers
        fmt::format_to(std::back_inserter(out), "{}", static_cast<std::int64_t>(v));
    else
        fmt::format_to(std::back_inserter(out), "{}", v);  // shortest form that reads back
}

}  // namespace

bool is_valid_metric_name(std::string_view name) {
    return valid_name(name, true);
}

bool is_valid_label_name(std::string_view name) {
    return valid_name(name, false) && !name.starts_with("__");
}

std::string render(const std::vector<Family>& families) {
    std::string out;
    out.reserve(families.size() * 160);
    for (const auto& f : families) {
        if (!is_valid_metric_name(f.name))
            throw std::invalid_argument(fmt::format("invalid metric name \"{}\"", f.name));
        out += "# HELP ";
        out += f.name;
        out += ' ';
        append_escaped(out, f.help, false);
        out += "\n# TYPE ";
        out += f.name;
        out += f.type == MetricType::counter ? " counter\n" : " gauge\n";
        for (const auto& s : f.samples) {
            out += f.name;
            if (!s.labels.empty()) {
                out += '{';
                bool first = true;
                for (const auto& [name, value] : s.labels) {
                    if (!is_valid_label_name(name))
                        throw std::invalid_argument(
                            fmt::format("invalid label name \"{}\" on {}", name, f.name));
                    if (!first)
                        out += ',';
                    first = false;
                    out += name;
                    out += "=\"";
                    append_escaped(out, value, true);
                    out += '"';
                }
                out += '}';
            }
            out += ' ';
            append_value(out, s.value);
            out += '\n';
        }
    }
    return out;
}

}  // namespace exhibit::prom
