// drivers/host: a family's session in a child process. A test driver host (fake_driver_host:
// the real confinement and serve loop, a made-up device) shows that what an honest child
// sends arrives whole, and that a child which breaks the protocol, crashes, hangs, eats
// memory or tries to write a file ends with a named error on that session and nothing else:
// the caller's own state (the recording sink here, the evidence store in exhibitd) only ever
// receives what passed validation, and no artefact is called complete that the child did
// not finish.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <deque>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <thread>

#include "drivers/host/hosted_driver.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit {
namespace {

using namespace std::chrono_literals;
namespace fsys = std::filesystem;

const drivers::Function kFake{"fake:hosted"};

// What exhibitd knows of the family: its description only; open() runs in the child.
class Description final : public drivers::Driver {
  public:
    std::string_view name() const override { return "fake"; }
    std::string_view version() const override { return "1"; }
    std::span<const drivers::Function> serves() const override { return {&kFake, 1}; }
    std::span<const drivers::Category> categories() const override {
        static constexpr drivers::Category kPhotos[] = {drivers::Category::photos};
        return kPhotos;
    }
    Result<std::unique_ptr<drivers::DriverSession>> open(const drivers::Device&,
                                                         const drivers::OpenContext&) const override {
        return fail(Errc::internal, "opened in-process");
    }
};

struct Recorded {
    drivers::Artefact artefact;
    std::string bytes;
    std::string end;  // "complete", "incomplete: REASON", or "" when never finished
};

class RecordingSink final : public drivers::ArtefactSink {
  public:
    void planned(std::uint64_t artefacts, std::uint64_t bytes) override {
        planned_ = {artefacts, bytes};
    }
    Result<std::unique_ptr<drivers::ArtefactWriter>> begin(const drivers::Artefact& a) override {
        items.push_back({.artefact = a});
        return std::make_unique<Writer>(items.back());
    }
    void skipped(const drivers::Artefact& a, const Error& why) override {
        skips.push_back(a.source_path + ": " + why.message);
    }
    bool stop_requested() const override { return false; }

    std::pair<std::uint64_t, std::uint64_t> planned_{};
    std::deque<Recorded> items;
    std::vector<std::string> skips;

  private:
    struct Writer final : drivers::ArtefactWriter {
        explicit Writer(Recorded& r) : r_(r) {}
        Status append(std::span<const std::byte> b) override {
            r_.bytes.append(reinterpret_cast<const char*>(b.data()), b.size());
            return {};
        }
        Status finish() override {
            r_.end = "complete";
            return {};
        }
        Status finish_incomplete(std::string reason) override {
            r_.end = "incomplete: " + reason;
            return {};
        }
        Recorded& r_;
    };
};

class HostedDriverTest : public ::testing::Test {
  protected:
    host::HostedDriverOptions options(std::string mode) {
        return {.program = fsys::path(EXHIBIT_BINARY_DIR) / "tests" / "fake-driver-host",
                .arguments = {"--mode", std::move(mode)},
                .silence_limit = silence_,
                .memory_limit = 64u << 20};
    }
    Result<std::unique_ptr<drivers::DriverSession>> open(const std::string& mode,
                                                          std::string serial = "F1") {
        driver_ = std::make_unique<host::HostedDriver>(std::make_unique<Description>(),
                                                       options(mode));
        drivers::Device device{.id = "d1", .functions = {kFake}, .serial = std::move(serial)};
        return driver_->open(device, {.report = [this](drivers::DeviceCondition c, std::string d) {
                                 reports_.push_back(std::string(drivers::to_string(c)) + ": " + d);
                             }});
    }

