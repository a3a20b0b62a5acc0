// The D-Bus API on a private dbus-daemon with the project's policy file: the exported objects
// equal the interface XML; every method, property and standard call, made as root, as each
// group, as both and as an unrelated user, is let in or refused as the tables of
// docs/dbus-api.md say (read at test time), by the policy and by exhibitd itself under a
// loose policy; and bad arguments get named errors without hurting the daemon.
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <sys/stat.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "common/fs.hpp"
#include "tests/dbus/api_tables.hpp"
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

int empty_map(sd_bus_message* m) {
    return append_value_map(m, {});
}



// The callers of the table's columns, made of real uids and groups: the test runs as root and
// a child process drops to the caller's credentials before it connects.
struct Caller {
    std::string name;  // as the table's column says
    uid_t uid;
    gid_t gid;
    std::vector<gid_t> groups;
};

std::vector<Caller> all_callers() {
    const auto* nobody = ::getpwnam("nobody");
    const uid_t uid = nobody ? nobody->pw_uid : 65534;
    const gid_t gid = nobody ? nobody->pw_gid : 65534;
    const gid_t officer = group_id("exhibit-kiosk");
    const gid_t admin = group_id("exhibit-admin");
    return {{"root", 0, 0, {}},
            {"officer group", uid, gid, {officer}},
            {"admin group", uid, gid, {admin}},
            {"both groups", uid, gid, {officer, admin}},
            {"unrelated user", uid, gid, {}}};
}

// Where the fixture has an object of each interface: make_session() makes session 1 and the
// configuration's network phone is d1.
const std::map<std::string, std::string> kObjectOf = {
    {"Manager", kRoot},
    {"Health", kRoot + "/health"},
    {"Queue", kRoot + "/queue"},
    {"Officers", kRoot + "/officers"},
    {"Device", kRoot + "/devices/d1"},
    {"Session", kRoot + "/sessions/1"},
};

// Every method of the API with harmless arguments, by "Interface.Method", for the access tests
// (which call it on its interface's object in kObjectOf). What a caller who is let in gets
// (NotFound, WrongPin, InvalidArgument, …) does not matter there.
std::map<std::string, Builder> every_method() {
    const std::string dev = kRoot + "/devices/d1";
    auto scope = [](sd_bus_message* m) {
        return append_value_map(m, {{"categories", std::vector<std::string>{"photos"}}});
    };
    auto then_options = [](int r, sd_bus_message* m) { return r < 0 ? r : empty_map(m); };
    return {
        {"Manager.Preview",
         [=](sd_bus_message* m) {
             int r = sd_bus_message_append(m, "o", dev.c_str());
             return then_options(r < 0 ? r : scope(m), m);
         }},
        {"Manager.StartExtraction",
         [=](sd_bus_message* m) {  // no case: refused for its arguments once let in
             int r = sd_bus_message_append(m, "o", dev.c_str());
             if (r >= 0)
                 r = empty_map(m);
             return then_options(r < 0 ? r : scope(m), m);
         }},
        {"Manager.GetReceipt",
         [=](sd_bus_message* m) {
             return then_options(sd_bus_message_append(m, "o", (kRoot + "/sessions/999").c_str()),
                                 m);
         }},
        {"Manager.SignIn",
         [=](sd_bus_message* m) {  // an unknown officer: WrongPin, once let in
             return then_options(sd_bus_message_append(m, "ss", "PC1", "1234"), m);
         }},
        {"Manager.SignOut", empty_map},
        {"Manager.GetNotice", empty_map},
        {"Manager.SendNow",
         [=](sd_bus_message* m) {
             return then_options(sd_bus_message_append(m, "o", (kRoot + "/sessions/999").c_str()),
                                 m);
         }},
        {"Manager.AddNetworkDevice",
         [=](sd_bus_message* m) {
             return then_options(sd_bus_message_append(m, "s", "127.0.0.1:1"), m);
         }},
        {"Manager.ReloadConfig", empty_map},
        {"Manager.VerifyAudit", empty_map},
        {"Session.Cancel", empty_map},
        {"Officers.Add",
         [=](sd_bus_message* m) {
             return then_options(sd_bus_message_append(m, "sss", "PC2", "PC Two", "2468"), m);
         }},
        {"Officers.Remove",
         [=](sd_bus_message* m) { return then_options(sd_bus_message_append(m, "s", "PC9"), m); }},
        {"Officers.Unlock",
         [=](sd_bus_message* m) { return then_options(sd_bus_message_append(m, "s", "PC9"), m); }},
        {"Officers.List", empty_map},
        {"Queue.SyncNow", empty_map},
        {"Queue.SetPriority",
         [=](sd_bus_message* m) {
             return then_options(sd_bus_message_append(m, "ts", std::uint64_t{1}, "urgent"), m);
         }},
        {"Queue.CancelUpload",
         [=](sd_bus_message* m) {
             return then_options(sd_bus_message_append(m, "t", std::uint64_t{1}), m);
         }},
        {"Queue.RetryUpload",
         [=](sd_bus_message* m) {
             return then_options(sd_bus_message_append(m, "t", std::uint64_t{1}), m);
         }},
        {"Queue.RetryManifest",
         [=](sd_bus_message* m) {
             return then_options(sd_bus_message_append(m, "t", std::uint64_t{1}), m);
         }},
        {"Queue.RetryFailed", empty_map},
    };
}

