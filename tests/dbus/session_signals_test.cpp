// A client following a session over D-Bus (as exhibitctl and the kiosk do) sees its progress
// only grow and exactly one Completed, for a real extraction from exhibit-phonesim.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include <fmt/format.h>

#include "tests/dbus/bus_client.hpp"
#include "tests/support/phonesim.hpp"
#include "tests/support/private_bus.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

struct Seen {
    std::vector<double> progress;
    std::vector<std::string> completed;  // states
    std::string path;
};

int on_properties(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* seen = static_cast<Seen*>(userdata);
    if (seen->path.empty() || seen->path != sd_bus_message_get_path(m))
        return 0;
    const char* iface = nullptr;
    if (sd_bus_message_read(m, "s", &iface) < 0)
        return 0;
    auto changed = read_value_map(m, Reading::replies);
    if (!changed)
        return 0;
    if (auto it = changed->find("Progress"); it != changed->end()) {
        const auto* p = std::get_if<double>(&it->second);
        seen->progress.push_back(p ? *p : -1);
    }
    return 0;
}

int on_completed(sd_bus_message* m, void* userdata, sd_bus_error*) {
    auto* seen = static_cast<Seen*>(userdata);
    if (seen->path != sd_bus_message_get_path(m))
        return 0;
    const char* state = nullptr;
    const char* reason = nullptr;
    if (sd_bus_message_read(m, "ss", &state, &reason) >= 0)
        seen->completed.push_back(state);
    return 0;
}

TEST(SessionSignals, ProgressOnlyGrowsAndCompletedComesOnce) {
    TempDir dir, phone;
    auto [rc, out] =
        run_command({phonesim_binary(), "--generate", phone.path().string(), "--large"},
                    std::chrono::seconds(120));
    ASSERT_EQ(rc, 0) << out;
    PhoneSim sim({"--root", phone.path().string(), "--records", (phone / "records.json").string()});
    ASSERT_TRUE(sim.ok());
    PrivateBus bus(dir.path());
    ASSERT_TRUE(bus.ok());
    auto conf = dir / "exhibitd.conf";
    std::ofstream(conf) << fmt::format(
        "[daemon]\nkiosk_id = \"k\"\nwatchdog = false\nlog_target = "
        "\"stderr\"\n[store]\nstate_directory = \"{}\"\n"
        "min_free_mb = 0\n[dbus]\nbus = \"{}\"\n[adb]\nnetwork_devices = [\"{}\"]\n",
        (dir / "state").string(), bus.address(), sim.address());
    auto daemon = Process::start(
        {std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibitd", "--config", conf.string()});

    BusPtr client;
    for (int i = 0; i < 100 && !client; ++i) {
        if (auto b = open_bus(bus.address());
            b &&
            sd_bus_call_method(b->get(), "org.exhibit.Exhibit1", "/org/exhibit/Exhibit1/health",
                               "org.freedesktop.DBus.Peer", "Ping", nullptr, nullptr, "") >= 0)
            client = std::move(*b);
        else
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_NE(client, nullptr) << "exhibitd did not appear on the bus";
    sd_bus* raw = client.get();

    Seen seen;
    ASSERT_GE(sd_bus_match_signal(raw, nullptr, "org.exhibit.Exhibit1", nullptr,
                                  "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                  on_properties, &seen),
              0);
    ASSERT_GE(sd_bus_match_signal(raw, nullptr, "org.exhibit.Exhibit1", nullptr,
                                  "org.exhibit.Exhibit1.Session", "Completed", on_completed, &seen),
              0);
    sd_bus_message* call = nullptr;
    ASSERT_GE(
        sd_bus_message_new_method_call(raw, &call, "org.exhibit.Exhibit1", "/org/exhibit/Exhibit1",
                                       "org.exhibit.Exhibit1.Manager", "StartExtraction"),
        0);
    MessagePtr owned(call);
    ASSERT_GE(sd_bus_message_append(call, "o", "/org/exhibit/Exhibit1/devices/d1"), 0);
    ASSERT_GE(append_value_map(call, {{"case_reference", "CR/1"},
                                      {"exhibit_reference", "EX/1"},
                                      {"officer_id", "PC 1"},
                                      {"basis", "consent"},
                                      {"notice_version", "N1"},
                                      {"agreed_by", "owner"}}),
              0);
    ASSERT_GE(append_value_map(
                  call, {{"categories", std::vector<std::string>{"photos", "videos", "messages"}}}),
              0);
    ASSERT_GE(append_value_map(call, {}), 0);
    BusError error;
    sd_bus_message* reply = nullptr;
    int r = sd_bus_call(raw, call, 30'000'000, error.get(), &reply);
    MessagePtr owned_reply(reply);
    ASSERT_GE(r, 0) << error.message();
    const char* path = nullptr;
    sd_bus_message_read(reply, "o", &path);
    seen.path = path;

    // Follow signals until Completed, then listen a little longer for a second one.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    std::optional<std::chrono::steady_clock::time_point> after;
    while (std::chrono::steady_clock::now() < deadline) {
        if (!seen.completed.empty() && !after)
            after = std::chrono::steady_clock::now() + std::chrono::seconds(1);
        if (after && std::chrono::steady_clock::now() > *after)
            break;
        while (sd_bus_process(raw, nullptr) > 0) {
        }
        sd_bus_wait(raw, 100'000);
    }
    ASSERT_EQ(seen.completed.size(), 1u) << "exactly one Completed";
    EXPECT_EQ(seen.completed[0], "completed");
    ASSERT_GE(seen.progress.size(), 2u) << "progress was reported while it ran";
    for (std::size_t i = 1; i < seen.progress.size(); ++i)
        EXPECT_GE(seen.progress[i], seen.progress[i - 1])
            << "progress never goes back (update " << i << ")";
    EXPECT_DOUBLE_EQ(seen.progress.back(), 1.0);
}

}  // namespace
}  // namespace exhibit::testing
