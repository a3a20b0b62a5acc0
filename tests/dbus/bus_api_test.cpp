// The D-Bus API on a private dbus-daemon with the project's policy file: the exported objects
// equal the interface XML, callers are refused by group (by the policy and by exhibitd
// itself under a loose policy), and bad arguments get named errors without hurting the
// daemon.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>

#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "common/fs.hpp"
#include "tests/dbus/bus_client.hpp"
#include "tests/support/private_bus.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

const std::string kRoot = "/org/exhibit/Exhibit1";
const std::string kManager = "org.exhibit.Exhibit1.Manager";

gid_t group_id(const char* name) {
    auto* g = ::getgrnam(name);
    return g ? g->gr_gid : static_cast<gid_t>(-1);
}

// "interface.member" -> "kind signature" for every member of org.exhibit.Exhibit1.* in an
// introspection document.
std::map<std::string, std::string> members_of(const std::string& xml) {
    std::map<std::string, std::string> out;
    std::regex tag(R"(<(/?)(interface|method|signal|property|arg)\b([^>]*?)(/?)>)");
    std::regex attr(R"re((\w+)="([^"]*)")re");
    std::string iface, member, kind, sig_in, sig_out;
    auto flush = [&] {
        if (!member.empty() && iface.starts_with("org.exhibit.Exhibit1."))
            out[iface + "." + member] = kind + " in=" + sig_in + " out=" + sig_out;
        member.clear();
        sig_in.clear();
        sig_out.clear();
    };
    for (std::sregex_iterator it(xml.begin(), xml.end(), tag), end; it != end; ++it) {
        bool closing = (*it)[1] == "/";
        std::string name = (*it)[2];
        std::string attrs = (*it)[3];
        std::map<std::string, std::string> a;
        for (std::sregex_iterator at(attrs.begin(), attrs.end(), attr);
             at != std::sregex_iterator(); ++at)
            a[(*at)[1]] = (*at)[2];
        if (closing) {
            if (name == "method" || name == "signal")
                flush();
            continue;
        }
        if (name == "interface")
            iface = a["name"];
        else if (name == "method" || name == "signal") {
            flush();
            kind = name;
            member = a["name"];
            if ((*it)[4] == "/")
                flush();
        } else if (name == "property") {
            out[iface + "." + a["name"]] = "property " + a["type"] + " " + a["access"];
        } else if (name == "arg") {
            (a["direction"] == "out" ? sig_out : sig_in) += a["type"];
        }
    }
    return out;
}

class BusApi : public ::testing::Test {
  protected:
    static void SetUpTestSuite() {
        // The groups the policy names; a packaged kiosk gets them from sysusers.d.
        for (const char* g : {"exhibit-kiosk", "exhibit-admin"}) {
            if (!::getgrnam(g)) {
                ASSERT_EQ(std::system(fmt::format("groupadd -f -r {}", g).c_str()), 0);
            }
        }
    }

    void start(PrivateBus::Policy policy = PrivateBus::Policy::project) {
        ::chmod(dir_.path().c_str(), 0755);  // other users reach the bus socket in here
        bus_ = std::make_unique<PrivateBus>(dir_.path(), policy);
        ASSERT_TRUE(bus_->ok()) << "dbus-daemon did not start";
        auto conf = dir_ / "exhibitd.conf";
        std::ofstream(conf) << fmt::format(
            "[daemon]\nkiosk_id = \"test-kiosk\"\nwatchdog = false\nlog_target = \"stderr\"\n"
            "[store]\nstate_directory = \"{}\"\nmin_free_mb = {}\n[dbus]\nbus = \"{}\"\n"
            "[adb]\nnetwork_devices = [\"127.0.0.1:9\"]\nauthorisation_wait_seconds = 5\n",
            (dir_ / "state").string(), min_free_mb_, bus_->address());
        daemon_ = Process::start(
            {std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibitd", "--config", conf.string()});
        for (int i = 0; i < 100 && !ready(); ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ASSERT_TRUE(ready()) << "exhibitd did not appear on the bus";
    }

    bool ready() {
        return call_method(bus_->address(), kRoot + "/health", "org.freedesktop.DBus.Properties",
                           "GetAll",
                           [](sd_bus_message* m) {
                               return sd_bus_message_append(m, "s", "org.exhibit.Exhibit1.Health");
                           })
            .error_name.empty();
    }

    std::string introspect(const std::string& path) {
        return call_method(bus_->address(), path, "org.freedesktop.DBus.Introspectable",
                           "Introspect", {},
                           [](sd_bus_message* r) {
                               const char* s = nullptr;
                               sd_bus_message_read(r, "s", &s);
                               return std::string(s ? s : "");
                           })
            .reply_text;
    }

    // Asks for an extraction from d1 (which cannot connect), so that session 1 exists.
    void make_session() {
        auto started = call("StartExtraction", [](sd_bus_message* m) {
            int r = sd_bus_message_append(m, "o", "/org/exhibit/Exhibit1/devices/d1");
            if (r >= 0)
                r = append_value_map(m, {{"case_reference", "CR"},
                                         {"exhibit_reference", "EX"},
                                         {"officer_id", "PC1"},
                                         {"basis", "other"}});
            if (r >= 0)
                r = append_value_map(m, {{"categories", std::vector<std::string>{"photos"}}});
            return r < 0 ? r : append_value_map(m, {});
        });
        ASSERT_EQ(started.error_name, "") << started.error_message;
    }

    CallOutcome call(const std::string& member, const Builder& build,
                     const std::string& path = kRoot, const std::string& iface = kManager) {
        return call_method(bus_->address(), path, iface, member, build);
    }

    TempDir dir_;
    std::uint64_t min_free_mb_ = 0;
    std::unique_ptr<PrivateBus> bus_;
    Process daemon_;
};

int empty_map(sd_bus_message* m) {
    return append_value_map(m, {});
}

// Every method of the API with harmless arguments, for the access tests.
struct MethodCall {
    std::string path, iface, member;
    Builder build;
    bool admin;               // the admin group only
    bool kiosk_only = false;  // the officer group only, not the admin group (StartExtraction)
};
std::vector<MethodCall> every_method() {
    const std::string dev = kRoot + "/devices/d1";
    auto scope = [](sd_bus_message* m) {
        return append_value_map(m, {{"categories", std::vector<std::string>{"photos"}}});
    };
    return {
        {kRoot, kManager, "Preview",
         [=](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "o", dev.c_str());
             if (r >= 0)
                 r = scope(m);
             return r < 0 ? r : empty_map(m);
         },
         false},
        {kRoot, kManager, "StartExtraction",
         [=](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "o", dev.c_str());
             if (r >= 0)
                 r = empty_map(m);
             if (r >= 0)
                 r = scope(m);
             return r < 0 ? r : empty_map(m);
         },
         false, true},
        {kRoot, kManager, "GetReceipt",
         [](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "o", "/org/exhibit/Exhibit1/sessions/999");
             return r < 0 ? r : empty_map(m);
         },
         false},
        {kRoot + "/sessions/1", "org.exhibit.Exhibit1.Session", "Cancel", empty_map, false},
        {kRoot, kManager, "SignIn",
         [](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "ss", "PC1", "1234");
             return r < 0 ? r : empty_map(m);
         },
         false},
        {kRoot, kManager, "SignOut", empty_map, false},
        {kRoot, kManager, "GetNotice", empty_map, false},
        {kRoot, kManager, "SendNow",
         [](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "o", "/org/exhibit/Exhibit1/sessions/999");
             return r < 0 ? r : empty_map(m);
         },
         false},
        {kRoot + "/officers", "org.exhibit.Exhibit1.Officers", "Add",
         [](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "sss", "PC2", "PC Two", "2468");
             return r < 0 ? r : empty_map(m);
         },
         true},
        {kRoot + "/officers", "org.exhibit.Exhibit1.Officers", "Remove",
         [](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "s", "PC9");
             return r < 0 ? r : empty_map(m);
         },
         true},
        {kRoot + "/officers", "org.exhibit.Exhibit1.Officers", "Unlock",
         [](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "s", "PC9");
             return r < 0 ? r : empty_map(m);
         },
         true},
        {kRoot + "/officers", "org.exhibit.Exhibit1.Officers", "List", empty_map, true},
        {kRoot, kManager, "AddNetworkDevice",
         [](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "s", "127.0.0.1:1");
             return r < 0 ? r : empty_map(m);
         },
         true},
        {kRoot, kManager, "ReloadConfig", empty_map, true},
        {kRoot, kManager, "VerifyAudit", empty_map, true},
        {kRoot + "/queue", "org.exhibit.Exhibit1.Queue", "SyncNow", empty_map, true},
        {kRoot + "/queue", "org.exhibit.Exhibit1.Queue", "SetPriority",
         [](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "ts", std::uint64_t{1}, "urgent");
             return r < 0 ? r : empty_map(m);
         },
         true},
        {kRoot + "/queue", "org.exhibit.Exhibit1.Queue", "CancelUpload",
         [](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "t", std::uint64_t{1});
             return r < 0 ? r : empty_map(m);
         },
         true},
        {kRoot + "/queue", "org.exhibit.Exhibit1.Queue", "RetryUpload",
         [](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "t", std::uint64_t{1});
             return r < 0 ? r : empty_map(m);
         },
         true},
        {kRoot + "/queue", "org.exhibit.Exhibit1.Queue", "RetryManifest",
         [](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "t", std::uint64_t{1});
             return r < 0 ? r : empty_map(m);
         },
         true},
        {kRoot + "/queue", "org.exhibit.Exhibit1.Queue", "RetryFailed", empty_map, true},
    };
}

