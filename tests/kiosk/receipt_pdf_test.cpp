// The paper receipts: the case-file PDF carries every field, the items per category and the
// manifest's SHA-256 (and a QR code), the easy-read copy says what was taken and how to ask
// about it; "printing" runs the configured lp command with both files, and a printer that
// refuses is reported with the files' places. Read back with poppler's pdftotext.
#include <gtest/gtest.h>

#include <QDir>
#include <QFile>
#include <QGuiApplication>
#include <QTemporaryDir>

#include "kiosk/src/kiosk_config.hpp"
#include "kiosk/src/receipt_pdf.hpp"
#include "tests/support/process.hpp"

namespace exhibit::kiosk {
namespace {

QGuiApplication& app() {
    static int argc = 1;
    static char name[] = "receipt_pdf_test";
    static char* argv[] = {name, nullptr};
    qputenv("QT_QPA_PLATFORM", "offscreen");
    static QGuiApplication a(argc, argv);
    return a;
}

const QString kSha =
    QStringLiteral("3f2a9c0d5e8b7a6f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1");

ReceiptText sample() {
    ReceiptText r;
    r.values = {{QStringLiteral("case_reference"), QStringLiteral("CR/2026/0042")},
                {QStringLiteral("exhibit_reference"), QStringLiteral("JB/1")},
                {QStringLiteral("officer_id"), QStringLiteral("4711")},
                {QStringLiteral("owner"), QStringLiteral("victim")},
                {QStringLiteral("scope"), QStringLiteral("photos, messages; 2024-01-01 to -")},
                {QStringLiteral("state"), QStringLiteral("completed")},
                {QStringLiteral("items"), 17ULL},
                {QStringLiteral("items_incomplete"), 0ULL},
                {QStringLiteral("bytes"), 1236912ULL},
                {QStringLiteral("seal_sha256"), kSha},
                {QStringLiteral("kiosk_id"), QStringLiteral("kiosk-test")}};
    r.categories = {
        QVariantMap{{QStringLiteral("name"), QStringLiteral("photos")},
                    {QStringLiteral("label"), QStringLiteral("Photos")},
                    {QStringLiteral("items"), 16ULL},
                    {QStringLiteral("bytes"), 1234567ULL},
                    {QStringLiteral("bytesText"), QStringLiteral("1.2 MiB (1234567 bytes)")}},
        QVariantMap{{QStringLiteral("name"), QStringLiteral("messages")},
                    {QStringLiteral("label"), QStringLiteral("Messages")},
                    {QStringLiteral("items"), 1ULL},
                    {QStringLiteral("bytes"), 2345ULL},
                    {QStringLiteral("bytesText"), QStringLiteral("2.3 KiB (2345 bytes)")}}};
    r.delivery = QStringLiteral("Goes to the DFU store tonight.");
    r.device = QStringLiteral("Google Pixel 8 (serial KIOSK0001)");
    r.basis = QStringLiteral("Agreement of Alex Smith to notice DPN-TEST-1");
    r.officer_name = QStringLiteral("PC Jo Bloggs");
    r.contact = QStringLiteral("Call 101 and give the reference above.");
    r.force_name = QStringLiteral("Test Constabulary");
    return r;
}

std::string text_of(const QString& pdf) {
    auto [rc, out] = testing::run_command({"pdftotext", "-layout", pdf.toStdString(), "-"},
                                          std::chrono::seconds(30));
    EXPECT_EQ(rc, 0) << out;
    return out;
}

TEST(ReceiptPdf, CaseFileAndEasyReadCopySayWhatWasTaken) {
    app();
    QTemporaryDir dir;
    QString error;
    auto [case_file, easy] = write_receipts(sample(), dir.path() + QStringLiteral("/r"), &error);
    ASSERT_FALSE(case_file.isEmpty()) << error.toStdString();
    const auto text = text_of(case_file);
    for (const char* needle : {"CR/2026/0042", "JB/1", "4711 (PC Jo Bloggs)", "Google Pixel 8",
                               "Agreement of Alex Smith to notice DPN-TEST-1", "16 items",
                               "1234567 bytes", "Test Constabulary"})
        EXPECT_NE(text.find(needle), std::string::npos) << needle << "\n" << text;
    // The seal may be wrapped; compare it without white space.
    std::string flat;
    for (char c : text)
        if (!isspace(static_cast<unsigned char>(c)))
            flat += c;
    EXPECT_NE(flat.find(kSha.toStdString()), std::string::npos) << text;
    const auto easy_text = text_of(easy);
    for (const char* needle : {"What we copied from your phone", "16 photos", "1 message",
                               "How to ask about it", "Call 101", "Refusing does not stop"})
        EXPECT_NE(easy_text.find(needle), std::string::npos) << needle << "\n" << easy_text;
}

TEST(ReceiptPdf, PrintsBothThroughTheConfiguredLpOrSaysWhereTheyAre) {
    app();
    QTemporaryDir dir;
    // A stand-in for CUPS' lp that records its arguments (no print server runs in tests).
    const QString lp = dir.path() + QStringLiteral("/lp");
    const QString args = dir.path() + QStringLiteral("/lp.args");
    QFile script(lp);
    ASSERT_TRUE(script.open(QIODevice::WriteOnly));
    script.write(QStringLiteral("#!/bin/sh\nprintf '%s\\n' \"$@\" > %1\n").arg(args).toUtf8());
    script.close();
    script.setPermissions(QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner);
    QFile conf(dir.path() + QStringLiteral("/kiosk.conf"));
    ASSERT_TRUE(conf.open(QIODevice::WriteOnly));
    conf.write(
        QStringLiteral("[kiosk]\nprinter = front-desk\nlp_command = %1\nreceipt_folder = %2/r\n")
            .arg(lp, dir.path())
            .toUtf8());
    conf.close();
    auto said = write_and_print(sample(), KioskConfig::load(conf.fileName()));
    EXPECT_TRUE(said.startsWith(QLatin1String("Printed on front-desk"))) << said.toStdString();
    QFile recorded(args);
    ASSERT_TRUE(recorded.open(QIODevice::ReadOnly));
    const auto lines =
        QString::fromUtf8(recorded.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    ASSERT_EQ(lines.size(), 4) << said.toStdString();
    EXPECT_EQ(lines[0], QStringLiteral("-d"));
    EXPECT_EQ(lines[1], QStringLiteral("front-desk"));
    EXPECT_TRUE(lines[2].endsWith(QLatin1String("-receipt.pdf")));
    EXPECT_TRUE(lines[3].endsWith(QLatin1String("-easy-read.pdf")));

    // A printer that refuses: the sentence says so and where the files are.
    ASSERT_TRUE(script.open(QIODevice::WriteOnly | QIODevice::Truncate));
    script.write("#!/bin/sh\necho 'lp: The printer or class does not exist.' >&2\nexit 1\n");
    script.close();
    said = write_and_print(sample(), KioskConfig::load(conf.fileName()));
    EXPECT_TRUE(said.contains(QLatin1String("did not take the receipts"))) << said.toStdString();
    EXPECT_TRUE(said.contains(QLatin1String("does not exist"))) << said.toStdString();
    EXPECT_TRUE(said.contains(QLatin1String(".pdf"))) << said.toStdString();

    // No printer configured: saved, and the sentence names both files.
    ASSERT_TRUE(conf.open(QIODevice::WriteOnly | QIODevice::Truncate));
    conf.write(
        QStringLiteral("[kiosk]\nprinter =\nreceipt_folder = %1/r\n").arg(dir.path()).toUtf8());
    conf.close();
    said = write_and_print(sample(), KioskConfig::load(conf.fileName()));
    EXPECT_TRUE(said.startsWith(QLatin1String("No printer is set up"))) << said.toStdString();
}

}  // namespace
}  // namespace exhibit::kiosk
