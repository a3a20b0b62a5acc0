// AFC on the wire, as the device answers it: DATA payloads outside this_length, packet
// numbers echoed, file info fields, read/seek/tell, refusals, and the malformed-magic hostile
// reply (libimobiledevice 1.3.0 only logs a bad magic, so it is checked here, not by a referee).
#include <gtest/gtest.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <thread>

#include "common/unique_fd.hpp"
#include "phonesim/ios/afc_server.hpp"
#include "phonesim/ios/fd_stream.hpp"
#include "phonesim/ios/plist_codec.hpp"
#include "tests/support/file_tree.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::phonesim::ios {
namespace {

namespace fsys = std::filesystem;

struct Answer {
    afc::Header header;
    std::string magic;
    std::vector<std::byte> header_data;
    std::vector<std::byte> payload;

    std::uint64_t u64() const {
        std::uint64_t v = 0;
        for (std::size_t i = 0; i < 8 && i < header_data.size(); ++i)
            v |= std::to_integer<std::uint64_t>(header_data[i]) << (8 * i);
        return v;
    }
    std::string text() const {
        return std::string(reinterpret_cast<const char*>(payload.data()), payload.size());
    }
    // key\0value\0 pairs
    std::map<std::string, std::string> pairs() const {
        std::map<std::string, std::string> out;
        std::vector<std::string> parts;
        std::string cur;
        for (char c : text()) {
            if (c == '\0') {
                parts.push_back(cur);
                cur.clear();
            } else {
                cur += c;
            }
        }
        for (std::size_t i = 0; i + 1 < parts.size(); i += 2)
            out[parts[i]] = parts[i + 1];
        return out;
    }
};

std::vector<std::byte> u64_bytes(std::initializer_list<std::uint64_t> values) {
    std::vector<std::byte> out;
    for (auto v : values)
        for (int i = 0; i < 8; ++i)
            out.push_back(std::byte(v >> (8 * i)));
    return out;
}

std::vector<std::byte> with_path(std::vector<std::byte> head, std::string_view path) {
    for (char c : path)
        head.push_back(std::byte(static_cast<unsigned char>(c)));
    head.push_back(std::byte{0});
    return head;
}

class AfcWire : public ::testing::Test {
  protected:
    void start(IosHostile hostile = {}) {
        testing::write_random_file(tmp_ / "Media/DCIM/100APPLE/IMG_0001.JPG", 1000, 1);
        fsys::create_symlink("100APPLE/IMG_0001.JPG", tmp_ / "Media/DCIM/latest");
        IosSettings settings;
        settings.media_root = tmp_ / "Media";
        settings.hostile = std::move(hostile);
        auto device = IosDevice::create(std::move(settings));
        ASSERT_TRUE(device);
        device_ = std::move(*device);
        int fds[2];
        ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
        device_fd_.reset(fds[0]);
        host_fd_.reset(fds[1]);
        server_ = std::thread([this] {
            FdStream stream(device_fd_.get());
            afc::AfcServer(*device_, stream).run();
        });
    }
    void TearDown() override {
        if (server_.joinable()) {
            ::shutdown(host_fd_.get(), SHUT_RDWR);
            server_.join();
        }
    }

    Answer ask(std::uint64_t op, const std::vector<std::byte>& header_data) {
        afc::Header h{afc::kHeaderSize + header_data.size(), afc::kHeaderSize + header_data.size(),
                      ++packet_, op};
        auto out = afc::encode_header(h);
        out.insert(out.end(), header_data.begin(), header_data.end());
        FdStream host(host_fd_.get());
        EXPECT_TRUE(host.write_all(out));
        std::byte head[afc::kHeaderSize];
        Answer a;
        if (!read_exact(host, head).value_or(false))
            return a;
        a.magic.assign(reinterpret_cast<const char*>(head), 8);
        std::memcpy(head, afc::kMagic, 8);  // decode the rest even under a bad magic
        auto decoded = afc::decode_header(std::span<const std::byte, afc::kHeaderSize>(head));
        EXPECT_TRUE(decoded);
        if (!decoded)
            return a;
        a.header = *decoded;
        a.header_data.resize(a.header.this_length - afc::kHeaderSize);
        a.payload.resize(a.header.entire_length - a.header.this_length);
        (void)read_exact(host, a.header_data);
        (void)read_exact(host, a.payload);
        return a;
    }

