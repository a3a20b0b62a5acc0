#include "tests/dbus/api_tables.hpp"

#include <regex>
#include <sstream>
#include <string_view>

#include <fmt/format.h>

#include "common/fs.hpp"

namespace exhibit::testing {

std::map<std::string, std::string> members_of(const std::string& xml,
                                              const std::string& prefix) {
    std::map<std::string, std::string> out;
    std::regex tag(R"(<(/?)(interface|method|signal|property|arg)\b([^>]*?)(/?)>)");
    std::regex attr(R"re((\w+)="([^"]*)")re");
    std::string iface, member, kind, sig_in, sig_out;
    auto flush = [&] {
        if (!member.empty() && iface.starts_with(prefix))
            out[iface + "." + member] = kind + " in=" + sig_in + " out=" + sig_out;
        member.clear();
        sig_in.clear();
        sig_out.clear();
    };
    for (std::sregex_iterator it(xml.begin(), xml.end(), tag), end; it != end; ++it) {
        bool closing = (*it)[1] == "/";
        std::string name = (*it)[2];
        std::string attrs = (*it)[3];
        std::map<std::string, std::string> a;
        for (std::sregex_iterator at(attrs.begin(), attrs.end(), attr);
             at != std::sregex_iterator(); ++at)
            a[(*at)[1]] = (*at)[2];
        if (closing) {
            if (name == "method" || name == "signal")
                flush();
            continue;
        }
        if (name == "interface")
            iface = a["name"];
        else if (name == "method" || name == "signal") {
            flush();
            kind = name;
            member = a["name"];
            if ((*it)[4] == "/")
                flush();
        } else if (name == "property" && iface.starts_with(prefix)) {
            out[iface + "." + a["name"]] = "property " + a["type"] + " " + a["access"];
        } else if (name == "arg") {
            (a["direction"] == "out" ? sig_out : sig_in) += a["type"];
        }
    }
    return out;
}


namespace {

// The cells of a Markdown table row ("| a | b |"), trimmed; empty for any other line.
std::vector<std::string> cells_of(std::string_view line) {
    auto trim = [](std::string_view s) {
        auto b = s.find_first_not_of(" \t");
        return b == std::string_view::npos
                   ? std::string()
                   : std::string(s.substr(b, s.find_last_not_of(" \t") - b + 1));
    };
    auto row = trim(line);
    if (row.size() < 2 || !row.starts_with('|') || !row.ends_with('|'))
        return {};
    std::vector<std::string> cells;
    std::size_t from = 1;
    for (auto bar = row.find('|', from); bar != std::string::npos; bar = row.find('|', from)) {
        cells.push_back(trim(std::string_view(row).substr(from, bar - from)));
        from = bar + 1;
    }
    return cells;
}

struct MarkdownTable {
    std::vector<std::string> header;
    std::vector<std::vector<std::string>> rows;
};

// The first table under the line `heading`, before the next heading; empty when there is none.
MarkdownTable table_under(const std::string& doc, const std::string& heading) {
    std::istringstream in(doc);
    MarkdownTable table;
    bool under = false;
    for (std::string line; std::getline(in, line);) {
        if (!under) {
            under = line == heading;
            continue;
        }
        if (line.starts_with("#"))
            break;
        auto cells = cells_of(line);
        if (cells.empty()) {
            if (!table.header.empty())
                break;
        } else if (table.header.empty()) {
            table.header = cells;
        } else if (cells[0].find_first_not_of("-:") != std::string::npos) {  // not |---|
            table.rows.push_back(cells);
        }
    }
    return table;
}

// A role cell as written ("officer", or with Markdown emphasis) to its bare word.
std::string word_of(std::string cell) {
    std::erase_if(cell, [](char c) { return c == '`' || c == '*'; });
    return cell;
}

// Every match of the first group of `pattern` in `text`.
std::vector<std::string> all_of(const std::string& text, const std::string& pattern) {
    std::vector<std::string> out;
    std::regex re(pattern);
    for (std::sregex_iterator it(text.begin(), text.end(), re), end; it != end; ++it)
        out.push_back((*it)[1]);
    return out;
}

}  // namespace

AccessTable read_access_table() {
    const auto doc =
        fs::read_file(std::string(EXHIBIT_SOURCE_DIR) + "/docs/dbus-api.md", 1 << 20).value();
    AccessTable t;
    auto problem = [&](std::string what) { t.problems.push_back(std::move(what)); };

    auto roles = table_under(doc, "## Access");
    if (roles.header.empty() || roles.header[0] != "role")
        problem("\"## Access\" has no table whose first column is \"role\"");
    else
        t.callers.assign(roles.header.begin() + 1, roles.header.end());
    for (const auto& row : roles.rows) {
        std::vector<bool> let_in;
        for (std::size_t i = 1; i < row.size(); ++i) {
            if (row[i] != "yes" && row[i] != "no")
                problem(fmt::format("role {}: \"{}\" is neither yes nor no", row[0], row[i]));
            let_in.push_back(row[i] == "yes");
        }
        if (let_in.size() != t.callers.size())
            problem(fmt::format("role {} has {} columns for {} callers", row[0], let_in.size(),
                                t.callers.size()));
        else if (!t.roles.emplace(word_of(row[0]), let_in).second)
            problem(fmt::format("role {} has two rows", row[0]));
    }
    // A role cell must name a role of the table above, or nobody would know whom it lets in.
    auto role_in = [&](const std::vector<std::string>& row, std::size_t column) {
        auto role = column < row.size() ? word_of(row[column]) : std::string();
        if (!t.roles.contains(role))
            problem(fmt::format("\"{}\": the role \"{}\" is not in the roles table", row[0], role));
        return role;
    };
    // A table | <first> | role | notes | whose first cells name members (`pattern`'s group):
    // each name gets the row's role.
    auto named_roles = [&](const std::string& heading, const std::string& first,
                           const std::string& pattern, const std::string& what,
                           std::map<std::string, std::string>& into) {
        auto table = table_under(doc, heading);
        if (table.header != std::vector<std::string>{first, "role", "notes"})
            problem(fmt::format("\"{}\" has no table | {} | role | notes |", heading, first));
        for (const auto& row : table.rows) {
            auto names = all_of(row[0], pattern);
            if (names.empty())
                problem(fmt::format("\"{}\" names no {}", row[0], what));
            auto role = role_in(row, 1);
            for (const auto& name : names)
                if (!into.emplace(name, role).second)
                    problem(fmt::format("{} has two rows", name));
        }
    };

    named_roles("## Methods and who may call them", "method", R"(`(\w+\.\w+)\()",
                "Interface.Method(", t.methods);
    auto properties = table_under(doc, "## Properties and who may read them");
    if (properties.header.size() != 4 || properties.header[0] != "interface" ||
        properties.header[1] != "properties" || !properties.header[2].starts_with("read") ||
        !properties.header[3].starts_with("write"))
        problem(
            "\"## Properties and who may read them\" has no table | interface | properties "
            "| read | write |");
    for (const auto& row : properties.rows) {
        auto iface = word_of(row[0]);
        InterfaceRow r{.properties = all_of(row.size() > 1 ? row[1] : "", R"(`(\w+)`)"),
                       .read = role_in(row, 2),
                       .write = role_in(row, 3)};
        if (r.properties.empty() && row.size() > 1 && row[1] != "none")
            problem(
                fmt::format("{}: properties \"{}\" are neither `Names` nor none", iface, row[1]));
        if (!t.interfaces.emplace(iface, r).second)
            problem(fmt::format("{} has two rows in the properties table", iface));
    }

    named_roles("## Other calls", "call", R"(`(\w+\.\w+)`)", "`Interface.Member`", t.other);
    named_roles("## Signals and who receives them", "signal", R"(`(\w+\.\w+)`)",
                "`Interface.Signal`", t.signals);
    return t;
}

}  // namespace exhibit::testing
