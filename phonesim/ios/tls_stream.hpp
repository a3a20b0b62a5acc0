// lockdownd's session TLS, device side: OpenSSL as the TLS server over memory BIOs on top of
// the plain connection. Records are read exactly (5-byte header, then body), so that after
// StopSession the host's one close_notify is consumed and nothing after it: the connection
// goes on in plaintext (facts §2). TLS 1.0 at @SECLEVEL=0 (usbmuxd's preflight) up to 1.3.
// TlsContext is immutable and thread-safe; a TlsStream is used by one thread.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "common/c_handle.hpp"
#include "common/error.hpp"
#include "phonesim/ios/device_keys.hpp"
#include "phonesim/ios/service_host.hpp"

namespace exhibit::phonesim::ios {

using SslCtxPtr = CHandle<SSL_CTX, SSL_CTX_free>;
using SslPtr = CHandle<SSL, SSL_free>;

class TlsContext {
  public:
    static Result<TlsContext> create(const DeviceKeys& keys);
    SSL_CTX* get() const { return ctx_.get(); }

  private:
    SslCtxPtr ctx_;
};

class TlsStream final : public Stream {
  public:
    // Runs the server handshake on `plain`.
    static Result<std::unique_ptr<TlsStream>> accept(const TlsContext& context, Stream& plain);

    Result<std::size_t> read_some(std::span<std::byte> buffer) override;
    Status write_all(std::span<const std::byte> bytes) override;

    // Consumes the host's close_notify (and nothing after it); the device sends none.
    Status take_close_notify();
    // The negotiated protocol ("TLSv1", "TLSv1.3", ...).
    std::string protocol() const { return SSL_get_version(ssl_.get()); }

  private:
    explicit TlsStream(Stream& plain) : plain_(plain) {}
    Status flush();
    // One TLS record from the host into the read BIO; false when the host closed.
    Result<bool> feed_record();
    Error ssl_error(int ret, const char* what);

    Stream& plain_;
    SslPtr ssl_;
    BIO* rbio_ = nullptr;  // owned by ssl_
    BIO* wbio_ = nullptr;  // owned by ssl_
};

}  // namespace exhibit::phonesim::ios
