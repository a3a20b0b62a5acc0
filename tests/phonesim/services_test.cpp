// The sync: and shell: services as byte streams: requests split or coalesced anyhow, answers
// packed into payload-sized pieces, adbd's record formats, and every hostile scenario rule.
#include "phonesim/services.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <random>
#include <set>

#include "drivers/adb/shell_client.hpp"
#include "drivers/adb/sync_protocol.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::phonesim {
namespace {

namespace fsys = std::filesystem;
using namespace adb::sync;

std::string random_bytes(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    std::mt19937 rng(seed);
    for (auto& c : s)
        c = static_cast<char>(rng());
    return s;
}

std::vector<std::byte> quit() {
    std::vector<std::byte> q;
    adb::put_u32(q, kQuit);
    adb::put_u32(q, 0);
    return q;
}

std::vector<std::byte> cat(std::initializer_list<std::vector<std::byte>> parts) {
    std::vector<std::byte> out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

// Everything the service says, produced in pieces of at most `max` bytes (checked), until it
// has nothing more to say right now.
std::vector<std::byte> drain(Service& s, std::size_t max, std::size_t* pieces = nullptr) {
    std::vector<std::byte> all, out;
    for (;;) {
        out.clear();
        s.produce(out, max);
        if (out.empty())
            return all;
        EXPECT_LE(out.size(), max);
        all.insert(all.end(), out.begin(), out.end());
        if (pieces)
            ++*pieces;
    }
}

// Reads sync records back.
struct Reader {
    std::span<const std::byte> in;
    std::size_t pos = 0;
    std::uint32_t u32() {
        EXPECT_LE(pos + 4, in.size());
        if (pos + 4 > in.size())
            return 0;
        auto v = adb::get_u32(in, pos);
        pos += 4;
        return v;
    }
    std::string bytes(std::size_t n) {
        EXPECT_LE(pos + n, in.size());
        n = std::min(n, in.size() - pos);
        std::string s(reinterpret_cast<const char*>(in.data() + pos), n);
        pos += n;
        return s;
    }
    FileStat stat_v2() {  // after the id
        std::array<std::byte, kStatV2Size> rec{};
        for (std::size_t i = 0; i < 68 && pos + i < in.size(); ++i)
            rec[4 + i] = in[pos + i];
        pos += 68;
        return decode_stat_v2(rec);
    }
    // DATA records up to DONE; every chunk at most 64 KiB.
    std::string file() {
        std::string data;
        for (;;) {
            auto id = u32();
            auto len = u32();
            if (id == kDone) {
                EXPECT_EQ(len, 0u);
                return data;
            }
            EXPECT_EQ(id_name(id), "DATA");
            EXPECT_LE(len, kMaxDataChunk);
            if (id != kData)
                return data;
            data += bytes(len);
        }
    }
    bool at_end() const { return pos == in.size(); }
};

class PhonesimSync : public ::testing::Test {
  protected:
    void SetUp() override {
        fsys::create_directories(root_ / "DCIM");
        std::ofstream(root_ / "DCIM/a.jpg", std::ios::binary) << content_;
        std::ofstream(root_ / "DCIM/small.txt") << "hello";
    }
    std::string content_ = random_bytes(300'001, 1);
    testing::TempDir dir_;
    fsys::path root_ = dir_ / "root";
    VirtualFs fs_{root_};
};

TEST_F(PhonesimSync, RequestsSplitByteByByteAnswerLikeCoalescedOnes) {
    auto requests =
        cat({encode_request(kStat, "/sdcard/DCIM/small.txt"), encode_request(kList, "/sdcard/DCIM"),
             encode_rcv2_request("/sdcard/DCIM/a.jpg", 0),
             encode_request(kRecv, "/sdcard/DCIM/small.txt"), quit()});
    auto check = [&](const std::vector<std::byte>& answers) {
        Reader r{answers};
        EXPECT_EQ(r.u32(), kStat);
        EXPECT_EQ(r.u32() & kModeTypeMask, kModeRegular);
        EXPECT_EQ(r.u32(), 5u);
        r.u32();  // mtime
        std::set<std::string> names;
        for (;;) {
            auto id = r.u32();
            r.u32(), r.u32(), r.u32();
            auto len = r.u32();
            if (id == kDone) {
                EXPECT_EQ(len, 0u);
                break;
            }
            EXPECT_EQ(id, kDent);
            if (id != kDent)
                return;
            names.insert(r.bytes(len));
        }
        EXPECT_EQ(names, (std::set<std::string>{".", "..", "a.jpg", "small.txt"}));
        EXPECT_EQ(r.file(), content_);
        EXPECT_EQ(r.file(), "hello");
        EXPECT_TRUE(r.at_end());
    };
    SyncService whole(fs_, nullptr);
    whole.input(requests);
    check(drain(whole, adb::kMaxPayload));
    EXPECT_TRUE(whole.done());

    SyncService split(fs_, nullptr);
    std::vector<std::byte> got;
    for (auto b : requests) {
        split.input(std::span(&b, 1));
        auto part = drain(split, 4096);
        got.insert(got.end(), part.begin(), part.end());
    }
    check(got);
    EXPECT_TRUE(split.done());
}

TEST_F(PhonesimSync, DataChunksAreAtMost64KiBAndFillThePayload) {
    SyncService s(fs_, nullptr);
    s.input(encode_request(kRecv, "/sdcard/DCIM/a.jpg"));
    std::size_t pieces = 0;
    auto all = drain(s, adb::kMaxPayload, &pieces);
    EXPECT_EQ(pieces, 1u) << "300 KB of records fit one 1 MiB WRTE";
    Reader r{all};
    EXPECT_EQ(r.file(), content_);
    EXPECT_FALSE(s.done()) << "the stream stays open for more requests";

    SyncService small(fs_, nullptr);
    small.input(encode_request(kRecv, "/sdcard/DCIM/a.jpg"));
    pieces = 0;
    auto again = drain(small, 4096, &pieces);
    EXPECT_GE(pieces, 300'001u / 4096);
    Reader r2{again};
    EXPECT_EQ(r2.file(), content_);
}

TEST_F(PhonesimSync, FilesOver4GiBKeep64BitSizesInV2AndTruncateInV1) {
    const std::uint64_t size = (4ull << 30) + 10;
    {
        int fd = ::open((root_ / "big.bin").c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        ASSERT_GE(fd, 0);
        ASSERT_EQ(::ftruncate(fd, static_cast<off_t>(size)), 0);
        ::close(fd);
    }
    SyncService s(fs_, nullptr);
    s.input(cat({encode_request(kStat, "/sdcard/big.bin"), encode_request(kSta2, "/sdcard/big.bin"),
                 encode_request(kList, "/sdcard"), encode_request(kLis2, "/sdcard")}));
    auto all = drain(s, adb::kMaxPayload);
    Reader r{all};
    EXPECT_EQ(r.u32(), kStat);
    r.u32();
    EXPECT_EQ(r.u32(), 10u) << "STAT v1 truncates to 32 bits, as adbd does";
    r.u32();
    EXPECT_EQ(r.u32(), kSta2);
    EXPECT_EQ(r.stat_v2().size, size);
    for (;;) {  // LIST
        auto id = r.u32();
        r.u32();
        auto v1size = r.u32();
        r.u32();
        auto name = r.bytes(r.u32());
        if (id == kDone)
            break;
        if (name == "big.bin") {
            EXPECT_EQ(v1size, 10u);
        }
    }
    bool seen = false;
    for (;;) {  // LIS2
        auto id = r.u32();
        auto st = r.stat_v2();
        auto name = r.bytes(r.u32());
        if (id == kDone)
            break;
        if (name == "big.bin") {
            seen = true;
            EXPECT_EQ(st.size, size);
        }
    }
    EXPECT_TRUE(seen);
    EXPECT_TRUE(r.at_end());
}

TEST_F(PhonesimSync, Stat2ReportsErrnoAndLst2DoesNotFollow) {
    fsys::create_symlink("DCIM/small.txt", root_ / "link");
    SyncService s(fs_, nullptr);
    s.input(cat({encode_request(kSta2, "/sdcard/none"), encode_request(kLst2, "/sdcard/link"),
                 encode_request(kSta2, "/sdcard/link"), encode_request(kStat, "/sdcard/none")}));
    auto all = drain(s, adb::kMaxPayload);
    Reader r{all};
    EXPECT_EQ(r.u32(), kSta2);
    auto missing = r.stat_v2();
    EXPECT_EQ(missing.error, 2u);
    EXPECT_EQ(missing.mode, 0u);
    EXPECT_EQ(r.u32(), kLst2);
    EXPECT_TRUE(r.stat_v2().is_symlink());
    EXPECT_EQ(r.u32(), kSta2);
    auto followed = r.stat_v2();
    EXPECT_TRUE(followed.is_regular());
    EXPECT_EQ(followed.size, 5u);
    EXPECT_EQ(r.u32(), kStat);
    EXPECT_EQ(r.bytes(12), std::string(12, '\0')) << "STAT v1: all zero when absent";
}

TEST_F(PhonesimSync, FailEndsTheRequestLoop) {
    struct Case {
        std::vector<std::byte> request;
        std::string message;
    };
    std::vector<Case> cases = {
        {encode_request(kRecv, "/sdcard/DCIM/none.jpg"), "open failed: No such file or directory"},
        {encode_request(kRecv, "/sdcard/DCIM"), "open failed: Is a directory"},
        {encode_rcv2_request("/sdcard/DCIM/a.jpg", 1), "compression"},
        {encode_rcv2_request("/sdcard/DCIM/a.jpg", 0x80000000u), "compression"},
        {encode_request(kSend, "/sdcard/DCIM/new.jpg,33188"), "read-only"},
        {encode_request(kRecv, "/sdcard/" + std::string(1100, 'x')), "path too long"},
        {encode_request(make_id("ZZZZ"), "/sdcard"), "unknown sync command"},
    };
    for (const auto& c : cases) {
        SyncService s(fs_, nullptr);
        s.input(cat({c.request, encode_request(kStat, "/sdcard/DCIM/small.txt")}));
        auto all = drain(s, adb::kMaxPayload);
        Reader r{all};
        EXPECT_EQ(id_name(r.u32()), "FAIL") << c.message;
        auto message = r.bytes(r.u32());
        EXPECT_NE(message.find(c.message), std::string::npos) << message;
        EXPECT_TRUE(r.at_end()) << "nothing is answered after a FAIL: " << c.message;
        EXPECT_TRUE(s.done());
    }
    EXPECT_FALSE(fsys::exists(root_ / "DCIM/new.jpg"));
}

TEST_F(PhonesimSync, DeclaredSizesAndInjectedNamesComeFromTheScenario) {
    auto scenario = parse_scenario(R"({"rules": [
      {"path": "/sdcard/DCIM/small.txt", "action": "declare_size", "size": 5000000000},
      {"path": "/sdcard/DCIM", "action": "inject_names", "names": ["..", "x/y"],
       "names_hex": ["66 00 67", "ff fe"]}]})");
    ASSERT_TRUE(scenario);
    SyncService s(fs_, &*scenario);
    s.input(
        cat({encode_request(kSta2, "/sdcard/DCIM/small.txt"), encode_request(kLis2, "/sdcard/DCIM"),
             encode_request(kRecv, "/sdcard/DCIM/small.txt")}));
    auto all = drain(s, adb::kMaxPayload);
    Reader r{all};
    EXPECT_EQ(r.u32(), kSta2);
    EXPECT_EQ(r.stat_v2().size, 5000000000u);
    std::multiset<std::string> names;
    for (;;) {
        auto id = r.u32();
        auto st = r.stat_v2();
        auto name = r.bytes(r.u32());
        if (id == kDone)
            break;
        names.insert(name);
        if (name == "small.txt") {
            EXPECT_EQ(st.size, 5000000000u);
        }
    }
    EXPECT_EQ(names.count(".."), 2u) << "the real one and the injected one";
    EXPECT_EQ(names.count("x/y"), 1u);
    EXPECT_EQ(names.count(std::string("f\0g", 3)), 1u);
    EXPECT_EQ(names.count("\xff\xfe"), 1u);
    EXPECT_EQ(r.file(), "hello") << "the bytes sent are the real ones";
}

TEST_F(PhonesimSync, StallStopsSendingAndDisconnectAsksForIt) {
    auto scenario = parse_scenario(R"({"rules": [
      {"path": "/sdcard/DCIM/a.jpg", "action": "stall_after", "bytes": 100000},
      {"path": "/sdcard/DCIM/small.txt", "action": "disconnect_after", "bytes": 2}]})");
    ASSERT_TRUE(scenario);
    SyncService stall(fs_, &*scenario);
    stall.input(encode_request(kRecv, "/sdcard/DCIM/a.jpg"));
    auto first = drain(stall, adb::kMaxPayload);
    std::size_t data = 0;
    for (Reader r{first}; !r.at_end();) {
        EXPECT_EQ(r.u32(), kData);
        data += r.bytes(r.u32()).size();
    }
    EXPECT_EQ(data, 100000u);
    for (int i = 0; i < 10; ++i)
        EXPECT_TRUE(drain(stall, adb::kMaxPayload).empty());
    EXPECT_FALSE(stall.done());
    EXPECT_EQ(stall.action(), ConnectionAction::none) << "a stall keeps the connection";

    SyncService cut(fs_, &*scenario);
    cut.input(encode_request(kRecv, "/sdcard/DCIM/small.txt"));
    std::vector<std::byte> out;
    cut.produce(out, adb::kMaxPayload);
    EXPECT_EQ(cut.action(), ConnectionAction::disconnect);
    Reader r{out};
    EXPECT_EQ(r.u32(), kData);
    EXPECT_EQ(r.bytes(r.u32()), "he");
}

TEST_F(PhonesimSync, FramingRulesAndEndlessListingsAreTargeted) {
    auto scenario = parse_scenario(R"({"rules": [
      {"path": "/sdcard/DCIM/a.jpg", "action": "oversized_message"},
      {"path": "/sdcard/DCIM/small.txt", "action": "bad_magic"},
      {"path": "/sdcard/DCIM", "action": "list_forever"}]})");
    ASSERT_TRUE(scenario);
    SyncService big(fs_, &*scenario);
    big.input(cat({encode_request(kStat, "/sdcard/DCIM/a.jpg"),
                   encode_request(kRecv, "/sdcard/DCIM/a.jpg")}));
    std::vector<std::byte> out;
    big.produce(out, adb::kMaxPayload);
    EXPECT_EQ(big.action(), ConnectionAction::oversized_message);
    EXPECT_EQ(out.size(), kStatV1Size) << "the STAT before it is answered normally";

    SyncService magic(fs_, &*scenario);
    magic.input(encode_request(kRecv, "/sdcard/DCIM/small.txt"));
    out.clear();
    magic.produce(out, adb::kMaxPayload);
    EXPECT_EQ(magic.action(), ConnectionAction::bad_magic);

    SyncService endless(fs_, &*scenario);
    endless.input(encode_request(kList, "/sdcard/DCIM"));
    std::size_t entries = 0;
    for (int i = 0; i < 50; ++i) {
        out.clear();
        endless.produce(out, 64 * 1024);
        ASSERT_FALSE(out.empty());
        ASSERT_LE(out.size(), 64u * 1024);
        for (Reader r{out}; !r.at_end(); ++entries) {
            ASSERT_EQ(r.u32(), kDent);
            r.u32(), r.u32(), r.u32();
            r.bytes(r.u32());
        }
    }
    EXPECT_GT(entries, 50'000u);
    EXPECT_FALSE(endless.done());

    SyncService other(fs_, &*scenario);  // other paths are served normally
    other.input(encode_request(kRecv, "/sdcard/../root/DCIM/a.jpg"));
    out.clear();
    other.produce(out, adb::kMaxPayload);
    EXPECT_EQ(id_name(adb::get_u32(out)), "FAIL");
}

