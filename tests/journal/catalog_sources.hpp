// What the journal tests read from the sources: every MESSAGE_ID declared in a message_id
// namespace of daemon/ and drivers/, and every entry of packaging/journald/exhibit.catalog.
#pragma once

#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace exhibit::testing {

inline const std::filesystem::path kSourceTop = EXHIBIT_SOURCE_DIR;
inline const std::filesystem::path kCatalogFile =
    kSourceTop / "packaging" / "journald" / "exhibit.catalog";

inline std::string read_text(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// Every C++ source and header under daemon/ and drivers/ (and common/), relative to the top.
inline std::vector<std::filesystem::path> daemon_sources() {
    std::vector<std::filesystem::path> files;
    for (const char* top : {"common", "daemon", "drivers"})
        for (const auto& e : std::filesystem::recursive_directory_iterator(kSourceTop / top))
            if (e.is_regular_file() &&
                (e.path().extension() == ".cpp" || e.path().extension() == ".hpp"))
                files.push_back(std::filesystem::relative(e.path(), kSourceTop));
    return files;
}

struct DeclaredId {
    std::string file;  // relative to the top
    std::string name;  // kDaemonStarted
    std::string id;    // as written, checked by the tests
};

// The string constants inside every `namespace ... message_id {` block.
inline std::vector<DeclaredId> declared_ids() {
    static const std::regex open(R"(namespace\s+[\w:]*message_id\s*\{)");
    static const std::regex decl(R"re(std::string_view\s+(k\w+)\s*=\s*"([^"]*)")re");
    std::vector<DeclaredId> out;
    for (const auto& f : daemon_sources()) {
        const auto text = read_text(kSourceTop / f);
        for (std::sregex_iterator it(text.begin(), text.end(), open), end; it != end; ++it) {
            const auto from = static_cast<std::size_t>(it->position() + it->length());
            const auto to = text.find("\n}", from);
            const auto block = text.substr(from, to - from);
            for (std::sregex_iterator d(block.begin(), block.end(), decl); d != end; ++d)
                out.push_back({f.string(), (*d)[1], (*d)[2]});
        }
    }
    return out;
}

struct CatalogEntry {
    std::string id;
    std::map<std::string, std::string> headers;  // Subject, Defined-By, ...
    std::string text;
};

// The entries of a catalog file in systemd's format: "-- ID" [" LANG"], headers, a blank
// line, the text up to the next "-- " line. Lines starting with '#' are comments.
inline std::vector<CatalogEntry> catalog_entries(const std::filesystem::path& file) {
    std::vector<CatalogEntry> out;
    std::istringstream in(read_text(file));
    std::string line;
    bool in_headers = false;
    while (std::getline(in, line)) {
        if (line.starts_with("#"))
            continue;
        if (line.starts_with("-- ")) {
            out.push_back({line.substr(3), {}, {}});
            in_headers = true;
            continue;
        }
        if (out.empty())
            continue;
        if (in_headers) {
            if (line.empty()) {
                in_headers = false;
                continue;
            }
            const auto colon = line.find(": ");
            if (colon != std::string::npos)
                out.back().headers[line.substr(0, colon)] = line.substr(colon + 2);
            continue;
        }
        out.back().text += line + "\n";
    }
    return out;
}

}  // namespace exhibit::testing