TEST_F(BusApi, ExportedInterfacesEqualTheXml) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_NO_FATAL_FAILURE(make_session());  // a session object exists once one was asked for

    auto declared = members_of(
        fs::read_file(std::string(EXHIBIT_SOURCE_DIR) + "/interface/org.exhibit.Exhibit1.xml",
                      1 << 20)
            .value());
    std::map<std::string, std::string> exported;
    for (auto path : {kRoot, kRoot + "/health", kRoot + "/queue", kRoot + "/officers",
                      kRoot + "/devices/d1", kRoot + "/sessions/1"}) {
        auto m = members_of(introspect(path));
        EXPECT_FALSE(m.empty()) << path;
        exported.insert(m.begin(), m.end());
    }
    EXPECT_EQ(exported, declared);
    EXPECT_GT(declared.size(), 40u);
}

TEST_F(BusApi, CallerOutsideTheGroupsIsRefusedEveryMethod) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_NO_FATAL_FAILURE(make_session());
    auto* nobody = ::getpwnam("nobody");
    ASSERT_NE(nobody, nullptr);
    for (const auto& c : every_method()) {
        auto err = call_as(nobody->pw_uid, nobody->pw_gid, {}, bus_->address(), c.path, c.iface,
                           c.member, c.build);
        EXPECT_EQ(err, "org.freedesktop.DBus.Error.AccessDenied") << c.member;
    }
    // The officer group may not call admin methods.
    const gid_t officer = group_id("exhibit-kiosk");
    for (const auto& c : every_method()) {
        auto err = call_as(nobody->pw_uid, nobody->pw_gid, {officer}, bus_->address(), c.path,
                           c.iface, c.member, c.build);
        if (c.admin)
            EXPECT_EQ(err, "org.freedesktop.DBus.Error.AccessDenied") << c.member;
        else
            EXPECT_NE(err, "org.freedesktop.DBus.Error.AccessDenied")
                << c.member << " is an officer method";
    }
    // The admin group may call everything but StartExtraction, which needs an officer at the
    // kiosk (the admin group is who may steer a kiosk over ssh).
    const gid_t admin = group_id("exhibit-admin");
    for (const auto& c : every_method()) {
        auto err = call_as(nobody->pw_uid, nobody->pw_gid, {admin}, bus_->address(), c.path,
                           c.iface, c.member, c.build);
        if (c.kiosk_only)
            EXPECT_EQ(err, "org.freedesktop.DBus.Error.AccessDenied") << c.member;
        else
            EXPECT_NE(err, "org.freedesktop.DBus.Error.AccessDenied") << c.member;
    }
    // In both groups: the union.
    for (const auto& c : every_method()) {
        auto err = call_as(nobody->pw_uid, nobody->pw_gid, {officer, admin}, bus_->address(),
                           c.path, c.iface, c.member, c.build);
        EXPECT_NE(err, "org.freedesktop.DBus.Error.AccessDenied") << c.member;
    }
}

