// The parsers of StartExtraction's and Preview's a{sv} arguments: every rejection names the
// argument and says what is allowed; what passes is exactly what the caller meant.
#include <gtest/gtest.h>

#include "daemon/bus/requests.hpp"

namespace exhibit::bus {
namespace {

using Strings = std::vector<std::string>;

ValueMap good_case() {
    return {{"case_reference", std::string("CR/2026/1")},
            {"exhibit_reference", std::string("JB/1")},
            {"officer_id", std::string("PC1")},
            {"basis", std::string("consent")},
            {"notice_version", std::string("DPN-1")},
            {"agreed_by", std::string("Jane")}};
}

std::string error_of(const Result<store::CaseSpec>& r) {
    return r ? std::string("(accepted)") : r.error().message;
}

TEST(ParseScope, CategoriesAndAnInclusiveDateRange) {
    auto s = parse_scope({{"categories", Strings{"photos", "messages"}},
                          {"from", std::string("2024-01-01")},
                          {"to", std::string("2024-01-31")}});
    ASSERT_TRUE(s) << s.error().message;
    EXPECT_EQ(s->categories,
              (std::set{drivers::Category::photos, drivers::Category::messages}));
    EXPECT_EQ(*s->from_ms, 1704067200000);                    // 2024-01-01T00:00Z
    EXPECT_EQ(*s->until_ms, 1704067200000 + 31 * 86400000LL);  // the end of 31 January
    auto open = parse_scope({{"categories", Strings{"videos"}}});
    ASSERT_TRUE(open);
    EXPECT_FALSE(open->from_ms);
    EXPECT_FALSE(open->until_ms);
}

TEST(ParseScope, EveryBadScopeSaysWhatIsWrong) {
    struct Case {
        ValueMap args;
        std::string says;
    };
    const std::vector<Case> cases = {
        {{}, "at least one category"},
        {{{"categories", Strings{}}}, "at least one category"},
        {{{"categories", Strings{"selfies"}}}, "unknown category \"selfies\" (known: photos"},
        {{{"categories", std::string("photos")}}, "\"categories\" must be a list of strings"},
        {{{"categories", Strings{"photos"}}, {"from", std::string("2024-13-01")}}, "from:"},
        {{{"categories", Strings{"photos"}}, {"to", std::uint64_t{20240101}}},
         "\"to\" must be a string"},
        {{{"categories", Strings{"photos"}},
          {"from", std::string("2024-02-01")},
          {"to", std::string("2024-01-01")}},
         "the date range is reversed"},
        {{{"categories", Strings{"photos"}}, {"since", std::string("2024-01-01")}},
         "scope: unknown key \"since\""},
    };
    for (const auto& c : cases) {
        auto s = parse_scope(c.args);
        ASSERT_FALSE(s) << c.says;
        EXPECT_EQ(s.error().code, Errc::invalid_argument);
        EXPECT_NE(s.error().message.find(c.says), std::string::npos) << s.error().message;
    }
}

TEST(ParseCase, AConsentCaseAsGiven) {
    auto c = parse_case(good_case());
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->case_reference, "CR/2026/1");
    EXPECT_EQ(c->officer_id, "PC1");
    EXPECT_EQ(c->basis, store::LawfulBasis::consent);
    EXPECT_EQ(c->basis_detail["notice_version"], "DPN-1");
    EXPECT_EQ(c->basis_detail["agreed_by"], "Jane");
    EXPECT_FALSE(c->owner);
}

TEST(ParseCase, TheSignedInOfficerIsTheOneRecorded) {
    auto args = good_case();
    args.erase("officer_id");
    EXPECT_NE(error_of(parse_case(args)).find("\"officer_id\" is required"), std::string::npos);
    auto c = parse_case(args, std::string("PC7"));
    ASSERT_TRUE(c);
    EXPECT_EQ(c->officer_id, "PC7");
    args["officer_id"] = std::string("PC7");
    EXPECT_TRUE(parse_case(args, std::string("PC7"))) << "repeating the officer is fine";
    args["officer_id"] = std::string("PC8");
    EXPECT_NE(error_of(parse_case(args, std::string("PC7"))).find("not the officer signed in"),
              std::string::npos);
}

TEST(ParseCase, OwnerAndAnotherLawfulBasis) {
    auto args = good_case();
    args["owner"] = std::string("victim");
    EXPECT_EQ(parse_case(args)->owner, store::Owner::victim);
    args["owner"] = std::string("suspect");
    EXPECT_NE(error_of(parse_case(args)).find("owner must be \"victim\", \"witness\" or \"other\""),
              std::string::npos);

    ValueMap other = {{"case_reference", std::string("CR")},
                      {"exhibit_reference", std::string("EX")},
                      {"officer_id", std::string("PC1")},
                      {"basis", std::string("other")},
                      {"basis_reason", std::string("s.19 production order")}};
    auto c = parse_case(other);
    ASSERT_TRUE(c);
    EXPECT_EQ(c->basis, store::LawfulBasis::other);
    EXPECT_EQ(c->basis_detail["basis_reason"], "s.19 production order");
    other["basis_reason"] = std::string(501, 'x');
    EXPECT_NE(error_of(parse_case(other)).find("longer than 500"), std::string::npos);
}

TEST(ParseCase, HostileOrMissingFieldsAreNamed) {
    struct Case {
        std::string key;
        Value value;
        std::string says;
    };
    const std::vector<Case> cases = {
        {"case_reference", std::string(""), "\"case_reference\" must not be empty"},
        {"case_reference", std::string("   "), "\"case_reference\" must not be empty"},
        {"case_reference", std::string(129, 'x'), "longer than 128"},
        {"exhibit_reference", std::string("JB\n1"), "control character"},
        {"exhibit_reference", std::string("JB\x7f"), "control character"},
        {"officer_id", std::uint64_t{7}, "\"officer_id\" must be a string"},
        {"basis", std::string("warrant"), "basis must be \"consent\" or \"other\""},
        {"notice_version", std::string(""), "consent needs notice_version"},
        {"agreed_by", std::string(""), "consent needs notice_version"},
        {"case_ref", std::string("x"), "case: unknown key \"case_ref\""},
    };
    for (const auto& c : cases) {
        auto args = good_case();
        args[c.key] = c.value;
        auto r = parse_case(args);
        ASSERT_FALSE(r) << c.key;
        EXPECT_EQ(r.error().code, Errc::invalid_argument);
        EXPECT_NE(r.error().message.find(c.says), std::string::npos)
            << c.key << ": " << r.error().message;
    }
}

TEST(ParsePriority, NormalUrgentOrANamedError) {
    EXPECT_EQ(parse_priority({}).value(), store::Priority::normal);
    EXPECT_EQ(parse_priority({{"priority", std::string("urgent")}}).value(),
              store::Priority::urgent);
    auto bad = parse_priority({{"priority", std::string("asap")}});
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("\"normal\" or \"urgent\", not \"asap\""),
              std::string::npos);
}

}  // namespace
}  // namespace exhibit::bus
