// What the kiosk's front end asks of exhibitd, on a private bus with the project's policy and a
// phone simulator over ADB/TCP: officers added with exhibitctl sign in with their PIN on one
// connection, wrong PINs lock the id, the signed-in officer (not a typed id) is recorded by
// StartExtraction, leaving the bus signs out, the notice is served and its version and hash
// reach the case and the receipt, and a reload can publish a new notice version.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/sha256.hpp"
#include "tests/dbus/bus_client.hpp"
#include "tests/support/phonesim.hpp"
#include "tests/support/private_bus.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

const std::string kBin = std::string(EXHIBIT_BINARY_DIR) + "/bin/";
const std::string kRoot = "/org/exhibit/Exhibit1";
const std::string kManager = "org.exhibit.Exhibit1.Manager";

// One connection kept open, as the kiosk keeps it: a sign-in belongs to it.
class Connection {
  public:
    explicit Connection(const std::string& address)
        : bus_(std::move(open_bus(address)).value_or(nullptr)) {}
    void close() { bus_.reset(); }
    bool ok() const { return bus_ != nullptr; }

    // Calls a Manager method; returns the error name ("" on success) and, on success, lets
    // `read` take the reply apart.
    std::string call(const std::string& member, const Builder& build,
                     const std::function<void(sd_bus_message*)>& read = {},
                     std::string* message = nullptr) {
        sd_bus_message* m = nullptr;
        sd_bus_message_new_method_call(bus_.get(), &m, "org.exhibit.Exhibit1", kRoot.c_str(),
                                       kManager.c_str(), member.c_str());
        MessagePtr owned(m);
        std::string name;
        if (build(m) < 0)
            name = "test.CannotBuild";
        BusError error;
        sd_bus_message* reply = nullptr;
        if (name.empty() && sd_bus_call(bus_.get(), m, 120'000'000, error.get(), &reply) < 0) {
            name = error.is_set() ? error.name() : "test.Unknown";
            if (message)
                *message = error.message();
        } else if (name.empty() && read) {
            read(reply);
        }
        MessagePtr owned_reply(reply);
        return name;
    }

  private:
    BusPtr bus_;
};

// The a{sv} of a reply as strings (string values only; others as their number).
std::map<std::string, std::string> read_strings(sd_bus_message* m) {
    std::map<std::string, std::string> out;
    auto map = read_value_map(m, Reading::replies);
    if (!map)
        return out;
    for (const auto& [key, value] : *map) {
        if (const auto* s = std::get_if<std::string>(&value))
            out[key] = *s;
        else if (const auto* t = std::get_if<std::uint64_t>(&value))
            out[key] = std::to_string(*t);
    }
    return out;
}

Builder sign_in(const std::string& id, const std::string& pin) {
    return [=](sd_bus_message* m) {
        int r = sd_bus_message_append(m, "ss", id.c_str(), pin.c_str());
        return r < 0 ? r : append_value_map(m, {});
    };
}

Builder start(ValueMap kase) {
    return [kase = std::move(kase)](sd_bus_message* m) {
        int r = sd_bus_message_append(m, "o", "/org/exhibit/Exhibit1/devices/d1");
        if (r >= 0)
            r = append_value_map(m, kase);
        if (r >= 0)
            r = append_value_map(m, {{"categories", std::vector<std::string>{"photos"}}});
        return r < 0 ? r : append_value_map(m, {});
    };
}

ValueMap consent_case(const std::string& notice) {
    return {{"case_reference", "CR/2026/12"}, {"exhibit_reference", "JB/1"}, {"basis", "consent"},
            {"notice_version", notice},       {"agreed_by", "Jane Witness"}, {"owner", "witness"}};
}

