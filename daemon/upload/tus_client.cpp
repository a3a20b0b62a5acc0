#include "tus_client.hpp"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>

#include <fmt/format.h>
#include <fmt/std.h>

#include "common/log.hpp"
#include "daemon/upload/message_ids.hpp"
#include "exhibit/version.hpp"

namespace exhibit::upload {

namespace {

// libcurl's upload buffer: how much one read callback may fill. Larger than the default
// 64 KiB so that a PATCH costs few callbacks and large TLS records.
constexpr long kUploadBufferSize = 512 * 1024;
// When throttled, wait for at least this many tokens before resuming a paused transfer.
constexpr std::uint64_t kMinResumeTokens = 16 * 1024;

bool contains(const char* haystack, std::string_view needle) {
    return haystack && std::string_view(haystack).find(needle) != std::string_view::npos;
}

}  // namespace

Error transport_error(CURLcode code, const char* buf, const UploadOptions& o) {
    const std::string detail = buf && *buf ? buf : curl_easy_strerror(code);
    auto make = [&](Errc errc, std::string text) {
        return Error{
            errc, fmt::format("{} ({}, curl error {})", text, detail, static_cast<int>(code)), 0};
    };
    switch (code) {
        case CURLE_SSL_CERTPROBLEM:
            return make(Errc::crypto,
                        fmt::format("TLS: this kiosk's client certificate {} or key {} cannot be "
                                    "used",
                                    o.client_cert, o.client_key));
        case CURLE_SSL_CACERT_BADFILE:
            return make(Errc::crypto,
                        fmt::format("TLS: the DFU store's CA file {} cannot be read", o.ca_file));
        case CURLE_PEER_FAILED_VERIFICATION:
            return make(Errc::crypto,
                        fmt::format("TLS: the DFU store's server certificate is not trusted (not "
                                    "issued by the CA in {} for this host name)",
                                    o.ca_file));
        case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
            return make(Errc::crypto,
                        "TLS: the DFU store's public key does not match "
                        "upload.pinned_public_key");
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_SEND_ERROR:
            // A handshake the server cut without a TLS alert (reset, or closed mid-way) is the
            // link or a server going away, not a refusal: a refusal in the handshake comes
            // with an alert, and one after it (TLS 1.3) is the case further down.
            if (code == CURLE_SSL_CONNECT_ERROR && !contains(buf, "alert") &&
                (contains(buf, "reset by peer") || contains(buf, "unexpected eof") ||
                 contains(buf, "SSL_ERROR_SYSCALL")))
                return make(Errc::io, "the connection to the DFU store broke during the TLS "
                                      "handshake");
            if (contains(buf, "alert") || code == CURLE_SSL_CONNECT_ERROR)
                return make(Errc::crypto,
                            fmt::format("TLS: the DFU store refused the connection; is this "
                                        "kiosk's client certificate {} issued by the CA the store "
                                        "trusts?",
                                        o.client_cert));
            if (code == CURLE_SEND_ERROR)
                return make(Errc::io, "the connection to the DFU store broke");
            [[fallthrough]];
        case CURLE_GOT_NOTHING:
            // With TLS 1.3 a server rejects a client certificate after the handshake; its
            // alert is often lost to the reset that follows, so only the symptom is seen.
            if (!o.client_cert.empty())
                return make(Errc::io,
                            fmt::format("the DFU store closed the connection without answering; "
                                        "if this persists, check that it accepts this kiosk's "
                                        "client certificate {}",
                                        o.client_cert));
            return make(Errc::io, "the DFU store closed the connection without answering");
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
            return make(Errc::io, "cannot reach the DFU store");
        case CURLE_OPERATION_TIMEDOUT:
            return make(Errc::timeout, "the transfer to the DFU store stalled");
        default:
            return curl_error(code, buf);
    }
}

TusRequest::~TusRequest() {
    if (in_flight_ && client_)
        client_->glue_->remove(easy_.get());
}

bool TusRequest::answer_too_large(std::uint64_t& counted, std::size_t bytes, std::uint64_t limit,
                                  std::string_view part) {
    counted += bytes;
    if (counted <= limit)
        return false;
    answer_error_ = Error{Errc::protocol,
                          fmt::format("the DFU store's answer has more than {} bytes of {}; not "
                                      "read further",
                                      limit, part),
                          0};
    return true;
}

std::size_t TusRequest::on_header(char* data, std::size_t size, std::size_t n,
                                  void* self) noexcept {
    try {
        auto* r = static_cast<TusRequest*>(self);
        if (r->answer_too_large(r->answer_header_bytes_, size * n, kMaxAnswerHeaderBytes,
                                "headers"))
            return 0;  // ends the transfer
        if (r->response_.headers.size() < 100)
            r->response_.headers.add_line(std::string_view(data, size * n));
        return size * n;
    } catch (...) {
        return 0;
    }
}

std::size_t TusRequest::on_write(char* data, std::size_t size, std::size_t n, void* self) noexcept {
    try {
        auto* r = static_cast<TusRequest*>(self);
        if (r->answer_too_large(r->answer_body_bytes_, size * n, r->max_answer_body_, "body"))
            return 0;  // ends the transfer
        auto& body = r->response_.body;
        const std::size_t room = r->kept_body_ - std::min(r->kept_body_, body.size());
        body.append(data, std::min(room, size * n));
        return size * n;
    } catch (...) {
        return 0;
    }
}

std::size_t TusRequest::on_read(char* data, std::size_t size, std::size_t n, void* self) noexcept {
    try {
        return static_cast<TusRequest*>(self)->read(data, size * n);
    } catch (...) {
        return CURL_READFUNC_ABORT;
    }
}

std::size_t TusRequest::read(char* data, std::size_t max) {
    const std::uint64_t remaining = body_length_ - sent_;
    if (remaining == 0 || !body_)
        return 0;
    std::uint64_t want = std::min<std::uint64_t>(max, remaining);
    auto& limiter = *client_->limiter_;
    const auto now = std::chrono::steady_clock::now();
    want = limiter.take(want, now);
    if (want == 0) {
        // Out of tokens: pause, and resume from a timer when enough have accrued.
        const auto wait = limiter.wait_for(std::min(remaining, kMinResumeTokens), now);
        sd_event* loop = client_->glue_->loop();
        std::uint64_t mono = 0;
        sd_event_now(loop, CLOCK_MONOTONIC, &mono);
        const std::uint64_t when =
            mono + static_cast<std::uint64_t>(std::max<std::int64_t>(wait.count(), 1000));
        if (unpause_timer_) {
            sd_event_source_set_time(unpause_timer_.get(), when);
            sd_event_source_set_enabled(unpause_timer_.get(), SD_EVENT_ONESHOT);
        } else {
            sd_event_source* s = nullptr;
            if (sd_event_add_time(loop, &s, CLOCK_MONOTONIC, when, 1, &TusRequest::on_unpause,
                                  this) < 0) {
                read_error_ = Error{Errc::internal, "cannot arm the bandwidth timer", 0};
                return CURL_READFUNC_ABORT;
            }
            unpause_timer_.reset(s);
        }
        return CURL_READFUNC_PAUSE;
    }
    auto got = body_->read_at(body_offset_ + sent_, std::span(reinterpret_cast<std::byte*>(data),
                                                              static_cast<std::size_t>(want)));
    if (!got) {
        read_error_ = got.error();
        return CURL_READFUNC_ABORT;
    }
    if (*got == 0) {
        read_error_ = Error{Errc::corrupt, "the item's file ended before its recorded size", 0};
        return CURL_READFUNC_ABORT;
    }
    sent_ += *got;
    client_->body_bytes_sent_ += *got;
    return *got;
}

int TusRequest::on_seek(void* self, curl_off_t offset, int origin) noexcept {
    // libcurl rewinds when it must resend a body (a reused connection that turned out dead).
    auto* r = static_cast<TusRequest*>(self);
    if (origin != SEEK_SET || offset < 0 || static_cast<std::uint64_t>(offset) > r->body_length_)
        return CURL_SEEKFUNC_CANTSEEK;
    r->client_->body_bytes_sent_ -= std::min(r->client_->body_bytes_sent_, r->sent_);
    r->sent_ = static_cast<std::uint64_t>(offset);
    r->client_->body_bytes_sent_ += r->sent_;
    return CURL_SEEKFUNC_OK;
}

int TusRequest::on_unpause(sd_event_source*, uint64_t, void* self) noexcept {
    try {
        auto* r = static_cast<TusRequest*>(self);
        if (r->in_flight_)
            if (auto s = r->client_->glue_->unpause(r->easy_.get()); !s)
                log::event(log::Level::warning, message_id::kTransportFailed,
                           fmt::format("cannot resume a throttled upload: {}", s.error().message),
                           {log::field::error_class(s.error())});
    } catch (...) {
    }
    return 0;
}

void TusRequest::finished(CURLcode code) {
    in_flight_ = false;
    unpause_timer_.reset();
    response_.body_bytes_sent = sent_;
    Handler handler = std::move(handler_);
    Result<HttpResponse> result;
    if (read_error_) {
        result = std::unexpected(*read_error_);
    } else if (answer_error_) {
        result = std::unexpected(*answer_error_);
    } else if (code != CURLE_OK) {
        result = std::unexpected(transport_error(code, error_, *client_->options_));
    } else {
        curl_easy_getinfo(easy_.get(), CURLINFO_RESPONSE_CODE, &response_.status);
        result = std::move(response_);
    }
    if (handler)
        handler(std::move(result));  // may destroy this request: touch nothing after
}

Status TusClient::configure(TusRequest& r, Method method, const std::string& url) {
    CURL* h = r.easy_.get();
    const auto& o = *options_;
    const bool http_ok = o.allow_insecure_loopback && url_scheme(o.endpoint) == "http" &&
                         is_loopback_url(o.endpoint);
    CURLcode rc = CURLE_OK;
    auto set = [&](CURLoption opt, auto value) {
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(h, opt, value);
    };
    set(CURLOPT_URL, url.c_str());
    set(CURLOPT_PROTOCOLS_STR, http_ok ? "http,https" : "https");
    set(CURLOPT_REDIR_PROTOCOLS_STR, "https");
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_ERRORBUFFER, r.error_);
    set(CURLOPT_PRIVATE, &r);
    static const std::string user_agent = fmt::format("exhibit/{}", kVersion);
    set(CURLOPT_USERAGENT, user_agent.c_str());
    set(CURLOPT_HEADERFUNCTION, &TusRequest::on_header);
    set(CURLOPT_HEADERDATA, &r);
    set(CURLOPT_WRITEFUNCTION, &TusRequest::on_write);
    set(CURLOPT_WRITEDATA, &r);
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(o.connect_timeout.count()));
    set(CURLOPT_LOW_SPEED_LIMIT, 1L);
    set(CURLOPT_LOW_SPEED_TIME,
        static_cast<long>(
            std::chrono::duration_cast<std::chrono::seconds>(o.stall_timeout).count()));
    set(CURLOPT_TCP_KEEPALIVE, 1L);
    set(CURLOPT_UPLOAD_BUFFERSIZE, kUploadBufferSize);
    // TLS: verification is always on; there is deliberately no setting that turns it off.
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    set(CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2));
    if (!o.ca_file.empty()) {
        set(CURLOPT_CAINFO, o.ca_file.c_str());
        set(CURLOPT_CAPATH, static_cast<const char*>(nullptr));  // trust that CA only
    }
    if (!o.client_cert.empty()) {
        set(CURLOPT_SSLCERT, o.client_cert.c_str());
        set(CURLOPT_SSLCERTTYPE, "PEM");
    }
    if (!o.client_key.empty()) {
        set(CURLOPT_SSLKEY, o.client_key.c_str());
        set(CURLOPT_SSLKEYTYPE, "PEM");
    }
    if (!o.pinned_public_key.empty())
        set(CURLOPT_PINNEDPUBLICKEY, o.pinned_public_key.c_str());
    switch (method) {
        case Method::options:
            set(CURLOPT_CUSTOMREQUEST, "OPTIONS");
            break;
        case Method::head:
            set(CURLOPT_NOBODY, 1L);
            break;
        case Method::post:
            set(CURLOPT_POST, 1L);
            set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body_length_));
            break;
        case Method::patch:
            set(CURLOPT_UPLOAD, 1L);
            set(CURLOPT_CUSTOMREQUEST, "PATCH");
            set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(r.body_length_));
            break;
        case Method::del:
            set(CURLOPT_CUSTOMREQUEST, "DELETE");
            break;
        case Method::get:
            set(CURLOPT_HTTPGET, 1L);
            r.max_answer_body_ = kMaxReceiptBytes;
            r.kept_body_ = kMaxReceiptBytes;
            break;
    }
    if (r.body_) {
        set(CURLOPT_READFUNCTION, &TusRequest::on_read);
        set(CURLOPT_READDATA, &r);
        set(CURLOPT_SEEKFUNCTION, &TusRequest::on_seek);
        set(CURLOPT_SEEKDATA, &r);
    }
    set(CURLOPT_HTTPHEADER, r.headers_.get());
    if (rc != CURLE_OK)
        return std::unexpected(curl_error(rc, nullptr));
    return {};
}

