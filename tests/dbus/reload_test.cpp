// Reloading exhibitd's configuration while it runs, driven through the D-Bus method, exhibitctl
// and SIGHUP on a private dbus-daemon with the project's policy: what may change live is
// applied, the rest is reported as needing a restart and keeps its value, a bad file changes
// nothing, and a phone in use is never taken away from its extraction.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/bus_handles.hpp"
#include "common/bus_value.hpp"
#include "daemon/store/database.hpp"
#include "tests/support/phonesim.hpp"
#include "tests/support/private_bus.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

const std::string kBin = std::string(EXHIBIT_BINARY_DIR) + "/bin/";
using Strings = std::vector<std::string>;
using namespace std::chrono_literals;

struct Settings {
    std::string level = "info";
    std::string devices = "[]";
    int min_free_mb = 0;
    std::string kiosk_id = "reload";
    std::string extra;  // more tables, appended
};

class Reload : public ::testing::Test {
  protected:
    // A phone on 127.0.0.1 (phonesim `args` added), the bus, and exhibitd on `initial`. With
    // `read_log`, exhibitd's stderr is readable through daemon_.read_line().
    void start(Strings sim_args = {}, bool read_log = false, Settings initial = {}) {
        phone_ = std::make_unique<TempDir>();
        std::ofstream(phone_->path() / "photo.jpg") << "jpeg";
        Strings args = {"--root", phone_->path().string()};
        args.insert(args.end(), sim_args.begin(), sim_args.end());
        sim_ = std::make_unique<PhoneSim>(args);
        ASSERT_TRUE(sim_->ok());
        bus_ = std::make_unique<PrivateBus>(dir_.path());
        ASSERT_TRUE(bus_->ok());
        write_config(initial);
        Strings argv = {kBin + "exhibitd", "--config", conf().string()};
        if (read_log)
            argv.insert(argv.begin(), {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1"});
        daemon_ = Process::start(argv);
        for (int i = 0; i < 100 && ctl({"devices", "--json"}).first != 0; ++i)
            std::this_thread::sleep_for(100ms);
        ASSERT_EQ(ctl({"devices", "--json"}).first, 0);
    }

    std::filesystem::path conf() const { return dir_ / "exhibitd.conf"; }
    std::string phone_list() const { return fmt::format("[\"{}\"]", sim_->address()); }

    void write_config(const Settings& s) {
        std::ofstream(conf(), std::ios::trunc) << fmt::format(
            "[daemon]\nkiosk_id = \"{}\"\nwatchdog = false\nlog_target = \"stderr\"\n"
            "log_level = \"{}\"\n[store]\nstate_directory = \"{}\"\nmin_free_mb = {}\n"
            "[dbus]\nbus = \"{}\"\n[adb]\nnetwork_devices = {}\n{}",
            s.kiosk_id, s.level, (dir_ / "state").string(), s.min_free_mb, bus_->address(),
            s.devices, s.extra);
    }

    std::pair<int, std::string> ctl(Strings args) {
        Strings argv = {kBin + "exhibitctl", "--bus", bus_->address()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, std::chrono::seconds(60));
    }

    nlohmann::json ctl_json(Strings args) {
        args.push_back("--json");
        auto [rc, out] = ctl(args);
        EXPECT_EQ(rc, 0) << out;
        return rc == 0 ? nlohmann::json::parse(out) : nlohmann::json{};
    }

    nlohmann::json reload() { return ctl_json({"reload"}); }

    // The transports of the devices exhibitd has now.
    Strings transports() {
        Strings t;
        for (const auto& d : ctl_json({"devices"}))
            t.push_back(d["transport"]);
        return t;
    }

    std::string device_state(const std::string& id) {
        for (const auto& d : ctl_json({"devices"}))
            if (d["id"] == id)
                return d["state"];
        return "";
    }

    template <class Pred>
    bool eventually(Pred pred, std::chrono::milliseconds limit = 20s) {
        for (auto end = std::chrono::steady_clock::now() + limit;
             std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(100ms))
            if (pred())
                return true;
        return pred();
    }

    std::int64_t audited(const std::string& event) {
        auto db =
            store::Database::open(dir_ / "state" / "exhibit.db", store::Database::Mode::read_only);
        EXPECT_TRUE(db.has_value());
        auto stmt = db->prepare("SELECT count(*) FROM audit WHERE event = ?1");
        stmt->bind(1, event);
        EXPECT_TRUE(stmt->step().value_or(false));
        return stmt->column_int(0);
    }

    // Log lines until one holds `needle` (returned last); empty if it never comes.
    Strings log_until(const std::string& needle) {
        Strings lines;
        while (auto line = daemon_.read_line(20s)) {
            lines.push_back(*line);
            if (line->find(needle) != std::string::npos)
                return lines;
        }
        ADD_FAILURE() << "exhibitd never logged \"" << needle << "\"";
        return lines;
    }

    TempDir dir_;
    std::unique_ptr<TempDir> phone_;
    std::unique_ptr<PhoneSim> sim_;
    std::unique_ptr<PrivateBus> bus_;
    Process daemon_;
};

bool any_holds(const Strings& lines, const std::string& needle) {
    return std::ranges::any_of(
        lines, [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

// Reads the a{sv} of `as` values that ReloadConfig answers.
std::map<std::string, Strings> read_report(sd_bus_message* m) {
    std::map<std::string, Strings> out;
    auto map = read_value_map(m, Reading::replies);
    if (!map)
        return out;
    for (const auto& [key, value] : *map) {
        const auto* values = std::get_if<Strings>(&value);
        out[key] = values ? *values : Strings{};
    }
    return out;
}

// The method itself: its reply says what was applied and what waits for a restart, the new
// phone is announced with InterfacesAdded, and a restart-only key keeps its running value.
TEST_F(Reload, TheReplyListsWhatWasAppliedAndTheNewPhoneIsAnnounced) {
    ASSERT_NO_FATAL_FAILURE(start());
    auto bus = open_bus(bus_->address());
    ASSERT_TRUE(bus) << bus.error().describe();
    sd_bus* raw = bus->get();
    std::vector<std::string> added;  // object paths announced
    auto on_added = [](sd_bus_message* m, void* userdata, sd_bus_error*) -> int {
        const char* path = nullptr;
        if (sd_bus_message_read_basic(m, 'o', &path) > 0 && path)
            static_cast<std::vector<std::string>*>(userdata)->emplace_back(path);
        return 0;
    };
    ASSERT_GE(sd_bus_match_signal(raw, nullptr, "org.exhibit.Exhibit1", "/org/exhibit/Exhibit1",
                                  "org.freedesktop.DBus.ObjectManager", "InterfacesAdded", on_added,
                                  &added),
              0);

    write_config({.level = "debug",
                  .devices = phone_list(),
                  .kiosk_id = "renamed",
                  .extra = "[upload]\nmax_rate_in_window = 1000000\nconcurrency = 3\n"});
    BusError error;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call_method(raw, "org.exhibit.Exhibit1", "/org/exhibit/Exhibit1",
                               "org.exhibit.Exhibit1.Manager", "ReloadConfig", error.get(), &reply,
                               "a{sv}", 0);
    MessagePtr owned_reply(reply);
    ASSERT_GE(r, 0) << error.name() << ": " << error.message();
    auto report = read_report(reply);
    EXPECT_EQ(report["applied"], (Strings{"daemon.log_level", "adb.network_devices",
                                          "upload.concurrency", "upload.max_rate_in_window"}));
    EXPECT_EQ(report["restart_required"], Strings{"daemon.kiosk_id"});
    EXPECT_TRUE(report.contains("problems"));
    EXPECT_TRUE(report["problems"].empty());

    for (int i = 0; i < 100 && added.empty(); ++i) {
        while (sd_bus_process(raw, nullptr) > 0) {
        }
        if (added.empty())
            sd_bus_wait(raw, 100'000);
    }
    EXPECT_EQ(added, Strings{"/org/exhibit/Exhibit1/devices/d1"});
    EXPECT_EQ(transports(), Strings{"tcp:" + sim_->address()});
    EXPECT_EQ(ctl_json({"status"})["health"]["kiosk_id"], "reload")
        << "a restart-only key keeps its running value";
    EXPECT_EQ(audited("config.reloaded"), 1);
}

TEST_F(Reload, LiveKeysApplyAtOnceTheRestWaitsForARestart) {
    ASSERT_NO_FATAL_FAILURE(start());
    EXPECT_TRUE(transports().empty());
    const Settings changed{.level = "debug",
                           .devices = phone_list(),
                           .min_free_mb = 5,
                           .extra = "[upload]\nwindow_start = \"01:00\"\n"};
    write_config(changed);
    auto report = reload();
    EXPECT_EQ(report["applied"].get<Strings>(),
              (Strings{"daemon.log_level", "adb.network_devices", "upload.window_start"}));
    EXPECT_EQ(report["restart_required"].get<Strings>(), Strings{"store.min_free_mb"});
    EXPECT_TRUE(report["problems"].empty()) << report;
    EXPECT_EQ(transports(), Strings{"tcp:" + sim_->address()}) << "the new phone is there";
    // The phone added by the reload works: a preview reaches it.
    auto [prc, pout] = ctl({"preview", "d1", "--categories", "photos", "--json"});
    EXPECT_EQ(prc, 0) << pout;

    // The same file again: nothing more to apply; the restart-only change is still pending.
    report = reload();
    EXPECT_TRUE(report["applied"].empty()) << report;
    EXPECT_EQ(report["restart_required"].get<Strings>(), Strings{"store.min_free_mb"});
    EXPECT_EQ(ctl_json({"status"})["health"]["min_free_bytes"], 0) << "not applied";

    // The phone taken out of the list (and not in use) goes.
    write_config({.level = "debug", .min_free_mb = 5, .extra = changed.extra});
    report = reload();
    EXPECT_EQ(report["applied"].get<Strings>(), Strings{"adb.network_devices"});
    EXPECT_TRUE(transports().empty());
    EXPECT_EQ(audited("config.reloaded"), 3);

    auto [hrc, human] = ctl({"reload"});
    EXPECT_EQ(hrc, 0) << human;
    EXPECT_NE(human.find("needs a restart"), std::string::npos) << human;
    EXPECT_NE(human.find("store.min_free_mb"), std::string::npos) << human;
}

TEST_F(Reload, ABadFileChangesNothingAndSaysWhere) {
    ASSERT_NO_FATAL_FAILURE(start());
    write_config({.level = "debug",
                  .devices = phone_list(),
                  .extra = "[upload]\nwindow_strat = \"01:00\"\n"});
    auto [rc, out] = ctl({"reload"});
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("configuration not reloaded: " + conf().string() + ":14:"),
              std::string::npos)
        << "names the file and line: " << out;
    EXPECT_NE(out.find("upload.window_strat"), std::string::npos) << out;
    EXPECT_TRUE(transports().empty()) << "nothing of the bad file was applied";
    EXPECT_TRUE(daemon_.running());
    EXPECT_EQ(audited("config.reloaded"), 0);

    // What startup would refuse across keys is refused too (https needs a CA and a client
    // certificate), not left to fail at the next restart.
    write_config({.devices = phone_list(),
                  .extra = "[upload]\nendpoint = \"https://dfu.example/files/\"\n"});
    std::tie(rc, out) = ctl({"reload"});
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("upload.ca_file"), std::string::npos) << out;
    EXPECT_TRUE(transports().empty());

    write_config({.level = "debug", .devices = phone_list()});
    auto report = reload();
    EXPECT_EQ(report["applied"].get<Strings>(),
              (Strings{"daemon.log_level", "adb.network_devices"}));
    EXPECT_EQ(transports(), Strings{"tcp:" + sim_->address()});
}

TEST_F(Reload, SighupReloadsToo) {
    ASSERT_NO_FATAL_FAILURE(start());
    write_config({.devices = phone_list()});
    daemon_.kill(SIGHUP);
    EXPECT_TRUE(eventually([&] { return !transports().empty(); }));
    EXPECT_EQ(transports(), Strings{"tcp:" + sim_->address()});
    EXPECT_TRUE(daemon_.running());
    EXPECT_EQ(audited("config.reloaded"), 1);
}

// The level applies from the next message on, and a bad file on SIGHUP is logged, named, and
// changes nothing.
TEST_F(Reload, TheLogLevelChangesAtOnceAndSighupLogsABadFile) {
    ASSERT_NO_FATAL_FAILURE(start({}, /*read_log=*/true));
    write_config({.level = "warning", .devices = phone_list()});
    EXPECT_EQ(reload()["applied"].get<Strings>(),
              (Strings{"daemon.log_level", "adb.network_devices"}));
    EXPECT_EQ(transports(), Strings{"tcp:" + sim_->address()});

    write_config({.level = "warning", .devices = phone_list(), .extra = "[adb]\n"});
    daemon_.kill(SIGHUP);
    auto lines = log_until("configuration not reloaded");
    EXPECT_NE(lines.back().find("signal:SIGHUP"), std::string::npos) << lines.back();
    EXPECT_NE(lines.back().find(conf().string() + ":"), std::string::npos) << lines.back();
    EXPECT_FALSE(any_holds(lines, "device d1 added")) << "info is below the level now";
    EXPECT_FALSE(any_holds(lines, "configuration reloaded by"));
    EXPECT_TRUE(daemon_.running());

    write_config({.level = "info"});
    EXPECT_EQ(reload()["applied"].get<Strings>(),
              (Strings{"daemon.log_level", "adb.network_devices"}));
    lines = log_until("configuration reloaded by admin:0");
    EXPECT_TRUE(any_holds(lines, "device d1 removed")) << "info is logged again";
    EXPECT_TRUE(transports().empty());
    EXPECT_EQ(audited("config.reloaded"), 2) << "the bad file was not audited";
}

// A phone taken out of the list while its extraction waits for the person's permission stays,
// the reload says so, the extraction completes, and a later reload removes the phone.
TEST_F(Reload, APhoneInUseIsNotTakenAwayFromItsExtraction) {
    auto keys = dir_ / "adb_keys";
    std::ofstream(keys) << "";
    auto control = dir_ / "control";
    ASSERT_NO_FATAL_FAILURE(
        start({"--auth", "require", "--adb-keys", keys.string(), "--control", control.string()},
              false, {.devices = "[]"}));
    write_config({.devices = phone_list()});
    ASSERT_EQ(reload()["applied"].get<Strings>(), Strings{"adb.network_devices"});
    auto [erc, eout] =
        ctl({"extract", "d1", "--case", "CR/1", "--exhibit", "EX/1", "--officer", "PC 1", "--basis",
             "consent", "--notice", "v1", "--agreed-by", "owner", "--categories", "photos"});
    ASSERT_EQ(erc, 0) << eout;
    ASSERT_TRUE(eventually([&] { return device_state("d1") == "needs_authorisation"; }))
        << "the phone asks its owner";

    write_config({.devices = "[]"});
    auto report = reload();
    EXPECT_EQ(report["applied"].get<Strings>(), Strings{"adb.network_devices"});
    ASSERT_EQ(report["problems"].size(), 1u) << report;
    EXPECT_NE(report["problems"][0].get<std::string>().find("is in use"), std::string::npos);
    EXPECT_EQ(transports(), Strings{"tcp:" + sim_->address()}) << "the phone stays";
    auto [hrc, human] = ctl({"reload"});
    EXPECT_NE(human.find("not done"), std::string::npos) << human;

    {
        int fd = ::open(control.c_str(), O_WRONLY);
        ASSERT_GE(fd, 0);
        EXPECT_EQ(::write(fd, "allow\n", 6), 6);
        ::close(fd);
    }
    ASSERT_TRUE(eventually(
        [&] {
            return ctl_json({"session", "1"})["state"] != "created" &&
                   ctl_json({"session", "1"})["state"] != "running";
        },
        60s));
    EXPECT_EQ(ctl_json({"session", "1"})["state"], "completed")
        << "the extraction was not disturbed";

    report = reload();
    EXPECT_EQ(report["applied"].get<Strings>(), Strings{"adb.network_devices"})
        << "the phone kept earlier goes once it is free";
    EXPECT_TRUE(report["problems"].empty()) << report;
    EXPECT_TRUE(transports().empty());
}

}  // namespace
}  // namespace exhibit::testing
