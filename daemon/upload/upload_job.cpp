#include "upload_job.hpp"

#include <algorithm>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/log.hpp"
#include "daemon/upload/message_ids.hpp"

namespace exhibit::upload {

namespace {
constexpr int kMaxConflicts = 3;         // 409s in a row before backing off
constexpr int kMaxChecksumFailures = 3;  // 460s in a row before backing off
constexpr std::size_t kHashBuffer = 1024 * 1024;
constexpr auto kPersistInterval = std::chrono::seconds(2);
// How often to ask again for a receipt the DFU store is still writing (it hashes the whole
// object first: seconds for a large item).
constexpr auto kReceiptPoll = std::chrono::seconds(3);

std::string reason_of(std::string_view step, const HttpResponse& r) {
    auto body = printable_excerpt(r.body);
    return body.empty()
               ? fmt::format("{}: the DFU store answered HTTP {}", step, r.status)
               : fmt::format("{}: the DFU store answered HTTP {}: {}", step, r.status, body);
}
}  // namespace

std::string_view to_string(FailureClass c) {
    switch (c) {
        case FailureClass::network:
            return "network";
        case FailureClass::tls:
            return "tls";
        case FailureClass::server:
            return "server";
        case FailureClass::rejected:
            return "rejected";
        case FailureClass::local:
            return "local";
    }
    return "local";
}

void UploadJob::start() {
    chunk_ = host_->options().chunk_size;
    if (job_.key.kind == JobKind::item) {
        if (!job_.blob_intact)
            return end(JobFailed{fmt::format("the local copy of {} is damaged or missing (flagged "
                                             "by the store); it cannot be sent",
                                             describe(job_.key)),
                                 Errc::corrupt});
        auto file = FileBody::open(job_.blob, job_.length);
        if (!file)
            return end(JobFailed{fmt::format("cannot read the local copy of {}: {}",
                                             describe(job_.key), file.error().describe()),
                                 file.error().code});
        body_ = std::make_unique<FileBody>(std::move(*file));
    } else {
        body_ = std::make_unique<MemoryBody>(job_.body);
    }
    if (job_.remote_url && !on_endpoint_origin(host_->options().endpoint, *job_.remote_url))
        return recreate(fmt::format("its upload at {} is not on the configured DFU store {}",
                                    *job_.remote_url, host_->options().endpoint));
    next();
}

void UploadJob::next() {
    if (!host_->capabilities())
        return discover();
    if (!job_.remote_url)
        return create();
    if (!offset_known_)
        return head();
    if (offset_ >= job_.length && !length_undeclared_)
        return done();
    if (!host_->may_continue(job_))
        return end(JobRetry{"", false});
    patch();
}

void UploadJob::issue(Result<TusClient::RequestPtr> request) {
    if (!request)
        return end(JobRetry{request.error().describe(), true, FailureClass::local});
    request_ = std::move(*request);
}

bool UploadJob::use_checksum() const {
    const auto* caps = host_->capabilities();
    return caps && caps->offers_sha256();
}

// The largest body to send now: the job's chunk, within what the server is known to accept,
// and never below the store's smallest (Exhibit-Min-Chunk-Size).
std::uint64_t UploadJob::chunk_limit() const {
    const auto limit = host_->body_limit();
    const std::uint64_t n = limit ? std::min(chunk_, *limit) : chunk_;
    const auto* caps = host_->capabilities();
    return caps && caps->min_chunk_size ? std::max(n, *caps->min_chunk_size) : n;
}

void UploadJob::discover() {
    issue(host_->client().discover([this](Result<HttpResponse> r) {
        if (!r)
            return on_transport("discovery", r.error());
        auto caps = parse_capabilities(r->status, r->headers);
        if (!caps)
            return end(JobRetry{fmt::format("discovery: {}", caps.error().message)});
        host_->set_capabilities(std::move(*caps));
        next();
    }));
}

void UploadJob::create() {
    const auto& caps = *host_->capabilities();
    if (caps.max_size && job_.length > *caps.max_size)
        return end(JobFailed{fmt::format("{} has {} bytes; the DFU store accepts at most {}",
                                         describe(job_.key), job_.length, *caps.max_size),
                             Errc::unsupported, FailureClass::rejected});
    auto metadata = encode_metadata(job_.metadata);
    if (!metadata)
        return end(JobFailed{metadata.error().message});
    // The creation carries no evidence, even where the server offers creation-with-upload:
    // the upload's URL is committed to the catalog before any byte is sent, so that a kiosk
    // killed (or a server lost) between the server storing a body and the kiosk recording
    // where can never make the DFU receive an item twice (tests/daemon: crash_campaign). A
    // small item costs one request more. An empty item would be whole at its creation, so
    // its length is deferred where the server allows it and declared by a bodiless PATCH
    // once the URL is committed; a creation whose answer was lost then stays unfinished.
    const bool defer = job_.length == 0 && caps.has_extension("creation-defer-length");
    issue(host_->client().create(defer ? std::nullopt : std::optional(job_.length), *metadata,
                                 [this, defer](Result<HttpResponse> r) {
        if (!r)
            return on_transport("create", r.error());
        if (r->status == 413)
            return end(JobFailed{reason_of("create", *r), Errc::unsupported,
                                 FailureClass::rejected});
        if (r->status != 201)
            return on_status("create", *r);
        auto url =
            resolve_location(host_->options().endpoint, r->headers.get("location").value_or(""));
        if (!url)
            return end(JobRetry{fmt::format("create: {}", url.error().message)});
        if (auto s = host_->queue().set_remote(job_.key, *url, recreated_reason_); !s)
            return end(JobRetry{s.error().describe(), true, FailureClass::local});
        log::event(log::Level::info, message_id::kUploadCreated,
                   fmt::format("{}: created upload {}", describe(job_.key), *url),
                   {kind_field(job_.key), id_field(job_.key), {"EXHIBIT_UPLOAD_URL", *url}});
        job_.remote_url = *url;
        recreated_reason_.reset();
        offset_ = 0;
        offset_known_ = true;
        length_undeclared_ = defer;
        next();
    }));
}

void UploadJob::head() {
    issue(host_->client().head(*job_.remote_url, [this](Result<HttpResponse> r) {
        auto broken = std::exchange(broken_body_, std::nullopt);
        if (!r)
            return broken ? on_transport("upload", broken->error)
                          : on_transport("resume", r.error());
        if (r->status != 200 && r->status != 204)
            return on_status("resume", *r);
        auto header = r->headers.get("upload-offset");
        auto offset = header ? parse_uint(*header) : fail(Errc::protocol, "no Upload-Offset");
        if (!offset)
            return end(JobRetry{fmt::format("resume: {}", offset.error().message)});
        auto length_header = r->headers.get("upload-length");
        // An upload created with its length deferred whose declaring PATCH never arrived.
        const bool deferred =
            !length_header && r->headers.get("upload-defer-length").value_or("") == "1";
        auto length = length_header ? parse_uint(*length_header)
                      : deferred    ? Result<std::uint64_t>(job_.length)
                                    : fail(Errc::protocol, "");
        if (!length || *length != job_.length || *offset > job_.length)
            return recreate(
                fmt::format("the DFU store's upload at {} does not match {} (length "
                            "{}, offset {})",
                            *job_.remote_url, describe(job_.key), length_header.value_or("none"),
                            header.value_or("none")));
        if (*offset != job_.remote_offset)
            log::event(log::Level::info, message_id::kUploadResumed,
                       fmt::format("{}: resuming at the server's offset {} (last confirmed {})",
                                   describe(job_.key), *offset, job_.remote_offset),
                       {kind_field(job_.key),
                        id_field(job_.key),
                        {"EXHIBIT_OFFSET", std::to_string(*offset)}});
        offset_ = *offset;
        offset_known_ = true;
        length_undeclared_ = deferred;
        conflicts_ = 0;
        if (auto s = host_->queue().set_offset(job_.key, offset_); !s)
            return end(JobRetry{s.error().describe(), true, FailureClass::local});
        if (broken) {
            // The server answers, yet none of the body arrived: something between refuses
            // bodies that large by breaking the connection instead of answering 413 (unless
            // the body was no larger than the store needs: then it was the link).
            if (offset_ == broken->from && broken->size > smallest_body())
                return learn_body_limit(
                    broken->size, fmt::format("the connection to the DFU store broke on a body "
                                              "of {} bytes, none of which arrived",
                                              broken->size));
            return on_transport("upload", broken->error);  // a link failing mid-body: back off
        }
        next();
    }));
}

Result<Digest> UploadJob::hash_range(std::uint64_t offset, std::uint64_t length) {
    Sha256 hash;
    std::vector<std::byte> buffer(std::min<std::uint64_t>(length, kHashBuffer));
    while (length > 0) {
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(length, buffer.size()));
        auto n = body_->read_at(offset, std::span(buffer.data(), want));
        if (!n)
            return std::unexpected(n.error());
        if (*n == 0)
            return fail(Errc::corrupt, "the item's file ended before its recorded size");
        hash.update(std::span<const std::byte>(buffer.data(), *n));
        offset += *n;
        length -= *n;
    }
    return hash.finish();
}

