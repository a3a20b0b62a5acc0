// The kiosk's own rules, as functions: the same field checks exhibitd applies (so the reason
// shows beside the field before any call), the one mapping from D-Bus errors to sentences
// (never a raw error name), and the words for sizes and categories.
#include <gtest/gtest.h>

#include "kiosk/src/error_text.hpp"
#include "kiosk/src/format.hpp"
#include "kiosk/src/validation.hpp"

namespace exhibit::kiosk {
namespace {

TEST(KioskValidation, TextFieldsFollowExhibitdsRules) {
    EXPECT_TRUE(check_text(QStringLiteral("CR/2026/0042")).isEmpty());
    EXPECT_FALSE(check_text(QString()).isEmpty());
    EXPECT_FALSE(check_text(QStringLiteral("   ")).isEmpty()) << "only spaces is empty";
    EXPECT_TRUE(check_text(QString(), false).isEmpty()) << "optional may be empty";
    EXPECT_TRUE(check_text(QString(128, QLatin1Char('a'))).isEmpty());
    EXPECT_FALSE(check_text(QString(129, QLatin1Char('a'))).isEmpty());
    // exhibitd counts bytes of UTF-8: 64 two-byte letters fit, 65 do not.
    EXPECT_TRUE(check_text(QString(64, QChar(0xe9))).isEmpty());
    EXPECT_FALSE(check_text(QString(65, QChar(0xe9))).isEmpty());
    EXPECT_FALSE(check_text(QStringLiteral("a\tb")).isEmpty());
    EXPECT_FALSE(check_text(QStringLiteral("a\x7f")).isEmpty());
    EXPECT_TRUE(check_text(QStringLiteral("Zoë O'Neill-Smith")).isEmpty());
}

TEST(KioskValidation, PinIsFourToTwelveDigits) {
    EXPECT_TRUE(check_pin(QStringLiteral("2468")).isEmpty());
    EXPECT_TRUE(check_pin(QStringLiteral("123456789012")).isEmpty());
    EXPECT_FALSE(check_pin(QStringLiteral("123")).isEmpty());
    EXPECT_FALSE(check_pin(QStringLiteral("1234567890123")).isEmpty());
    EXPECT_FALSE(check_pin(QStringLiteral("12a4")).isEmpty());
}

TEST(KioskValidation, PhoneNumbersAreCleanedAndBounded) {
    EXPECT_EQ(clean_number(QStringLiteral("+44 (0) 7700-900 123")),
              QStringLiteral("+4407700900123"));
    EXPECT_TRUE(check_number(QStringLiteral("999")).isEmpty());
    EXPECT_FALSE(check_number(QStringLiteral("12")).isEmpty());
    EXPECT_FALSE(check_number(QString(21, QLatin1Char('1'))).isEmpty());
    EXPECT_FALSE(check_number(QStringLiteral("07700 9001x3")).isEmpty());
    EXPECT_FALSE(check_number(QStringLiteral("1+23")).isEmpty()) << "+ only in front";
}

TEST(KioskValidation, DateRangeNotReversed) {
    EXPECT_TRUE(check_range(QDate(2024, 1, 1), QDate(2024, 1, 1)).isEmpty());
    EXPECT_TRUE(check_range(QDate(), QDate(2024, 1, 1)).isEmpty());
    EXPECT_FALSE(check_range(QDate(2024, 2, 1), QDate(2024, 1, 1)).isEmpty());
}

TEST(KioskErrorText, EveryErrorIsASentenceWithoutItsName) {
    const char* names[] = {"InvalidArgument", "NotFound",    "Busy",   "Unsupported",
                           "NotAuthorized",   "LowDisk",     "Failed", "WrongPin",
                           "Locked",          "SomethingNew"};
    for (const char* n : names) {
        const QString name = QStringLiteral("org.exhibit.Exhibit1.Error.") + QLatin1String(n);
        const QString s = error_sentence(name, QStringLiteral("a reason"));
        EXPECT_FALSE(s.contains(QLatin1String("org.exhibit"))) << n;
        EXPECT_FALSE(s.contains(QLatin1String(n)) && QLatin1String(n) != QLatin1String("Busy"))
            << n << ": " << s.toStdString();
        EXPECT_TRUE(s.endsWith(QLatin1Char('.'))) << s.toStdString();
    }
    for (const char* n : {"ServiceUnknown", "NoReply", "Disconnected", "NameHasNoOwner"}) {
        const QString s = error_sentence(
            QStringLiteral("org.freedesktop.DBus.Error.") + QLatin1String(n), QString());
        EXPECT_TRUE(s.contains(QLatin1String("reconnects by itself"))) << s.toStdString();
    }
}

TEST(KioskErrorText, PinErrorsSayHowManyTriesAndUntilWhen) {
    auto wrong = error_sentence(
        QStringLiteral("org.exhibit.Exhibit1.Error.WrongPin"),
        QStringLiteral("wrong officer id or PIN (3 tries left before this id is locked for 15 "
                       "minutes)"));
    EXPECT_TRUE(wrong.contains(QLatin1String(": 3."))) << wrong.toStdString();
    auto locked = error_sentence(QStringLiteral("org.exhibit.Exhibit1.Error.Locked"),
                                 QStringLiteral("officer id 4711 is locked until 14:35 after 5 "
                                                "wrong PINs"));
    EXPECT_TRUE(locked.contains(QLatin1String("after 14:35"))) << locked.toStdString();
    EXPECT_FALSE(locked.contains(QLatin1String("4711"))) << "the screen does not repeat the id";
}

TEST(KioskFormat, SizesAndCategoriesInWords) {
    EXPECT_EQ(format_bytes(812), QStringLiteral("812 bytes"));
    EXPECT_EQ(format_bytes(9961472), QStringLiteral("9.5 MiB"));
    EXPECT_EQ(format_bytes(3ULL << 30), QStringLiteral("3.0 GiB"));
    EXPECT_EQ(category_count(QStringLiteral("photos"), 24), QStringLiteral("24 photos"));
    EXPECT_EQ(category_count(QStringLiteral("videos"), 1), QStringLiteral("1 video"));
    EXPECT_EQ(category_name(QStringLiteral("call_log")), QStringLiteral("Call log"));
    EXPECT_EQ(format_duration(3725), QStringLiteral("1 h 02 min"));
}

}  // namespace
}  // namespace exhibit::kiosk
