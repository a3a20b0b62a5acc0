// Referee tests: exhibit-phonesim checked against Debian's real `adb` client. If the client
// says phonesim is a phone, pulls its tree byte for byte and reads its shell output as a
// phone's, the host driver tested against phonesim is tested against ADB as it really is.
//
// Each test runs a private adb server (own port, own HOME and adbkey) and its own phonesim,
// and stops both by PID. A missing `adb` fails the tests: they are never skipped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <fstream>
#include <map>
#include <random>

#include <fmt/format.h>

#include "common/sha256.hpp"
#include "tests/phonesim/referee_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

namespace fsys = std::filesystem;

void write_file(const fsys::path& p, std::string_view bytes, std::int64_t mtime) {
    fsys::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary)
        .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    timespec times[2] = {{mtime, 0}, {mtime, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, p.c_str(), times, 0), 0) << p;
}

std::string random_bytes(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    std::mt19937 rng(seed);
    for (auto& c : s)
        c = static_cast<char>(rng());
    return s;
}

struct FileFacts {
    std::string sha256;
    std::int64_t mtime = 0;
};

// Every regular file under `root` (symlinks not followed): relative path -> hash and mtime.
std::map<std::string, FileFacts> tree_facts(const fsys::path& root) {
    std::map<std::string, FileFacts> out;
    for (auto it = fsys::recursive_directory_iterator(root);
         it != fsys::recursive_directory_iterator(); ++it) {
        if (!it->is_regular_file(/*follows*/) || it->is_symlink())
            continue;
        struct stat st {};
        ::lstat(it->path().c_str(), &st);
        auto digest = Sha256::of_file(it->path());
        out[fsys::relative(it->path(), root).string()] = {digest ? to_hex(*digest) : "unreadable",
                                                          st.st_mtim.tv_sec};
    }
    return out;
}

// Records whose bodies hold everything that makes `content query` output ambiguous.
constexpr std::string_view kRecords = R"({
  "properties": {"ro.product.manufacturer": "Referee", "ro.build.version.release": "14"},
  "sms": [
    {"_id": 1, "thread_id": 1, "address": "+447700900001", "date": 1718222460000, "type": 1,
     "read": 1, "subject": null, "body": "Meet at 5, bring the car"},
    {"_id": 2, "thread_id": 1, "address": "+447700900001", "date": 1718222520000, "type": 2,
     "read": 1, "subject": null, "body": "ok"},
    {"_id": 3, "thread_id": 2, "address": "BANK", "date": 1718222580000, "type": 1, "read": 0,
     "subject": null, "body": "line one\nline two, body=forged = yes"},
    {"_id": 4, "thread_id": 3, "address": "+447700900002", "date": 1718222640000, "type": 1,
     "read": 1, "subject": "NULL", "body": "Caf\u00e9 \ud83d\ude00"}
  ],
  "call_log": [
    {"_id": 1, "number": "999", "date": 1718222700000, "duration": 640, "type": 2, "name": null}
  ],
  "packages": ["com.whatsapp", "org.telegram.messenger"]
})";

constexpr std::string_view kInbox =
    "Row: 0 _id=1, thread_id=1, address=+447700900001, date=1718222460000, type=1, read=1, "
    "subject=NULL, body=Meet at 5, bring the car\n"
    "Row: 1 _id=3, thread_id=2, address=BANK, date=1718222580000, type=1, read=0, subject=NULL, "
    "body=line one\nline two, body=forged = yes\n"
    "Row: 2 _id=4, thread_id=3, address=+447700900002, date=1718222640000, type=1, read=1, "
    "subject=NULL, body=Caf\u00e9 \U0001F600\n";

class AdbReferee : public ::testing::Test {
  protected:
    void SetUp() override {
        auto [rc, out] = run_command({"adb", "version"}, std::chrono::seconds(20));
        ASSERT_EQ(rc, 0) << "Debian's adb client is required (scripts/install-deps): " << out;
        ASSERT_TRUE(fsys::exists(phonesim_program())) << phonesim_program();
        std::ofstream(dir_ / "records.json") << kRecords;
    }

    // `adb connect`, which exits 0 even when it fails: its words are the verdict.
    void connect(AdbServer& adb, const SimPhone& phone) {
        auto [rc, out] = adb.run({"connect", phone.serial()}, std::chrono::seconds(30));
        EXPECT_EQ(rc, 0) << out;
        EXPECT_NE(out.find("connected to " + phone.serial()), std::string::npos) << out;
    }