    std::chrono::milliseconds silence_ = 20s;
    std::unique_ptr<host::HostedDriver> driver_;
    std::vector<std::string> reports_;
};

TEST_F(HostedDriverTest, AnHonestChildDeliversEveryByteAndServesTheNextRequest) {
    auto session = open("honest");
    ASSERT_TRUE(session) << session.error().describe();
    EXPECT_EQ(driver_->name(), "fake");
    auto info = (*session)->device_info();
    ASSERT_TRUE(info) << info.error().describe();
    EXPECT_EQ(info->model, "Hosted");
    EXPECT_EQ(info->properties.at("ro.fake"), "1");
    auto preview = (*session)->preview({.categories = {drivers::Category::photos}});
    ASSERT_TRUE(preview) << preview.error().describe();
    EXPECT_EQ(preview->at(drivers::Category::photos).bytes, 11u);

    for (int round = 0; round < 2; ++round) {  // the child stays for the next extraction
        RecordingSink sink;
        auto done = (*session)->extract({.categories = {drivers::Category::photos}}, sink);
        ASSERT_TRUE(done) << done.error().describe();
        EXPECT_EQ(sink.planned_, (std::pair<std::uint64_t, std::uint64_t>{2, 11}));
        ASSERT_EQ(sink.items.size(), 2u);
        EXPECT_EQ(sink.items[0].artefact.source_path, "/a.jpg");
        EXPECT_EQ(sink.items[0].bytes, "hello");
        EXPECT_EQ(sink.items[0].end, "complete");
        EXPECT_EQ(sink.items[0].artefact.mtime_ms, 1'700'000'000'000);
        // A name that is not UTF-8 crosses byte for byte.
        EXPECT_EQ(sink.items[1].artefact.source_path, "/b\xff.jpg");
        EXPECT_EQ(sink.items[1].bytes, "short");
        EXPECT_EQ(sink.items[1].end,
                  "incomplete: size mismatch: the phone stated 6 bytes and sent 5");
        ASSERT_EQ(sink.skips.size(), 1u);
        EXPECT_EQ(sink.skips[0], "/..: a name that is '..'");
        EXPECT_TRUE((*session)->reusable());
    }
}

TEST_F(HostedDriverTest, OpeningPassesOnReportsAndRefusals) {
    auto locked = open("honest", "LOCKED");
    ASSERT_TRUE(locked) << locked.error().describe();
    EXPECT_EQ(reports_, std::vector<std::string>{"locked: unlock the fake phone"});
    // A report of the wrong shape ends the child; nothing of it reaches the caller.
    reports_.clear();
    auto bad = open("bad_report");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::protocol) << bad.error().describe();
    EXPECT_TRUE(reports_.empty());
    auto refused = open("honest", "REFUSE");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::unsupported);
    EXPECT_EQ(refused.error().message, "this fake phone cannot be read");
}

// A family whose device asks the kiosk to prove who it is (ADB's AUTH) has its challenge
// signed by exhibitd and is given the public key; the key itself never reaches the child.
// A child that asks twice, sends a challenge of another size, or asks a family that holds
// no key is ended; exhibitd's own refusal reaches the child and ends the opening, named.
TEST_F(HostedDriverTest, TheKeyStaysWithTheCallerWhichSignsOnceForTheChild) {
    std::vector<std::string> challenges;
    auto with_key = [&](std::function<Result<std::vector<std::byte>>(std::span<const std::byte>)>
                            sign) {
        auto o = options("honest");
        o.device_key = host::HostedDriverOptions::DeviceKey{
            .challenge_size = 20,
            .sign = std::move(sign),
            .public_key = []() -> Result<std::string> { return "PUBLIC exhibit@test"; }};
        driver_ = std::make_unique<host::HostedDriver>(std::make_unique<Description>(), o);
    };
    auto open_serial = [&](std::string serial) {
        return driver_->open({.id = "d1", .functions = {kFake}, .serial = std::move(serial)}, {});
    };
    with_key([&](std::span<const std::byte> challenge) -> Result<std::vector<std::byte>> {
        std::string text(reinterpret_cast<const char*>(challenge.data()), challenge.size());
        challenges.push_back(text);
        auto signed_text = "signed:" + text;
        auto b = std::as_bytes(std::span(signed_text));
        return std::vector<std::byte>(b.begin(), b.end());
    });
    auto session = open_serial("SIGN");
    ASSERT_TRUE(session) << session.error().describe();
    auto info = (*session)->device_info();
    ASSERT_TRUE(info) << info.error().describe();
    EXPECT_EQ(info->model, "signature signed:cccccccccccccccccccc; key PUBLIC exhibit@test");
    EXPECT_EQ(challenges, std::vector<std::string>{"cccccccccccccccccccc"});

    auto twice = open_serial("SIGN_TWICE");
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, Errc::protocol) << twice.error().describe();
    EXPECT_EQ(twice.error().message, "the driver host sent a sign frame a second time");
    EXPECT_EQ(challenges.size(), 2u) << "the second challenge was not signed";

    auto short_challenge = open_serial("SIGN_SHORT");
    ASSERT_FALSE(short_challenge);
    EXPECT_EQ(short_challenge.error().message,
              "the driver host sent a challenge to sign that is not 20 bytes of base64");
    EXPECT_EQ(challenges.size(), 2u);

    with_key([](std::span<const std::byte>) -> Result<std::vector<std::byte>> {
        return fail(Errc::crypto, "the key cannot sign");
    });
    auto refused = open_serial("SIGN");
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::crypto) << refused.error().describe();
    EXPECT_EQ(refused.error().message, "the key cannot sign");

    auto keyless = open("honest", "SIGN");
    ASSERT_FALSE(keyless);
    EXPECT_EQ(keyless.error().code, Errc::protocol);
    EXPECT_EQ(keyless.error().message, "the driver host sent a sign frame for a family that holds no key");
}

