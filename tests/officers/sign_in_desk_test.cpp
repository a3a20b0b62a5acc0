// Sign-in at the kiosk: the right PIN signs in on that client only; wrong PINs count down and
// lock the id for 15 minutes, across a restart; an unknown id answers like a wrong PIN; every
// step is in the audit log and the PIN never is.
#include <gtest/gtest.h>

#include "daemon/officers/sign_in_desk.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/upload_fixture.hpp"

namespace exhibit::officers {
namespace {

class SignInDeskTest : public ::testing::Test {
  protected:
    void SetUp() override {
        store_ = store::Store::open({.state_directory = dir_.path(), .kiosk_id = "k1",
                                     .clock = &clock_})
                     .value();
        desk_ = std::make_unique<SignInDesk>(dir_ / "officers", *store_, clock_);
        ASSERT_TRUE(desk_->add("PC1", "PC One", "2468", "admin:0"));
    }
    std::string audit_text() {
        std::string all;
        auto q = store_->database().prepare("SELECT event, details FROM audit ORDER BY seq");
        while (q->step().value())
            all += q->column_text(0) + " " + q->column_text(1) + "\n";
        return all;
    }

    testing::TempDir dir_;
    testing::FakeClock clock_{testing::utc_time(2026, 12, 4, 10, 0)};
    std::unique_ptr<store::Store> store_;
    std::unique_ptr<SignInDesk> desk_;
};

TEST_F(SignInDeskTest, TheRightPinSignsInOnThatClientOnly) {
    auto who = desk_->sign_in(":1.7", "PC1", "2468");
    ASSERT_TRUE(who) << who.error().describe();
    EXPECT_EQ(who->officer_id, "PC1");
    EXPECT_EQ(who->name, "PC One");
    EXPECT_EQ(desk_->officer_of(":1.7")->officer_id, "PC1");
    EXPECT_FALSE(desk_->officer_of(":1.8"));
    desk_->sign_out(":1.7", "signed out");
    EXPECT_FALSE(desk_->officer_of(":1.7"));
    auto audit = audit_text();
    EXPECT_NE(audit.find("officer.signed_in"), std::string::npos) << audit;
    EXPECT_NE(audit.find("officer.signed_out"), std::string::npos) << audit;
    EXPECT_EQ(audit.find("2468"), std::string::npos) << "the PIN is never audited";
}

TEST_F(SignInDeskTest, WrongPinsCountDownThenLockTheIdForFifteenMinutes) {
    for (int left = 4; left >= 1; --left) {
        auto r = desk_->sign_in(":1.7", "PC1", "1111");
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().code, Errc::denied);
        EXPECT_NE(r.error().message.find(std::to_string(left) + (left == 1 ? " try" : " tries")),
                  std::string::npos)
            << r.error().message;
    }
    auto fifth = desk_->sign_in(":1.7", "PC1", "1111");
    ASSERT_FALSE(fifth);
    EXPECT_EQ(fifth.error().code, Errc::locked);
    auto right_but_locked = desk_->sign_in(":1.7", "PC1", "2468");
    ASSERT_FALSE(right_but_locked);
    EXPECT_EQ(right_but_locked.error().code, Errc::locked) << "even the right PIN waits";
    EXPECT_NE(right_but_locked.error().message.find("locked until"), std::string::npos);
    EXPECT_TRUE(desk_->list().value()[0].locked_until);

    // A restart does not lift the lock: a new desk on the same store.
    desk_ = std::make_unique<SignInDesk>(dir_ / "officers", *store_, clock_);
    EXPECT_EQ(desk_->sign_in(":1.9", "PC1", "2468").error().code, Errc::locked);

    clock_.advance(std::chrono::minutes(15) + std::chrono::seconds(1));
    EXPECT_TRUE(desk_->sign_in(":1.9", "PC1", "2468")) << "the lock ran out";
    auto audit = audit_text();
    EXPECT_NE(audit.find("officer.locked"), std::string::npos) << audit;
    EXPECT_NE(audit.find("officer.sign_in_refused"), std::string::npos) << audit;
}

TEST_F(SignInDeskTest, ARightPinResetsTheCountAndAnAdminCanUnlock) {
    for (int i = 0; i < 4; ++i)
        (void)desk_->sign_in(":1.7", "PC1", "1111");
    ASSERT_TRUE(desk_->sign_in(":1.7", "PC1", "2468"));
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(desk_->sign_in(":1.7", "PC1", "1111").error().code, Errc::denied)
            << "the count started again";
    EXPECT_EQ(desk_->sign_in(":1.7", "PC1", "1111").error().code, Errc::locked);
    ASSERT_TRUE(desk_->unlock("PC1", "admin:0"));
    EXPECT_TRUE(desk_->sign_in(":1.7", "PC1", "2468"));
}

TEST_F(SignInDeskTest, AnUnknownIdAnswersLikeAWrongPinAndLocksToo) {
    auto r = desk_->sign_in(":1.7", "PC404", "2468");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::denied);
    EXPECT_EQ(r.error().message, desk_->sign_in(":1.7", "PC1", "0000").error().message)
        << "the same words for an unknown id and a wrong PIN";
    EXPECT_EQ(desk_->sign_in(":1.7", "PC1234", "2468").error().code, Errc::denied);
}

TEST_F(SignInDeskTest, BadInputIsRefusedBeforeAnyCount) {
    EXPECT_EQ(desk_->sign_in(":1.7", "PC 1", "2468").error().code, Errc::invalid_argument);
    EXPECT_EQ(desk_->sign_in(":1.7", "PC1", "12").error().code, Errc::invalid_argument);
    EXPECT_EQ(desk_->sign_in(":1.7", "PC1", "12ab").error().code, Errc::invalid_argument);
    EXPECT_TRUE(desk_->sign_in(":1.7", "PC1", "2468")) << "no wrong PIN was counted";
    EXPECT_EQ(desk_->add("PC 2", "x", "1234", "admin:0").error().code, Errc::invalid_argument);
    EXPECT_EQ(desk_->add("PC2", "x", "12", "admin:0").error().code, Errc::invalid_argument);
}

TEST_F(SignInDeskTest, RemovingAnOfficerSignsThemOutAndAChangedPinAppliesAtOnce) {
    ASSERT_TRUE(desk_->sign_in(":1.7", "PC1", "2468"));
    ASSERT_TRUE(desk_->add("PC1", "PC One", "1357", "admin:0"));
    EXPECT_EQ(desk_->sign_in(":1.8", "PC1", "2468").error().code, Errc::denied);
    EXPECT_TRUE(desk_->sign_in(":1.8", "PC1", "1357"));
    ASSERT_TRUE(desk_->remove("PC1", "admin:0"));
    EXPECT_FALSE(desk_->officer_of(":1.7"));
    EXPECT_FALSE(desk_->officer_of(":1.8"));
    EXPECT_EQ(desk_->remove("PC1", "admin:0").error().code, Errc::not_found);
    EXPECT_TRUE(desk_->list().value().empty());
}

}  // namespace
}  // namespace exhibit::officers
