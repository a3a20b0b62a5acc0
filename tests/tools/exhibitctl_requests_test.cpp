// exhibitctl's arguments turned into the D-Bus API's arguments.
#include "tools/exhibitctl/requests.hpp"

#include <gtest/gtest.h>

namespace exhibit::ctl {
namespace {

TEST(ExhibitctlRequests, DeviceIdsAndPaths) {
    EXPECT_EQ(device_path("d1").value(), "/org/exhibit/Exhibit1/devices/d1");
    EXPECT_EQ(device_path("/org/exhibit/Exhibit1/devices/usb_1_4").value(),
              "/org/exhibit/Exhibit1/devices/usb_1_4");
    for (const char* bad :
         {"", "d-1", "d1/x", "../d1", "/org/exhibit/Exhibit1/devices/",
          "/org/exhibit/Exhibit1/sessions/1", "/org/exhibit/Exhibit1/devicesX/d1"}) {
        auto p = device_path(bad);
        ASSERT_FALSE(p) << bad;
        EXPECT_EQ(p.error().exit, Exit::usage);
    }
}

TEST(ExhibitctlRequests, SessionIdsAndPaths) {
    EXPECT_EQ(session_path("3").value(), "/org/exhibit/Exhibit1/sessions/3");
    EXPECT_EQ(session_path("/org/exhibit/Exhibit1/sessions/42").value(),
              "/org/exhibit/Exhibit1/sessions/42");
    EXPECT_FALSE(session_path("d1"));
    EXPECT_FALSE(session_path("-3"));
    EXPECT_FALSE(session_path("99999999999999999999"));
    EXPECT_EQ(id_of_path("/org/exhibit/Exhibit1/sessions/42"), "42");
    EXPECT_EQ(session_id("3").value(), 3u);
    EXPECT_EQ(session_id("/org/exhibit/Exhibit1/sessions/42").value(), 42u);
    for (const char* bad :
         {"0", "d1", "-3", "3x", "18446744073709551616", "/org/exhibit/Exhibit1/devices/3"}) {
        auto id = session_id(bad);
        ASSERT_FALSE(id) << bad;
        EXPECT_EQ(id.error().exit, Exit::usage);
    }
}

TEST(ExhibitctlRequests, ItemsAddressesAndLanes) {
    EXPECT_EQ(item_id("17").value(), 17u);
    EXPECT_FALSE(item_id("0"));
    EXPECT_FALSE(item_id("17x"));
    EXPECT_FALSE(item_id("-1"));
    EXPECT_EQ(network_address("tcp:10.0.0.5:5555").value(), "10.0.0.5:5555");
    EXPECT_EQ(network_address("phone.local:5555").value(), "phone.local:5555");
    for (const char* bad :
         {"tcp:10.0.0.5", "tcp::5555", "tcp:host:0", "tcp:host:65536", "tcp:host:55x"})
        EXPECT_FALSE(network_address(bad)) << bad;
    EXPECT_EQ(lane_name("urgent").value(), "urgent");
    EXPECT_FALSE(lane_name("later"));
}

TEST(ExhibitctlRequests, ScopeSplitsCommasAndKeepsOrder) {
    ScopeArgs args{.categories = {"photos, videos", "messages,photos", ""}, .from = "2026-01-01"};
    auto scope = build_scope(args).value();
    EXPECT_EQ(std::get<std::vector<std::string>>(scope.at("categories")),
              (std::vector<std::string>{"photos", "videos", "messages"}));
    EXPECT_EQ(std::get<std::string>(scope.at("from")), "2026-01-01");
    EXPECT_FALSE(scope.contains("to")) << "absent dates are not sent";
    EXPECT_FALSE(scope.contains("numbers")) << "no numbers: every party";
    auto empty = build_scope({.categories = {" , "}});
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error().exit, Exit::usage);
}

TEST(ExhibitctlRequests, ScopeNumbersAreSplitLikeCategories) {
    ScopeArgs args{.categories = {"messages"},
                   .numbers = {"+447700900123, 07700 900456", "+447700900123,", " "}};
    auto scope = build_scope(args).value();
    EXPECT_EQ(std::get<std::vector<std::string>>(scope.at("numbers")),
              (std::vector<std::string>{"+447700900123", "07700 900456"}))
        << "each once, trimmed, in order; their form is exhibitd's to judge";
}

TEST(ExhibitctlRequests, CaseNeedsALawfulBasis) {
    CaseArgs base{.case_reference = "CR/1", .exhibit_reference = "EX-1", .officer_id = "PC 1"};
    EXPECT_FALSE(build_case(base)) << "the basis is never guessed";

    auto other = base;
    other.basis = "other";
    auto c = build_case(other).value();
    EXPECT_EQ(std::get<std::string>(c.at("basis")), "other");
    EXPECT_EQ(std::get<std::string>(c.at("case_reference")), "CR/1");
    EXPECT_EQ(std::get<std::string>(c.at("exhibit_reference")), "EX-1");
    EXPECT_EQ(std::get<std::string>(c.at("officer_id")), "PC 1");
    EXPECT_FALSE(c.contains("notice_version"));

    auto consent = base;
    consent.notice_version = "v3";
    consent.agreed_by = "owner";
    c = build_case(consent).value();
    EXPECT_EQ(std::get<std::string>(c.at("basis")), "consent") << "implied by notice + agreed_by";
    EXPECT_EQ(std::get<std::string>(c.at("notice_version")), "v3");
    EXPECT_EQ(std::get<std::string>(c.at("agreed_by")), "owner");

    auto half = base;
    half.basis = "consent";
    half.notice_version = "v3";
    EXPECT_FALSE(build_case(half)) << "consent without who agreed";
    auto odd = base;
    odd.basis = "because";
    EXPECT_EQ(build_case(odd).error().exit, Exit::usage);
}

TEST(ExhibitctlRequests, PriorityOnlyWhenUrgent) {
    EXPECT_TRUE(build_extract_options(false).empty());
    EXPECT_EQ(std::get<std::string>(build_extract_options(true).at("priority")), "urgent");
}

}  // namespace
}  // namespace exhibit::ctl