// A zero of a property's type in a variant, for a Set (which must be refused before the value
// is looked at, but must be well formed to reach that point).
int append_zero_variant(sd_bus_message* m, const std::string& type) {
    if (type == "s")
        return sd_bus_message_append(m, "v", "s", "");
    if (type == "as")
        return sd_bus_message_append(m, "v", "as", 0);
    if (type == "b")
        return sd_bus_message_append(m, "v", "b", 0);
    if (type == "d")
        return sd_bus_message_append(m, "v", "d", 0.0);
    if (type == "q")
        return sd_bus_message_append(m, "v", "q", std::uint16_t{0});
    if (type == "t")
        return sd_bus_message_append(m, "v", "t", std::uint64_t{0});
    if (type == "x")
        return sd_bus_message_append(m, "v", "x", std::int64_t{0});
    return -EINVAL;
}

// One call of the access tests, and the role docs/dbus-api.md gives it ("" when no row does).
struct Probe {
    std::string label;  // "Manager.SignIn", "Health.Version (Get)", …
    std::string group;  // consecutive probes of one group that agree print as one line
    std::string path, iface, member;
    Builder build;
    std::string role;
    bool must_answer = false;  // a read: a caller let in gets the values, not merely past a check
};

const char* kAccessDenied = "org.freedesktop.DBus.Error.AccessDenied";
const char* kNotAuthorized = "org.exhibit.Exhibit1.Error.NotAuthorized";
const char* kReadOnly = "org.freedesktop.DBus.Error.PropertyReadOnly";

bool refused(const std::string& error) {
    return error == kAccessDenied || error == kNotAuthorized || error == kReadOnly;
}

// An answer in a few letters for the printed table.
std::string short_answer(const std::string& error) {
    if (error.empty())
        return "ok";
    if (error == kAccessDenied)
        return "bus";
    if (error == kNotAuthorized)
        return "exh";
    if (error == kReadOnly)
        return "ro";
    return error.substr(error.rfind('.') + 1).substr(0, 15);
}