    std::pair<int, std::string> shell(AdbServer& adb, const SimPhone& phone,
                                      const std::vector<std::string>& command) {
        std::vector<std::string> args = {"-s", phone.serial(), "shell"};
        args.insert(args.end(), command.begin(), command.end());
        return adb.run(args);
    }

    TempDir dir_;
};

TEST_F(AdbReferee, ConnectsAndShowsAsDeviceWithItsBanner) {
    AdbServer adb(dir_ / "home");
    ASSERT_TRUE(adb.ok()) << "adb server did not start: " << adb.log();
    SimPhone phone(
        {"--root", dir_.path().string(), "--model", "Pixel Referee", "--serial", "REF0001"});
    ASSERT_TRUE(phone.ok()) << "phonesim did not start";
    connect(adb, phone);
    EXPECT_EQ(adb.state_of(phone.serial()), "device");
    auto [rc, out] = adb.run({"devices", "-l"}, std::chrono::seconds(20));
    EXPECT_NE(out.find("model:Pixel_Referee"), std::string::npos) << out;
    auto [src, serial] = adb.run({"-s", phone.serial(), "get-serialno"});
    EXPECT_EQ(serial, phone.serial() + "\n");
    auto [prc, prop] = shell(adb, phone, {"getprop", "ro.serialno"});
    EXPECT_EQ(prop, "REF0001\n");
}

TEST_F(AdbReferee, ShellAnswersGetpropDatePmAndErrorsLikeAPhone) {
    AdbServer adb(dir_ / "home");
    ASSERT_TRUE(adb.ok()) << adb.log();
    SimPhone phone({"--root", dir_.path().string(), "--records", (dir_ / "records.json").string(),
                    "--model", "Pixel Referee", "--clock-offset", "-3600"});
    ASSERT_TRUE(phone.ok());
    connect(adb, phone);

    auto [rc, model] = shell(adb, phone, {"getprop", "ro.product.model"});
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(model, "Pixel Referee\n");
    auto [mrc, maker] = shell(adb, phone, {"getprop", "ro.product.manufacturer"});
    EXPECT_EQ(maker, "Referee\n");
    auto [arc, all] = shell(adb, phone, {"getprop"});
    EXPECT_NE(all.find("[ro.product.model]: [Pixel Referee]\n"), std::string::npos) << all;

    auto before = std::time(nullptr);
    auto [drc, date] = shell(adb, phone, {"date", "+%s"});
    ASSERT_EQ(drc, 0) << date;
    auto phone_time = std::stoll(date);
    EXPECT_GE(phone_time, before - 3600 - 2);
    EXPECT_LE(phone_time, std::time(nullptr) - 3600 + 2);

    auto [prc, packages] = shell(adb, phone, {"pm", "list", "packages"});
    EXPECT_EQ(packages, "package:com.whatsapp\npackage:org.telegram.messenger\n");
    auto [erc, echo] = shell(adb, phone, {"echo", "hello", "phone"});
    EXPECT_EQ(echo, "hello phone\n");
    auto [xrc, exec] = adb.run({"-s", phone.serial(), "exec-out", "getprop", "ro.product.model"});
    EXPECT_EQ(exec, "Pixel Referee\n") << "exec: is binary-clean, no shell protocol";

    // shell_v2 carries the exit status and stderr back to the client.
    auto [nrc, missing] = shell(adb, phone, {"frobnicate", "--now"});
    EXPECT_EQ(nrc, 127);
    EXPECT_EQ(missing, "/system/bin/sh: frobnicate: inaccessible or not found\n");
}

TEST_F(AdbReferee, ContentQueryPrintsRowsExactlyAsAndroidDoes) {
    AdbServer adb(dir_ / "home");
    ASSERT_TRUE(adb.ok()) << adb.log();
    SimPhone phone({"--root", dir_.path().string(), "--records", (dir_ / "records.json").string()});
    ASSERT_TRUE(phone.ok());
    connect(adb, phone);

    auto [rc, inbox] = shell(adb, phone, {"content", "query", "--uri", "content://sms/inbox"});
    EXPECT_EQ(rc, 0);
    EXPECT_EQ(inbox, kInbox);

    auto [prc, projected] = shell(
        adb, phone,
        {"content", "query", "--uri", "content://sms/sent", "--projection", "body:_id:address"});
    EXPECT_EQ(projected, "Row: 0 body=ok, _id=2, address=+447700900001\n");
    auto [crc, calls] =
        shell(adb, phone, {"content", "query", "--uri", "content://call_log/calls"});
    EXPECT_EQ(calls,
              "Row: 0 _id=1, number=999, date=1718222700000, duration=640, type=2, name=NULL\n");
    auto [erc, empty] =
        shell(adb, phone, {"content", "query", "--uri", "content://com.android.contacts/data"});
    EXPECT_EQ(empty, "No result found.\n");
}

