#include "drivers/adb/content_query.hpp"

#include <gtest/gtest.h>

namespace exhibit::adb {
namespace {

const std::vector<std::string> kColumns = {"_id", "address", "date", "body"};

TEST(ContentQuery, PlainRows) {
    auto rows = parse_content_query(
        "Row: 0 _id=1, address=+441234, date=1700000000000, body=hello\n"
        "Row: 1 _id=2, address=+449999, date=1700000000001, body=bye\n",
        kColumns);
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->size(), 2u);
    EXPECT_EQ((*rows)[1].at("address"), "+449999");
    EXPECT_EQ((*rows)[0].at("body"), "hello");
}

TEST(ContentQuery, ValuesWithCommasEqualsAndNewlinesSurvive) {
    auto rows = parse_content_query(
        "Row: 0 _id=1, address=Mum, date=5, body=see you at 5, ok? a=b, c = d\nsecond line\n\nRow: "
        "1 after\n"
        "Row: 1 _id=2, address=NULL, date=6, body=\n"
        "Row: 2 _id=3, address=x, address=y, date=7, body=NULL\n",
        kColumns);
    ASSERT_TRUE(rows) << rows.error().describe();
    ASSERT_EQ(rows->size(), 3u);
    EXPECT_EQ((*rows)[0].at("body"), "see you at 5, ok? a=b, c = d\nsecond line\n\nRow: 1 after");
    EXPECT_EQ((*rows)[1].at("address"), std::nullopt);
    EXPECT_EQ((*rows)[1].at("body"), "");
    EXPECT_EQ((*rows)[2].at("address"), "x, address=y");
    EXPECT_EQ((*rows)[2].at("body"), std::nullopt);
}

TEST(ContentQuery, CrLfFromOldPhones) {
    auto rows = parse_content_query(
        "Row: 0 _id=1, address=a, date=1, body=x\r\nRow: 1 _id=2, address=b, date=2, body=y\r\n",
        kColumns);
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->size(), 2u);
    EXPECT_EQ((*rows)[0].at("body"), "x");
}

TEST(ContentQuery, EmptyAndErrors) {
    EXPECT_TRUE(parse_content_query("No result found.\n", kColumns)->empty());
    EXPECT_TRUE(parse_content_query("", kColumns)->empty());
    auto err = parse_content_query(
        "Error while accessing provider:sms\njava.lang.SecurityException\n", kColumns);
    ASSERT_FALSE(err);
    EXPECT_NE(err.error().message.find("Error while accessing provider"), std::string::npos);
    EXPECT_FALSE(parse_content_query("Row: 0 _id=1, date=5\n", kColumns))
        << "a missing column is an error";
}

}  // namespace
}  // namespace exhibit::adb
