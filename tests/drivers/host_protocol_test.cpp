// drivers/host/host_protocol: what crosses between exhibitd and a driver host survives the
// trip exactly, and what a hostile child could send instead (frames of any length or type,
// JSON of the wrong shape, values out of range) is refused with Errc::protocol, never used.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include <nlohmann/json.hpp>

#include "common/unique_fd.hpp"
#include "drivers/host/host_protocol.hpp"

namespace exhibit {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

struct Pair {
    UniqueFd a, b;
    Pair() {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        a.reset(sv[0]);
        b.reset(sv[1]);
    }
    void send(std::string_view bytes) {
        ASSERT_EQ(::write(a.get(), bytes.data(), bytes.size()),
                  static_cast<ssize_t>(bytes.size()));
    }
};

std::string header(std::uint32_t length, std::uint8_t type) {
    std::string h(5, '\0');
    std::memcpy(h.data(), &length, 4);
    h[4] = static_cast<char>(type);
    return h;
}

TEST(HostProtocol, FramesCrossWholeAndInOrder) {
    Pair p;
    std::string big(host::kMaxData, 'x');
    ASSERT_TRUE(host::write_frame(p.a.get(), host::FrameType::begin, json{{"k", 1}}));
    std::thread writer([&] {
        EXPECT_TRUE(host::write_frame(p.a.get(), host::FrameType::data,
                                      std::as_bytes(std::span(big))));
    });
    auto first = host::read_frame(p.b.get(), 1s);
    ASSERT_TRUE(first) << first.error().describe();
    EXPECT_EQ(first->type, host::FrameType::begin);
    EXPECT_EQ(first->json().value().at("k"), 1);
    auto second = host::read_frame(p.b.get(), 5s);
    writer.join();
    ASSERT_TRUE(second) << second.error().describe();
    EXPECT_EQ(second->type, host::FrameType::data);
    EXPECT_EQ(second->payload.size(), big.size());
    // Nothing more: a timeout, then the end of the stream once the writer's end closes.
    EXPECT_EQ(host::read_frame(p.b.get(), 100ms).error().code, Errc::timeout);
    p.a.reset();
    EXPECT_EQ(host::read_frame(p.b.get(), 1s).error().code, Errc::io);
}

// A descriptor goes with a `relayed` frame to the child's reader, which takes it; a reader
// that takes none (exhibitd's) gets the frame and no descriptor, and two descriptors are
// refused.
TEST(HostProtocol, ADescriptorCrossesWithItsFrameOnlyToAReaderThatTakesOne) {
    Pair p;
    Pair other;  // its end `a` stands for a connection to the phone
    ASSERT_TRUE(host::write_frame(p.a.get(), host::FrameType::relayed, json{{"result", 0}},
                                  other.b.get()));
    host::Frame f;
    UniqueFd passed;
    ASSERT_TRUE(host::read_frame(p.b.get(), f, passed, 1s));
    EXPECT_EQ(f.type, host::FrameType::relayed);
    EXPECT_EQ(f.json().value().at("result"), 0);
    ASSERT_TRUE(passed);
    EXPECT_NE(passed.get(), other.b.get()) << "the child's own copy";
    ASSERT_EQ(::write(passed.get(), "hi", 2), 2);
    char got[2] = {};
    ASSERT_EQ(::read(other.a.get(), got, 2), 2);
    EXPECT_EQ(std::string_view(got, 2), "hi");

    // exhibitd's reader: the frame, the descriptor dropped.
    ASSERT_TRUE(host::write_frame(p.a.get(), host::FrameType::relay, json{{"call", "x"}},
                                  other.b.get()));
    auto plain = host::read_frame(p.b.get(), 1s);
    ASSERT_TRUE(plain) << plain.error().describe();
    EXPECT_EQ(plain->type, host::FrameType::relay);

    // Two descriptors with one frame.
    int two[2] = {other.a.get(), other.b.get()};
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof two)] = {};
    std::string bytes = header(3, 7) + "{}";
    iovec v{bytes.data(), bytes.size()};
    msghdr m{};
    m.msg_iov = &v;
    m.msg_iovlen = 1;
    m.msg_control = control;
    m.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof two);
    std::memcpy(CMSG_DATA(c), two, sizeof two);
    ASSERT_EQ(::sendmsg(p.a.get(), &m, 0), static_cast<ssize_t>(bytes.size()));
    UniqueFd none;
    auto refused = host::read_frame(p.b.get(), f, none, 1s);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::protocol);
    EXPECT_FALSE(none);
}

TEST(HostProtocol, FramesOfNoKnownShapeAreRefused) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {header(0, 11), "a frame of 0 bytes"},
        {header(0xffffffff, 15), "a frame of 4294967295 bytes"},
        {header(host::kMaxPayload + 2, 15), "bytes (at most"},
        {header(1, 0), "unknown type 0"},
        {header(1, 8), "unknown type 8"},
        {header(1, 9), "unknown type 9"},
        {header(1, 22), "unknown type 22"},
        {header(1, 200), "unknown type 200"},
        {header(10, 11) + "abc", "ended in the middle of a frame"},
        {std::string("\x03\x00", 2), "ended in the middle of a frame"},
    };
    for (const auto& [bytes, says] : cases) {
        SCOPED_TRACE(says);
        Pair p;
        p.send(bytes);
        p.a.reset();
        auto f = host::read_frame(p.b.get(), 1s);
        ASSERT_FALSE(f);
        EXPECT_EQ(f.error().code, Errc::protocol);
        EXPECT_NE(f.error().message.find(says), std::string::npos) << f.error().message;
    }
    host::Frame not_json{.type = host::FrameType::ok, .payload = {std::byte{'['}, std::byte{']'}}};
    EXPECT_EQ(not_json.json().error().code, Errc::protocol);
}