class KioskApi : public ::testing::Test {
  protected:
    void SetUp() override {
        ::chmod(dir_.path().c_str(), 0755);
        auto [grc, gout] =
            run_command({kBin + "exhibit-phonesim", "--generate", phone_.path().string()},
                        std::chrono::seconds(60));
        ASSERT_EQ(grc, 0) << gout;
        sim_ =
            std::make_unique<PhoneSim>(std::vector<std::string>{"--root", phone_.path().string()});
        ASSERT_TRUE(sim_->ok());
        std::filesystem::create_directories(dir_ / "notices");
        std::ofstream(dir_ / "notices" / "DPN-1.md") << kNotice1;
        bus_ = std::make_unique<PrivateBus>(dir_.path());
        ASSERT_TRUE(bus_->ok());
        write_config("");
        daemon_ =
            Process::start({kBin + "exhibitd", "--config", (dir_ / "exhibitd.conf").string()});
        std::pair<int, std::string> status;
        for (int i = 0; i < 300 && (status = ctl({"status"})).first != 0; ++i)
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        ASSERT_EQ(status.first, 0) << "exhibitd did not answer on the bus: " << status.second;
        auto added = run_command({"sh", "-c",
                                  fmt::format("echo 2468 | {}exhibitctl --bus '{}' officer add "
                                              "PC1 --name 'PC One'",
                                              kBin, bus_->address())},
                                 std::chrono::seconds(30));
        ASSERT_EQ(added.first, 0) << added.second;
    }
    void write_config(const std::string& notice_version) {
        std::ofstream(dir_ / "exhibitd.conf") << fmt::format(
            "[daemon]\nkiosk_id = \"kiosk-7\"\nwatchdog = false\nlog_target = \"stderr\"\n"
            "[store]\nstate_directory = \"{}\"\nmin_free_mb = 0\n[dbus]\nbus = \"{}\"\n"
            "[adb]\nnetwork_devices = [\"{}\"]\n"
            "[kiosk]\nnotices_directory = \"{}\"\nnotice_version = \"{}\"\n",
            (dir_ / "state").string(), bus_->address(), sim_->address(),
            (dir_ / "notices").string(), notice_version);
    }
    std::pair<int, std::string> ctl(std::vector<std::string> args) {
        std::vector<std::string> argv = {kBin + "exhibitctl", "--bus", bus_->address()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, std::chrono::seconds(120));
    }
    std::string audit_events() {
        auto [rc, out] = run_command({"sqlite3", (dir_ / "state" / "exhibit.db").string(),
                                      "SELECT event || ' ' || details FROM audit ORDER BY seq"},
                                     std::chrono::seconds(30));
        return out;
    }
    // The receipt of session `id` once it has ended (at most 3 minutes, for a loaded machine).
    nlohmann::json receipt(int id) {
        nlohmann::json r;
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(3);
        while (std::chrono::steady_clock::now() < deadline) {
            auto [rc, out] = ctl({"receipt", std::to_string(id), "--json"});
            if (rc == 0) {
                r = nlohmann::json::parse(out);
                if (r.value("state", "") != "running" && r.value("state", "") != "created")
                    break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        EXPECT_EQ(r.value("state", ""), "completed") << r.dump(2);
        return r;
    }

    static constexpr const char* kNotice1 = "# Notice one\n\nYou may say no.\n";
    TempDir dir_, phone_;
    std::unique_ptr<PhoneSim> sim_;
    std::unique_ptr<PrivateBus> bus_;
    Process daemon_;
};

TEST_F(KioskApi, TheSignedInOfficerIsRecordedWithTheNoticeShown) {
    auto list = ctl({"officer", "list", "--json"});
    ASSERT_EQ(list.first, 0) << list.second;
    EXPECT_NE(list.second.find("\"PC One\""), std::string::npos) << list.second;

    Connection kiosk(bus_->address());
    ASSERT_TRUE(kiosk.ok());
    std::string message;
    EXPECT_EQ(kiosk.call("SignIn", sign_in("PC1", "1111"), {}, &message),
              "org.exhibit.Exhibit1.Error.WrongPin");
    EXPECT_NE(message.find("4 tries left"), std::string::npos) << message;
    std::map<std::string, std::string> officer;
    ASSERT_EQ(kiosk.call("SignIn", sign_in("PC1", "2468"),
                         [&](sd_bus_message* r) { officer = read_strings(r); }),
              "");
    EXPECT_EQ(officer["officer_id"], "PC1");
    EXPECT_EQ(officer["name"], "PC One");

    std::map<std::string, std::string> notice;
    ASSERT_EQ(kiosk.call(
                  "GetNotice", [](sd_bus_message* m) { return append_value_map(m, {}); },
                  [&](sd_bus_message* r) { notice = read_strings(r); }),
              "");
    EXPECT_EQ(notice["version"], "DPN-1");
    EXPECT_EQ(notice["text"], kNotice1);
    EXPECT_EQ(notice["sha256"], to_hex(Sha256::of(kNotice1)));

    // Another officer's id on the signed-in connection is refused; none at all is fine.
    auto with_other = consent_case("DPN-1");
    with_other["officer_id"] = "PC2";
    EXPECT_EQ(kiosk.call("StartExtraction", start(with_other), {}, &message),
              "org.exhibit.Exhibit1.Error.InvalidArgument");
    EXPECT_NE(message.find("not the officer signed in"), std::string::npos) << message;
    ASSERT_EQ(kiosk.call("StartExtraction", start(consent_case("DPN-1"))), "");

    auto r = receipt(1);
    EXPECT_EQ(r.value("officer_id", ""), "PC1") << r.dump(2);
    EXPECT_EQ(r.value("owner", ""), "witness");
    EXPECT_EQ(r.value("notice_version", ""), "DPN-1");
    EXPECT_EQ(r.value("notice_sha256", ""), notice["sha256"]);
    EXPECT_EQ(r.value("agreed_by", ""), "Jane Witness");
    EXPECT_EQ(r.value("kiosk_id", ""), "kiosk-7");
    EXPECT_EQ(r.value("scope", ""), "photos");
    EXPECT_EQ(r.value("items.photos", std::uint64_t{0}), r.value("items", std::uint64_t{1}));
    EXPECT_GT(r.value("bytes.photos", std::uint64_t{0}), 0u);

    // A connection that is not signed in must name its officer.
    Connection other(bus_->address());
    EXPECT_EQ(other.call("StartExtraction", start(consent_case("DPN-1")), {}, &message),
              "org.exhibit.Exhibit1.Error.InvalidArgument");
    EXPECT_NE(message.find("officer_id"), std::string::npos) << message;

    // Leaving the bus signs out.
    kiosk.close();
    std::string events;
    for (int i = 0; i < 300; ++i) {
        events = audit_events();
        if (events.find("disconnected") != std::string::npos)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_NE(events.find("officer.signed_out {\"officer_id\":\"PC1\",\"why\":\"disconnected\"}"),
              std::string::npos)
        << events;
    EXPECT_NE(events.find("officer.sign_in_failed"), std::string::npos);
    EXPECT_EQ(events.find("2468"), std::string::npos) << "no PIN in the audit log";
    EXPECT_EQ(events.find("1111"), std::string::npos) << "no PIN in the audit log";
}

TEST_F(KioskApi, FiveWrongPinsLockTheIdUntilAnAdminUnlocksIt) {
    Connection kiosk(bus_->address());
    std::string message;
    for (int i = 0; i < 4; ++i)
        EXPECT_EQ(kiosk.call("SignIn", sign_in("PC1", "0000")),
                  "org.exhibit.Exhibit1.Error.WrongPin");
    EXPECT_EQ(kiosk.call("SignIn", sign_in("PC1", "0000"), {}, &message),
              "org.exhibit.Exhibit1.Error.Locked");
    EXPECT_NE(message.find("locked until"), std::string::npos) << message;
    EXPECT_EQ(kiosk.call("SignIn", sign_in("PC1", "2468")), "org.exhibit.Exhibit1.Error.Locked");
    auto list = ctl({"officer", "list"});
    EXPECT_NE(list.second.find("locked until"), std::string::npos) << list.second;
    ASSERT_EQ(ctl({"officer", "unlock", "PC1"}).first, 0);
    EXPECT_EQ(kiosk.call("SignIn", sign_in("PC1", "2468")), "");
    EXPECT_EQ(kiosk.call("SignIn", sign_in("PC 1", "2468")),
              "org.exhibit.Exhibit1.Error.InvalidArgument");
}

TEST_F(KioskApi, ANewNoticeVersionPublishedByAReloadIsTheOneRecorded) {
    std::ofstream(dir_ / "notices" / "DPN-0.md") << "# Older\n";
    std::ofstream(dir_ / "notices" / "DPN-2.md") << "# Notice two\n";
    Connection kiosk(bus_->address());
    ASSERT_EQ(kiosk.call("SignIn", sign_in("PC1", "2468")), "");
    auto current = [&] {
        std::map<std::string, std::string> n;
        kiosk.call(
            "GetNotice", [](sd_bus_message* m) { return append_value_map(m, {}); },
            [&](sd_bus_message* r) { n = read_strings(r); });
        return n["version"];
    };
    EXPECT_EQ(current(), "DPN-2") << "the greatest version when none is configured";
    write_config("DPN-1");
    auto reload = ctl({"reload"});
    ASSERT_EQ(reload.first, 0) << reload.second;
    EXPECT_NE(reload.second.find("kiosk.notice_version"), std::string::npos) << reload.second;
    EXPECT_EQ(current(), "DPN-1");
    ASSERT_EQ(kiosk.call("StartExtraction", start(consent_case("DPN-1"))), "");
    auto r = receipt(1);
    EXPECT_EQ(r.value("notice_version", ""), "DPN-1") << r.dump(2);
    EXPECT_EQ(r.value("notice_sha256", ""), to_hex(Sha256::of(kNotice1)));
    // Sending now needs an upload channel, which this kiosk has not.
    std::string message;
    EXPECT_EQ(kiosk.call(
                  "SendNow",
                  [](sd_bus_message* m) {
                      int rc = sd_bus_message_append(m, "o", "/org/exhibit/Exhibit1/sessions/1");
                      return rc < 0 ? rc : append_value_map(m, {});
                  },
                  {}, &message),
              "org.exhibit.Exhibit1.Error.Unsupported");
}

}  // namespace
}  // namespace exhibit::testing