    testing::TempDir tmp_;
    std::unique_ptr<IosDevice> device_;
    UniqueFd device_fd_, host_fd_;
    std::thread server_;
    std::uint64_t packet_ = 40;
};

TEST_F(AfcWire, ReadDirIsDataOutsideThisLengthWithThePacketNumberEchoed) {
    start();
    auto a = ask(afc::op::read_dir, with_path({}, "/DCIM"));
    EXPECT_EQ(a.magic, "CFA6LPAA");
    EXPECT_EQ(a.header.operation, afc::op::data);
    EXPECT_EQ(a.header.packet_num, packet_);
    EXPECT_EQ(a.header.this_length, afc::kHeaderSize);
    std::vector<std::string> names;
    std::string text = a.text();
    for (std::size_t pos = 0; pos < text.size();) {
        auto nul = text.find('\0', pos);
        ASSERT_NE(nul, std::string::npos) << "every name ends with a NUL";
        names.push_back(text.substr(pos, nul - pos));
        pos = nul + 1;
    }
    ASSERT_EQ(names.size(), 4u);
    EXPECT_EQ(names[0], ".");
    EXPECT_EQ(names[1], "..");
    std::sort(names.begin() + 2, names.end());
    EXPECT_EQ(names[2], "100APPLE");
    EXPECT_EQ(names[3], "latest");
}

TEST_F(AfcWire, FileInfoReportsTypeSizeAndNanosecondTimes) {
    start();
    auto file = ask(afc::op::get_file_info, with_path({}, "DCIM/100APPLE/IMG_0001.JPG")).pairs();
    EXPECT_EQ(file["st_ifmt"], "S_IFREG");
    EXPECT_EQ(file["st_size"], "1000");
    EXPECT_EQ(file["st_nlink"], "1");
    EXPECT_GE(file["st_mtime"].size(), 19u);  // nanoseconds since 1970
    EXPECT_FALSE(file["st_birthtime"].empty());
    EXPECT_FALSE(file["st_blocks"].empty());
    EXPECT_EQ(ask(afc::op::get_file_info, with_path({}, "DCIM")).pairs()["st_ifmt"], "S_IFDIR");
    auto link = ask(afc::op::get_file_info, with_path({}, "DCIM/latest")).pairs();
    EXPECT_EQ(link["st_ifmt"], "S_IFLNK");
    EXPECT_EQ(link["LinkTarget"], "100APPLE/IMG_0001.JPG");
    auto missing = ask(afc::op::get_file_info, with_path({}, "DCIM/../../etc"));
    EXPECT_EQ(missing.header.operation, afc::op::status);
    EXPECT_EQ(missing.u64(), afc::code::object_not_found);
}

TEST_F(AfcWire, OpenSeekTellReadAndAnEmptyDataAtTheEnd) {
    start();
    auto open = ask(afc::op::file_open, with_path(u64_bytes({1}), "DCIM/100APPLE/IMG_0001.JPG"));
    ASSERT_EQ(open.header.operation, afc::op::file_open_result);
    std::uint64_t handle = open.u64();
    EXPECT_NE(handle, 0u);
    EXPECT_EQ(ask(afc::op::file_seek, u64_bytes({handle, 0, 990})).u64(), afc::code::success);
    auto tell = ask(afc::op::file_tell, u64_bytes({handle}));
    EXPECT_EQ(tell.header.operation, afc::op::file_tell_result);
    EXPECT_EQ(tell.u64(), 990u);
    auto read = ask(afc::op::file_read, u64_bytes({handle, 4096}));
    EXPECT_EQ(read.header.operation, afc::op::data);
    EXPECT_EQ(read.payload.size(), 10u);
    auto end = ask(afc::op::file_read, u64_bytes({handle, 4096}));
    EXPECT_EQ(end.header.operation, afc::op::data);
    EXPECT_EQ(end.header.entire_length, afc::kHeaderSize);
    EXPECT_EQ(ask(afc::op::file_close, u64_bytes({handle})).u64(), afc::code::success);
    EXPECT_EQ(ask(afc::op::file_close, u64_bytes({handle})).u64(), afc::code::invalid_arg);
}

TEST_F(AfcWire, WritesAreRefusedAndCountedOtherOpsNotSupported) {
    start();
    auto open = ask(afc::op::file_open, with_path(u64_bytes({3}), "DCIM/new.jpg"));  // RW
    EXPECT_EQ(open.header.operation, afc::op::status);
    EXPECT_EQ(open.u64(), afc::code::perm_denied);
    EXPECT_EQ(ask(0x09, with_path({}, "NewDir")).u64(), afc::code::not_supported);  // mkdir
    EXPECT_EQ(ask(0x1b, u64_bytes({1, 2})).u64(), afc::code::not_supported);        // lock
    EXPECT_EQ(device_->refused_writes(), 3u);
    EXPECT_EQ(ask(0x16, {}).u64(), afc::code::not_supported);  // GetConnectionInfo
    EXPECT_EQ(device_->refused_writes(), 3u);
    EXPECT_FALSE(fsys::exists(tmp_ / "Media/DCIM/new.jpg"));
    EXPECT_FALSE(fsys::exists(tmp_ / "Media/NewDir"));
}

TEST_F(AfcWire, TheMalformedReplyHasABadMagic) {
    IosHostile hostile;
    hostile.malformed_afc = MalformedAfc::bad_magic;
    hostile.malformed_afc_at = 2;
    start(hostile);
    EXPECT_EQ(ask(afc::op::get_device_info, {}).magic, "CFA6LPAA");
    auto bad = ask(afc::op::get_device_info, {});
    EXPECT_EQ(bad.magic, "CFA6LPXX");
    EXPECT_EQ(bad.pairs()["Model"], "iPhone14,5");
    EXPECT_EQ(ask(afc::op::get_device_info, {}).magic, "CFA6LPAA");
}

}  // namespace
}  // namespace exhibit::phonesim::ios