TEST_F(AdbReferee, PullOfAGeneratedTreeIsByteIdenticalWithTimes) {
    auto root = dir_ / "phone";
    auto [grc, gout] =
        run_command({phonesim_program(), "--generate", root.string(), "--seed", "11"},
                    std::chrono::seconds(60));
    ASSERT_EQ(grc, 0) << gout;
    // The names real phones have and careless tools trip over, on top of the generator's.
    ASSERT_NO_FATAL_FAILURE(write_file(root / "Edge/Ünïcødé 😀 фото.jpg", "u", 1600000000));
    ASSERT_NO_FATAL_FAILURE(write_file(root / "Edge/ -leading space and dash", "d", 1600000001));
    ASSERT_NO_FATAL_FAILURE(write_file(root / "Edge/--help", "h", 1600000002));
    ASSERT_NO_FATAL_FAILURE(write_file(root / "Edge/empty", "", 1600000003));
    ASSERT_NO_FATAL_FAILURE(
        write_file(root / ("Edge/" + std::string(255, 'n')), "255", 1600000004));
    ASSERT_NO_FATAL_FAILURE(write_file(root / "Edge/a/b/c/d/e/f/g/h/nested.txt", "n", 1600000005));
    // Sizes around the 64 KiB DATA chunk and the 1 MiB payload.
    for (std::size_t size : {65535u, 65536u, 65537u, 1048576u, 1048577u, 3000001u})
        ASSERT_NO_FATAL_FAILURE(write_file(root / fmt::format("Edge/sizes/{}.bin", size),
                                           random_bytes(size, static_cast<unsigned>(size)),
                                           1600000006));

    auto expected = tree_facts(root);
    ASSERT_GT(expected.size(), 30u);
    AdbServer adb(dir_ / "home");
    ASSERT_TRUE(adb.ok()) << adb.log();
    SimPhone phone({"--root", root.string()});
    ASSERT_TRUE(phone.ok());
    connect(adb, phone);

    auto dest = dir_ / "pulled";
    auto [rc, out] = adb.run({"-s", phone.serial(), "pull", "-a", "/sdcard/", dest.string()},
                             std::chrono::seconds(120));
    ASSERT_EQ(rc, 0) << out;
    EXPECT_NE(out.find(fmt::format("{} files pulled", expected.size())), std::string::npos) << out;
    auto got = tree_facts(dest);
    EXPECT_EQ(got.size(), expected.size());
    for (const auto& [path, facts] : expected) {
        auto it = got.find(path);
        if (it == got.end()) {
            ADD_FAILURE() << "not pulled: " << path;
            continue;
        }
        EXPECT_EQ(it->second.sha256, facts.sha256) << path;
        EXPECT_EQ(it->second.mtime, facts.mtime) << path << " (pull -a keeps the phone's time)";
    }
    for (const auto& [path, facts] : got)
        EXPECT_TRUE(expected.contains(path)) << "pulled but not on the phone: " << path;

    // LIST (v1) through `adb ls`: mode, size and mtime in hex, then the name.
    auto [lrc, listing] = adb.run({"-s", phone.serial(), "ls", "/sdcard/Edge/sizes"});
    EXPECT_EQ(lrc, 0) << listing;
    EXPECT_NE(listing.find(fmt::format("000081a4 00010001 {:08x} 65537.bin\n", 1600000006)),
              std::string::npos)
        << listing;

    // The same files under the phone's other name for shared storage.
    auto one = dir_ / "one.mp4";
    auto [orc, oout] =
        adb.run({"-s", phone.serial(), "pull",
                 "/storage/emulated/0/DCIM/Camera/VID_20240704_181200.mp4", one.string()});
    ASSERT_EQ(orc, 0) << oout;
    EXPECT_EQ(to_hex(*Sha256::of_file(one)),
              expected.at("DCIM/Camera/VID_20240704_181200.mp4").sha256);
}

