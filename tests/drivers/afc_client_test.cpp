// The AFC client (drivers/ios/afc_client) against answers written byte by byte here: what a
// well-behaved phone sends is read right, and each way a hostile phone can break the format
// ends with a named protocol error, never a crash, a hang or an allocation the phone sized.
#include <gtest/gtest.h>

#include <cstring>
#include <deque>

#include "drivers/ios/afc_client.hpp"

namespace exhibit::ios {
namespace {

using afc::Op;

std::vector<std::byte> bytes_of(std::string_view s) {
    std::vector<std::byte> out;
    for (char c : s)
        out.push_back(static_cast<std::byte>(c));
    return out;
}

void put_u64(std::vector<std::byte>& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
        out.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
}

// An answer as a phone builds it: header data inside this_length, payload after it.
std::vector<std::byte> answer(std::uint64_t packet, std::uint64_t op,
                              const std::vector<std::byte>& header_data,
                              const std::vector<std::byte>& payload,
                              std::string_view magic = "CFA6LPAA") {
    std::vector<std::byte> out = bytes_of(magic);
    put_u64(out, 40 + header_data.size() + payload.size());
    put_u64(out, 40 + header_data.size());
    put_u64(out, packet);
    put_u64(out, op);
    out.insert(out.end(), header_data.begin(), header_data.end());
    out.insert(out.end(), payload.begin(), payload.end());
    return out;
}

std::vector<std::byte> status(std::uint64_t packet, std::uint64_t code) {
    std::vector<std::byte> h;
    put_u64(h, code);
    return answer(packet, 1, h, {});
}

std::vector<std::byte> data(std::uint64_t packet, std::string_view payload) {
    return answer(packet, 2, {}, bytes_of(payload));
}

// Strings each ended by its NUL, as AFC lists them.
std::string nul_list(std::initializer_list<std::string_view> items) {
    std::string out;
    for (auto i : items) {
        out += i;
        out += '\0';
    }
    return out;
}

// The phone's side as a script: every request is recorded, the answers are read in order.
class ScriptedLink final : public AfcLink {
  public:
    std::vector<std::vector<std::byte>> requests;
    std::deque<std::byte> to_read;

    void queue(const std::vector<std::byte>& a) { to_read.insert(to_read.end(), a.begin(), a.end()); }