void UploadJob::patch() {
    if (const auto& min = host_->capabilities()->min_chunk_size; min && chunk_ < *min)
        chunk_ = *min;
    const std::uint64_t n = std::min(chunk_limit(), job_.length - offset_);
    std::optional<Digest> checksum;
    if (use_checksum()) {
        auto digest = hash_range(offset_, n);
        if (!digest)
            return end(JobFailed{fmt::format("cannot read the local copy of {}: {}",
                                             describe(job_.key), digest.error().describe()),
                                 digest.error().code});
        checksum = *digest;
    }
    const std::uint64_t from = offset_;
    const auto started = std::chrono::steady_clock::now();
    issue(host_->client().patch(
        *job_.remote_url, from, n, *body_, checksum,
        length_undeclared_ ? std::optional(job_.length) : std::nullopt,
        [this, from, n, started](Result<HttpResponse> r) {
            if (!r) {
                if (r.error().code == Errc::corrupt || r.error().code == Errc::not_found)
                    return end(JobFailed{fmt::format("cannot read the local copy of {}: {}",
                                                     describe(job_.key), r.error().describe()),
                                         r.error().code});
                offset_known_ = false;
                if (n > kMinChunkSize) {
                    // Ask where the server stands at once: if it answers and has none of
                    // this body, the body's size is the likely cause.
                    broken_body_ = BrokenBody{from, n, r.error()};
                    return head();
                }
                return on_transport("upload", r.error());
            }
            if (r->status == 413)
                return body_too_large(*r, n);
            if (r->status != 204 && r->status != 200)
                return on_status("upload", *r);
            auto header = r->headers.get("upload-offset");
            auto offset = header ? parse_uint(*header) : fail(Errc::protocol, "no Upload-Offset");
            // Past the old offset, and at most the bytes sent; a bodiless PATCH (which only
            // declares the length) leaves it where it was.
            if (!offset || *offset < from || *offset > from + n || (n > 0 && *offset == from)) {
                offset_known_ = false;
                return end(
                    JobRetry{fmt::format("upload: the DFU store confirmed offset {} after "
                                         "{} bytes from {}",
                                         header.value_or("none"), n, from)});
            }
            offset_ = *offset;
            length_undeclared_ = false;
            conflicts_ = 0;
            checksum_failures_ = 0;
            job_.attempts = 0;
            const auto& o = host_->options();
            if (!use_checksum() && n == chunk_ && offset_ == from + n &&
                std::chrono::steady_clock::now() - started < o.chunk_growth_time)
                chunk_ = std::min(chunk_ * 2, o.max_chunk_size);
            // The server is the authority on the offset (a resume always asks it), so the
            // catalog's copy, which only feeds the status, is written every few seconds rather
            // than with an fsync between every two chunks.
            if (std::chrono::steady_clock::now() - persisted_at_ >= kPersistInterval)
                persist_offset();
            next();
        }));
}

