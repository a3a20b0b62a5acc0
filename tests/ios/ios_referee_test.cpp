// The simulated iPhone against referees no one here wrote: Debian 12's libimobiledevice
// tools (ideviceinfo, idevicepair, idevicecrashreport) and afc_referee (libimobiledevice's
// afc_* API), run as child processes with USBMUXD_SOCKET_ADDRESS pointing at the fake
// usbmuxd socket in front of an IosDevice.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "phonesim/ios/ios_device.hpp"
#include "phonesim/ios/usbmuxd_socket.hpp"
#include "tests/support/file_tree.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::phonesim::ios {
namespace {

using namespace std::chrono_literals;
using testing::run_command;
namespace fsys = std::filesystem;

const std::string kUdid = "00008101-000A1B2C3D4E5F60";

const std::vector<testing::TreeFile> kMedia = {
    {"DCIM/100APPLE/IMG_0001.JPG", 300000}, {"DCIM/100APPLE/IMG_0002.MOV", 1500000},
    {"DCIM/100APPLE/IMG_0003.HEIC", 0},     {"DCIM/101APPLE/IMG_0101.PNG", 16384},
    {"PhotoData/Photos.sqlite", 65537},     {"Books/notes.txt", 17},
};

class IosReferee : public ::testing::Test {
  protected:
    void SetUp() override {
        testing::write_tree(media_, kMedia, 24);
        fsys::create_directories(media_ / "Empty");
    }

    void start(IosSettings settings) {
        settings.identity.unique_device_id = kUdid;
        settings.media_root = media_;
        auto device = IosDevice::create(std::move(settings));
        ASSERT_TRUE(device) << device.error().describe();
        device_ = std::move(*device);
        UsbmuxdSocketSettings mux;
        mux.socket_path = dir_ / "usbmuxd.sock";
        mux.pair_record_dir = dir_ / "lockdown";
        mux.udid = kUdid;
        auto socket = UsbmuxdSocket::start(mux, *device_);
        ASSERT_TRUE(socket) << socket.error().describe();
        mux_ = std::move(*socket);
    }
    void start(TrustState trust = TrustState::trusted, IosHostile hostile = {}) {
        IosSettings settings;
        settings.trust = trust;
        settings.hostile = std::move(hostile);
        start(std::move(settings));
    }

    std::pair<int, std::string> run(std::vector<std::string> argv,
                                    std::chrono::seconds timeout = 60s) {
        return run_command(argv, timeout, {mux_->client_environment()});
    }
    std::pair<int, std::string> afc_referee(const std::string& what, const std::string& path) {
        return run({std::string(EXHIBIT_BINARY_DIR) + "/tests/afc_referee", what, path});
    }
    bool has_pair_record() const { return fsys::exists(dir_ / "lockdown" / (kUdid + ".plist")); }

