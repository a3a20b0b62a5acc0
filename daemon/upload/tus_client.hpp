// One tus 1.0 HTTP exchange at a time per TusRequest, on libcurl easy handles driven by a
// CurlGlue (so by the sd-event loop). Every request carries the TLS settings of the
// UploadOptions (CA file, client certificate and key, optional pin, TLS 1.2 minimum,
// verification always on), "Tus-Resumable: 1.0.0", and an empty "Expect:" header. Bodies
// stream from a BodySource through CURLOPT_READFUNCTION, throttled by a shared RateLimiter.
//
// Thread-bound to the loop.
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "common/error.hpp"
#include "common/sha256.hpp"
#include "daemon/upload/body_source.hpp"
#include "daemon/upload/curl_glue.hpp"
#include "daemon/upload/rate_limiter.hpp"
#include "daemon/upload/tus_protocol.hpp"
#include "daemon/upload/upload_options.hpp"

namespace exhibit::upload {

struct HttpResponse {
    long status = 0;
    Headers headers;
    std::string body;  // the first kMaxBodyExcerpt bytes (for error reasons)
    std::uint64_t body_bytes_sent = 0;
};
inline constexpr std::size_t kMaxBodyExcerpt = 4096;
// A tus answer is a few headers and at most a short error text. One larger than this is
// hostile or broken: the request ends with an error rather than reading on for ever.
inline constexpr std::uint64_t kMaxAnswerHeaderBytes = 64 * 1024;
inline constexpr std::uint64_t kMaxAnswerBodyBytes = 1024 * 1024;
// A DFU store's receipt is read whole, and is a few kilobytes of JSON; one larger than this is
// refused as the answers above are.
inline constexpr std::uint64_t kMaxReceiptBytes = 64 * 1024;

// A request in flight. Destroying it cancels the exchange (its handler is not called).
class TusRequest {
  public:
    using Handler = std::function<void(Result<HttpResponse>)>;
    ~TusRequest();
    TusRequest(const TusRequest&) = delete;
    TusRequest& operator=(const TusRequest&) = delete;

  private:
    friend class TusClient;
    TusRequest() = default;

    static std::size_t on_header(char* data, std::size_t size, std::size_t n, void* self) noexcept;
    static std::size_t on_write(char* data, std::size_t size, std::size_t n, void* self) noexcept;
    static std::size_t on_read(char* data, std::size_t size, std::size_t n, void* self) noexcept;
    static int on_seek(void* self, curl_off_t offset, int origin) noexcept;
    static int on_unpause(sd_event_source* s, uint64_t usec, void* self) noexcept;
    std::size_t read(char* data, std::size_t max);
    // Counts `bytes` more of the answer's `part` in `counted`; past `limit`, records the error
    // that ends the request and returns true.
    bool answer_too_large(std::uint64_t& counted, std::size_t bytes, std::uint64_t limit,
                          std::string_view part);
    void finished(CURLcode code);

    class TusClient* client_ = nullptr;
    CurlEasyPtr easy_;
    CurlSlistPtr headers_;
    char error_[CURL_ERROR_SIZE] = {};
    HttpResponse response_;
    BodySource* body_ = nullptr;
    std::uint64_t body_offset_ = 0;
    std::uint64_t body_length_ = 0;
    std::uint64_t sent_ = 0;
    std::optional<Error> read_error_;
    std::uint64_t answer_header_bytes_ = 0;
    std::uint64_t answer_body_bytes_ = 0;
    // The answer's body: the most read (more ends the request) and the most kept.
    std::uint64_t max_answer_body_ = kMaxAnswerBodyBytes;
    std::size_t kept_body_ = kMaxBodyExcerpt;
    std::optional<Error> answer_error_;  // the answer was too large: not read to its end
    EventSourcePtr unpause_timer_;
    Handler handler_;
    bool in_flight_ = false;
};

class TusClient {
  public:
    TusClient(CurlGlue& glue, const UploadOptions& options, RateLimiter& limiter)
        : glue_(&glue), options_(&options), limiter_(&limiter) {}

    using Handler = TusRequest::Handler;
    using RequestPtr = std::unique_ptr<TusRequest>;

    // OPTIONS on the endpoint.
    Result<RequestPtr> discover(Handler handler);
    // POST to the endpoint with Upload-Length and Upload-Metadata, and no body: evidence goes
    // only to an upload whose URL the kiosk has recorded (creation-with-upload is not used).
    // No length sends Upload-Defer-Length: 1 instead (creation-defer-length): the upload
    // cannot be whole until a PATCH declares its length.
    Result<RequestPtr> create(std::optional<std::uint64_t> length, const std::string& metadata,
                              Handler handler);
    Result<RequestPtr> head(const std::string& url, Handler handler);
    // PATCH `length` bytes of `body` from `offset`, with an Upload-Checksum when given, and an
    // Upload-Length when the upload's length is still to be declared.
    Result<RequestPtr> patch(const std::string& url, std::uint64_t offset, std::uint64_t length,
                             BodySource& body, const std::optional<Digest>& checksum,
                             std::optional<std::uint64_t> declare_length, Handler handler);
    Result<RequestPtr> terminate(const std::string& url, Handler handler);
    // GET <url>/receipt: a DFU store's receipt for the upload (ServerCapabilities::receipts),
    // its body kept whole up to kMaxReceiptBytes.
    Result<RequestPtr> receipt(const std::string& url, Handler handler);

    // Body bytes handed to libcurl since this client was made (sent or in flight).
    std::uint64_t body_bytes_sent() const { return body_bytes_sent_; }

  private:
    friend class TusRequest;
    enum class Method { options, post, head, patch, del, get };
    Result<RequestPtr> start(Method method, const std::string& url,
                             std::vector<std::string> headers, BodySource* body,
                             std::uint64_t offset, std::uint64_t length, Handler handler);
    Status configure(TusRequest& r, Method method, const std::string& url);

    CurlGlue* glue_;
    const UploadOptions* options_;
    RateLimiter* limiter_;
    std::uint64_t body_bytes_sent_ = 0;
};

// A transport failure in words an administrator can act on (TLS problems name the file or
// the setting involved).
Error transport_error(CURLcode code, const char* error_buffer, const UploadOptions& options);

}  // namespace exhibit::upload