TEST_F(BusApi, ALoosePolicyDoesNotWidenAccess) {
    ASSERT_NO_FATAL_FAILURE(start(PrivateBus::Policy::allow_all));
    ASSERT_NO_FATAL_FAILURE(make_session());
    auto* nobody = ::getpwnam("nobody");
    const gid_t officer = group_id("exhibit-kiosk");
    const gid_t admin = group_id("exhibit-admin");
    for (const auto& c : every_method()) {
        auto err = call_as(nobody->pw_uid, nobody->pw_gid, {}, bus_->address(), c.path, c.iface,
                           c.member, c.build);
        EXPECT_EQ(err, "org.exhibit.Exhibit1.Error.NotAuthorized") << c.member;
        auto as_officer = call_as(nobody->pw_uid, nobody->pw_gid, {officer}, bus_->address(),
                                  c.path, c.iface, c.member, c.build);
        if (c.admin)
            EXPECT_EQ(as_officer, "org.exhibit.Exhibit1.Error.NotAuthorized") << c.member;
        else
            EXPECT_NE(as_officer, "org.exhibit.Exhibit1.Error.NotAuthorized") << c.member;
        auto as_admin = call_as(nobody->pw_uid, nobody->pw_gid, {admin}, bus_->address(), c.path,
                                c.iface, c.member, c.build);
        if (c.kiosk_only)
            EXPECT_EQ(as_admin, "org.exhibit.Exhibit1.Error.NotAuthorized") << c.member;
        else
            EXPECT_NE(as_admin, "org.exhibit.Exhibit1.Error.NotAuthorized") << c.member;
        auto as_both = call_as(nobody->pw_uid, nobody->pw_gid, {officer, admin}, bus_->address(),
                               c.path, c.iface, c.member, c.build);
        EXPECT_NE(as_both, "org.exhibit.Exhibit1.Error.NotAuthorized") << c.member;
    }
}

