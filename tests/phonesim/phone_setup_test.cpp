// make_phone: what the command line, the records file and the defaults each decide.
#include "phonesim/phone_setup.hpp"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/temp_dir.hpp"

namespace exhibit::phonesim {
namespace {

class PhonesimSetup : public ::testing::Test {
  protected:
    PhoneSettings settings() {
        PhoneSettings s;
        s.root = dir_.path();
        return s;
    }
    testing::TempDir dir_;
};

TEST_F(PhonesimSetup, DefaultsWithoutRecords) {
    auto p = make_phone(settings());
    ASSERT_TRUE(p) << p.error().describe();
    auto& props = p->identity.properties;
    EXPECT_EQ(props.at("ro.product.model"), "Phonesim");
    EXPECT_EQ(props.at("ro.serialno"), "PHONESIM0001");
    EXPECT_EQ(props.at("ro.product.manufacturer"), "exhibit");
    EXPECT_EQ(p->model, "Phonesim");
    EXPECT_FALSE(p->require_auth);
    EXPECT_FALSE(p->scenario);
}

TEST_F(PhonesimSetup, RecordsOverrideDefaultsAndTheCommandLineOverridesRecords) {
    std::ofstream(dir_ / "records.json") << R"({"properties": {"ro.product.model": "Pixel 7",
        "ro.product.manufacturer": "Google", "ro.serialno": "R58", "ro.product.name": "panther",
        "ro.product.device": "panther"}})";
    auto s = settings();
    s.records = dir_ / "records.json";
    auto from_records = make_phone(s);
    ASSERT_TRUE(from_records) << from_records.error().describe();
    EXPECT_EQ(from_records->identity.properties.at("ro.product.model"), "Pixel 7");
    EXPECT_EQ(from_records->identity.properties.at("ro.boot.serialno"), "R58");
    EXPECT_EQ(from_records->model, "Pixel 7") << "the banner says what getprop says";
    EXPECT_EQ(from_records->product, "panther");
    EXPECT_EQ(from_records->device, "panther");

    s.model = "Pixel Test";
    s.serial = "SIM1";
    s.manufacturer = "Acme";
    s.clock_offset_seconds = 90;
    auto given = make_phone(s);
    ASSERT_TRUE(given);
    EXPECT_EQ(given->identity.properties.at("ro.product.model"), "Pixel Test");
    EXPECT_EQ(given->identity.properties.at("ro.serialno"), "SIM1");
    EXPECT_EQ(given->identity.properties.at("ro.product.brand"), "Acme");
    EXPECT_EQ(given->model, "Pixel Test");
    EXPECT_EQ(given->identity.clock_offset_seconds, 90);
}

TEST_F(PhonesimSetup, BadSettingsNameWhatIsWrong) {
    auto s = settings();
    s.root = dir_ / "missing";
    auto no_root = make_phone(s);
    ASSERT_FALSE(no_root);
    EXPECT_NE(no_root.error().message.find("--root"), std::string::npos);

    s = settings();
    s.auth = "maybe";
    EXPECT_FALSE(make_phone(s));

    s = settings();
    std::ofstream(dir_ / "bad.json") << "{";
    s.records = dir_ / "bad.json";
    auto bad_records = make_phone(s);
    ASSERT_FALSE(bad_records);
    EXPECT_NE(bad_records.error().message.find("bad.json"), std::string::npos);

    s = settings();
    s.scenario = dir_ / "bad.json";
    auto bad_scenario = make_phone(s);
    ASSERT_FALSE(bad_scenario);
    EXPECT_NE(bad_scenario.error().message.find("bad.json"), std::string::npos);

    s = settings();
    std::ofstream(dir_ / "adb_keys") << "not-a-key user@host\n";
    s.adb_keys = dir_ / "adb_keys";
    s.auth = "require";
    EXPECT_FALSE(make_phone(s));
}

}  // namespace
}  // namespace exhibit::phonesim