// What is missing from the tables of docs/dbus-api.md, or named there but not in the API:
// every method and property of the interface XML, and every method of the standard
// interfaces exhibitd answers, has exactly one row.
std::vector<std::string> coverage_problems(const AccessTable& t,
                                           const std::map<std::string, std::string>& api,
                                           const std::set<std::string>& standard) {
    std::vector<std::string> out;
    std::map<std::string, std::set<std::string>> declared;  // interface -> properties
    for (const auto& [name, kind] : api) {
        auto iface = name.substr(0, name.find('.'));
        auto& props = declared[iface];
        if (kind.starts_with("property "))
            props.insert(name.substr(iface.size() + 1));
        else if (!t.methods.contains(name))
            out.push_back(fmt::format("the method {} has no row in docs/dbus-api.md", name));
    }
    for (const auto& [name, role] : t.methods)
        if (!api.contains(name) || !api.at(name).starts_with("method "))
            out.push_back(
                fmt::format("docs/dbus-api.md has a row for {}, which the interface "
                            "XML does not declare",
                            name));
    for (const auto& [iface, props] : declared) {
        auto row = t.interfaces.find(iface);
        if (row == t.interfaces.end()) {
            out.push_back(fmt::format("the properties table has no row for {}", iface));
            continue;
        }
        std::set<std::string> listed(row->second.properties.begin(), row->second.properties.end());
        for (const auto& p : props)
            if (!listed.contains(p))
                out.push_back(
                    fmt::format("the property {}.{} has no row in docs/dbus-api.md", iface, p));
        for (const auto& p : listed)
            if (!props.contains(p))
                out.push_back(
                    fmt::format("docs/dbus-api.md lists the property {}.{}, which "
                                "the interface XML does not declare",
                                iface, p));
    }
    for (const auto& [iface, row] : t.interfaces)
        if (!declared.contains(iface))
            out.push_back(
                fmt::format("the properties table has a row for {}, which the "
                            "interface XML does not declare",
                            iface));
    for (const auto& name : standard)
        if (!t.other.contains(name))
            out.push_back(
                fmt::format("{}, which exhibitd answers, has no row in the other "
                            "calls of docs/dbus-api.md",
                            name));
    for (const auto& [name, role] : t.other)
        if (!standard.contains(name))
            out.push_back(
                fmt::format("docs/dbus-api.md has a row for {}, which exhibitd does "
                            "not answer",
                            name));
    return out;
}

// The calls of the access tests: a Get of every property, a GetAll of every interface and a
// Set of one property of each (none is writable, so one shows that Set is refused), the
// standard methods, then every method (last, as they change things).
std::vector<Probe> probes_of(const AccessTable& t, const std::map<std::string, std::string>& api,
                             const std::set<std::string>& standard,
                             std::vector<std::string>& problems) {
    const std::string properties = "org.freedesktop.DBus.Properties";
    auto role_of = [](const auto& map, const std::string& key, auto field) -> std::string {
        auto it = map.find(key);
        return it == map.end() ? "" : field(it->second);
    };
    std::map<std::string, std::vector<std::pair<std::string, std::string>>> props;
    std::set<std::string> interfaces;
    for (const auto& [name, kind] : api) {
        auto iface = name.substr(0, name.find('.'));
        interfaces.insert(iface);
        if (kind.starts_with("property "))  // "property <type> <access>"
            props[iface].emplace_back(name.substr(iface.size() + 1),
                                      kind.substr(9, kind.find(' ', 9) - 9));
    }
    std::vector<Probe> reads, methods;
    auto methods_with_arguments = every_method();
    for (const auto& iface : interfaces) {
        auto object = kObjectOf.find(iface);
        if (object == kObjectOf.end()) {
            problems.push_back(fmt::format("the test has no object of {} (kObjectOf)", iface));
            continue;
        }
        const auto& path = object->second;
        const auto full = "org.exhibit.Exhibit1." + iface;
        auto read = role_of(t.interfaces, iface, [](const InterfaceRow& r) { return r.read; });
        auto write = role_of(t.interfaces, iface, [](const InterfaceRow& r) { return r.write; });
        const auto& mine = props[iface];
        const auto group = fmt::format("{}: {} properties (Get)", iface, mine.size());
        for (const auto& [prop, type] : mine)
            reads.push_back({iface + "." + prop + " (Get)", group, path, properties, "Get",
                             // (a structured binding named in the capture: clang 15 cannot
                             // capture one implicitly)
                             [full, prop = prop](sd_bus_message* m) {
                                 return sd_bus_message_append(m, "ss", full.c_str(), prop.c_str());
                             },
                             read, true});
        reads.push_back(
            {iface + " (GetAll)", "", path, properties, "GetAll",
             [=](sd_bus_message* m) { return sd_bus_message_append(m, "s", full.c_str()); }, read,
             true});
        if (!mine.empty()) {
            const auto& [prop, type] = mine.front();
            reads.push_back({iface + "." + prop + " (Set)", "", path, properties, "Set",
                             [full, prop = prop, type = type](sd_bus_message* m) {
                                 int r = sd_bus_message_append(m, "ss", full.c_str(), prop.c_str());
                                 return r < 0 ? r : append_zero_variant(m, type);
                             },
                             write, false});
        }
        for (const auto& [name, kind] : api) {
            if (!name.starts_with(iface + ".") || !kind.starts_with("method "))
                continue;
            auto build = methods_with_arguments.find(name);
            if (build == methods_with_arguments.end()) {
                problems.push_back(
                    fmt::format("{} has no harmless arguments in every_method()", name));
                continue;
            }
            methods.push_back({name, "", path, full, name.substr(iface.size() + 1), build->second,
                               role_of(t.methods, name, [](const auto& r) { return r; }), false});
        }
    }
    for (const auto& name : standard) {
        auto dot = name.find('.');
        reads.push_back({name,
                         "",
                         kRoot,
                         "org.freedesktop.DBus." + name.substr(0, dot),
                         name.substr(dot + 1),
                         {},
                         role_of(t.other, name, [](const auto& r) { return r; }),
                         name == "ObjectManager.GetManagedObjects"});
    }
    reads.insert(reads.end(), methods.begin(), methods.end());
    return reads;
}

