// Reloading exhibitd's configuration while it runs, driven through exhibitctl (and SIGHUP)
// on a private dbus-daemon with the project's policy: what may change live is applied, the
// rest is reported as needing a restart and keeps its value, a bad file changes nothing.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "daemon/store/database.hpp"
#include "tests/support/phonesim.hpp"
#include "tests/support/private_bus.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

const std::string kBin = std::string(EXHIBIT_BINARY_DIR) + "/bin/";
using Strings = std::vector<std::string>;

class Reload : public ::testing::Test {
  protected:
    void SetUp() override {
        phone_ = std::make_unique<TempDir>();
        std::ofstream(phone_->path() / "photo.jpg") << "jpeg";
        sim_ = std::make_unique<PhoneSim>(Strings{"--root", phone_->path().string()});
        ASSERT_TRUE(sim_->ok());
        bus_ = std::make_unique<PrivateBus>(dir_.path());
        ASSERT_TRUE(bus_->ok());
        write_config("info", "[]", 0);
        daemon_ = Process::start({kBin + "exhibitd", "--config", conf().string()});
        for (int i = 0; i < 100 && ctl({"devices", "--json"}).first != 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ASSERT_EQ(ctl({"devices", "--json"}).first, 0);
    }

    std::filesystem::path conf() const { return dir_ / "exhibitd.conf"; }

    void write_config(const std::string& level, const std::string& devices, int min_free_mb,
                      const std::string& extra = "") {
        std::ofstream(conf(), std::ios::trunc) << fmt::format(
            "[daemon]\nkiosk_id = \"reload\"\nwatchdog = false\nlog_target = \"stderr\"\n"
            "log_level = \"{}\"\n[store]\nstate_directory = \"{}\"\nmin_free_mb = {}\n"
            "[dbus]\nbus = \"{}\"\n[adb]\nnetwork_devices = {}\n{}",
            level, (dir_ / "state").string(), min_free_mb, bus_->address(), devices, extra);
    }

    std::pair<int, std::string> ctl(Strings args) {
        Strings argv = {kBin + "exhibitctl", "--bus", bus_->address()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, std::chrono::seconds(60));
    }

    nlohmann::json reload() {
        auto [rc, out] = ctl({"reload", "--json"});
        EXPECT_EQ(rc, 0) << out;
        return rc == 0 ? nlohmann::json::parse(out) : nlohmann::json{};
    }

    // The transports of the devices exhibitd has now.
    Strings transports() {
        auto [rc, out] = ctl({"devices", "--json"});
        EXPECT_EQ(rc, 0) << out;
        Strings t;
        if (rc == 0)
            for (const auto& d : nlohmann::json::parse(out))
                t.push_back(d["transport"]);
        return t;
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

    TempDir dir_;
    std::unique_ptr<TempDir> phone_;
    std::unique_ptr<PhoneSim> sim_;
    std::unique_ptr<PrivateBus> bus_;
    Process daemon_;
};

TEST_F(Reload, LiveKeysApplyAtOnceTheRestWaitsForARestart) {
    EXPECT_TRUE(transports().empty());
    const auto devices = fmt::format("[\"{}\"]", sim_->address());
    write_config("debug", devices, 5, "[upload]\nwindow_start = \"01:00\"\n");
    auto report = reload();
    EXPECT_EQ(report["applied"].get<Strings>(),
              (Strings{"daemon.log_level", "adb.network_devices", "upload.window_start"}));
    EXPECT_EQ(report["restart_required"].get<Strings>(), Strings{"store.min_free_mb"});
    EXPECT_EQ(transports(), Strings{"tcp:" + sim_->address()}) << "the new phone is there";
    // The phone added by the reload works: a preview reaches it.
    auto [prc, pout] = ctl({"preview", "d1", "--categories", "photos", "--json"});
    EXPECT_EQ(prc, 0) << pout;

    // The same file again: nothing more to apply; the restart-only change is still pending.
    report = reload();
    EXPECT_TRUE(report["applied"].empty()) << report;
    EXPECT_EQ(report["restart_required"].get<Strings>(), Strings{"store.min_free_mb"});

    // The phone taken out of the list (and not in use) goes.
    write_config("debug", "[]", 5, "[upload]\nwindow_start = \"01:00\"\n");
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
    write_config("debug", fmt::format("[\"{}\"]", sim_->address()), 0,
                 "[upload]\nwindow_strat = \"01:00\"\n");
    auto [rc, out] = ctl({"reload"});
    EXPECT_EQ(rc, 1) << out;
    EXPECT_NE(out.find("configuration not reloaded"), std::string::npos) << out;
    EXPECT_NE(out.find("exhibitd.conf:"), std::string::npos) << "names the file and line: " << out;
    EXPECT_NE(out.find("upload.window_strat"), std::string::npos) << out;
    EXPECT_TRUE(transports().empty()) << "nothing of the bad file was applied";
    EXPECT_TRUE(daemon_.running());
    EXPECT_EQ(audited("config.reloaded"), 0);

    write_config("debug", fmt::format("[\"{}\"]", sim_->address()), 0);
    auto report = reload();
    EXPECT_EQ(report["applied"].get<Strings>(),
              (Strings{"daemon.log_level", "adb.network_devices"}));
    EXPECT_EQ(transports(), Strings{"tcp:" + sim_->address()});
}

TEST_F(Reload, SighupReloadsToo) {
    write_config("info", fmt::format("[\"{}\"]", sim_->address()), 0);
    daemon_.kill(SIGHUP);
    Strings seen;
    for (int i = 0; i < 100 && seen.empty(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        seen = transports();
    }
    EXPECT_EQ(seen, Strings{"tcp:" + sim_->address()});
    EXPECT_TRUE(daemon_.running());
    EXPECT_EQ(audited("config.reloaded"), 1);
}

}  // namespace
}  // namespace exhibit::testing