TEST_F(AdbReferee, TwoPullsAtOnceShareTheConnection) {
    auto root = dir_ / "phone";
    for (int i = 0; i < 2; ++i)
        ASSERT_NO_FATAL_FAILURE(write_file(root / fmt::format("Movies/clip{}.mp4", i),
                                           random_bytes(6'000'000, static_cast<unsigned>(i)),
                                           1700000000));
    AdbServer adb(dir_ / "home");
    ASSERT_TRUE(adb.ok()) << adb.log();
    SimPhone phone({"--root", root.string()});
    ASSERT_TRUE(phone.ok());
    connect(adb, phone);
    // Each pull opens its own sync: stream on the one ADB connection.
    std::vector<Process> pulls;
    for (int i = 0; i < 2; ++i)
        pulls.push_back(Process::start(
            {"adb", "-P", std::to_string(adb.port()), "-s", phone.serial(), "pull",
             fmt::format("/sdcard/Movies/clip{}.mp4", i), (dir_ / fmt::format("c{}", i)).string()},
            {"HOME=" + (dir_ / "home").string()}, false));
    for (int i = 0; i < 2; ++i) {
        auto status = pulls[static_cast<std::size_t>(i)].wait(std::chrono::seconds(60));
        ASSERT_TRUE(status) << "pull " << i << " hung";
        EXPECT_EQ(*status, 0);
        EXPECT_EQ(to_hex(*Sha256::of_file(dir_ / fmt::format("c{}", i))),
                  to_hex(*Sha256::of_file(root / fmt::format("Movies/clip{}.mp4", i))));
    }
}

TEST_F(AdbReferee, TwoHostsConnectAtOnce) {
    auto root = dir_ / "phone";
    ASSERT_NO_FATAL_FAILURE(
        write_file(root / "DCIM/clip.mp4", random_bytes(5'000'000, 3), 1700000000));
    SimPhone phone({"--root", root.string()});
    ASSERT_TRUE(phone.ok());
    AdbServer first(dir_ / "home1");
    AdbServer second(dir_ / "home2");
    ASSERT_TRUE(first.ok() && second.ok()) << first.log() << second.log();
    connect(first, phone);
    connect(second, phone);
    EXPECT_EQ(first.state_of(phone.serial()), "device");
    EXPECT_EQ(second.state_of(phone.serial()), "device");
    // Both pull the same file at the same time, each over its own ADB connection.
    std::vector<Process> pulls;
    int n = 0;
    for (auto* adb : {&first, &second})
        pulls.push_back(
            Process::start({"adb", "-P", std::to_string(adb->port()), "-s", phone.serial(), "pull",
                            "/sdcard/DCIM/clip.mp4", (dir_ / fmt::format("got{}", n++)).string()},
                           {"HOME=" + (dir_ / "home1").string()}, false));
    for (auto& p : pulls) {
        auto status = p.wait(std::chrono::seconds(60));
        ASSERT_TRUE(status) << "a pull hung";
        EXPECT_EQ(*status, 0);
    }
    auto want = to_hex(*Sha256::of_file(root / "DCIM/clip.mp4"));
    EXPECT_EQ(to_hex(*Sha256::of_file(dir_ / "got0")), want);
    EXPECT_EQ(to_hex(*Sha256::of_file(dir_ / "got1")), want);
}

TEST_F(AdbReferee, NothingOutsideTheRootIsServed) {
    auto root = dir_ / "phone";
    auto outside = dir_ / "outside";
    ASSERT_NO_FATAL_FAILURE(write_file(outside / "secret.txt", "kiosk secret", 1700000000));
    ASSERT_NO_FATAL_FAILURE(write_file(root / "DCIM/ok.jpg", "fine", 1700000000));
    fsys::create_directory_symlink(outside, root / "escape");
    fsys::create_symlink(outside / "secret.txt", root / "DCIM/leak.jpg");
    AdbServer adb(dir_ / "home");
    ASSERT_TRUE(adb.ok()) << adb.log();
    SimPhone phone({"--root", root.string()});
    ASSERT_TRUE(phone.ok());
    connect(adb, phone);

    for (std::string path : {"/sdcard/../outside/secret.txt", "/sdcard/escape/secret.txt",
                             "/sdcard/DCIM/leak.jpg", "/sdcard/DCIM/../../outside/secret.txt"}) {
        auto dest = dir_ / "got";
        auto [rc, out] = adb.run({"-s", phone.serial(), "pull", path, dest.string()});
        EXPECT_NE(rc, 0) << path << ": " << out;
        EXPECT_FALSE(fsys::exists(dest) && read_text(dest) == "kiosk secret") << path;
        fsys::remove_all(dest);
    }
    auto dest = dir_ / "tree";
    adb.run({"-s", phone.serial(), "pull", "/sdcard/", dest.string()});
    EXPECT_EQ(read_text(dest / "DCIM/ok.jpg"), "fine");
    for (const auto& [path, facts] : tree_facts(dest))
        EXPECT_NE(facts.sha256, to_hex(Sha256::of("kiosk secret"))) << "leaked as " << path;
    // Listing the escaping directory shows nothing of what is behind it.
    auto listed = dir_ / "listed";
    adb.run({"-s", phone.serial(), "pull", "/sdcard/escape/", listed.string()});
    EXPECT_FALSE(fsys::exists(listed / "secret.txt"));
}