TEST_F(BusApi, BadArgumentsGetNamedErrorsAndTheDaemonKeepsRunning) {
    ASSERT_NO_FATAL_FAILURE(start());
    struct Case {
        const char* what;
        const char* expected;
        Builder build;
    };
    auto start_with = [](std::string device, ValueMap case_args, ValueMap scope, ValueMap options) {
        return [=](sd_bus_message* m) {
            int r = sd_bus_message_append(m, "o", device.c_str());
            if (r >= 0)
                r = append_value_map(m, case_args);
            if (r >= 0)
                r = append_value_map(m, scope);
            return r < 0 ? r : append_value_map(m, options);
        };
    };
    const ValueMap good_case = {{"case_reference", "CR1"},    {"exhibit_reference", "EX1"},
                                {"officer_id", "PC1"},        {"basis", "consent"},
                                {"notice_version", "N-2026"}, {"agreed_by", "owner"}};
    const ValueMap photos = {{"categories", std::vector<std::string>{"photos"}}};
    auto with = [](ValueMap base, const ValueMap::value_type& a) {
        base.insert_or_assign(a.first, a.second);
        return base;
    };
    const std::string dev = kRoot + "/devices/d1";
    std::vector<Case> cases = {
        {"unknown device", "org.exhibit.Exhibit1.Error.NotFound",
         start_with(kRoot + "/devices/d77", good_case, photos, {})},
        {"not a device path", "org.exhibit.Exhibit1.Error.NotFound",
         start_with(kRoot + "/health", good_case, photos, {})},
        {"empty case reference", "org.exhibit.Exhibit1.Error.InvalidArgument",
         start_with(dev, with(good_case, {"case_reference", ""}), photos, {})},
        {"case reference too long", "org.exhibit.Exhibit1.Error.InvalidArgument",
         start_with(dev, with(good_case, {"case_reference", std::string(5000, 'x')}), photos, {})},
        {"control characters", "org.exhibit.Exhibit1.Error.InvalidArgument",
         start_with(dev, with(good_case, {"officer_id", "PC\n1"}), photos, {})},
        {"consent without notice", "org.exhibit.Exhibit1.Error.InvalidArgument",
         start_with(dev, with(good_case, {"notice_version", ""}), photos, {})},
        {"unknown basis", "org.exhibit.Exhibit1.Error.InvalidArgument",
         start_with(dev, with(good_case, {"basis", "because"}), photos, {})},
        {"unknown case key", "org.exhibit.Exhibit1.Error.InvalidArgument",
         start_with(dev, with(good_case, {"colour", "red"}), photos, {})},
        {"no categories", "org.exhibit.Exhibit1.Error.InvalidArgument",
         start_with(dev, good_case, {}, {})},
        {"unknown category", "org.exhibit.Exhibit1.Error.InvalidArgument",
         start_with(dev, good_case, {{"categories", std::vector<std::string>{"photos", "secrets"}}},
                    {})},
        {"reversed date range", "org.exhibit.Exhibit1.Error.InvalidArgument",
         start_with(dev, good_case,
                    with(with(photos, {"from", "2024-03-01"}), {"to", "2024-01-01"}), {})},
        {"impossible date", "org.exhibit.Exhibit1.Error.InvalidArgument",
         start_with(dev, good_case, with(photos, {"from", "2024-02-30"}), {})},
        {"absurd year", "org.exhibit.Exhibit1.Error.InvalidArgument",
         start_with(dev, good_case, with(photos, {"to", "9999-01-01"}), {})},
        {"bad priority", "org.exhibit.Exhibit1.Error.InvalidArgument",
         start_with(dev, good_case, photos, {{"priority", "asap"}})},
        {"unknown option", "org.exhibit.Exhibit1.Error.InvalidArgument",
         start_with(dev, good_case, photos, {{"turbo", "yes"}})},
    };
    for (const auto& c : cases) {
        auto r = call("StartExtraction", c.build);
        EXPECT_EQ(r.error_name, c.expected) << c.what << ": " << r.error_message;
        EXPECT_FALSE(r.error_message.empty()) << c.what;
    }
    auto bad_address = call("AddNetworkDevice", [](sd_bus_message* m) {
        int r = sd_bus_message_append(m, "s", "no port here");
        return r < 0 ? r : empty_map(m);
    });
    EXPECT_EQ(bad_address.error_name, "org.exhibit.Exhibit1.Error.InvalidArgument");
    auto bad_receipt = call("GetReceipt", [](sd_bus_message* m) {
        int r = sd_bus_message_append(m, "o", "/org/exhibit/Exhibit1/sessions/123456");
        return r < 0 ? r : empty_map(m);
    });
    EXPECT_EQ(bad_receipt.error_name, "org.exhibit.Exhibit1.Error.NotFound");
    auto bad_preview = call("Preview", [&](sd_bus_message* m) {
        int r = sd_bus_message_append(m, "o", dev.c_str());
        if (r >= 0)
            r = append_value_map(
                m, {{"categories", std::vector<std::string>{"photos"}}, {"from", "soon"}});
        return r < 0 ? r : empty_map(m);
    });
    EXPECT_EQ(bad_preview.error_name, "org.exhibit.Exhibit1.Error.InvalidArgument");
    EXPECT_TRUE(ready()) << "the daemon still answers";
    EXPECT_TRUE(daemon_.running());
    auto audit = call("VerifyAudit", empty_map);
    EXPECT_EQ(audit.error_name, "");
}

TEST_F(BusApi, NewExtractionsAreRefusedWhenTheDiskIsLow) {
    min_free_mb_ = 16777216;  // 16 TiB: more than this machine has free
    ASSERT_NO_FATAL_FAILURE(start());
    auto r = call("StartExtraction", [](sd_bus_message* m) {
        int rc = sd_bus_message_append(m, "o", "/org/exhibit/Exhibit1/devices/d1");
        if (rc >= 0)
            rc = append_value_map(m, {{"case_reference", "CR"},
                                      {"exhibit_reference", "EX"},
                                      {"officer_id", "PC1"},
                                      {"basis", "other"}});
        if (rc >= 0)
            rc = append_value_map(m, {{"categories", std::vector<std::string>{"photos"}}});
        return rc < 0 ? rc : append_value_map(m, {});
    });
    EXPECT_EQ(r.error_name, "org.exhibit.Exhibit1.Error.LowDisk");
    EXPECT_NE(r.error_message.find("MiB free"), std::string::npos) << r.error_message;
    EXPECT_TRUE(ready()) << "the daemon keeps running (and uploading)";
}

}  // namespace
}  // namespace exhibit::testing