TEST(PhonesimShellService, V1MergesOutputAndV2SeparatesItWithTheExitStatus) {
    PhoneIdentity phone;
    phone.properties = {{"ro.product.model", "Pixel 7"}};
    Records records;
    ShellService v1("nope", false, phone, records);
    auto text = drain(v1, 4096);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(text.data()), text.size()),
              "/system/bin/sh: nope: inaccessible or not found\n")
        << "no exit status without shell_v2, stderr merged";
    EXPECT_TRUE(v1.done());

    ShellService v2("nope --x", true, phone, records);
    auto packets = drain(v2, 7);  // packets may span WRTE boundaries
    auto r = adb::decode_shell_v2(
        std::string_view(reinterpret_cast<const char*>(packets.data()), packets.size()), 1 << 20);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->out, "");
    EXPECT_EQ(r->err, "/system/bin/sh: nope: inaccessible or not found\n");
    EXPECT_EQ(r->exit_code, 127);

    ShellService ok("getprop ro.product.model", true, phone, records);
    auto good = drain(ok, adb::kMaxPayload);
    std::vector<std::byte> expected = {std::byte{1}, std::byte{8}, {}, {}, {}};
    for (char c : std::string("Pixel 7\n"))
        expected.push_back(static_cast<std::byte>(c));
    for (auto b : {3, 1, 0, 0, 0, 0})
        expected.push_back(static_cast<std::byte>(b));
    EXPECT_EQ(good, expected) << "stdout packet (id 1), then exit packet (id 3) with status 0";
}

}  // namespace
}  // namespace exhibit::phonesim