    Status send_all(std::span<const std::byte> b) override {
        requests.emplace_back(b.begin(), b.end());
        return {};
    }
    Status receive_exact(std::span<std::byte> b) override {
        if (to_read.size() < b.size())
            return fail(Errc::io, "the connection to the phone was lost");
        for (auto& x : b) {
            x = to_read.front();
            to_read.pop_front();
        }
        return {};
    }
};

TEST(AfcClient, ListsAFolderWithoutDotEntries) {
    ScriptedLink link;
    link.queue(data(1, std::string_view(".\0..\0IMG_0001.JPG\0IMG_0002.MOV\0", 31)));
    AfcClient afc(link);
    auto names = afc.read_dir("/DCIM/100APPLE");
    ASSERT_TRUE(names) << names.error().message;
    EXPECT_EQ(*names, (std::vector<std::string>{"IMG_0001.JPG", "IMG_0002.MOV"}));
    // The request: ReadDir (3), packet 1, the path with its NUL in the header data.
    ASSERT_EQ(link.requests.size(), 1u);
    const auto& r = link.requests[0];
    ASSERT_EQ(r.size(), 40u + 15u);
    EXPECT_EQ(std::memcmp(r.data(), "CFA6LPAA", 8), 0);
    EXPECT_EQ(std::to_integer<int>(r[32]), 3);
    EXPECT_EQ(std::to_integer<int>(r[24]), 1);
    EXPECT_EQ(std::to_integer<int>(r.back()), 0);
}

TEST(AfcClient, ReadsFileInformation) {
    ScriptedLink link;
    link.queue(data(1, nul_list({"st_size", "1234", "st_ifmt", "S_IFREG", "st_mtime",
                                 "1700000000123456789"})));
    AfcClient afc(link);
    auto info = afc.file_info("/DCIM/100APPLE/IMG_0001.JPG");
    ASSERT_TRUE(info) << info.error().message;
    EXPECT_EQ(info->size, 1234u);
    EXPECT_EQ(info->type, afc::FileType::regular);
    EXPECT_EQ(info->mtime_ms, 1700000000123);
}

TEST(AfcClient, AnErrorStatusIsARefusalAndTheLinkStaysInStep) {
    ScriptedLink link;
    link.queue(status(1, 8));
    link.queue(data(2, std::string_view("a\0", 2)));
    AfcClient afc(link);
    auto info = afc.file_info("/nothing");
    ASSERT_FALSE(info);
    EXPECT_EQ(info.error().code, Errc::not_found);
    EXPECT_NE(info.error().message.find("object not found"), std::string::npos);
    EXPECT_EQ(afc.refused(), 8u);
    auto names = afc.read_dir("/");
    ASSERT_TRUE(names);
    EXPECT_FALSE(afc.refused());
}

TEST(AfcClient, StreamsAFileInBoundedPiecesToItsEnd) {
    ScriptedLink link;
    std::vector<std::byte> handle;
    put_u64(handle, 7);
    link.queue(answer(1, 0x0e, handle, {}));
    std::string content(300 * 1024, 'x');
    for (std::size_t i = 0; i < content.size(); ++i)
        content[i] = static_cast<char>('a' + i % 26);
    // Two reads' worth (the client asks for 200 KiB at a time here), then EOF.
    link.queue(data(2, std::string_view(content).substr(0, 200 * 1024)));
    link.queue(data(3, std::string_view(content).substr(200 * 1024)));
    link.queue(data(4, ""));
    link.queue(status(5, 0));
    AfcClient afc(link, AfcLimits{.read_chunk = 200 * 1024});
    auto h = afc.open("/DCIM/100APPLE/IMG_0001.JPG");
    ASSERT_TRUE(h) << h.error().message;
    EXPECT_EQ(*h, 7u);
    std::string got;
    std::size_t largest = 0;
    auto n = afc.read_all(*h, [&](std::span<const std::byte> piece) -> Status {
        got.append(reinterpret_cast<const char*>(piece.data()), piece.size());
        largest = std::max(largest, piece.size());
        return {};
    });
    ASSERT_TRUE(n) << n.error().message;
    EXPECT_EQ(*n, content.size());
    EXPECT_EQ(got, content);
    EXPECT_LE(largest, 256u * 1024);
    EXPECT_TRUE(afc.close(*h));
    // The open asked for read-only (mode 1) and nothing else.
    EXPECT_EQ(std::to_integer<int>(link.requests[0][32]), 0x0d);
    EXPECT_EQ(std::to_integer<int>(link.requests[0][40]), 1);
}

TEST(AfcClient, AWriteModeIsNeverAskedFor) {
    // Every request the client can send, checked for its operation: none writes.
    ScriptedLink link;
    AfcClient afc(link);
    (void)afc.read_dir("/");
    (void)afc.file_info("/");
    (void)afc.device_info();
    (void)afc.open("/x");
    (void)afc.read_all(1, [](std::span<const std::byte>) -> Status { return {}; });
    (void)afc.close(1);
    for (const auto& r : link.requests) {
        const int op = std::to_integer<int>(r[32]);
        EXPECT_TRUE(op == 0x03 || op == 0x0a || op == 0x0b || op == 0x0d || op == 0x0f ||
                    op == 0x14)
            << op;
        if (op == 0x0d) {
            EXPECT_EQ(std::to_integer<int>(r[40]), 1);
        }
    }
}

struct Hostile {
    const char* name;
    std::vector<std::byte> answer;
    const char* says;
};

class AfcHostileAnswer : public ::testing::TestWithParam<Hostile> {};

TEST_P(AfcHostileAnswer, EndsWithANamedProtocolError) {
    ScriptedLink link;
    link.queue(GetParam().answer);
    AfcClient afc(link, AfcLimits{.max_listing_bytes = 1 << 20});
    auto names = afc.read_dir("/DCIM");
    ASSERT_FALSE(names);
    EXPECT_EQ(names.error().code, Errc::protocol) << names.error().message;
    EXPECT_NE(names.error().message.find(GetParam().says), std::string::npos)
        << names.error().message;
    EXPECT_FALSE(afc.refused());
}

std::vector<std::byte> with_lengths(std::uint64_t entire, std::uint64_t this_length) {
    auto a = bytes_of("CFA6LPAA");
    put_u64(a, entire);
    put_u64(a, this_length);
    put_u64(a, 1);
    put_u64(a, 2);
    return a;
}

INSTANTIATE_TEST_SUITE_P(
    Phones, AfcHostileAnswer,
    ::testing::Values(
        Hostile{"bad_magic", answer(1, 2, {}, bytes_of(std::string_view("a\0", 2)), "CFA6LPAB"),
                "CFA6LPAA"},
        Hostile{"header_longer_than_packet", with_lengths(40, 80), "impossible lengths"},
        Hostile{"header_shorter_than_itself", with_lengths(100, 12), "impossible lengths"},
        Hostile{"huge_header_data", with_lengths(1ull << 40, 1ull << 30), "header data"},
        // A listing the phone says is 2^62 bytes long: refused before anything is allocated.
        Hostile{"huge_listing", with_lengths(1ull << 62, 40), "at most"},
        Hostile{"unterminated_name", data(1, std::string_view("IMG\0tail", 8)), "without their NUL"},
        Hostile{"answer_to_another_request", data(9, std::string_view("a\0", 2)),
                "the answer to 9"},
        Hostile{"status_where_data_is_due", answer(1, 1, {}, {}), "8 are due"},
        Hostile{"unknown_operation", answer(1, 0x55, {}, {}), "operation 0x55"}),
    [](const auto& p) { return std::string(p.param.name); });

TEST(AfcClient, AReadLongerThanAskedIsRefused) {
    ScriptedLink link;
    link.queue(data(1, std::string(5000, 'z')));
    AfcClient afc(link, AfcLimits{.read_chunk = 4096});
    auto n = afc.read_all(3, [](std::span<const std::byte>) -> Status { return {}; });
    ASSERT_FALSE(n);
    EXPECT_EQ(n.error().code, Errc::protocol);
    EXPECT_NE(n.error().message.find("5000 bytes for a read of at most 4096"), std::string::npos);
}

TEST(AfcClient, FileInformationWithoutSizeOrWithANonNumberIsRefused) {
    for (const std::string& answer_text :
         {nul_list({"st_ifmt", "S_IFREG"}), nul_list({"st_size", "12x", "st_ifmt", "S_IFREG"}),
          nul_list({"st_size", "-5", "st_ifmt", "S_IFREG"}), nul_list({"st_size"})}) {
        ScriptedLink link;
        link.queue(data(1, answer_text));
        AfcClient afc(link);
        auto info = afc.file_info("/x");
        ASSERT_FALSE(info);
        EXPECT_EQ(info.error().code, Errc::protocol) << info.error().message;
    }
}

TEST(AfcClient, ALinkLostMidAnswerIsAnIoError) {
    ScriptedLink link;
    auto a = data(1, std::string_view("IMG_0001.JPG\0", 13));
    a.resize(a.size() - 5);
    link.queue(a);
    AfcClient afc(link);
    auto names = afc.read_dir("/");
    ASSERT_FALSE(names);
    EXPECT_EQ(names.error().code, Errc::io);
}

}  // namespace
}  // namespace exhibit::ios
