// The fake usbmuxd socket and lockdownd behind it, spoken to directly: usbmuxd's plist
// client protocol (ListDevices, Listen, Connect with the port in network order, ReadBUID,
// pair records) and lockdownd's plain requests before any session.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <filesystem>
#include <thread>

#include "common/unique_fd.hpp"
#include "phonesim/ios/fd_stream.hpp"
#include "phonesim/ios/ios_device.hpp"
#include "phonesim/ios/plist_codec.hpp"
#include "phonesim/ios/usbmuxd_socket.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::phonesim::ios {
namespace {

namespace fsys = std::filesystem;
const std::string kUdid = "00008101-000A1B2C3D4E5F60";

class FakeUsbmuxd : public ::testing::Test {
  protected:
    void SetUp() override {
        fsys::create_directories(tmp_ / "Media");
        IosSettings settings;
        settings.media_root = tmp_ / "Media";
        settings.identity.unique_device_id = kUdid;
        auto device = IosDevice::create(std::move(settings));
        ASSERT_TRUE(device);
        device_ = std::move(*device);
        UsbmuxdSocketSettings mux;
        mux.socket_path = tmp_ / "mux.sock";
        mux.pair_record_dir = tmp_ / "records";
        mux.udid = kUdid;
        auto socket = UsbmuxdSocket::start(mux, *device_);
        ASSERT_TRUE(socket) << socket.error().describe();
        mux_ = std::move(*socket);
    }

    UniqueFd connect_mux() {
        UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        std::strcpy(addr.sun_path, mux_->path().c_str());
        EXPECT_EQ(::connect(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        return fd;
    }

    // One usbmuxd message out, one back (its tag checked).
    PlistPtr exchange(int fd, plist_t request, std::uint32_t tag = 7) {
        send_mux(fd, request, tag);
        return receive_mux(fd, tag);
    }
    void send_mux(int fd, plist_t request, std::uint32_t tag) {
        auto body = plist_to_xml_bytes(request);
        std::uint32_t head[4] = {static_cast<std::uint32_t>(16 + body.size()), 1, 8, tag};
        std::vector<std::byte> out(16);
        std::memcpy(out.data(), head, 16);  // little-endian host
        out.insert(out.end(), body.begin(), body.end());
        FdStream(fd).write_all(out).value();
    }
    PlistPtr receive_mux(int fd, std::uint32_t tag) {
        FdStream stream(fd);
        std::uint32_t head[4];
        auto head_bytes = std::as_writable_bytes(std::span(head));
        if (!read_exact(stream, head_bytes).value_or(false))
            return nullptr;
        EXPECT_EQ(head[1], 1u);
        EXPECT_EQ(head[2], 8u);
        EXPECT_EQ(head[3], tag);
        std::vector<std::byte> body(head[0] - 16);
        EXPECT_TRUE(read_exact(stream, body).value_or(false));
        auto dict = parse_plist_dict(body);
        return dict ? std::move(*dict) : nullptr;
    }
    static PlistPtr message(std::string_view type) {
        PlistPtr dict(plist_new_dict());
        set_string(dict.get(), "MessageType", type);
        return dict;
    }
    PlistPtr lockdown(int fd, std::string_view request_name, plist_t extra = nullptr) {
        PlistPtr request(extra ? plist_copy(extra) : plist_new_dict());
        set_string(request.get(), "Request", request_name);
        FdStream stream(fd);
        EXPECT_TRUE(write_lockdown_message(stream, request.get()));
        auto reply = read_lockdown_message(stream);
        EXPECT_TRUE(reply && *reply);
        return reply && *reply ? std::move(**reply) : nullptr;
    }
    // A connection through Connect to `port` (Result 0 expected).
    UniqueFd connect_port(std::uint16_t port) {
        auto fd = connect_mux();
        auto request = message("Connect");
        set_uint(request.get(), "DeviceID", 1);
        set_uint(request.get(), "PortNumber", htons(port));
        auto reply = exchange(fd.get(), request.get());
        EXPECT_EQ(dict_uint(reply.get(), "Number"), std::optional<std::uint64_t>(kMuxOk));
        return fd;
    }

    testing::TempDir tmp_;
    std::unique_ptr<IosDevice> device_;
    std::unique_ptr<UsbmuxdSocket> mux_;
};

TEST_F(FakeUsbmuxd, ListDevicesAndListenReportTheAttachedPhone) {
    auto fd = connect_mux();
    auto list = exchange(fd.get(), message("ListDevices").get());
    plist_t devices = plist_dict_get_item(list.get(), "DeviceList");
    ASSERT_TRUE(devices);
    ASSERT_EQ(plist_array_get_size(devices), 1u);
    plist_t props = dict_dict(plist_array_get_item(devices, 0), "Properties");
    EXPECT_EQ(dict_string(props, "SerialNumber"), kUdid);
    EXPECT_EQ(dict_string(props, "ConnectionType"), "USB");

    auto listener = connect_mux();
    auto ok = exchange(listener.get(), message("Listen").get(), 9);
    EXPECT_EQ(dict_uint(ok.get(), "Number"), std::optional<std::uint64_t>(kMuxOk));
    auto event = receive_mux(listener.get(), 0);
    EXPECT_EQ(dict_string(event.get(), "MessageType"), "Attached");
    EXPECT_EQ(dict_uint(event.get(), "DeviceID"), std::optional<std::uint64_t>(1));
}

TEST_F(FakeUsbmuxd, PairRecordsAreSavedReadAndDeleted) {
    auto fd = connect_mux();
    auto read = message("ReadPairRecord");
    set_string(read.get(), "PairRecordID", kUdid);
    EXPECT_EQ(dict_uint(exchange(fd.get(), read.get()).get(), "Number"),
              std::optional<std::uint64_t>(2));  // ENOENT
    auto save = message("SavePairRecord");
    set_string(save.get(), "PairRecordID", kUdid);
    set_data(save.get(), "PairRecordData", as_bytes("record"));
    EXPECT_EQ(dict_uint(exchange(fd.get(), save.get()).get(), "Number"),
              std::optional<std::uint64_t>(kMuxOk));
    auto data = dict_data(exchange(fd.get(), read.get()).get(), "PairRecordData");
    ASSERT_TRUE(data);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(data->data()), data->size()), "record");
    auto escape = message("ReadPairRecord");
    set_string(escape.get(), "PairRecordID", "../records/" + kUdid);
    EXPECT_EQ(dict_uint(exchange(fd.get(), escape.get()).get(), "Number"),
              std::optional<std::uint64_t>(2));
    auto remove = message("DeletePairRecord");
    set_string(remove.get(), "PairRecordID", kUdid);
    EXPECT_EQ(dict_uint(exchange(fd.get(), remove.get()).get(), "Number"),
              std::optional<std::uint64_t>(kMuxOk));
    EXPECT_FALSE(fsys::exists(tmp_ / "records" / (kUdid + ".plist")));
    EXPECT_TRUE(dict_string(exchange(fd.get(), message("ReadBUID").get()).get(), "BUID"));
}

TEST_F(FakeUsbmuxd, ConnectReachesLockdownAndRefusesPortsNotListening) {
    auto refused = connect_mux();
    auto request = message("Connect");
    set_uint(request.get(), "DeviceID", 1);
    set_uint(request.get(), "PortNumber", htons(49152));
    EXPECT_EQ(dict_uint(exchange(refused.get(), request.get()).get(), "Number"),
              std::optional<std::uint64_t>(kMuxConnRefused));

    auto fd = connect_port(kLockdownPort);
    EXPECT_EQ(dict_string(lockdown(fd.get(), "QueryType").get(), "Type"),
              "com.apple.mobile.lockdown");
    auto basic = lockdown(fd.get(), "GetValue");
    plist_t values = dict_dict(basic.get(), "Value");
    ASSERT_TRUE(values);
    EXPECT_EQ(dict_string(values, "ProductType"), "iPhone14,5");
    EXPECT_FALSE(dict_string(values, "SerialNumber")) << "a session-only key";
    auto key = lockdown(fd.get(), "GetValue",
                        [] {
                            PlistPtr p(plist_new_dict());
                            set_string(p.get(), "Key", "DevicePublicKey");
                            return p;
                        }()
                            .get());
    auto pem = dict_data(key.get(), "Value");
    ASSERT_TRUE(pem);
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(pem->data()), 31),
              "-----BEGIN RSA PUBLIC KEY-----\n");

    PlistPtr bogus(plist_new_dict());
    plist_t record = plist_new_dict();
    set_string(record, "HostID", "HOST-1");
    set_data(record, "DeviceCertificate", as_bytes("-----BEGIN CERTIFICATE-----\n"));
    set_data(record, "RootCertificate", as_bytes("-----BEGIN CERTIFICATE-----\n"));
    plist_dict_set_item(bogus.get(), "PairRecord", record);
    EXPECT_EQ(dict_string(lockdown(fd.get(), "Pair", bogus.get()).get(), "Error"),
              "InvalidPairRecord");
    EXPECT_TRUE(device_->pairings().empty());

    PlistPtr session(plist_new_dict());
    set_string(session.get(), "HostID", "HOST-1");
    EXPECT_EQ(dict_string(lockdown(fd.get(), "StartSession", session.get()).get(), "Error"),
              "InvalidHostID");
    PlistPtr service(plist_new_dict());
    set_string(service.get(), "Service", "com.apple.afc");
    EXPECT_EQ(dict_string(lockdown(fd.get(), "StartService", service.get()).get(), "Error"),
              "SessionInactive");
    EXPECT_EQ(dict_string(lockdown(fd.get(), "Goodbye").get(), "Result"), "Success");
}