Result<TusClient::RequestPtr> TusClient::start(Method method, const std::string& url,
                                               std::vector<std::string> headers, BodySource* body,
                                               std::uint64_t offset, std::uint64_t length,
                                               Handler handler) {
    RequestPtr r(new TusRequest());
    r->client_ = this;
    r->easy_.reset(curl_easy_init());
    if (!r->easy_)
        return fail(Errc::internal, "curl_easy_init failed");
    r->body_ = body;
    r->body_offset_ = offset;
    r->body_length_ = length;
    headers.insert(headers.begin(), {fmt::format("Tus-Resumable: {}", kTusVersion), "Expect:"});
    for (const auto& line : headers) {
        curl_slist* next = curl_slist_append(r->headers_.get(), line.c_str());
        if (!next)
            return fail(Errc::internal, "out of memory building request headers");
        if (!r->headers_)
            r->headers_.reset(next);
    }
    if (auto s = configure(*r, method, url); !s)
        return std::unexpected(s.error());
    r->handler_ = std::move(handler);
    TusRequest* raw = r.get();
    if (auto s = glue_->add(raw->easy_.get(), [raw](CURL*, CURLcode code) { raw->finished(code); });
        !s)
        return std::unexpected(s.error());
    raw->in_flight_ = true;
    return r;
}