TEST_F(AdbReferee, UnknownKeyIsUnauthorisedUntilAllowedOnThePhone) {
    AdbServer adb(dir_ / "home");
    ASSERT_TRUE(adb.ok()) << adb.log();
    ASSERT_TRUE(eventually([&] { return fsys::exists(adb.public_key()); }, 10s))
        << "the adb server made no key";
    auto keys = dir_ / "adb_keys";
    std::ofstream(keys).flush();  // empty: the phone knows no host
    auto control = dir_ / "control";
    ASSERT_EQ(::mkfifo(control.c_str(), 0600), 0);
    SimPhone phone({"--root", dir_.path().string(), "--auth", "require", "--adb-keys",
                    keys.string(), "--control", control.string()});
    ASSERT_TRUE(phone.ok());

    adb.run({"connect", phone.serial()}, std::chrono::seconds(30));  // may say "failed to auth"
    EXPECT_TRUE(eventually([&] { return adb.state_of(phone.serial()) == "unauthorized"; }, 20s))
        << "state: " << adb.state_of(phone.serial()).value_or("(absent)");
    auto [urc, uout] = shell(adb, phone, {"echo", "hi"});
    EXPECT_NE(urc, 0) << uout;
    EXPECT_EQ(read_text(keys), "") << "nothing is authorised before the person allows it";

    // The person taps "Allow" on the phone.
    {
        UniqueFd fd(::open(control.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC));
        ASSERT_TRUE(fd) << "phonesim is not reading its control FIFO";
        ASSERT_EQ(::write(fd.get(), "allow\n", 6), 6);
    }
    EXPECT_TRUE(eventually([&] { return adb.state_of(phone.serial()) == "device"; }, 20s))
        << "state: " << adb.state_of(phone.serial()).value_or("(absent)");
    auto [rc, out] = shell(adb, phone, {"echo", "allowed"});
    EXPECT_EQ(out, "allowed\n");
    // The key is remembered in the phone's adb_keys, in adb's own text form.
    auto pub = read_text(adb.public_key());
    auto stored = read_text(keys);
    EXPECT_EQ(stored.substr(0, 700), pub.substr(0, 700));
}

TEST_F(AdbReferee, AProvisionedKeyIsAcceptedWithoutAsking) {
    AdbServer adb(dir_ / "home");
    ASSERT_TRUE(adb.ok()) << adb.log();
    ASSERT_TRUE(eventually([&] { return fsys::exists(adb.public_key()); }, 10s));
    // Another host's key first: the phone must try every key it knows.
    AdbServer other(dir_ / "other-home");
    ASSERT_TRUE(other.ok()) << other.log();
    ASSERT_TRUE(eventually([&] { return fsys::exists(other.public_key()); }, 10s));
    auto keys = dir_ / "adb_keys";
    std::ofstream(keys) << read_text(other.public_key()) << "\n"
                        << read_text(adb.public_key()) << "\n";
    SimPhone phone(
        {"--root", dir_.path().string(), "--auth", "require", "--adb-keys", keys.string()});
    ASSERT_TRUE(phone.ok());
    connect(adb, phone);
    EXPECT_TRUE(eventually([&] { return adb.state_of(phone.serial()) == "device"; }, 20s))
        << "state: " << adb.state_of(phone.serial()).value_or("(absent)");
    auto [rc, out] = shell(adb, phone, {"getprop", "ro.product.model"});
    EXPECT_EQ(out, "Phonesim\n");
}

TEST_F(AdbReferee, ServerIsGoneAfterTheTest) {
    pid_t pid = 0;
    std::uint16_t port = 0;
    {
        AdbServer adb(dir_ / "home");
        ASSERT_TRUE(adb.ok()) << adb.log();
        pid = adb.pid();
        port = adb.port();
    }
    EXPECT_NE(::kill(pid, 0), 0) << "adb server " << pid << " still runs";
    EXPECT_FALSE(tcp_port_accepts(port));
}

}  // namespace
}  // namespace exhibit::testing
