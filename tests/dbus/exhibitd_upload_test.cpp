// exhibitd SIGKILLed in the middle of an upload and started again: it resumes from the DFU
// store's offset (sending again at most one chunk), and the item is received exactly once.
// Real pieces throughout: exhibit-phonesim, exhibitd on a private bus, @tus/server over
// HTTPS with a client certificate.
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
    std::ofstream(conf) << fmt::format(
        "[daemon]\nkiosk_id = \"k\"\nwatchdog = false\nlog_target = \"stderr\"\n"
        "[store]\nstate_directory = \"{}\"\nmin_free_mb = 0\n[dbus]\nbus = \"{}\"\n"
        "[adb]\nnetwork_devices = [\"{}\"]\n"
        "[upload]\nendpoint = \"{}\"\nca_file = \"{}\"\nclient_cert = \"{}\"\nclient_key = \"{}\"\n"
        "chunk_size = {}\nmax_rate_outside_window = {}\nmax_rate_in_window = {}\nwindow_start = "
        "\"03:00\"\n"
        "window_end = \"03:01\"\nretry_initial_ms = 200\n",
        (dir / "state").string(), bus.address(), sim.address(), tus.endpoint(),
        tls.ca_cert.string(), tls.client_cert.string(), tls.client_key.string(), kChunk,
        16ull << 20, 16ull << 20);
    const std::string exhibitd = std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibitd";
    auto daemon = Process::start({exhibitd, "--config", conf.string()});
    auto ping = [&] {
        return call_method(bus.address(), "/org/exhibit/Exhibit1/health",
                           "org.freedesktop.DBus.Peer", "Ping", {})
            .error_name.empty();
    };
    for (int i = 0; i < 100 && !ping(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(ping());

    auto started = call_method(
        bus.address(), "/org/exhibit/Exhibit1", "org.exhibit.Exhibit1.Manager", "StartExtraction",
        [](sd_bus_message* m) {
            int r = sd_bus_message_append(m, "o", "/org/exhibit/Exhibit1/devices/d1");
            if (r >= 0)
                r = append_map(m, {{.key = "case_reference", .text = "CR"},
                                   {.key = "exhibit_reference", .text = "EX"},
                                   {.key = "officer_id", .text = "PC"},
                                   {.key = "basis", .text = "other"}});
            if (r >= 0)
                r = append_map(m, {{.key = "categories", .list = {"videos"}, .is_list = true}});
            return r < 0 ? r : append_map(m, {{.key = "priority", .text = "urgent"}});
        });
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
    daemon = Process::start({exhibitd, "--config", conf.string()});
    for (int i = 0; i < 100 && !ping(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    ASSERT_TRUE(ping());
    for (int i = 0; i < 1200 && queue_u64(bus.address(), "ItemsReceived") < 1; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ASSERT_EQ(queue_u64(bus.address(), "ItemsReceived"), 1u);

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

}  // namespace
}  // namespace exhibit::testing
