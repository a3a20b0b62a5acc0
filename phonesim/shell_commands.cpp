#include "shell_commands.hpp"

#include <algorithm>
#include <ctime>

#include <fmt/format.h>

namespace exhibit::phonesim {

std::vector<std::string> split_words(std::string_view command) {
    std::vector<std::string> words;
    std::string cur;
    bool in_word = false;
    char quote = 0;
    for (char c : command) {
        if (quote) {
            if (c == quote)
                quote = 0;
            else
                cur.push_back(c);
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            in_word = true;
        } else if (c == ' ' || c == '\t' || c == '\n') {
            if (in_word)
                words.push_back(std::move(cur));
            cur.clear();
            in_word = false;
        } else {
            cur.push_back(c);
            in_word = true;
        }
    }
    if (in_word)
        words.push_back(std::move(cur));
    return words;
}

namespace {
ShellOutput content(const std::vector<std::string>& w, const Records& records) {
    if (w.size() < 2 || w[1] != "query")
        return {"", "usage: content query --uri <URI> [--projection <PROJECTION>]\n", 1};
    std::string uri;
    std::vector<std::string> projection;
    for (std::size_t i = 2; i + 1 < w.size(); i += 2) {
        if (w[i] == "--uri")
            uri = w[i + 1];
        else if (w[i] == "--projection") {
            std::size_t pos = 0;
            while (pos <= w[i + 1].size()) {
                auto end = w[i + 1].find(':', pos);
                if (end == std::string::npos)
                    end = w[i + 1].size();
                if (end > pos)
                    projection.push_back(w[i + 1].substr(pos, end - pos));
                pos = end + 1;
            }
        }
    }
    auto out = content_query(records, uri, projection);
    if (!out)
        return {"",
                fmt::format("Error while accessing "
                            "provider:{}\njava.lang.IllegalArgumentException: Unknown URI {}\n",
                            uri.substr(std::min(uri.size(), std::size_t{10})), uri),
                1};
    return {*out, "", 0};
}
}  // namespace

ShellOutput run_shell_command(std::string_view command, const PhoneIdentity& phone,
                              const Records& records) {
    auto w = split_words(command);
    if (w.empty())
        return {"", "interactive shells are not offered by this phone\n", 1};
    const auto& cmd = w[0];
    if (cmd == "getprop") {
        if (w.size() >= 2) {
            auto it = phone.properties.find(w[1]);
            return {(it == phone.properties.end() ? std::string() : it->second) + "\n", "", 0};
        }
        std::string out;
        for (const auto& [k, v] : phone.properties)
            out += fmt::format("[{}]: [{}]\n", k, v);
        return {out, "", 0};
    }
    if (cmd == "date") {
        auto now = static_cast<std::int64_t>(std::time(nullptr)) + phone.clock_offset_seconds;
        if (w.size() >= 2 && w[1] == "+%s")
            return {fmt::format("{}\n", now), "", 0};
        auto t = static_cast<std::time_t>(now);
        std::tm tm{};
        ::gmtime_r(&t, &tm);
        char buf[64];
        std::strftime(buf, sizeof buf, "%a %b %e %H:%M:%S UTC %Y", &tm);
        return {std::string(buf) + "\n", "", 0};
    }
    // `pm list packages [-f]`, and `cmd package list packages [-f]` (the "cmd" feature).
    bool is_pm = cmd == "pm" && w.size() >= 3 && w[1] == "list" && w[2] == "packages";
    bool is_cmd =
        cmd == "cmd" && w.size() >= 4 && w[1] == "package" && w[2] == "list" && w[3] == "packages";
    if (is_pm || is_cmd) {
        bool with_file = std::find(w.begin(), w.end(), "-f") != w.end();
        std::string out;
        for (const auto& p : records.packages)
            out += with_file ? fmt::format("package:/data/app/{}-1/base.apk={}\n", p, p)
                             : fmt::format("package:{}\n", p);
        return {out, "", 0};
    }
    if (cmd == "content")
        return content(w, records);
    if (cmd == "echo") {
        std::string out;
        for (std::size_t i = 1; i < w.size(); ++i)
            out += (i > 1 ? " " : "") + w[i];
        return {out + "\n", "", 0};
    }
    if (cmd == "id")
        return {"uid=2000(shell) gid=2000(shell) groups=2000(shell)\n", "", 0};
    return {"", fmt::format("/system/bin/sh: {}: inaccessible or not found\n", cmd), 127};
}

}  // namespace exhibit::phonesim