// Each way of breaking the protocol ends the child and the request with Errc::protocol,
// saying which rule, within seconds; nothing the child began is called complete.
TEST_F(HostedDriverTest, EveryBrokenRuleEndsTheChildWithANamedError) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"oversized", "a frame of 2147483647 bytes"},
        {"unknown_type", "a frame of unknown type 99"},
        {"data_outside", "a data frame outside an artefact"},
        {"bad_json", "a planned frame that is not a JSON object"},
        {"double_begin", "a begin frame before the last artefact ended"},
        {"bad_category", "an unknown category \"secrets\""},
        {"ok_inside_artefact", "ended its answer inside an artefact"},
        {"half_frame", "ended in the middle of a frame"},
        {"bad_reason", "ended an artefact short without a reason"},
    };
    for (const auto& [mode, says] : cases) {
        SCOPED_TRACE(mode);
        auto session = open(mode);
        ASSERT_TRUE(session) << session.error().describe();
        RecordingSink sink;
        const auto start = std::chrono::steady_clock::now();
        auto done = (*session)->extract({.categories = {drivers::Category::photos}}, sink);
        EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
        ASSERT_FALSE(done);
        EXPECT_EQ(done.error().code, Errc::protocol) << done.error().describe();
        EXPECT_NE(done.error().message.find(says), std::string::npos) << done.error().message;
        for (const auto& item : sink.items)
            EXPECT_NE(item.end, "complete");
        EXPECT_FALSE((*session)->reusable());
        // The child is gone: the next request says so at once.
        auto again = (*session)->device_info();
        ASSERT_FALSE(again);
    }
}

TEST_F(HostedDriverTest, ACrashEndsTheSessionNamedAndLeavesTheArtefactUnfinished) {
    auto session = open("crash");
    ASSERT_TRUE(session) << session.error().describe();
    RecordingSink sink;
    auto done = (*session)->extract({.categories = {drivers::Category::photos}}, sink);
    ASSERT_FALSE(done);
    EXPECT_EQ(done.error().code, Errc::io);
    EXPECT_NE(done.error().message.find("the fake driver process was killed by signal 11"),
              std::string::npos)
        << done.error().message;
    ASSERT_EQ(sink.items.size(), 1u);
    EXPECT_EQ(sink.items[0].bytes, "some bytes");
    EXPECT_EQ(sink.items[0].end, "") << "an artefact cut short by a crash is never finished";
}

TEST_F(HostedDriverTest, ASilentChildIsEndedAtTheLimitAndAnInterruptIsImmediate) {
    silence_ = 2s;
    auto session = open("silent");
    ASSERT_TRUE(session) << session.error().describe();
    RecordingSink sink;
    auto start = std::chrono::steady_clock::now();
    auto done = (*session)->extract({}, sink);
    auto took = std::chrono::steady_clock::now() - start;
    ASSERT_FALSE(done);
    EXPECT_EQ(done.error().code, Errc::timeout) << done.error().describe();
    EXPECT_NE(done.error().message.find("the fake driver sent nothing for 2 s"), std::string::npos)
        << done.error().message;
    EXPECT_GE(took, 2s);
    EXPECT_LT(took, 5s);

    silence_ = 10min;
    auto waiting = open("silent");
    ASSERT_TRUE(waiting) << waiting.error().describe();
    std::thread stopper([&] {
        std::this_thread::sleep_for(500ms);
        (*waiting)->interrupt();
    });
    start = std::chrono::steady_clock::now();
    auto stopped = (*waiting)->extract({}, sink);
    took = std::chrono::steady_clock::now() - start;
    stopper.join();
    ASSERT_FALSE(stopped);
    EXPECT_EQ(stopped.error().code, Errc::cancelled) << stopped.error().describe();
    EXPECT_LT(took, 3s);
    EXPECT_FALSE((*waiting)->reusable());
}

