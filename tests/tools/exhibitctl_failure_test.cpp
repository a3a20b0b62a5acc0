// exhibitctl's one mapping from D-Bus errors to exit codes and messages.
#include "tools/exhibitctl/failure.hpp"

#include <gtest/gtest.h>

namespace exhibit::ctl {
namespace {

struct Case {
    const char* name;
    Exit exit;
};

TEST(ExhibitctlFailure, EveryExhibitErrorHasItsExitCode) {
    const Case cases[] = {
        {"org.exhibit.Exhibit1.Error.InvalidArgument", Exit::invalid},
        {"org.exhibit.Exhibit1.Error.NotFound", Exit::invalid},
        {"org.exhibit.Exhibit1.Error.NotAuthorized", Exit::not_authorized},
        {"org.exhibit.Exhibit1.Error.Busy", Exit::busy},
        {"org.exhibit.Exhibit1.Error.LowDisk", Exit::busy},
        {"org.exhibit.Exhibit1.Error.Unsupported", Exit::failed},
        {"org.exhibit.Exhibit1.Error.InvalidConfig", Exit::failed},
        {"org.exhibit.Exhibit1.Error.Failed", Exit::failed},
        {"org.exhibit.Exhibit1.Error.SomethingNew", Exit::failed},
    };
    for (const auto& c : cases) {
        auto f = failure_from_bus_error(c.name, "the daemon's sentence", "Preview");
        EXPECT_EQ(f.exit, c.exit) << c.name;
        EXPECT_NE(f.message.find("the daemon's sentence"), std::string::npos) << c.name;
    }
}

TEST(ExhibitctlFailure, BusErrorsSayWhetherTheDaemonIsThere) {
    const Case cases[] = {
        {"org.freedesktop.DBus.Error.ServiceUnknown", Exit::unreachable},
        {"org.freedesktop.DBus.Error.NameHasNoOwner", Exit::unreachable},
        {"org.freedesktop.DBus.Error.NoReply", Exit::unreachable},
        {"org.freedesktop.DBus.Error.Timeout", Exit::unreachable},
        {"org.freedesktop.DBus.Error.Disconnected", Exit::unreachable},
        {"System.Error.ECONNREFUSED", Exit::unreachable},
        {"System.Error.ENOENT", Exit::unreachable},
        {"org.freedesktop.DBus.Error.AccessDenied", Exit::not_authorized},
        {"System.Error.EACCES", Exit::not_authorized},
        {"org.freedesktop.DBus.Error.UnknownObject", Exit::invalid},
        {"org.freedesktop.DBus.Error.InvalidArgs", Exit::invalid},
        {"org.freedesktop.DBus.Error.UnknownMethod", Exit::failed},
        {"com.example.Whatever", Exit::failed},
    };
    for (const auto& c : cases)
        EXPECT_EQ(failure_from_bus_error(c.name, "text", "SyncNow").exit, c.exit) << c.name;
}

TEST(ExhibitctlFailure, MessagesReadAsOneClearLine) {
    auto denied =
        failure_from_bus_error("org.exhibit.Exhibit1.Error.NotAuthorized",
                               "not authorized: SyncNow needs group exhibit-admin", "SyncNow");
    EXPECT_EQ(denied.message, "not authorized: SyncNow needs group exhibit-admin")
        << "no doubled prefix";
    auto missing = failure_from_bus_error("org.exhibit.Exhibit1.Error.NotFound",
                                          "there is no device \"d9\"", "Preview");
    EXPECT_EQ(missing.message, "not found: there is no device \"d9\"");
    auto refused = failure_from_bus_error("org.exhibit.Exhibit1.Error.InvalidArgument",
                                          "scope: unknown category \"x\"", "Preview");
    EXPECT_EQ(refused.message, "Preview refused: scope: unknown category \"x\"");
    auto gone = failure_from_bus_error("org.freedesktop.DBus.Error.ServiceUnknown", "", "Preview");
    EXPECT_NE(gone.message.find("not running"), std::string::npos);
    auto bad_config = failure_from_bus_error(
        "org.exhibit.Exhibit1.Error.InvalidConfig",
        "/etc/exhibit/exhibitd.conf:7: unknown key \"upload.window_strat\"", "ReloadConfig");
    EXPECT_EQ(bad_config.message,
              "configuration not reloaded: /etc/exhibit/exhibitd.conf:7: unknown key "
              "\"upload.window_strat\"");
    for (const auto& f : {denied, missing, refused, gone, bad_config})
        EXPECT_EQ(f.message.find('\n'), std::string::npos);
}

TEST(ExhibitctlFailure, ExitCodesAreTheDocumentedNumbers) {
    EXPECT_EQ(to_int(Exit::ok), 0);
    EXPECT_EQ(to_int(Exit::failed), 1);
    EXPECT_EQ(to_int(Exit::usage), 2);
    EXPECT_EQ(to_int(Exit::invalid), 3);
    EXPECT_EQ(to_int(Exit::not_authorized), 4);
    EXPECT_EQ(to_int(Exit::unreachable), 5);
    EXPECT_EQ(to_int(Exit::not_completed), 6);
    EXPECT_EQ(to_int(Exit::busy), 7);
    EXPECT_EQ(to_int(Exit::audit_broken), 8);
    EXPECT_EQ(to_int(Exit::timed_out), 9);
    EXPECT_EQ(to_int(Exit::interrupted), 130);
}

}  // namespace
}  // namespace exhibit::ctl