TEST_F(FakeUsbmuxd, AServicePortTakesOneConnection) {
    std::uint16_t port = device_->open_service(IosService::crash_report_mover).value();
    EXPECT_GE(port, kFirstServicePort);
    EXPECT_NE(device_->open_service(IosService::afc), port);
    EXPECT_TRUE(device_->listens(port));
    auto fd = connect_port(port);
    FdStream stream(fd.get());
    std::byte ping[4];
    ASSERT_TRUE(read_exact(stream, ping).value_or(false));
    EXPECT_EQ(std::string(reinterpret_cast<const char*>(ping), 4), "ping");
    std::byte more[1];
    EXPECT_EQ(stream.read_some(more).value_or(1), 0u) << "closed after ping";
    EXPECT_FALSE(device_->listens(port));
}

TEST_F(FakeUsbmuxd, PortsWaitingForTheirConnectionAreLimited) {
    for (std::size_t i = 0; i < kMaxPendingServices; ++i)
        ASSERT_TRUE(device_->open_service(IosService::afc));
    EXPECT_FALSE(device_->open_service(IosService::afc));
}

TEST_F(FakeUsbmuxd, ManyClientsComeAndGo) {
    for (int i = 0; i < 3 * static_cast<int>(kMaxClients); ++i) {
        auto fd = connect_mux();
        EXPECT_TRUE(dict_string(exchange(fd.get(), message("ReadBUID").get()).get(), "BUID"));
    }
}

}  // namespace
}  // namespace exhibit::phonesim::ios
