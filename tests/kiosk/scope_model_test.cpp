// ScopeModel's offer: the scope screen's rows are the categories the chosen device's family
// can give (its Categories property; all a phone can give when exhibitd does not publish it), an
// unoffered category is never selected nor previewed, and offerNote says in words which are
// missing and why (its CategoriesNote). The bus is never reached: nothing here runs the
// event loop, so no Preview is sent.
#include <gtest/gtest.h>

#include <QCoreApplication>

#include "kiosk/src/bus_link.hpp"
#include "kiosk/src/scope_model.hpp"

namespace exhibit::kiosk {
namespace {

const QStringList kAll = {
    QStringLiteral("photos"),    QStringLiteral("videos"),   QStringLiteral("audio"),
    QStringLiteral("documents"), QStringLiteral("messages"), QStringLiteral("call_log"),
    QStringLiteral("contacts"),  QStringLiteral("apps"),     QStringLiteral("device_info")};
const QStringList kFiles = {QStringLiteral("photos"), QStringLiteral("videos"),
                            QStringLiteral("audio"), QStringLiteral("documents")};
// exhibitd's MTP family, word for word.
const QString kMtpNote = QStringLiteral(
    "over MTP (File transfer) a phone gives its files only: messages, calls, contacts and "
    "apps need USB debugging (ADB)");
// exhibitd's removable-storage family, word for word.
const QString kStickNote = QStringLiteral(
    "a USB stick or memory card holds files only: there are no messages, calls, contacts or "
    "apps to take");
const QStringList kStick = kFiles + QStringList{QStringLiteral("cctv_export"),
                                                QStringLiteral("disk_image")};
const QString kAdbPhone = QStringLiteral("/org/exhibit/Exhibit1/devices/adb1");
const QString kStickDisk = QStringLiteral("/org/exhibit/Exhibit1/devices/stick1");
const QString kMtpPhone = QStringLiteral("/org/exhibit/Exhibit1/devices/mtp1");

QCoreApplication& app() {
    static int argc = 1;
    static char name[] = "scope_model_test";
    static char* argv[] = {name, nullptr};
    static QCoreApplication a(argc, argv);
    return a;
}

class ScopeOffer : public ::testing::Test {
  protected:
    void SetUp() override { app(); }

    QStringList rows(ScopeModel::Role role = ScopeModel::NameRole) const {
        QStringList out;
        for (int r = 0; r < scope_.rowCount(); ++r)
            out << scope_.data(scope_.index(r), role).toString();
        return out;
    }
    int row_of(const QString& name) const { return static_cast<int>(rows().indexOf(name)); }
    QStringList selected() const {
        QStringList out;
        for (int r = 0; r < scope_.rowCount(); ++r)
            if (scope_.data(scope_.index(r), ScopeModel::SelectedRole).toBool())
                out << rows()[r];
        return out;
    }
    static QStringList categories_of(const QVariantMap& scope) {
        return scope.value(QStringLiteral("categories")).toStringList();
    }