// The table of what was observed, on stdout: one line per call, or one for the properties of
// an interface when every caller got the same answer for each.
void print_access(const std::vector<Probe>& probes,
                  const std::vector<std::vector<std::string>>& seen,
                  const std::vector<std::string>& callers, bool loose) {
    std::string out = fmt::format(
        "Observed under the {} policy (ok: answered; bus: AccessDenied; exh: NotAuthorized; "
        "ro: PropertyReadOnly; another error: let in, refused for its arguments; !: not what "
        "docs/dbus-api.md says)\n{:<36}",
        loose ? "allow-all" : "project", "member");
    for (const auto& c : callers)
        out += fmt::format("{:>16}", c);
    auto line = [&](const std::string& label, const std::vector<std::string>& cells) {
        out += fmt::format("\n{:<36}", label);
        for (const auto& cell : cells)
            out += fmt::format("{:>16}", cell);
    };
    for (std::size_t i = 0; i < probes.size();) {
        std::size_t end = i + 1;
        while (!probes[i].group.empty() && end < probes.size() &&
               probes[end].group == probes[i].group)
            ++end;
        bool same = std::all_of(seen.begin() + i, seen.begin() + end, [&](const auto& row) {
            return row == seen[i] &&
                   std::ranges::none_of(row, [](const auto& c) { return c.ends_with('!'); });
        });
        if (end - i > 1 && same) {
            line(probes[i].group, seen[i]);
        } else {
            for (std::size_t k = i; k < end; ++k)
                line(probes[k].label, seen[k]);
        }
        i = end;
    }
    std::cout << out << std::endl;  // before exhibitd, stopping, writes to stderr
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

    // The methods and properties of the interface XML, by "Interface.Member".
    static std::map<std::string, std::string> api_members() {
        std::map<std::string, std::string> out;
        const std::string prefix = "org.exhibit.Exhibit1.";
        auto xml = fs::read_file(
            std::string(EXHIBIT_SOURCE_DIR) + "/interface/org.exhibit.Exhibit1.xml", 1 << 20);
        for (const auto& [name, kind] : members_of(xml.value(), prefix))
            if (!kind.starts_with("signal "))
                out[name.substr(prefix.size())] = kind;
        return out;
    }

    // The methods of the standard interfaces that exhibitd's objects answer ("Peer.Ping"), but
    // those of Properties, which the properties table covers.
    std::set<std::string> standard_members() {
        std::set<std::string> out;
        const std::string prefix = "org.freedesktop.DBus.";
        for (const auto& [iface, path] : kObjectOf)
            for (const auto& [name, kind] : members_of(introspect(path), prefix))
                if (kind.starts_with("method ") && !name.starts_with(prefix + "Properties."))
                    out.insert(name.substr(prefix.size()));
        return out;
    }

    // Calls every probe as every caller and compares what each is answered with the table.
    // Under the project's policy a refusal must come from the bus: exhibitd refusing a caller
    // whom the policy let through means that the two layers disagree. Under an allow-all
    // policy it must come from exhibitd (or, for Set, from sd-bus, the property being
    // read-only): there the bus refuses nobody, and sd-bus's own privilege check must not
    // refuse anyone either.
    void check_access_table(PrivateBus::Policy policy) {
        const bool loose = policy == PrivateBus::Policy::allow_all;
        const auto table = read_access_table();
        for (const auto& p : table.problems)
            ADD_FAILURE() << "docs/dbus-api.md: " << p;
        const auto api = api_members();
        const auto standard = standard_members();
        for (const auto& p : coverage_problems(table, api, standard))
            ADD_FAILURE() << p;
        std::vector<std::string> problems;
        const auto probes = probes_of(table, api, standard, problems);
        for (const auto& p : problems)
            ADD_FAILURE() << p;
        const auto callers = all_callers();
        std::vector<std::string> names;
        for (const auto& c : callers)
            names.push_back(c.name);
        ASSERT_EQ(table.callers, names) << "the caller columns of the roles table, in order";

        std::vector<std::vector<std::string>> seen(probes.size());
        for (std::size_t i = 0; i < probes.size(); ++i) {
            const auto& p = probes[i];
            for (std::size_t c = 0; c < callers.size(); ++c) {
                const auto& who = callers[c];
                auto error = call_as(who.uid, who.gid, who.groups, bus_->address(), p.path, p.iface,
                                     p.member, p.build);
                const bool let_in = !refused(error);
                const bool expected = table.lets_in(p.role, c);
                const std::string observed = fmt::format("{} ({})", let_in ? "let in" : "refused",
                                                         error.empty() ? "answered" : error);
                std::string why;
                const bool known = table.roles.contains(p.role);
                if (!known)
                    why = "no row or no known role";  // reported above; nothing to expect
                else if (let_in != expected)
                    why = fmt::format("expected {}, observed {}", expected ? "let in" : "refused",
                                      observed);
                else if (let_in && p.must_answer && !error.empty())
                    why = "let in, but the read failed: " + error;
                else if (!loose && error == kNotAuthorized)
                    why =
                        "refused by exhibitd, not by the bus: the policy lets in a caller "
                        "whom exhibitd refuses";
                else if (loose && error == kAccessDenied)
                    why =
                        "AccessDenied under an allow-all policy: refused by sd-bus's own "
                        "privilege check, not by exhibitd";
                if (!why.empty() && known)
                    ADD_FAILURE() << fmt::format("{} as {} under the {} policy (role {}): {}",
                                                 p.label, who.name, loose ? "allow-all" : "project",
                                                 p.role, why);
                seen[i].push_back(short_answer(error) + (why.empty() ? "" : "!"));
            }
        }
        print_access(probes, seen, names, loose);
    }

    TempDir dir_;
    std::uint64_t min_free_mb_ = 0;
    std::unique_ptr<PrivateBus> bus_;
    Process daemon_;
};

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

