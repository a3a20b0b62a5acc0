// The journal's MESSAGE_IDs and their catalog agree: every id declared in a message_ids
// header (or a module header's message_id namespace) has exactly one catalog entry and every
// entry an id; ids are 32 lower-case hex digits and unique; every id is logged somewhere;
// every log call above debug in the daemon and the drivers is an event with an id; no field
// is named after what must not leave the kiosk (serials, cases, officers, phone paths).
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>

#include "tests/journal/catalog_sources.hpp"

namespace exhibit::testing {
namespace {

bool is_id128(const std::string& s) {
    static const std::regex hex("[0-9a-f]{32}");
    return std::regex_match(s, hex);
}

TEST(MessageCatalog, EveryDeclaredIdIsWellFormedAndUnique) {
    const auto ids = declared_ids();
    ASSERT_GE(ids.size(), 40u) << "the message_id namespaces were not found";
    std::map<std::string, std::string> seen;  // id -> where
    for (const auto& d : ids) {
        const auto where = d.file + ": " + d.name;
        EXPECT_TRUE(is_id128(d.id)) << where << " = \"" << d.id << "\" is not 32 lower-case hex";
        auto [it, fresh] = seen.emplace(d.id, where);
        EXPECT_TRUE(fresh) << d.id << " is declared twice: " << it->second << " and " << where;
    }
}

TEST(MessageCatalog, EveryCatalogEntryIsWellFormedAndUnique) {
    const auto entries = catalog_entries(kCatalogFile);
    ASSERT_FALSE(entries.empty()) << kCatalogFile;
    std::set<std::string> seen;
    for (const auto& e : entries) {
        EXPECT_TRUE(is_id128(e.id))
            << "catalog entry \"-- " << e.id << "\": not 32 lower-case hex (or a language suffix)";
        EXPECT_TRUE(seen.insert(e.id).second) << e.id << " has two catalog entries";
        EXPECT_FALSE(e.headers.contains("Subject") ? e.headers.at("Subject").empty() : true)
            << e.id << " has no Subject:";
        EXPECT_EQ(e.headers.contains("Defined-By") ? e.headers.at("Defined-By") : "", "exhibit")
            << e.id;
        EXPECT_TRUE(e.headers.contains("Support")) << e.id << " has no Support:";
        EXPECT_GE(e.text.size(), 40u) << e.id << " explains nothing";
    }
}

// journalctl -x replaces @NAME@ by the entry's field NAME when NAME is upper-case letters and
// '_' only (systemd's replace_var): a digit leaves it as written. And NAME must be a field
// exhibitd writes.
TEST(MessageCatalog, EverySubstitutionIsAFieldJournalctlCanFill) {
    std::string code;
    for (const auto& f : daemon_sources())
        code += read_text(kSourceTop / f);
    static const std::regex var("@([A-Za-z0-9_]+)@");
    std::size_t seen = 0;
    for (const auto& e : catalog_entries(kCatalogFile)) {
        for (std::sregex_iterator it(e.text.begin(), e.text.end(), var), end; it != end; ++it) {
            ++seen;
            const std::string name = (*it)[1];
            EXPECT_EQ(name.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ_"), std::string::npos)
                << e.id << ": @" << name << "@ is not substituted by journalctl";
            EXPECT_NE(code.find('"' + name + '"'), std::string::npos)
                << e.id << ": @" << name << "@ is no field exhibitd writes";
        }
    }
    EXPECT_GE(seen, 20u);
}

TEST(MessageCatalog, CodeAndCatalogHoldTheSameIds) {
    std::map<std::string, std::string> in_code;
    for (const auto& d : declared_ids())
        in_code[d.id] = d.file + ": " + d.name;
    std::set<std::string> in_catalog;
    for (const auto& e : catalog_entries(kCatalogFile))
        in_catalog.insert(e.id);
    for (const auto& [id, where] : in_code)
        EXPECT_TRUE(in_catalog.contains(id)) << where << " (" << id << ") has no catalog entry";
    for (const auto& id : in_catalog)
        EXPECT_TRUE(in_code.contains(id)) << "catalog entry " << id << " has no id in the code";
}

TEST(MessageCatalog, EveryIdIsLogged) {
    std::string code;
    for (const auto& f : daemon_sources())
        code += read_text(kSourceTop / f);
    for (const auto& d : declared_ids()) {
        const auto use = "message_id::" + d.name;
        EXPECT_NE(code.find(use), std::string::npos)
            << d.file << ": " << d.name << " is never logged";
    }
}

TEST(MessageCatalog, EveryLogCallAboveDebugIsAnEvent) {
    static const std::regex plain(R"(log::(info|notice|warning|error|write)\s*\()");
    for (const auto& f : daemon_sources()) {
        if (f.string().starts_with("common/log."))
            continue;
        const auto text = read_text(kSourceTop / f);
        for (std::sregex_iterator it(text.begin(), text.end(), plain), end; it != end; ++it) {
            const auto line = std::count(text.begin(), text.begin() + it->position(), '\n') + 1;
            ADD_FAILURE() << f.string() << ":" << line << ": " << it->str()
                          << " has no MESSAGE_ID: use log::event";
        }
    }
}

TEST(MessageCatalog, NoFieldCarriesWhatMustNotLeaveTheKiosk) {
    static const std::regex field(R"re("(EXHIBIT_[A-Z0-9_]+)")re");
    static const std::regex forbidden(
        "EXHIBIT_[A-Z0-9_]*(SERIAL|CASE|EXHIBIT_REF|REFERENCE|OFFICER|PERSON|SOURCE_PATH|"
        "FILE_NAME|FILENAME)[A-Z0-9_]*");
    std::size_t fields = 0;
    for (const auto& f : daemon_sources()) {
        const auto text = read_text(kSourceTop / f);
        for (std::sregex_iterator it(text.begin(), text.end(), field), end; it != end; ++it) {
            ++fields;
            const std::string name = (*it)[1];
            EXPECT_FALSE(std::regex_match(name, forbidden)) << f.string() << ": " << name;
        }
    }
    EXPECT_GE(fields, 20u) << "no journal fields found";
}

}  // namespace
}  // namespace exhibit::testing