Receipt UploadJob::offset_receipt() const {
    Receipt receipt;
    receipt.url = *job_.remote_url;
    receipt.offset = offset_;
    receipt.length = job_.length;
    receipt.checksum = use_checksum() ? "sha256-per-chunk" : "not-offered";
    receipt.received_at = host_->clock().now();
    return receipt;
}

void UploadJob::done() {
    const auto& caps = *host_->capabilities();
    if (caps.receipts)
        return fetch_receipt();
    auto receipt = offset_receipt();
    if (!caps.unknown_receipt_format.empty())
        receipt.note = fmt::format("the DFU store offers receipts of a format this kiosk does "
                                   "not read (\"{}\")",
                                   caps.unknown_receipt_format);
    end(JobReceived{std::move(receipt)});
}

// The store has every byte by its own count; only its receipt says the object it assembled
// holds the item's bytes.
void UploadJob::fetch_receipt() {
    issue(host_->client().receipt(*job_.remote_url, [this](Result<HttpResponse> r) {
        if (!r)
            return on_transport("receipt", r.error());
        if (r->status == 202)
            return end(JobRetry{fmt::format("waiting for the DFU store's receipt by hash: {}",
                                            pending_receipt_reason(r->body)),
                                false, FailureClass::server, kReceiptPoll});
        if (r->status != 200)
            return on_status("receipt", *r);
        auto dfu = parse_dfu_receipt(r->body);
        if (!dfu)
            return end(JobRetry{fmt::format("receipt: the DFU store's receipt for {} cannot be "
                                            "read: {}",
                                            *job_.remote_url, dfu.error().message)});
        if (dfu->sha256 != job_.sha256 || dfu->size != job_.length) {
            auto reason = fmt::format(
                "the DFU store's receipt for {} names {} bytes with sha256 {}, not the {} bytes "
                "with sha256 {} that were sent",
                *job_.remote_url, dfu->size, dfu->sha256, job_.length, job_.sha256);
            log::event(log::Level::warning, message_id::kReceiptMismatch,
                       fmt::format("{}: {}", describe(job_.key), reason),
                       {kind_field(job_.key), id_field(job_.key),
                        log::field::error_class(Errc::corrupt)});
            // Once per attempt: a store that damages every copy is not sent one after another.
            if (++receipt_mismatches_ > 1)
                return end(JobRetry{fmt::format("receipt: {}", reason)});
            return recreate(std::move(reason));
        }
        auto receipt = offset_receipt();
        receipt.rule = "dfu-receipt";
        receipt.dfu = std::move(*dfu);
        end(JobReceived{std::move(receipt)});
    }));
}