    // Nothing listens there: the link never comes online.
    BusLink link_{QStringLiteral("unix:path=/nonexistent/exhibit-scope-model-test")};
    ScopeModel scope_{link_};
};

TEST_F(ScopeOffer, AnExhibitdWithoutCategoriesOffersThemAll) {
    scope_.set_device(kAdbPhone, std::nullopt, {});
    EXPECT_EQ(rows(), kAll);
    EXPECT_TRUE(selected().isEmpty()) << "nothing is chosen for the officer";
    EXPECT_EQ(categories_of(scope_.preview_scope()), kAll);
    EXPECT_TRUE(scope_.offer_note().isEmpty());
}

TEST_F(ScopeOffer, AnAdbPhoneOffersAllNineAndNoNote) {
    scope_.set_device(kAdbPhone, kAll, {});
    EXPECT_EQ(rows(), kAll);
    EXPECT_EQ(rows(ScopeModel::LabelRole).at(row_of(QStringLiteral("messages"))),
              QStringLiteral("Messages"));
    EXPECT_TRUE(scope_.offer_note().isEmpty());
}

TEST_F(ScopeOffer, AnMtpPhoneShowsItsFilesOnlyAndSaysWhy) {
    scope_.set_device(kMtpPhone, kFiles, kMtpNote);
    EXPECT_EQ(rows(), kFiles) << "in the screen's order";
    EXPECT_TRUE(selected().isEmpty());
    EXPECT_EQ(categories_of(scope_.preview_scope()), kFiles)
        << "exhibitd refuses a preview of what the family cannot give";
    EXPECT_EQ(scope_.offer_note(),
              QStringLiteral("Messages, call log, contacts, installed apps and phone details "
                             "cannot be copied from this phone. Over MTP (File transfer) a "
                             "phone gives its files only: messages, calls, contacts and apps "
                             "need USB debugging (ADB)."));
    EXPECT_FALSE(scope_.valid()) << "nothing chosen yet";
    scope_.toggle(row_of(QStringLiteral("documents")));
    EXPECT_EQ(categories_of(scope_.scope_arguments()), QStringList{QStringLiteral("documents")});
    EXPECT_TRUE(scope_.valid());
}

TEST_F(ScopeOffer, AChoiceTheNextPhoneCannotGiveIsDropped) {
    scope_.set_device(kAdbPhone, kAll, {});
    scope_.toggle(row_of(QStringLiteral("photos")));
    scope_.toggle(row_of(QStringLiteral("messages")));
    EXPECT_EQ(selected(), (QStringList{QStringLiteral("photos"), QStringLiteral("messages")}));

    scope_.set_device(kMtpPhone, kFiles, kMtpNote);
    EXPECT_EQ(selected(), QStringList{QStringLiteral("photos")});
    EXPECT_EQ(categories_of(scope_.scope_arguments()), QStringList{QStringLiteral("photos")});
    EXPECT_FALSE(scope_.summary().contains(QStringLiteral("message")));

    // Back to a phone that gives everything: messages is offered again, not chosen again.
    scope_.set_device(kAdbPhone, kAll, {});
    EXPECT_EQ(rows(), kAll);
    EXPECT_EQ(selected(), QStringList{QStringLiteral("photos")});
    EXPECT_TRUE(scope_.offer_note().isEmpty());
}

TEST_F(ScopeOffer, NumbersAreAskedForOnlyWhereMessagesOrCallsCanBeGiven) {
    scope_.set_device(kAdbPhone, kAll, {});
    EXPECT_TRUE(scope_.numbers_offered());
    ASSERT_TRUE(scope_.addNumber(QStringLiteral("+44 7700 900123")));
    scope_.toggle(row_of(QStringLiteral("photos")));
    EXPECT_TRUE(scope_.scope_arguments().contains(QStringLiteral("numbers")));

    // A files-only phone: the numbers field is not shown, and no number travels with a
    // scope that has nothing for it to limit.
    scope_.set_device(kMtpPhone, kFiles, kMtpNote);
    EXPECT_FALSE(scope_.numbers_offered());
    EXPECT_TRUE(scope_.numbers().isEmpty());
    EXPECT_FALSE(scope_.scope_arguments().contains(QStringLiteral("numbers")));
    EXPECT_FALSE(scope_.preview_scope().contains(QStringLiteral("numbers")));
    EXPECT_FALSE(scope_.summary().contains(QStringLiteral("7700")));

    scope_.set_device(kAdbPhone, kAll, {});
    EXPECT_TRUE(scope_.numbers_offered());
}

TEST_F(ScopeOffer, NamesTheKioskDoesNotKnowAreIgnoredAndANoteIsNotNeeded) {
    scope_.set_device(kMtpPhone,
                      QStringList{QStringLiteral("satellite_log"), QStringLiteral("videos"),
                                  QStringLiteral("photos")},
                      {});
    EXPECT_EQ(rows(), (QStringList{QStringLiteral("photos"), QStringLiteral("videos")}));
    EXPECT_EQ(scope_.offer_note(),
              QStringLiteral("Audio, documents, messages, call log, contacts, installed apps "
                             "and phone details cannot be copied from this phone."));
}

TEST_F(ScopeOffer, AStickOffersItsOwnChoicesAndOnlyItsNote) {
    scope_.set_device(kStickDisk, kStick, kStickNote);
    EXPECT_EQ(rows(), kStick);
    EXPECT_EQ(scope_.offer_note(),
              QStringLiteral("A USB stick or memory card holds files only: there are no "
                             "messages, calls, contacts or apps to take."))
        << "no list of a phone's records a stick cannot have";
    scope_.toggle(row_of(QStringLiteral("cctv_export")));
    EXPECT_EQ(categories_of(scope_.scope_arguments()), QStringList{QStringLiteral("cctv_export")});
    // The next device is a phone: a disk's own choices are neither offered nor named.
    scope_.set_device(kAdbPhone, kAll, {});
    EXPECT_EQ(rows(), kAll);
    EXPECT_TRUE(selected().isEmpty());
    EXPECT_TRUE(scope_.offer_note().isEmpty());
}

TEST_F(ScopeOffer, ADeviceThatGivesNothingHasNoRowsAndCannotStart) {
    scope_.set_device(kMtpPhone, QStringList{}, {});
    EXPECT_EQ(scope_.rowCount(), 0);
    scope_.toggle(0);
    EXPECT_FALSE(scope_.valid());
    EXPECT_FALSE(scope_.previewing()) << "no preview of nothing";
}

TEST_F(ScopeOffer, ANewJourneyOffersAllAgain) {
    scope_.set_device(kMtpPhone, kFiles, kMtpNote);
    scope_.clear();
    EXPECT_EQ(rows(), kAll);
    EXPECT_TRUE(scope_.offer_note().isEmpty());
}

}  // namespace
}  // namespace exhibit::kiosk
