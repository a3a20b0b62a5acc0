// The phone's read-only shell: what getprop, date, pm, content and sh print.
#include "phonesim/shell_commands.hpp"

#include <gtest/gtest.h>

#include <ctime>

namespace exhibit::phonesim {
namespace {

PhoneIdentity phone() {
    PhoneIdentity p;
    p.properties = {{"ro.product.model", "Pixel 7"}, {"ro.serialno", "ABC123"}};
    p.clock_offset_seconds = -7200;
    return p;
}

Records records() {
    auto r = parse_records(R"({"sms": [{"_id": 1, "type": 1, "body": "hi, there"}],
                               "packages": ["com.whatsapp", "uk.gov.nhs"]})");
    return r ? *r : Records{};
}

TEST(PhonesimShell, SplitsWordsLikeShWithoutExpanding) {
    EXPECT_EQ(split_words("  content query  --uri 'content://sms/inbox' "),
              (std::vector<std::string>{"content", "query", "--uri", "content://sms/inbox"}));
    EXPECT_EQ(split_words(R"(echo "a b" 'c"d' e''f $HOME)"),
              (std::vector<std::string>{"echo", "a b", "c\"d", "ef", "$HOME"}));
    EXPECT_EQ(split_words("echo ''"), (std::vector<std::string>{"echo", ""}));
    EXPECT_TRUE(split_words(" \t").empty());
}

TEST(PhonesimShell, GetpropOneOrAll) {
    auto one = run_shell_command("getprop ro.product.model", phone(), records());
    EXPECT_EQ(one.out, "Pixel 7\n");
    EXPECT_EQ(one.exit_code, 0);
    EXPECT_EQ(run_shell_command("getprop no.such.prop", phone(), records()).out, "\n");
    EXPECT_EQ(run_shell_command("getprop", phone(), records()).out,
              "[ro.product.model]: [Pixel 7]\n[ro.serialno]: [ABC123]\n");
}

TEST(PhonesimShell, DateCarriesTheClockOffset) {
    auto before = std::time(nullptr);
    auto r = run_shell_command("date +%s", phone(), records());
    auto after = std::time(nullptr);
    ASSERT_EQ(r.exit_code, 0);
    auto t = std::stoll(r.out);
    EXPECT_GE(t, before - 7200);
    EXPECT_LE(t, after - 7200);
    EXPECT_EQ(r.out.back(), '\n');
}

TEST(PhonesimShell, PackagesThroughPmAndCmd) {
    EXPECT_EQ(run_shell_command("pm list packages", phone(), records()).out,
              "package:com.whatsapp\npackage:uk.gov.nhs\n");
    EXPECT_EQ(run_shell_command("cmd package list packages", phone(), records()).out,
              "package:com.whatsapp\npackage:uk.gov.nhs\n");
    EXPECT_EQ(run_shell_command("pm list packages -f", phone(), records()).out,
              "package:/data/app/com.whatsapp-1/base.apk=com.whatsapp\n"
              "package:/data/app/uk.gov.nhs-1/base.apk=uk.gov.nhs\n");
}

TEST(PhonesimShell, ContentQueryWithQuotedArguments) {
    auto r = run_shell_command("content query --uri 'content://sms/inbox' --projection body:_id",
                               phone(), records());
    EXPECT_EQ(r.out, "Row: 0 body=hi, there, _id=1\n");
    auto unknown = run_shell_command("content query --uri content://nope", phone(), records());
    EXPECT_NE(unknown.exit_code, 0);
    EXPECT_NE(unknown.err.find("content://nope"), std::string::npos);
}

TEST(PhonesimShell, EchoAndUnknownCommands) {
    EXPECT_EQ(run_shell_command("echo a  b", phone(), records()).out, "a b\n");
    auto missing = run_shell_command("rm -rf /sdcard", phone(), records());
    EXPECT_EQ(missing.exit_code, 127);
    EXPECT_EQ(missing.out, "");
    EXPECT_EQ(missing.err, "/system/bin/sh: rm: inaccessible or not found\n");
}

}  // namespace
}  // namespace exhibit::phonesim
