// phonesim/mtp: the simulated phone's device side of PTP/MTP, container by container, without
// a bus: sessions, listings, object info and data as the framing rules want them (a
// zero-length packet after a container whose length is a multiple of the packet size), only
// reading operations served, and whatever a host sends (short, mislabelled or random
// containers, unknown handles) answered or ignored, never a crash (this runs under ASan and
// UBSan with the other hostile tests).
#include <gtest/gtest.h>

#include <cstring>
#include <fstream>
#include <random>

#include "phonesim/mtp/mtp_responder.hpp"
#include "phonesim/mtp/ptp_codec.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::phonesim::mtp {
namespace {

namespace fsys = std::filesystem;

std::uint32_t u32_at(std::span<const std::byte> b, std::size_t at) {
    std::uint32_t v = 0;
    std::memcpy(&v, b.data() + at, 4);
    return v;
}
std::uint16_t u16_at(std::span<const std::byte> b, std::size_t at) {
    std::uint16_t v = 0;
    std::memcpy(&v, b.data() + at, 2);
    return v;
}

class Responder : public ::testing::Test {
  protected:
    void SetUp() override {
        fsys::create_directories(phone_.path() / "DCIM/Camera");
        write("DCIM/Camera/IMG_1.jpg", std::string(512 * 3 - kHeaderSize, 'a'));  // one ZLP
        write("DCIM/Camera/IMG_2.jpg", "hello");
        write("notes.txt", "text");
        auto settings = std::make_shared<MtpSettings>();
        settings->root = phone_.path();
        responder_ = std::make_unique<MtpResponder>(settings);
    }
    void write(const std::string& path, const std::string& bytes) {
        std::ofstream(phone_.path() / path, std::ios::binary) << bytes;
    }

    Reply ask(std::uint16_t code, std::vector<std::uint32_t> params = {}) {
        return responder_->handle(make_container(ContainerType::command, code, ++tid_, params));
    }
    // The reply as the USB transfers the host receives, packet size 512.
    std::vector<std::vector<std::byte>> transfers(Reply r) {
        std::vector<std::vector<std::byte>> out;
        auto ending = send_reply(r, 512, [&](std::vector<std::byte> piece) -> Status {
            out.push_back(std::move(piece));
            return {};
        });
        EXPECT_TRUE(ending) << ending.error().describe();
        return out;
    }
    // The response code of a reply (its last container).
    std::uint16_t code_of(const Reply& r) {
        EXPECT_FALSE(r.containers.empty());
        return r.containers.empty() ? 0 : u16_at(r.containers.back().head, 6);
    }
    std::vector<std::uint32_t> handles(std::uint32_t parent) {
        auto r = ask(op::kGetObjectHandles, {kStorageId, 0, parent});
        EXPECT_EQ(code_of(r), rc::kOk);
        std::vector<std::byte> data;
        for (auto& t : transfers(r))
            if (data.empty())
                data = t;  // the data container comes first, whole (small)
        std::vector<std::uint32_t> out;
        const auto n = u32_at(data, kHeaderSize);
        for (std::uint32_t i = 0; i < n; ++i)
            out.push_back(u32_at(data, kHeaderSize + 4 + 4 * i));
        return out;
    }

