// One upload of one queued job (an item's blob or a session's manifest) to the tus server:
//
//   [OPTIONS once per server] -> POST (no URL yet) | HEAD (resuming) -> PATCH chunks
//     -> [GET <url>/receipt where the store writes receipts] -> receipt
//
// 409 -> HEAD and continue; 404/410 -> create again (audited); 460 -> resend the chunk;
// 413 on a PATCH -> halve the chunk for this server and go on (on a creation with a body:
// create without one); a PATCH whose connection breaks -> HEAD at once, and if the server
// answers without having any of that body (a proxy that resets large bodies instead of
// answering 413), as 413; 423/429/5xx and network or TLS errors -> end with a retry delay; other
// 4xx -> end as rejected (the host fails the item after max_rejections). Without checksums,
// chunks grow while they go fast (UploadOptions::max_chunk_size). The job persists the remote URL
// before the first byte and every confirmed offset, so a restart resumes from the server's
// offset (HEAD), never from zero. Where the store writes receipts by hash (exhibit-dfu-server),
// offset = length is not enough: the job ends received only with a receipt naming the item's
// sha256 and length; it waits for one the store is still writing, and sends the item again
// to a new upload when the receipt names other bytes. Destroying a job cancels its request in
// flight.
//
// Thread-bound to the loop.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "daemon/upload/body_source.hpp"
#include "daemon/upload/tus_client.hpp"
#include "daemon/upload/upload_queue.hpp"

namespace exhibit::upload {

// What kind of thing went wrong with an attempt, for the DFU's monitoring (a fixed
// vocabulary: exhibit_upload_failures_total{reason}).
enum class FailureClass {
    network,   // no connection, a broken or stalled one, a timeout
    tls,       // the TLS handshake or a certificate
    server,    // the DFU store answered with a server error or broke the tus protocol
    rejected,  // the DFU store refused the request (4xx)
    local,     // this kiosk could not do its part (a damaged local copy, its own limits)
};
std::string_view to_string(FailureClass c);

// How a job ended.
struct JobReceived {
    Receipt receipt;
};
struct JobRetry {  // back to the queue; try again later
    std::string error;
    // false when nothing went wrong (the window closed, a receipt is still being written):
    // then tried again after `retry_after`, without backing off, and `error` (if any) is
    // what the queue shows meanwhile
    bool count_attempt = true;
    FailureClass why = FailureClass::server;
    std::chrono::milliseconds retry_after{0};
};
struct JobRejected {  // the server refused the request (4xx)
    std::string error;
};
struct JobFailed {  // cannot succeed without a human (damaged blob, too large for the server)
    std::string error;
    Errc code = Errc::unsupported;  // corrupt or io when the local copy cannot be read
    FailureClass why = FailureClass::local;
};
using JobOutcome = std::variant<JobReceived, JobRetry, JobRejected, JobFailed>;

class UploadJob;

// What a job needs from the scheduler that runs it.
class JobHost {
  public:
    virtual ~JobHost() = default;
    virtual TusClient& client() = 0;
    virtual UploadQueue& queue() = 0;
    virtual const UploadOptions& options() const = 0;
    virtual const Clock& clock() const = 0;
    // The discovered server capabilities (cached per server), or null before discovery.
    virtual const ServerCapabilities* capabilities() const = 0;
    virtual void set_capabilities(ServerCapabilities caps) = 0;
    // The largest request body to send, learned (not announced) after the server or a proxy in
    // front of it refused or broke off a larger one; none if nothing was learned.
    virtual std::optional<std::uint64_t> body_limit() const = 0;
    // Records `limit` as the server's body limit unless a smaller one is known.
    virtual void set_body_limit(std::uint64_t limit) = 0;
    // Whether the job may send another chunk now (its lane and the window allow it).
    virtual bool may_continue(const Job& job) const = 0;
    // The job has ended; the host may destroy it from here.
    virtual void job_ended(UploadJob& job, JobOutcome outcome) = 0;
};

class UploadJob {
  public:
    UploadJob(JobHost& host, Job job) : host_(&host), job_(std::move(job)) {}
    UploadJob(const UploadJob&) = delete;
    UploadJob& operator=(const UploadJob&) = delete;

    void start();
    const Job& job() const { return job_; }
    std::uint64_t offset() const { return offset_; }

  private:
    void next();
    void discover();
    void create();
    void head();
    void patch();
    void done();
    void fetch_receipt();
    Receipt offset_receipt() const;
    void end(JobOutcome outcome);
    void recreate(std::string reason);
    // Handles a response that is not the success the step expected.
    void on_status(std::string_view step, const HttpResponse& r);
    void on_transport(std::string_view step, const Error& e);
    void body_too_large(const HttpResponse& r, std::uint64_t size);
    void learn_body_limit(std::uint64_t size, std::string_view what_happened);
    std::uint64_t chunk_limit() const;
    std::uint64_t smallest_body() const;
    Result<Digest> hash_range(std::uint64_t offset, std::uint64_t length);
    bool use_checksum() const;
    void issue(Result<TusClient::RequestPtr> request);
    void persist_offset();

    JobHost* host_;
    Job job_;
    std::unique_ptr<BodySource> body_;
    TusClient::RequestPtr request_;
    std::uint64_t offset_ = 0;
    bool offset_known_ = false;
    // The upload was created with its length deferred (an empty item: see create()) and no
    // PATCH has declared it yet: the job is not done even at its length.
    bool length_undeclared_ = false;
    std::optional<std::string> recreated_reason_;
    int conflicts_ = 0;                 // 409s in a row
    int checksum_failures_ = 0;         // 460s in a row
    int receipt_mismatches_ = 0;        // receipts naming other bytes, in this attempt
    std::uint64_t chunk_ = 0;           // the size of the next PATCH (before chunk_limit())
    // A PATCH whose connection broke, while the HEAD that follows finds out whether any of
    // its body arrived.
    struct BrokenBody {
        std::uint64_t from = 0;
        std::uint64_t size = 0;
        Error error;
    };
    std::optional<BrokenBody> broken_body_;
    std::chrono::steady_clock::time_point persisted_at_{};
};

}  // namespace exhibit::upload