// The tables of docs/dbus-api.md name every method and property of the XML and every standard
// method exhibitd answers, once each, and nothing else.
TEST_F(BusApi, TheAccessTablesHaveOneRowForEveryMemberAndNoOther) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_NO_FATAL_FAILURE(make_session());
    const auto table = read_access_table();
    EXPECT_EQ(table.problems, std::vector<std::string>{});
    const auto standard = standard_members();
    EXPECT_TRUE(standard.contains("Introspectable.Introspect")) << "introspection was read";
    EXPECT_EQ(coverage_problems(table, api_members(), standard), std::vector<std::string>{});
}

// Through the project's policy, every caller is let in or refused as the tables say, and a
// refusal comes from the bus.
TEST_F(BusApi, TheProjectPolicyLetsInWhomTheAccessTablesSay) {
    ASSERT_NO_FATAL_FAILURE(start());
    ASSERT_NO_FATAL_FAILURE(make_session());
    check_access_table(PrivateBus::Policy::project);
}

// With a bus that lets anyone call anything, exhibitd alone still refuses whom the tables
// refuse.
// Signals carry what properties carry, so under the project's policy they reach only those the
// signals table lets in; the others receive nothing at all from exhibitd. A network phone that
// root adds while each caller listens makes exhibitd send InterfacesAdded and, as it fails to
// connect, PropertiesChanged.
TEST_F(BusApi, SignalsReachOnlyWhomTheSignalsTableSays) {
    ASSERT_NO_FATAL_FAILURE(start());
    const auto table = read_access_table();
    for (const auto& p : table.problems)
        ADD_FAILURE() << "docs/dbus-api.md: " << p;
    // Every signal exhibitd sends has a row: those of the XML and the standard ones.
    std::set<std::string> sent = {"ObjectManager.InterfacesAdded",
                                  "ObjectManager.InterfacesRemoved",
                                  "Properties.PropertiesChanged"};
    const std::string prefix = "org.exhibit.Exhibit1.";
    auto xml = fs::read_file(
        std::string(EXHIBIT_SOURCE_DIR) + "/interface/org.exhibit.Exhibit1.xml", 1 << 20);
    for (const auto& [name, kind] : members_of(xml.value(), prefix))
        if (kind.starts_with("signal "))
            sent.insert(name.substr(prefix.size()));
    std::set<std::string> documented;
    for (const auto& [name, role] : table.signals)
        documented.insert(name);
    EXPECT_EQ(documented, sent) << "the rows of \"## Signals and who receives them\"";

    const auto callers = all_callers();
    int port = 10;
    for (std::size_t c = 0; c < callers.size(); ++c) {
        const auto& who = callers[c];
        const auto address = fmt::format("127.0.0.1:{}", port++);
        auto got = signals_received_as(who.uid, who.gid, who.groups, bus_->address(), std::chrono::milliseconds(1500), [&] {
            auto added = call("AddNetworkDevice", [&](sd_bus_message* m) {
                int r = sd_bus_message_append(m, "s", address.c_str());
                return r < 0 ? r : empty_map(m);
            });
            EXPECT_EQ(added.error_name, "") << added.error_message;
        });
        std::string seen;
        for (const auto& g : got)
            seen += g + " ";
        std::printf("  %-15s received: %s\n", who.name.c_str(), seen.empty() ? "nothing" : seen.c_str());
        for (const auto& [name, member] :
             {std::pair{"ObjectManager.InterfacesAdded", "InterfacesAdded"},
              std::pair{"Properties.PropertiesChanged", "PropertiesChanged"}}) {
            auto row = table.signals.find(name);
            if (row == table.signals.end())
                continue;  // reported above
            const bool expected = table.lets_in(row->second, c);
            EXPECT_EQ(got.contains(member), expected)
                << name << " as " << who.name << " (role " << row->second << "): expected "
                << (expected ? "received" : "not received") << "; received: " << seen;
        }
        // Whoever no row lets in receives nothing at all from exhibitd.
        const bool any_row_lets_in = std::ranges::any_of(
            table.signals, [&](const auto& row) { return table.lets_in(row.second, c); });
        if (!any_row_lets_in) {
            EXPECT_TRUE(got.empty()) << who.name << " received " << seen;
        }
    }
}

TEST_F(BusApi, ALoosePolicyDoesNotWidenAccess) {
    ASSERT_NO_FATAL_FAILURE(start(PrivateBus::Policy::allow_all));
    ASSERT_NO_FATAL_FAILURE(make_session());
    check_access_table(PrivateBus::Policy::allow_all);
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