TEST(HostProtocol, ValuesRoundTripExactly) {
    drivers::Scope scope{.categories = {drivers::Category::photos, drivers::Category::videos},
                         .from_ms = -5,
                         .until_ms = 1'700'000'000'000,
                         .numbers = {"+44 7700 900123"}};
    auto s = host::scope_from_json(host::to_json(scope)).value();
    EXPECT_EQ(s.categories, scope.categories);
    EXPECT_EQ(s.from_ms, scope.from_ms);
    EXPECT_EQ(s.until_ms, scope.until_ms);
    EXPECT_EQ(s.numbers, scope.numbers);

    drivers::Artefact a{.category = drivers::Category::documents,
                        .source_path = std::string("/a\0b\xff\xfe/..", 9),
                        .declared_size = (5ull << 30) + 1,
                        .mtime_ms = std::nullopt};
    // Through text and back, as on the socket.
    auto back = host::artefact_from_json(json::parse(host::to_json(a).dump())).value();
    EXPECT_EQ(back.source_path, a.source_path);
    EXPECT_EQ(back.declared_size, a.declared_size);
    EXPECT_FALSE(back.mtime_ms);

    drivers::Preview preview{{drivers::Category::photos, {.count = 3, .bytes = 1u << 31}}};
    EXPECT_EQ(host::preview_from_json(host::to_json(preview)).value().at(drivers::Category::photos).bytes,
              1u << 31);
    auto e = host::error_from_json(host::to_json(Error{Errc::timeout, "slow", 0})).value();
    EXPECT_EQ(e.code, Errc::timeout);
    EXPECT_EQ(e.message, "slow");
}

TEST(HostProtocol, ValuesOutOfShapeOrRangeAreRefused) {
    const std::vector<json> artefacts = {
        json::object(),
        {{"category", "secrets"}, {"source_path_b64", "L2E="}},
        {{"category", "photos"}, {"source_path_b64", "not base64!"}},
        {{"category", "photos"}, {"source_path_b64", ""}},
        {{"category", "photos"}, {"source_path_b64", "L2E="}, {"declared_size", -1}},
        {{"category", "photos"}, {"source_path_b64", "L2E="}, {"declared_size", "12"}},
        {{"category", "photos"}, {"source_path_b64", "L2E="}, {"mtime_ms", 1.5}},
        {{"category", 3}, {"source_path_b64", "L2E="}},
    };
    for (const auto& j : artefacts) {
        SCOPED_TRACE(j.dump());
        auto a = host::artefact_from_json(j);
        ASSERT_FALSE(a);
        EXPECT_EQ(a.error().code, Errc::protocol);
    }
    EXPECT_FALSE(host::error_from_json({{"code", 99}, {"message", "x"}, {"errno", 0}}));
    EXPECT_FALSE(host::error_from_json({{"code", -1}, {"message", "x"}, {"errno", 0}}));
    EXPECT_FALSE(host::error_from_json({{"code", 0}, {"message", "x"}, {"errno", 99999}}));
    auto long_message =
        host::error_from_json({{"code", 0}, {"message", std::string(5000, 'm')}, {"errno", 0}});
    ASSERT_TRUE(long_message);
    EXPECT_EQ(long_message->message.size(), 1000u) << "a child's message is cut, not trusted";
    EXPECT_FALSE(host::preview_from_json({{"photos", {{"count", -3}, {"bytes", 1}}}}));
    EXPECT_FALSE(host::preview_from_json({{"nothing", {{"count", 1}, {"bytes", 1}}}}));
    EXPECT_FALSE(host::scope_from_json({{"categories", {"photos"}}}));
    EXPECT_FALSE(host::device_info_from_json({{"model", 7}}));
    auto device = host::hosted_device_from_json(
        {{"id", "d1"}, {"functions", {"usb:mtp"}}, {"address", "usb:1-1"}, {"vendor_id", 70000},
         {"product_id", 1}, {"manufacturer", ""}, {"product", ""}, {"serial", ""}});
    EXPECT_FALSE(device);
}

// A challenge a child asks exhibitd to sign: exactly the stated size, as base64, or refused.
TEST(HostProtocol, AChallengeToSignIsExactlyItsSize) {
    using nlohmann::json;
    auto twenty = host::challenge_from_json(json{{"challenge", "Y2NjY2NjY2NjY2NjY2NjY2NjY2M="}}, 20);
    ASSERT_TRUE(twenty) << twenty.error().describe();
    EXPECT_EQ(twenty->size(), 20u);
    EXPECT_EQ((*twenty)[0], std::byte{'c'});
    for (const json& j : {json{{"challenge", "Y2Nj"}}, json{{"challenge", "not base64!"}},
                          json{{"challenge", 5}}, json::object(),
                          json{{"challenge", std::string(2000, 'A')}}}) {
        SCOPED_TRACE(j.dump().substr(0, 60));
        auto c = host::challenge_from_json(j, 20);
        ASSERT_FALSE(c);
        EXPECT_EQ(c.error().code, Errc::protocol);
    }
}

}  // namespace
}  // namespace exhibit