TEST_F(HostedDriverTest, MemoryWithoutEndEndsTheChildNotTheCaller) {
    auto session = open("hog");
    ASSERT_TRUE(session) << session.error().describe();
    RecordingSink sink;
    auto done = (*session)->extract({}, sink);
    ASSERT_FALSE(done);
    EXPECT_EQ(done.error().code, Errc::io) << done.error().describe();
    EXPECT_NE(done.error().message.find("the fake driver process"), std::string::npos)
        << done.error().message;
}

// A driver made to misbehave on purpose, once its device is open: no file, no socket, no
// program, no signal to exhibitd, no change to the file system.
TEST_F(HostedDriverTest, TheChildCannotOpenAFileOrASocketOnceItsDeviceIsOpen) {
    auto session = open("reach_out");
    ASSERT_TRUE(session) << session.error().describe();
    RecordingSink sink;
    auto done = (*session)->extract({}, sink);
    ASSERT_FALSE(done);
    EXPECT_EQ(done.error().message,
              "open EPERM, openat EPERM, socket EPERM, unix socket EPERM, execve EPERM, "
              "kill EPERM, mkdir EPERM, open on an earlier thread EPERM");
    EXPECT_FALSE(fsys::exists("/tmp/exhibit-fake-driver-host-dir"));
}

// A device exhibitd opens itself (a stick's disk): the child gets that descriptor as fd 4 and
// nothing else, and its filter holds before it reads a byte of it.
TEST_F(HostedDriverTest, ADeviceExhibitdOpensReachesTheChildAloneAndUnderTheFilter) {
    testing::TempDir dir;
    const auto disk = dir / "disk.img";
    std::ofstream(disk) << "FAT32 boot sector";
    int spare = ::open(disk.c_str(), O_RDONLY | O_CLOEXEC);  // an unrelated open descriptor
    ASSERT_GE(spare, 0);
    auto o = options("honest");
    o.open_device = [&](const drivers::Device&, const drivers::OpenContext&) -> Result<UniqueFd> {
        UniqueFd fd(::open(disk.c_str(), O_RDONLY | O_CLOEXEC));
        if (!fd)
            return fail_errno("open");
        return fd;
    };
    driver_ = std::make_unique<host::HostedDriver>(std::make_unique<Description>(), o);
    auto session = driver_->open({.id = "d1", .functions = {kFake}}, {});
    ASSERT_TRUE(session) << session.error().describe();
    auto info = (*session)->device_info();
    ASSERT_TRUE(info) << info.error().describe();
    EXPECT_EQ(info->model, "open EPERM; device: FAT32 boot sector; fd 5 closed");
    ::close(spare);

    o.open_device = [](const drivers::Device&, const drivers::OpenContext&) -> Result<UniqueFd> {
        return fail(Errc::not_found, "cannot open /dev/sdz for reading");
    };
    driver_ = std::make_unique<host::HostedDriver>(std::make_unique<Description>(), o);
    auto refused = driver_->open({.id = "d1", .functions = {kFake}}, {});
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().message, "cannot open /dev/sdz for reading") << "no child started";
}

TEST_F(HostedDriverTest, TheChildCannotWriteAByteToAFile) {
    auto session = open("write_file");
    ASSERT_TRUE(session) << session.error().describe();
    RecordingSink sink;
    auto done = (*session)->extract({}, sink);
    ASSERT_FALSE(done);
    EXPECT_EQ(done.error().message, "the write failed");
    EXPECT_EQ(done.error().sys_errno, EFBIG);
}

}  // namespace
}  // namespace exhibit
