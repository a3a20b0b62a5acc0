#include "phonesim/ios/tls_stream.hpp"

#include <openssl/err.h>

#include <array>
#include <vector>

#include "phonesim/ios/plist_codec.hpp"

namespace exhibit::phonesim::ios {

namespace {

constexpr std::size_t kMaxRecord = 16384 + 2048;

Error openssl_error(std::string what) {
    unsigned long code = ERR_get_error();
    char text[256] = "no OpenSSL error";
    if (code != 0)
        ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    return Error{Errc::crypto, what + ": " + text, 0};
}

// The host presents its RootCertificate; like a real device, take it without a chain.
int accept_any_certificate(int, X509_STORE_CTX*) noexcept {
    return 1;
}

}  // namespace

Result<TlsContext> TlsContext::create(const DeviceKeys& keys) {
    TlsContext context;
    context.ctx_.reset(SSL_CTX_new(TLS_server_method()));
    SSL_CTX* ctx = context.ctx_.get();
    if (!ctx)
        return std::unexpected(openssl_error("SSL_CTX_new"));
    SSL_CTX_set_security_level(ctx, 0);
    if (SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION) != 1 ||
        SSL_CTX_set_cipher_list(ctx, "ALL:@SECLEVEL=0") != 1 ||
        SSL_CTX_use_certificate(ctx, keys.certificate()) != 1 ||
        SSL_CTX_use_PrivateKey(ctx, keys.key()) != 1)
        return std::unexpected(openssl_error("configuring session TLS"));
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any_certificate);
    return context;
}

Result<std::unique_ptr<TlsStream>> TlsStream::accept(const TlsContext& context, Stream& plain) {
    std::unique_ptr<TlsStream> tls(new TlsStream(plain));
    tls->ssl_.reset(SSL_new(context.get()));
    if (!tls->ssl_)
        return std::unexpected(openssl_error("SSL_new"));
    tls->rbio_ = BIO_new(BIO_s_mem());
    tls->wbio_ = BIO_new(BIO_s_mem());
    if (!tls->rbio_ || !tls->wbio_) {
        BIO_free(tls->rbio_);
        BIO_free(tls->wbio_);
        return std::unexpected(openssl_error("BIO_new"));
    }
    // An empty read BIO means "more to come", not end of stream.
    BIO_set_mem_eof_return(tls->rbio_, -1);
    SSL_set_bio(tls->ssl_.get(), tls->rbio_, tls->wbio_);
    SSL_set_accept_state(tls->ssl_.get());
    for (;;) {
        int ret = SSL_do_handshake(tls->ssl_.get());
        if (auto flushed = tls->flush(); !flushed)
            return std::unexpected(flushed.error());
        if (ret == 1)
            return tls;
        if (SSL_get_error(tls->ssl_.get(), ret) != SSL_ERROR_WANT_READ)
            return std::unexpected(tls->ssl_error(ret, "session TLS handshake"));
        auto fed = tls->feed_record();
        if (!fed)
            return std::unexpected(fed.error());
        if (!*fed)
            return fail(Errc::protocol, "host closed during the TLS handshake");
    }
}

Error TlsStream::ssl_error(int ret, const char* what) {
    int code = SSL_get_error(ssl_.get(), ret);
    auto error = openssl_error(what);
    error.message += " (SSL_get_error " + std::to_string(code) + ")";
    return error;
}

Status TlsStream::flush() {
    std::array<std::byte, 16384> chunk;
    while (BIO_ctrl_pending(wbio_) > 0) {
        int n = BIO_read(wbio_, chunk.data(), static_cast<int>(chunk.size()));
        if (n <= 0)
            break;
        if (auto written = plain_.write_all(std::span(chunk.data(), static_cast<std::size_t>(n)));
            !written)
            return written;
    }
    return {};
}

Result<bool> TlsStream::feed_record() {
    std::array<std::byte, 5> head;
    auto got = read_exact(plain_, head);
    if (!got || !*got)
        return got;
    std::size_t length =
        (std::to_integer<std::size_t>(head[3]) << 8) | std::to_integer<std::size_t>(head[4]);
    if (length > kMaxRecord)
        return fail(Errc::protocol, "TLS record too long");
    std::vector<std::byte> record(5 + length);
    std::copy(head.begin(), head.end(), record.begin());
    got = read_exact(plain_, std::span(record).subspan(5));
    if (!got)
        return got;
    if (!*got && length > 0)
        return fail(Errc::protocol, "host closed inside a TLS record");
    BIO_write(rbio_, record.data(), static_cast<int>(record.size()));
    return true;
}

Result<std::size_t> TlsStream::read_some(std::span<std::byte> buffer) {
    for (;;) {
        std::size_t n = 0;
        int ret = SSL_read_ex(ssl_.get(), buffer.data(), buffer.size(), &n);
        if (auto flushed = flush(); !flushed)
            return std::unexpected(flushed.error());
        if (ret == 1)
            return n;
        int code = SSL_get_error(ssl_.get(), ret);
        if (code == SSL_ERROR_ZERO_RETURN)
            return 0;
        if (code != SSL_ERROR_WANT_READ)
            return std::unexpected(ssl_error(ret, "session TLS read"));
        auto fed = feed_record();
        if (!fed)
            return std::unexpected(fed.error());
        if (!*fed)
            return 0;
    }
}

Status TlsStream::write_all(std::span<const std::byte> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        std::size_t n = 0;
        if (SSL_write_ex(ssl_.get(), bytes.data() + done, bytes.size() - done, &n) != 1)
            return std::unexpected(openssl_error("session TLS write"));
        done += n;
        if (auto flushed = flush(); !flushed)
            return flushed;
    }
    return {};
}

Status TlsStream::take_close_notify() {
    std::array<std::byte, 256> sink;
    for (;;) {
        std::size_t n = 0;
        int ret = SSL_read_ex(ssl_.get(), sink.data(), sink.size(), &n);
        if (ret == 1)
            return fail(Errc::protocol, "data after StopSession instead of close_notify");
        int code = SSL_get_error(ssl_.get(), ret);
        if (code == SSL_ERROR_ZERO_RETURN)
            return {};
        if (code != SSL_ERROR_WANT_READ)
            return std::unexpected(ssl_error(ret, "waiting for close_notify"));
        auto fed = feed_record();
        if (!fed)
            return std::unexpected(fed.error());
        if (!*fed)
            return fail(Errc::protocol, "host closed without close_notify");
    }
}

}  // namespace exhibit::phonesim::ios