    testing::TempDir tmp_;
    fsys::path dir_ = tmp_.path();
    fsys::path media_ = tmp_ / "Media";
    std::unique_ptr<IosDevice> device_;
    std::unique_ptr<UsbmuxdSocket> mux_;
};

TEST_F(IosReferee, IdeviceIdListsTheUdid) {
    start();
    auto [status, out] = run({"idevice_id", "-l"});
    EXPECT_EQ(status, 0) << out;
    EXPECT_EQ(out, kUdid + "\n");
}

TEST_F(IosReferee, IdeviceinfoReadsTheIdentityInASession) {
    start();
    auto [status, out] = run({"ideviceinfo"});
    ASSERT_EQ(status, 0) << out;
    EXPECT_NE(out.find("ProductType: iPhone14,5\n"), std::string::npos) << out;
    EXPECT_NE(out.find("ProductVersion: 17.1\n"), std::string::npos) << out;
    EXPECT_NE(out.find("UniqueDeviceID: " + kUdid + "\n"), std::string::npos) << out;
    // Only given inside a session: the TLS session was really up.
    EXPECT_NE(out.find("SerialNumber: F2LXK0ABCDEF\n"), std::string::npos) << out;
    // ideviceinfo paired on the way (no record yet) and saved the record through usbmuxd.
    EXPECT_EQ(device_->pairings().size(), 1u);
    EXPECT_TRUE(has_pair_record());
}

TEST_F(IosReferee, IdeviceinfoWithoutSessionGetsOnlyBasicKeysWhileLocked) {
    start(TrustState::locked);
    auto [status, out] = run({"ideviceinfo", "-s"});
    ASSERT_EQ(status, 0) << out;
    EXPECT_NE(out.find("ProductType: iPhone14,5\n"), std::string::npos) << out;
    EXPECT_NE(out.find("UniqueDeviceID: " + kUdid + "\n"), std::string::npos) << out;
    EXPECT_EQ(out.find("SerialNumber:"), std::string::npos) << out;
    EXPECT_TRUE(device_->pairings().empty());
}

TEST_F(IosReferee, IdeviceinfoWaitsForTheDialogThenReadsAfterTrust) {
    start(TrustState::waiting);
    auto [status, out] = run({"ideviceinfo"});
    EXPECT_NE(status, 0) << out;
    EXPECT_NE(out.find("(-19)"), std::string::npos) << out;  // PairingDialogResponsePending
    device_->trust();
    std::tie(status, out) = run({"ideviceinfo", "-k", "SerialNumber"});
    EXPECT_EQ(status, 0) << out;
    EXPECT_EQ(out, "F2LXK0ABCDEF\n");
}

TEST_F(IosReferee, PairOnALockedPhoneAsksToUnlock) {
    start(TrustState::locked);
    auto [status, out] = run({"idevicepair", "pair"});
    EXPECT_NE(status, 0) << out;
    EXPECT_NE(out.find("because a passcode is set"), std::string::npos) << out;
    EXPECT_TRUE(device_->pairings().empty());
    EXPECT_FALSE(has_pair_record());
}

TEST_F(IosReferee, PairWaitsForTheDialogThenSucceedsAfterTrust) {
    start(TrustState::waiting);
    auto [status, out] = run({"idevicepair", "pair"});
    EXPECT_NE(status, 0) << out;
    EXPECT_NE(out.find("accept the trust dialog"), std::string::npos) << out;
    EXPECT_TRUE(device_->pairings().empty());

    device_->trust();
    std::tie(status, out) = run({"idevicepair", "pair"});
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(out.find("SUCCESS"), std::string::npos) << out;
    EXPECT_EQ(device_->pairings().size(), 1u);
    EXPECT_TRUE(has_pair_record());
}

TEST_F(IosReferee, PairDeniedOnceThenTheDialogAgain) {
    start(TrustState::waiting);
    device_->deny();
    auto [status, out] = run({"idevicepair", "pair"});
    EXPECT_NE(status, 0) << out;
    EXPECT_NE(out.find("denied the trust dialog"), std::string::npos) << out;
    std::tie(status, out) = run({"idevicepair", "pair"});
    EXPECT_NE(status, 0) << out;
    EXPECT_NE(out.find("accept the trust dialog"), std::string::npos) << out;
    EXPECT_TRUE(device_->pairings().empty());
}

TEST_F(IosReferee, ValidateThenUnpairLeavesNoPairing) {
    start();
    auto [status, out] = run({"idevicepair", "pair"});
    ASSERT_EQ(status, 0) << out;
    auto host_id = device_->pairings().at(0).host_id;
    std::tie(status, out) = run({"idevicepair", "validate"});
    EXPECT_EQ(status, 0) << out;
    EXPECT_NE(out.find("SUCCESS"), std::string::npos) << out;
    std::tie(status, out) = run({"idevicepair", "unpair"});
    EXPECT_EQ(status, 0) << out;
    EXPECT_TRUE(device_->pairings().empty());
    EXPECT_FALSE(has_pair_record());
    // The phone forgot the host: a session with the old HostID is refused.
    EXPECT_EQ(device_->trust_book().admit(host_id), std::optional<std::string>(kInvalidHostId));
}

TEST_F(IosReferee, CrashreportCopiesTheWholeMediaTreeByteForByte) {
    start();
    auto copy = dir_ / "copy";
    fsys::create_directories(copy);
    auto [status, out] = run({"idevicecrashreport", "-k", copy.string()});
    ASSERT_EQ(status, 0) << out;
    for (const auto& f : kMedia) {
        SCOPED_TRACE(f.path);
        ASSERT_TRUE(fsys::exists(copy / f.path)) << out;
        EXPECT_EQ(testing::sha256_of(copy / f.path), testing::sha256_of(media_ / f.path));
    }
    EXPECT_EQ(device_->refused_writes(), 0u);
}

// Hostile phones: each behaviour must end the referee's run with an error, never hang it.

TEST_F(IosReferee, ABiggerLyingSizeIsReportedAsAMismatch) {
    IosHostile hostile;
    hostile.lying_size = LyingSize{"DCIM/100APPLE/IMG_0001.JPG", 4096};
    start(TrustState::trusted, hostile);
    auto copy = dir_ / "copy";
    fsys::create_directories(copy);
    auto [status, out] = run({"idevicecrashreport", "-k", copy.string()});
    ASSERT_NE(status, -1) << out;  // finished in time
    EXPECT_NE(out.find("File size mismatch"), std::string::npos) << out;
    // The honest files still arrive whole.
    EXPECT_EQ(testing::sha256_of(copy / "DCIM/100APPLE/IMG_0002.MOV"),
              testing::sha256_of(media_ / "DCIM/100APPLE/IMG_0002.MOV"));
}

TEST_F(IosReferee, ASmallerLyingSizeIsReportedAsAMismatch) {
    IosHostile hostile;
    hostile.lying_size = LyingSize{"PhotoData/Photos.sqlite", -1000};
    start(TrustState::trusted, hostile);
    auto copy = dir_ / "copy";
    fsys::create_directories(copy);
    auto [status, out] = run({"idevicecrashreport", "-k", copy.string()});
    ASSERT_NE(status, -1) << out;
    EXPECT_NE(out.find("File size mismatch"), std::string::npos) << out;
}

TEST_F(IosReferee, WritesThroughAfcAreRefusedAndCounted) {
    start();
    auto [status, out] = afc_referee("open-write", "DCIM/100APPLE/NEW.JPG");
    ASSERT_EQ(status, 0) << out;
    EXPECT_NE(out.find("afc_error=10\n"), std::string::npos) << out;  // AFC_E_PERM_DENIED
    EXPECT_EQ(device_->refused_writes(), 1u);
    std::tie(status, out) = afc_referee("mkdir", "NewFolder");
    ASSERT_EQ(status, 0) << out;
    EXPECT_EQ(out.find("afc_error=0\n"), std::string::npos) << out;
    std::tie(status, out) = afc_referee("remove", "Books/notes.txt");
    ASSERT_EQ(status, 0) << out;
    EXPECT_EQ(out.find("afc_error=0\n"), std::string::npos) << out;
    EXPECT_EQ(device_->refused_writes(), 3u);
    EXPECT_FALSE(fsys::exists(media_ / "DCIM/100APPLE/NEW.JPG"));
    EXPECT_FALSE(fsys::exists(media_ / "NewFolder"));
    EXPECT_TRUE(fsys::exists(media_ / "Books/notes.txt"));
}

TEST_F(IosReferee, AfcReadsAFileWholeThroughFragmentedDelivery) {
    start();
    auto [status, out] = afc_referee("read", "DCIM/100APPLE/IMG_0002.MOV");
    ASSERT_EQ(status, 0) << out;
    EXPECT_NE(out.find("bytes=1500000\n"), std::string::npos) << out;
}

TEST_F(IosReferee, PathsCannotLeaveTheMediaRoot) {
    start();
    fsys::create_symlink("/etc", media_ / "escape");
    auto [status, out] = afc_referee("read", "../Media/Books/notes.txt");
    ASSERT_EQ(status, 0) << out;
    EXPECT_NE(out.find("afc_error=8\n"), std::string::npos) << out;  // OBJECT_NOT_FOUND
    std::tie(status, out) = afc_referee("read", "escape/hostname");
    ASSERT_EQ(status, 0) << out;
    EXPECT_NE(out.find("afc_error=8\n"), std::string::npos) << out;
    std::tie(status, out) = afc_referee("list", "escape");
    ASSERT_EQ(status, 0) << out;
    EXPECT_NE(out.find("afc_error=8\n"), std::string::npos) << out;
}

TEST_F(IosReferee, AnEndlessDirectoryGrowsWithEveryListing) {
    IosHostile hostile;
    hostile.endless_dir = "DCIM/100APPLE";
    hostile.endless_step = 5000;
    start(TrustState::trusted, hostile);
    auto [status, out] = afc_referee("list", "DCIM/100APPLE");
    ASSERT_EQ(status, 0) << out;
    EXPECT_NE(out.find("entries=5002\n"), std::string::npos) << out.substr(0, 200);
    EXPECT_NE(out.find("entries=10002\n"), std::string::npos) << out.substr(0, 200);
}

TEST_F(IosReferee, ReadDirCarriesNamesNoFileSystemHas) {
    IosHostile hostile;
    hostile.evil_names_dir = "Books";
    start(TrustState::trusted, hostile);
    auto [status, out] = afc_referee("list", "Books");
    ASSERT_EQ(status, 0) << out;
    EXPECT_NE(out.find("name=notes.txt\n"), std::string::npos) << out;
    EXPECT_NE(out.find("name=a/b\n"), std::string::npos) << out;
    EXPECT_NE(out.find("name=nul\n"), std::string::npos) << out;
    EXPECT_NE(out.find("name=inside\n"), std::string::npos) << out;
    EXPECT_NE(out.find("name=bad\\xff\\xfe.jpg\n"), std::string::npos) << out;
    // The copy through crashreportcopymobile ends, and writes nothing outside its folder.
    auto copy = dir_ / "copy";
    fsys::create_directories(copy);
    std::tie(status, out) = run({"idevicecrashreport", "-k", copy.string()});
    ASSERT_NE(status, -1) << out;
    EXPECT_TRUE(fsys::exists(copy / "Books/notes.txt")) << out;
    EXPECT_FALSE(fsys::exists(dir_ / "a")) << out;
}

TEST_F(IosReferee, AMalformedLockdownAnswerFailsTheClient) {
    IosHostile hostile;
    hostile.malformed_lockdown_reply = true;
    start(TrustState::trusted, hostile);
    auto [status, out] = run({"ideviceinfo"});
    EXPECT_NE(status, -1) << out;
    EXPECT_NE(status, 0) << out;
    EXPECT_EQ(out.find("ProductType"), std::string::npos) << out;
}

// libimobiledevice 1.3.0 only logs a bad magic (afc_receive_data), so the bad_magic
// behaviour is checked on the wire in ios_unit_test; a this_length beyond entire_length it
// does refuse.
TEST_F(IosReferee, AnAfcAnswerLongerThanItsPacketFailsTheCopy) {
    IosHostile hostile;
    hostile.malformed_afc = MalformedAfc::this_beyond_entire;
    hostile.malformed_afc_at = 1;  // the first ReadDir
    start(TrustState::trusted, hostile);
    auto copy = dir_ / "copy";
    fsys::create_directories(copy);
    auto [status, out] = run({"idevicecrashreport", "-k", copy.string()});
    EXPECT_NE(status, -1) << out;
    EXPECT_NE(status, 0) << out;
    EXPECT_FALSE(fsys::exists(copy / "DCIM")) << out;
    EXPECT_EQ(device_->afc_requests(), 1u) << out;
}

TEST_F(IosReferee, AStalledAfcLeavesTheClientWaitingUntilStopped) {
    IosHostile hostile;
    hostile.stall_after = 3;
    start(TrustState::trusted, hostile);
    auto copy = dir_ / "copy";
    fsys::create_directories(copy);
    auto p = testing::Process::start({"idevicecrashreport", "-k", copy.string()},
                                     {mux_->client_environment()});
    // The fourth request is the first one left unanswered.
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (device_->afc_requests() < 4 && std::chrono::steady_clock::now() < deadline &&
           p.running())
        std::this_thread::sleep_for(10ms);
    ASSERT_EQ(device_->afc_requests(), 4u);
    EXPECT_FALSE(p.wait(2s)) << "the client went on without an answer";
    p.stop();
    EXPECT_EQ(device_->afc_requests(), 4u);
}

}  // namespace
}  // namespace exhibit::phonesim::ios
