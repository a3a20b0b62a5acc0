// Session TLS as usbmuxd's preflight and libimobiledevice use it: an OpenSSL client capped at
// TLS 1.0 (the preflight), then the host's close_notify and plaintext on the same connection.
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <sys/socket.h>

#include <future>
#include <string>

#include "common/unique_fd.hpp"
#include "phonesim/ios/fd_stream.hpp"
#include "phonesim/ios/plist_codec.hpp"
#include "phonesim/ios/tls_stream.hpp"

namespace exhibit::phonesim::ios {
namespace {

struct DeviceSide {
    std::string protocol;
    std::string received;
    std::string plaintext_after;
    std::string error;
};

DeviceSide run_device(const TlsContext& context, int fd) {
    DeviceSide out;
    FdStream plain(fd, 7);  // tiny fragments: records must still be read whole
    auto tls = TlsStream::accept(context, plain);
    if (!tls) {
        out.error = tls.error().describe();
        return out;
    }
    out.protocol = (*tls)->protocol();
    std::byte buf[5];
    if (!read_exact(**tls, buf).value_or(false)) {
        out.error = "no hello";
        return out;
    }
    out.received.assign(reinterpret_cast<const char*>(buf), 5);
    if (!(*tls)->write_all(as_bytes("world")) || !(*tls)->take_close_notify()) {
        out.error = "no close_notify";
        return out;
    }
    std::byte rest[5];
    if (read_exact(plain, rest).value_or(false))
        out.plaintext_after.assign(reinterpret_cast<const char*>(rest), 5);
    return out;
}

void host_side(int fd, int max_version) {
    SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
    SSL_CTX_set_security_level(ctx.get(), 0);
    SSL_CTX_set_cipher_list(ctx.get(), "ALL:@SECLEVEL=0");
    SSL_CTX_set_min_proto_version(ctx.get(), TLS1_VERSION);
    SSL_CTX_set_max_proto_version(ctx.get(), max_version);
    SslPtr ssl(SSL_new(ctx.get()));
    SSL_set_fd(ssl.get(), fd);
    ASSERT_EQ(SSL_connect(ssl.get()), 1);
    ASSERT_EQ(SSL_write(ssl.get(), "hello", 5), 5);
    char buf[5];
    ASSERT_EQ(SSL_read(ssl.get(), buf, 5), 5);
    EXPECT_EQ(std::string(buf, 5), "world");
    SSL_shutdown(ssl.get());  // one close_notify, as libimobiledevice's disable_ssl
    ASSERT_EQ(::send(fd, "plain", 5, MSG_NOSIGNAL), 5);
}

class TlsSession : public ::testing::TestWithParam<int> {};

TEST_P(TlsSession, HandshakesThenReturnsToPlaintextAfterCloseNotify) {
    auto keys = DeviceKeys::generate();
    ASSERT_TRUE(keys);
    auto context = TlsContext::create(*keys);
    ASSERT_TRUE(context) << context.error().describe();
    int fds[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    UniqueFd device_fd(fds[0]), host_fd(fds[1]);
    auto device =
        std::async(std::launch::async, [&] { return run_device(*context, device_fd.get()); });
    host_side(host_fd.get(), GetParam());
    auto result = device.get();
    EXPECT_EQ(result.error, "");
    EXPECT_EQ(result.protocol, GetParam() == TLS1_VERSION ? "TLSv1" : "TLSv1.3");
    EXPECT_EQ(result.received, "hello");
    EXPECT_EQ(result.plaintext_after, "plain");
}

INSTANTIATE_TEST_SUITE_P(Versions, TlsSession, ::testing::Values(TLS1_VERSION, TLS1_3_VERSION));

}  // namespace
}  // namespace exhibit::phonesim::ios