Result<TusClient::RequestPtr> TusClient::discover(Handler handler) {
    return start(Method::options, options_->endpoint, {}, nullptr, 0, 0, std::move(handler));
}

Result<TusClient::RequestPtr> TusClient::create(std::optional<std::uint64_t> length,
                                                const std::string& metadata, Handler handler) {
    std::vector<std::string> headers = {length ? fmt::format("Upload-Length: {}", *length)
                                               : std::string("Upload-Defer-Length: 1")};
    if (!metadata.empty())
        headers.push_back(fmt::format("Upload-Metadata: {}", metadata));
    headers.push_back("Content-Type:");  // libcurl would label a bodiless POST as a form
    return start(Method::post, options_->endpoint, std::move(headers), nullptr, 0, 0,
                 std::move(handler));
}

Result<TusClient::RequestPtr> TusClient::head(const std::string& url, Handler handler) {
    return start(Method::head, url, {}, nullptr, 0, 0, std::move(handler));
}

Result<TusClient::RequestPtr> TusClient::patch(const std::string& url, std::uint64_t offset,
                                               std::uint64_t length, BodySource& body,
                                               const std::optional<Digest>& checksum,
                                               std::optional<std::uint64_t> declare_length,
                                               Handler handler) {
    std::vector<std::string> headers = {"Content-Type: application/offset+octet-stream",
                                        fmt::format("Upload-Offset: {}", offset)};
    if (declare_length)
        headers.push_back(fmt::format("Upload-Length: {}", *declare_length));
    if (checksum)
        headers.push_back(fmt::format("Upload-Checksum: {}", checksum_header_value(*checksum)));
    return start(Method::patch, url, std::move(headers), &body, offset, length, std::move(handler));
}

Result<TusClient::RequestPtr> TusClient::terminate(const std::string& url, Handler handler) {
    return start(Method::del, url, {}, nullptr, 0, 0, std::move(handler));
}

Result<TusClient::RequestPtr> TusClient::receipt(const std::string& url, Handler handler) {
    return start(Method::get, url + "/receipt", {}, nullptr, 0, 0, std::move(handler));
}

}  // namespace exhibit::upload
