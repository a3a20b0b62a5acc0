// exhibitd's upload channel seen from outside: SIGKILLed in the middle of an upload and
// started again, it resumes from the DFU store's offset (sending again at most one chunk) and
// the item is received exactly once; an upload the store refused is queued again by an
// administrator over D-Bus and arrives. Real pieces throughout: exhibit-phonesim, exhibitd on
// a private bus, @tus/server (or the in-tree tus server) over HTTPS with a client certificate.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <random>
#include <thread>

#include <fmt/format.h>

#include "common/sha256.hpp"
#include "tests/dbus/bus_client.hpp"
#include "tests/support/phonesim.hpp"
#include "tests/support/private_bus.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/tus_peer.hpp"

namespace exhibit::testing {
namespace {

constexpr std::uint64_t kFileSize = 96ull << 20;
constexpr std::uint64_t kChunk = 1ull << 20;

std::uint64_t queue_u64(const std::string& address, const char* property) {
    std::uint64_t value = 0;
    call_method(
        address, "/org/exhibit/Exhibit1/queue", "org.freedesktop.DBus.Properties", "Get",
        [&](sd_bus_message* m) {
            return sd_bus_message_append(m, "ss", "org.exhibit.Exhibit1.Queue", property);
        },
        [&](sd_bus_message* r) {
            sd_bus_message_read(r, "v", "t", &value);
            return std::string();
        });
    return value;
}

const std::string kExhibitd = std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibitd";

// A configuration for exhibitd with its state in `dir`, the phone `sim` and uploads to `tus`;
// `upload` adds [upload] keys.
std::string daemon_config(const TempDir& dir, const PrivateBus& bus, const PhoneSim& sim,
                          const TusPeer& tus, const TlsFiles& tls, const std::string& upload) {
    return fmt::format(
        "[daemon]\nkiosk_id = \"k\"\nwatchdog = false\nlog_target = \"stderr\"\n"
        "[store]\nstate_directory = \"{}\"\nmin_free_mb = 0\n[dbus]\nbus = \"{}\"\n"
        "[adb]\nnetwork_devices = [\"{}\"]\n"
        "[upload]\nendpoint = \"{}\"\nca_file = \"{}\"\nclient_cert = \"{}\"\nclient_key = "
        "\"{}\"\n{}",
        (dir / "state").string(), bus.address(), sim.address(), tus.endpoint(),
        tls.ca_cert.string(), tls.client_cert.string(), tls.client_key.string(), upload);
}

// Waits (up to 10 s) until exhibitd answers on the bus.
bool answers(const std::string& address) {
    auto ping = [&] {
        return call_method(address, "/org/exhibit/Exhibit1/health", "org.freedesktop.DBus.Peer",
                           "Ping", {})
            .error_name.empty();
    };
    for (int i = 0; i < 100 && !ping(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return ping();
}

// An urgent extraction of `category` from the network phone d1.
CallOutcome extract_urgent(const std::string& address, const std::string& category) {
    return call_method(
        address, "/org/exhibit/Exhibit1", "org.exhibit.Exhibit1.Manager", "StartExtraction",
        [&](sd_bus_message* m) {
            int r = sd_bus_message_append(m, "o", "/org/exhibit/Exhibit1/devices/d1");
            if (r >= 0)
                r = append_value_map(m, {{"case_reference", "CR"},
                                         {"exhibit_reference", "EX"},
                                         {"officer_id", "PC"},
                                         {"basis", "other"}});
            if (r >= 0)
                r = append_value_map(m, {{"categories", std::vector<std::string>{category}}});
            return r < 0 ? r : append_value_map(m, {{"priority", "urgent"}});
        });
}

// Polls the queue's `property` (up to `seconds`) until it equals `value`.
bool queue_reaches(const std::string& address, const char* property, std::uint64_t value,
                   int seconds) {
    for (int i = 0; i < seconds * 20 && queue_u64(address, property) != value; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return queue_u64(address, property) == value;
}

TEST(ExhibitdUpload, SigkillMidUploadResumesFromTheServersOffset) {
    TempDir dir, phone;
    {
        std::filesystem::create_directories(phone / "DCIM/Camera");
        std::ofstream out(phone / "DCIM/Camera/VID_long.mp4", std::ios::binary);
        std::mt19937 rng(7);
        std::string block(1 << 20, '\0');
        for (std::uint64_t done = 0; done < kFileSize; done += block.size()) {
            for (auto& c : block)
                c = static_cast<char>(rng());
            out.write(block.data(), static_cast<std::streamsize>(block.size()));
        }
    }
    PhoneSim sim({"--root", phone.path().string()});
    ASSERT_TRUE(sim.ok());
    auto tls = make_tls(dir / "tls", "exhibit test CA");
    TusPeer tus(PeerKind::tus_server, dir / "dfu", tls);
    ASSERT_TRUE(tus.ok());
    PrivateBus bus(dir.path());
    ASSERT_TRUE(bus.ok());
    auto conf = dir / "exhibitd.conf";
    // Urgent items go at once; a rate cap keeps the upload long enough to kill it midway.
    std::ofstream(conf) << daemon_config(
        dir, bus, sim, tus, tls,
        fmt::format("chunk_size = {}\nmax_rate_outside_window = {}\nmax_rate_in_window = {}\n"
                    "window_start = \"03:00\"\nwindow_end = \"03:01\"\nretry_initial_ms = 200\n",
                    kChunk, 16ull << 20, 16ull << 20));
    auto daemon = Process::start({kExhibitd, "--config", conf.string()});
    ASSERT_TRUE(answers(bus.address()));

    auto started = extract_urgent(bus.address(), "videos");
    ASSERT_EQ(started.error_name, "") << started.error_message;

    // Wait until the DFU store holds part of the video, then kill exhibitd outright.
    auto video_upload = [&]() -> std::optional<StoredUpload> {
        for (auto& u : stored_uploads(dir / "dfu"))
            if (u.length == kFileSize)
                return u;
        return std::nullopt;
    };
    std::uint64_t offset_at_kill = 0;
    for (int i = 0; i < 600; ++i) {
        auto u = video_upload();
        if (u && u->data_size >= kFileSize / 4)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    daemon.kill(SIGKILL);
    ASSERT_TRUE(daemon.wait(std::chrono::seconds(5)));
    // The server may still be writing bytes that were in flight: let its offset settle.
    std::uint64_t settled = 0;
    for (int i = 0; i < 50; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        auto u = video_upload();
        if (u && u->data_size == settled)
            break;
        if (u)
            settled = u->data_size;
    }
    auto partial = video_upload();
    ASSERT_TRUE(partial) << "the upload had started";
    offset_at_kill = partial->data_size;
    ASSERT_GT(offset_at_kill, 0u);
    ASSERT_LT(offset_at_kill, kFileSize) << "killed before the end";

    // Start again: the upload must resume from the server's offset.
    daemon = Process::start({kExhibitd, "--config", conf.string()});
    ASSERT_TRUE(answers(bus.address()));
    ASSERT_TRUE(queue_reaches(bus.address(), "ItemsReceived", 1, 60));

    auto done = video_upload();
    ASSERT_TRUE(done);
    EXPECT_EQ(done->data_size, kFileSize);
    EXPECT_EQ(done->sha256, to_hex(Sha256::of_file(phone / "DCIM/Camera/VID_long.mp4").value()));
    std::size_t uploads_of_video = 0;
    for (auto& u : stored_uploads(dir / "dfu"))
        uploads_of_video += u.length == kFileSize;
    EXPECT_EQ(uploads_of_video, 1u) << "received exactly once: no second upload was created";
    const auto sent_again = queue_u64(bus.address(), "BytesSentThisRun");
    EXPECT_LE(sent_again, kFileSize - offset_at_kill + kChunk + (64 << 10))
        << "the restart sent only what the server lacked (plus at most one chunk, and the "
           "manifest)";
    EXPECT_GE(sent_again + kChunk, kFileSize - offset_at_kill) << "and all that the server lacked";
}

// The DFU store refuses an item (here: any body over 1000 bytes, as a misconfigured proxy
// would) until the DFU fixes its side; an administrator then queues the failed upload again
// over D-Bus, and it arrives.
TEST(ExhibitdUpload, AFailedUploadQueuedAgainByAnAdministratorArrives) {
    TempDir dir, phone;
    std::filesystem::create_directories(phone / "DCIM/Camera");
    {
        std::ofstream out(phone / "DCIM/Camera/IMG_1.jpg", std::ios::binary);
        std::mt19937 rng(11);
        for (int i = 0; i < 50'000; ++i)
            out.put(static_cast<char>(rng()));
    }
    PhoneSim sim({"--root", phone.path().string()});
    ASSERT_TRUE(sim.ok());
    auto tls = make_tls(dir / "tls", "exhibit test CA");
    auto refusing = std::make_unique<TusPeer>(PeerKind::checksum_server, dir / "dfu", tls, 0,
                                              std::vector<std::string>{"--max-body", "1000"});
    ASSERT_TRUE(refusing->ok());
    PrivateBus bus(dir.path());
    ASSERT_TRUE(bus.ok());
    auto conf = dir / "exhibitd.conf";
    std::ofstream(conf) << daemon_config(dir, bus, sim, *refusing, tls,
                                         "max_rejections = 1\nretry_initial_ms = 200\n");
    auto daemon = Process::start({kExhibitd, "--config", conf.string()});
    ASSERT_TRUE(answers(bus.address()));
    auto started = extract_urgent(bus.address(), "photos");
    ASSERT_EQ(started.error_name, "") << started.error_message;
    ASSERT_TRUE(queue_reaches(bus.address(), "ItemsFailed", 1, 30)) << "refused, then failed";
    auto listed = call_method(
        bus.address(), "/org/exhibit/Exhibit1/queue", "org.freedesktop.DBus.Properties", "Get",
        [](sd_bus_message* m) {
            return sd_bus_message_append(m, "ss", "org.exhibit.Exhibit1.Queue", "FailedUploads");
        },
        [](sd_bus_message* r) {
            std::string all;
            const char* line = nullptr;
            if (sd_bus_message_enter_container(r, 'v', "as") > 0 &&
                sd_bus_message_enter_container(r, 'a', "s") > 0)
                while (sd_bus_message_read(r, "s", &line) > 0)
                    all += std::string(line) + "\n";
            return all;
        });
    EXPECT_EQ(listed.reply_text.rfind("item ", 0), 0u) << listed.reply_text;
    EXPECT_NE(listed.reply_text.find("HTTP 413"), std::string::npos) << listed.reply_text;

    auto queue_call = [&](const char* member, std::optional<std::uint64_t> item) {
        return call_method(
            bus.address(), "/org/exhibit/Exhibit1/queue", "org.exhibit.Exhibit1.Queue", member,
            [&](sd_bus_message* m) {
                int r = item ? sd_bus_message_append(m, "t", *item) : 0;
                return r < 0 ? r : append_value_map(m, {});
            },
            [](sd_bus_message* r) {
                std::uint64_t n = 0;
                return sd_bus_message_read(r, "t", &n) > 0 ? std::to_string(n) : std::string();
            });
    };
    EXPECT_EQ(queue_call("RetryUpload", 999).error_name, "org.exhibit.Exhibit1.Error.NotFound")
        << "item 999 has not failed";
    auto not_failed = queue_call("RetryManifest", 1);
    EXPECT_EQ(not_failed.error_name, "org.exhibit.Exhibit1.Error.NotFound")
        << "session 1's manifest has not failed (it waits for its item)";
    EXPECT_NE(not_failed.error_message.find("manifest of session 1"), std::string::npos)
        << not_failed.error_message;
    EXPECT_EQ(queue_call("RetryManifest", 0).error_name, "org.exhibit.Exhibit1.Error.NotFound");
    auto ctl = run_command({std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibitctl", "--bus",
                            bus.address(), "retry", "manifest", "1"},
                           std::chrono::seconds(30));
    EXPECT_EQ(ctl.first, 3) << "exhibitctl's exit code for NotFound: " << ctl.second;
    EXPECT_NE(ctl.second.find("manifest of session 1 has not failed"), std::string::npos)
        << ctl.second;

    const auto port = refusing->port();
    refusing.reset();  // the DFU fixes its side: a server without the limit, same address
    TusPeer fixed(PeerKind::checksum_server, dir / "dfu", tls, port);
    ASSERT_TRUE(fixed.ok());
    auto retried = queue_call("RetryFailed", std::nullopt);
    ASSERT_EQ(retried.error_name, "") << retried.error_message;
    EXPECT_EQ(retried.reply_text, "1");
    ASSERT_TRUE(queue_reaches(bus.address(), "ItemsReceived", 1, 30));
    EXPECT_EQ(queue_u64(bus.address(), "ItemsFailed"), 0u);
    bool found = false;
    for (auto& u : stored_uploads(dir / "dfu"))
        if (u.meta("type") == "item") {
            found = true;
            EXPECT_EQ(u.sha256, to_hex(Sha256::of_file(phone / "DCIM/Camera/IMG_1.jpg").value()));
        }
    EXPECT_TRUE(found);
}

}  // namespace
}  // namespace exhibit::testing