    testing::TempDir phone_;
    std::unique_ptr<MtpResponder> responder_;
    std::uint32_t tid_ = 0;
};

TEST_F(Responder, ASessionOpensOnceAndGuardsEverythingButDeviceInfo) {
    EXPECT_EQ(code_of(ask(op::kGetDeviceInfo)), rc::kOk);
    EXPECT_EQ(code_of(ask(op::kGetStorageIds)), rc::kSessionNotOpen);
    EXPECT_EQ(code_of(ask(op::kOpenSession, {0})), rc::kInvalidParameter);
    EXPECT_EQ(code_of(ask(op::kOpenSession, {1})), rc::kOk);
    EXPECT_TRUE(responder_->session_open());
    EXPECT_EQ(code_of(ask(op::kOpenSession, {2})), rc::kSessionAlreadyOpen);
    EXPECT_EQ(code_of(ask(op::kCloseSession)), rc::kOk);
    EXPECT_FALSE(responder_->session_open());
}

TEST_F(Responder, AFileIsSentWholeInOneContainerWithTheZeroLengthPacketWhereDue) {
    ASSERT_EQ(code_of(ask(op::kOpenSession, {1})), rc::kOk);
    auto top = handles(0xffffffff);
    ASSERT_EQ(top.size(), 2u);  // DCIM and notes.txt
    std::optional<std::uint32_t> dcim;
    for (auto h : top) {
        auto info = transfers(ask(op::kGetObjectInfo, {h}));
        if (u16_at(info[0], kHeaderSize + 4) == fmt_code::kAssociation)
            dcim = h;
    }
    ASSERT_TRUE(dcim);
    auto camera = handles(*dcim);
    ASSERT_EQ(camera.size(), 1u);
    auto photos = handles(camera[0]);
    ASSERT_EQ(photos.size(), 2u);
    for (auto h : photos) {
        auto info = transfers(ask(op::kGetObjectInfo, {h}));
        const auto size = u32_at(info[0], kHeaderSize + 8);  // ObjectCompressedSize
        auto sent = transfers(ask(op::kGetObject, {h}));
        // data container (one transfer, its length = header + size), [ZLP], response.
        ASSERT_GE(sent.size(), 2u);
        EXPECT_EQ(u32_at(sent[0], 0), kHeaderSize + size);
        EXPECT_EQ(u16_at(sent[0], 4), static_cast<std::uint16_t>(ContainerType::data));
        EXPECT_EQ(sent[0].size(), kHeaderSize + size);
        const bool zlp_due = (kHeaderSize + size) % 512 == 0;
        ASSERT_EQ(sent.size(), zlp_due ? 3u : 2u) << "size " << size;
        if (zlp_due) {
            EXPECT_TRUE(sent[1].empty());
        }
        EXPECT_EQ(u16_at(sent.back(), 6), rc::kOk);
        const std::string body(reinterpret_cast<const char*>(sent[0].data()) + kHeaderSize, size);
        EXPECT_TRUE(body == "hello" || body == std::string(512 * 3 - kHeaderSize, 'a'));
    }
}

TEST_F(Responder, OperationsThatWriteAreNotServedAndTheTreeStaysAsItWas) {
    ASSERT_EQ(code_of(ask(op::kOpenSession, {1})), rc::kOk);
    auto top = handles(0xffffffff);
    ASSERT_FALSE(top.empty());
    // DeleteObject, SendObjectInfo, SendObject, FormatStore, SetObjectPropValue, MoveObject,
    // CopyObject, Android's SendPartialObject and TruncateObject.
    for (std::uint16_t code : std::initializer_list<std::uint16_t>{
             0x100B, 0x100C, 0x100D, 0x100F, 0x9804, 0x1019, 0x101A, 0x95C2, 0x95C3})
        EXPECT_EQ(code_of(ask(code, {top[0], kStorageId, 0})), rc::kOperationNotSupported)
            << std::hex << code;
    EXPECT_TRUE(fsys::exists(phone_.path() / "notes.txt"));
    EXPECT_TRUE(fsys::exists(phone_.path() / "DCIM/Camera/IMG_2.jpg"));
}

TEST_F(Responder, UnknownHandlesAndStoragesAreNamedErrors) {
    ASSERT_EQ(code_of(ask(op::kOpenSession, {1})), rc::kOk);
    EXPECT_EQ(code_of(ask(op::kGetObjectInfo, {0x7777})), rc::kInvalidObjectHandle);
    EXPECT_EQ(code_of(ask(op::kGetObject, {0})), rc::kInvalidObjectHandle);
    EXPECT_EQ(code_of(ask(op::kGetObjectHandles, {0x00020001, 0, 0xffffffff})),
              rc::kInvalidStorageId);
    auto top = handles(0xffffffff);
    for (auto h : top) {  // a file is no parent
        auto r = ask(op::kGetObjectHandles, {kStorageId, 0, h});
        auto code = code_of(r);
        EXPECT_TRUE(code == rc::kOk || code == rc::kInvalidParentObject) << std::hex << code;
    }
}

// Whatever bytes a host sends: no crash, and anything that is not a whole command container
// gets no answer.
TEST_F(Responder, AnyBytesFromAHostAreAnsweredOrIgnoredNeverACrash) {
    EXPECT_TRUE(responder_->handle({}).containers.empty());
    std::vector<std::byte> short_one(5, std::byte{1});
    EXPECT_TRUE(responder_->handle(short_one).containers.empty());
    auto lying = make_container(ContainerType::command, op::kOpenSession, 1, std::vector<std::uint32_t>{1});
    lying[0] = std::byte{200};  // length field says more than there is
    EXPECT_TRUE(responder_->handle(lying).containers.empty());
    auto data = make_container(ContainerType::data, op::kGetObject, 1);
    EXPECT_TRUE(responder_->handle(data).containers.empty());

    std::mt19937 rng(20);
    ASSERT_EQ(code_of(ask(op::kOpenSession, {1})), rc::kOk);
    for (int i = 0; i < 20'000; ++i) {
        std::vector<std::uint32_t> params;
        for (auto n = rng() % 6; n > 0; --n)
            params.push_back(static_cast<std::uint32_t>(rng() % 4 == 0 ? rng() : rng() % 16));
        const auto code = static_cast<std::uint16_t>(
            rng() % 2 ? 0x1000 + rng() % 0x20 : (rng() % 2 ? 0x9800 + rng() % 0x20 : rng()));
        auto bytes = make_container(ContainerType::command, code, static_cast<std::uint32_t>(i),
                                    params);
        if (rng() % 8 == 0)  // and now and then a container cut or padded
            bytes.resize(rng() % (bytes.size() + 8));
        auto reply = responder_->handle(bytes);
        if (!reply.containers.empty() && code != op::kCloseSession)
            (void)transfers(std::move(reply));
        if (code == op::kCloseSession)
            (void)ask(op::kOpenSession, {1});
    }
    EXPECT_TRUE(fsys::exists(phone_.path() / "notes.txt"));
}

}  // namespace
}  // namespace exhibit::phonesim::mtp