void UploadJob::recreate(std::string reason) {
    log::event(
        log::Level::warning, message_id::kUploadRecreated,
        fmt::format("{}: {}; creating the upload again", describe(job_.key), reason),
        {kind_field(job_.key), id_field(job_.key), log::field::error_class(Errc::not_found)});
    job_.remote_url.reset();
    offset_ = 0;
    offset_known_ = false;
    length_undeclared_ = false;
    recreated_reason_ = std::move(reason);
    next();
}

void UploadJob::on_status(std::string_view step, const HttpResponse& r) {
    switch (classify_status(r.status)) {
        case Disposition::conflict:
            if (++conflicts_ > kMaxConflicts)
                return end(JobRetry{reason_of(step, r)});
            offset_known_ = false;  // our offset is stale: ask the server
            return next();
        case Disposition::gone:
            if (step == "create")
                return end(JobRejected{reason_of(step, r)});
            return recreate(fmt::format("the DFU store no longer has the upload at {} (HTTP {})",
                                        job_.remote_url.value_or("?"), r.status));
        case Disposition::checksum_mismatch:
            if (++checksum_failures_ > kMaxChecksumFailures)
                return end(JobRetry{reason_of(step, r)});
            log::event(
                log::Level::warning, message_id::kChecksumMismatch,
                fmt::format("{}: the DFU store found a checksum mismatch; sending the "
                            "chunk again",
                            describe(job_.key)),
                {kind_field(job_.key), id_field(job_.key), log::field::error_class(Errc::corrupt)});
            offset_known_ = false;
            return next();
        case Disposition::transient:
            return end(JobRetry{reason_of(step, r)});
        case Disposition::rejected:
        case Disposition::success:
            return end(JobRejected{reason_of(step, r)});
    }
}

// A body of `size` bytes was refused as too large, most likely by a proxy in front of the
// DFU store: remember half of it as the server's limit (for every job, for
// kBodyLimitLifetime) and go on with smaller chunks; below kMinChunkSize the server is
// refusing something else.
void UploadJob::body_too_large(const HttpResponse& r, std::uint64_t size) {
    if (size <= smallest_body())
        return end(JobRejected{reason_of("upload", r)});
    offset_known_ = false;  // ask where the server stands before sending again
    learn_body_limit(size,
                     fmt::format("the DFU store refused a body of {} bytes as too large", size));
}

// The smallest body worth sending: kMinChunkSize, or the store's own minimum if larger.
std::uint64_t UploadJob::smallest_body() const {
    const auto* caps = host_->capabilities();
    return std::max(kMinChunkSize, caps ? caps->min_chunk_size.value_or(0) : 0);
}

// A body of `size` bytes did not get through: remember half of it as the server's limit and go
// on with smaller chunks (`size` is above smallest_body()).
void UploadJob::learn_body_limit(std::uint64_t size, std::string_view what_happened) {
    const std::uint64_t limit = std::max(smallest_body(), size / 2);
    if (const auto known = host_->body_limit(); !known || limit < *known) {
        log::event(
            log::Level::warning, message_id::kBodyLimitLearned,
            fmt::format("{}: {}; sending at most {} bytes per request to it for {} minutes",
                        describe(job_.key), what_happened, limit, kBodyLimitLifetime.count()),
            {kind_field(job_.key),
             id_field(job_.key),
             {"EXHIBIT_BODY_LIMIT", std::to_string(limit)}});
        host_->set_body_limit(limit);
    }
    chunk_ = std::min(chunk_, limit);
    next();
}

void UploadJob::on_transport(std::string_view step, const Error& e) {
    end(JobRetry{fmt::format("{}: {}", step, e.message), true,
                 e.code == Errc::crypto ? FailureClass::tls : FailureClass::network});
}

void UploadJob::persist_offset() {
    persisted_at_ = std::chrono::steady_clock::now();
    if (offset_known_ && job_.remote_url)
        if (auto s = host_->queue().set_offset(job_.key, offset_); !s)
            log::event(
                log::Level::warning, message_id::kUploadNotRecorded,
                fmt::format("{}: cannot record offset {}: {}", describe(job_.key), offset_,
                            s.error().describe()),
                {kind_field(job_.key), id_field(job_.key), log::field::error_class(s.error())});
}

void UploadJob::end(JobOutcome outcome) {
    if (!std::holds_alternative<JobReceived>(outcome))
        persist_offset();
    host_->job_ended(*this, std::move(outcome));  // may destroy this job: nothing after
}

}  // namespace exhibit::upload
