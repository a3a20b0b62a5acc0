// The whole journey, driven only through exhibitctl as a DFU operator or the kiosk would:
// phonesim -> preview -> extraction -> store -> upload over HTTPS with a client certificate
// to @tus/server -> exhibit-verify passes on what the DFU store received.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include <exhibit/version.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/support/phonesim.hpp"
#include "tests/support/private_bus.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tus_peer.hpp"

namespace exhibit::testing {
namespace {

const std::string kBin = std::string(EXHIBIT_BINARY_DIR) + "/bin/";

TEST(Journey, PhoneToDfuThroughExhibitctlVerifies) {
    TempDir dir, phone;
    auto [grc, gout] = run_command({kBin + "exhibit-phonesim", "--generate", phone.path().string()},
                                   std::chrono::seconds(60));
    ASSERT_EQ(grc, 0) << gout;
    PhoneSim sim({"--root", phone.path().string(), "--records", (phone / "records.json").string()});
    ASSERT_TRUE(sim.ok());
    auto tls = make_tls(dir / "tls", "journey CA");
    TusPeer tus(PeerKind::tus_server, dir / "dfu", tls);
    ASSERT_TRUE(tus.ok());
    PrivateBus bus(dir.path());
    ASSERT_TRUE(bus.ok());
    auto conf = dir / "exhibitd.conf";
    std::ofstream(conf) << fmt::format(
        "[daemon]\nkiosk_id = \"journey\"\nwatchdog = false\nlog_target = \"stderr\"\n"
        "[store]\nstate_directory = \"{}\"\nmin_free_mb = 0\n[dbus]\nbus = "
        "\"{}\"\n[adb]\nnetwork_devices = [\"{}\"]\n"
        "[upload]\nendpoint = \"{}\"\nca_file = \"{}\"\nclient_cert = \"{}\"\nclient_key = \"{}\"\n"
        "window_start = \"03:00\"\nwindow_end = \"03:01\"\n",
        (dir / "state").string(), bus.address(), sim.address(), tus.endpoint(),
        tls.ca_cert.string(), tls.client_cert.string(), tls.client_key.string());
    auto daemon = Process::start({kBin + "exhibitd", "--config", conf.string()});

    auto ctl = [&](std::vector<std::string> args, int timeout_s = 120) {
        std::vector<std::string> argv = {kBin + "exhibitctl", "--bus", bus.address()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, std::chrono::seconds(timeout_s));
    };
    std::pair<int, std::string> devices;
    for (int i = 0; i < 100; ++i) {
        devices = ctl({"devices", "--json"});
        if (devices.first == 0)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ASSERT_EQ(devices.first, 0) << devices.second;
    EXPECT_NE(devices.second.find("\"d1\""), std::string::npos) << devices.second;
    auto device = [&](const std::string& id) {
        auto listed = ctl({"devices", "--json"});
        EXPECT_EQ(listed.first, 0) << listed.second;
        for (const auto& d : nlohmann::json::parse(listed.second))
            if (d.value("id", "") == id)
                return d;
        return nlohmann::json::object();
    };
    // exhibitd contacts a phone as soon as it is added: it is ready once it has answered and
    // allowed this kiosk, before anyone asks for a preview.
    auto eventually = [&](const std::string& id, auto pred) {
        nlohmann::json d;
        for (int i = 0; i < 100; ++i) {
            d = device(id);
            if (pred(d))
                break;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
        return d;
    };
    auto d1 =
        eventually("d1", [](const nlohmann::json& d) { return d.value("state", "") == "ready"; });
    EXPECT_EQ(d1.value("state", ""), "ready") << "the phone answered when it was added";

    // A phone nobody answers for (a closed port) does not become ready, and says why, as
    // soon as it was tried; a preview tries again and fails.
    auto added = ctl({"device", "add", "tcp:127.0.0.1:9"});
    ASSERT_EQ(added.first, 0) << added.second;
    auto d2 = eventually("d2", [](const nlohmann::json& d) {
        return d.value("detail", "").starts_with("could not connect: ");
    });
    EXPECT_EQ(d2.value("state", ""), "connected") << d2.dump();
    EXPECT_TRUE(d2.value("detail", "").starts_with("could not connect: ")) << d2.dump();
    auto unanswered = ctl({"preview", "d2", "--categories", "photos"});
    EXPECT_NE(unanswered.first, 0) << unanswered.second;
    d2 = device("d2");
    EXPECT_EQ(d2.value("state", ""), "connected") << d2.dump();
    EXPECT_TRUE(d2.value("detail", "").starts_with("could not connect: ")) << d2.dump();

    auto preview = ctl({"preview", "d1", "--categories", "photos,videos,messages", "--json"});
    ASSERT_EQ(preview.first, 0) << preview.second;
    EXPECT_EQ(device("d1").value("state", ""), "ready")
        << "the phone answered and allowed this kiosk";
    auto counts = nlohmann::json::parse(preview.second);
    EXPECT_GT(counts.dump().find("photos"), 0u);

    auto extract = ctl({"extract", "d1", "--case", "CR/2026/7", "--exhibit", "AB/1", "--officer",
                        "PC 99", "--basis", "consent", "--notice", "v3", "--agreed-by", "owner",
                        "--categories", "photos,videos,messages", "--wait"});
    ASSERT_EQ(extract.first, 0) << extract.second;

    // Normal items wait for the night window: the operator asks for a sync now.
    auto sync = ctl({"sync", "--now", "--wait", "--timeout", "120"}, 180);
    ASSERT_EQ(sync.first, 0) << sync.second;

    nlohmann::json receipt;
    for (int i = 0; i < 300; ++i) {
        auto r = ctl({"receipt", "1", "--json"});
        ASSERT_EQ(r.first, 0) << r.second;
        receipt = nlohmann::json::parse(r.second);
        if (receipt.dump().find("manifest_sha256\":\"\"") == std::string::npos &&
            receipt.dump().find("delivered") != std::string::npos)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_NE(receipt.dump().find("delivered"), std::string::npos) << receipt.dump(2);
    auto items = receipt.value("items", std::uint64_t{0});
    EXPECT_GT(items, 10u);
    std::size_t uploads = 0;
    for (const auto& u : stored_uploads(dir / "dfu"))
        uploads += u.meta("type") != "manifest";
    EXPECT_EQ(uploads, items) << "every item is in the DFU store once";

    auto status = ctl({"status", "--json"});
    ASSERT_EQ(status.first, 0) << status.second;
    auto fingerprint =
        nlohmann::json::parse(status.second)["health"]["key_fingerprint"].get<std::string>();
    auto verify =
        run_command({kBin + "exhibit-verify", "--fingerprint", fingerprint, (dir / "dfu").string()},
                    std::chrono::seconds(60));
    EXPECT_EQ(verify.first, 0) << verify.second;

    // The manifest says how the session was extracted: this build, the ADB driver over TCP,
    // the setting that reached it.
    auto verified = run_command({kBin + "exhibit-verify", "--fingerprint", fingerprint, "--json",
                                 (dir / "dfu").string()},
                                std::chrono::seconds(60));
    ASSERT_EQ(verified.first, 0) << verified.second;
    auto method = nlohmann::json::parse(verified.second)["sessions"][0]["method"];
    EXPECT_EQ(method["software"], nlohmann::json({{"name", "exhibit"}, {"version", kVersion}}));
    EXPECT_EQ(method["driver"]["name"], "adb") << method.dump();
    EXPECT_FALSE(method["driver"]["version"].get<std::string>().empty()) << method.dump();
    EXPECT_EQ(method["driver"]["function"], "tcp:adb") << method.dump();
    EXPECT_EQ(method["configuration"]["adb.authorisation_wait_seconds"], 120) << method.dump();
    EXPECT_EQ(method["configuration"]["ios.keep_pairing"], false) << method.dump();
}

}  // namespace
}  // namespace exhibit::testing
