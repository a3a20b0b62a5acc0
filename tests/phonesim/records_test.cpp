// --records: loading, and `content query` printed exactly as Android's Content.java does.
#include "phonesim/records.hpp"

#include <gtest/gtest.h>

namespace exhibit::phonesim {
namespace {

constexpr std::string_view kRecords = R"({
  "properties": {"ro.product.brand": "google", "ro.build.version.sdk": 34, "persist.x": true},
  "sms": [
    {"_id": 1, "address": "+44 7700", "type": 1, "body": "a, b=c\nnext line", "subject": null},
    {"_id": 2, "address": "BANK", "type": 2, "body": "", "subject": "NULL"},
    {"_id": 3, "address": "Mum", "type": 1, "body": "Row: 7 _id=9, body=forged", "date": 1718222460000}
  ],
  "call_log": [{"number": "999", "duration": 61, "type": 2, "name": null, "rate": 0.5}],
  "contacts": [],
  "packages": ["com.whatsapp", "uk.gov.nhs"]
})";

Records load() {
    auto r = parse_records(kRecords);
    EXPECT_TRUE(r) << (r ? "" : r.error().describe());
    return r ? *r : Records{};
}

TEST(PhonesimRecords, LoadsEveryTableKeepingColumnOrder) {
    auto r = load();
    EXPECT_EQ(r.properties.at("ro.product.brand"), "google");
    EXPECT_EQ(r.properties.at("ro.build.version.sdk"), "34");
    EXPECT_EQ(r.properties.at("persist.x"), "1");
    ASSERT_EQ(r.sms.size(), 3u);
    EXPECT_EQ(r.sms[0].begin().key(), "_id");
    EXPECT_EQ(r.call_log.size(), 1u);
    EXPECT_TRUE(r.contacts.empty());
    EXPECT_EQ(r.packages, (std::vector<std::string>{"com.whatsapp", "uk.gov.nhs"}));
}

TEST(PhonesimRecords, ContentQueryPrintsValuesRawInCursorOrder) {
    auto r = load();
    EXPECT_EQ(content_query(r, "content://sms", {}),
              "Row: 0 _id=1, address=+44 7700, type=1, body=a, b=c\nnext line, subject=NULL\n"
              "Row: 1 _id=2, address=BANK, type=2, body=, subject=NULL\n"
              "Row: 2 _id=3, address=Mum, type=1, body=Row: 7 _id=9, body=forged, "
              "date=1718222460000\n");
}

TEST(PhonesimRecords, InboxAndSentSelectByTypeAndNumberFromZero) {
    auto r = load();
    EXPECT_EQ(content_query(r, "content://sms/inbox", {"_id", "address"}),
              "Row: 0 _id=1, address=+44 7700\nRow: 1 _id=3, address=Mum\n");
    EXPECT_EQ(content_query(r, "content://sms/sent", {"body", "_id"}), "Row: 0 body=, _id=2\n");
}

TEST(PhonesimRecords, ProjectionOrdersColumnsAndMissingOnesAreNull) {
    auto r = load();
    EXPECT_EQ(content_query(r, "content://call_log/calls", {"type", "name", "number", "missing"}),
              "Row: 0 type=2, name=NULL, number=999, missing=NULL\n");
    EXPECT_EQ(content_query(r, "content://call_log/calls", {"rate"}), "Row: 0 rate=0.5\n");
}

TEST(PhonesimRecords, EmptyResultAndUnknownUri) {
    auto r = load();
    EXPECT_EQ(content_query(r, "content://com.android.contacts/data", {}), "No result found.\n");
    EXPECT_FALSE(content_query(r, "content://mms", {}));
    EXPECT_FALSE(content_query(r, "content://sms/inbox/extra", {}));
}

TEST(PhonesimRecords, MalformedFilesAreRefusedWithTheReason) {
    for (std::string_view bad :
         {"[]", "{", R"({"sms": {}})", R"({"sms": [1]})", R"({"properties": []})",
          R"({"packages": [1]})", R"({"call_log": "x"})"}) {
        auto r = parse_records(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, Errc::invalid_argument);
        EXPECT_NE(r.error().message.find("records"), std::string::npos);
    }
    EXPECT_TRUE(parse_records("{}"));
}

}  // namespace
}  // namespace exhibit::phonesim
