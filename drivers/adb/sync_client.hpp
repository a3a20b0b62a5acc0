// Host side of the sync: service: stat, list and pipelined pulls (reference §5).
//
// Pulls keep the phone busy: the RECV requests for the next files are queued on the stream
// ahead of time, so there is no round trip per file. A FAIL ends the phone's request loop
// and closes the stream; the client reopens it and carries on with the next file.
//
// Thread-bound to its Connection's thread.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "drivers/adb/connection.hpp"
#include "drivers/adb/sync_protocol.hpp"

namespace exhibit::adb {

// Receives the files of one pull, in request order.
class PullHandler {
  public:
    virtual ~PullHandler() = default;
    // The phone started sending file `index`.
    virtual Status begin(std::size_t index) = 0;
    virtual Status data(std::span<const std::byte> bytes) = 0;
    // File `index` arrived whole (as far as the protocol tells).
    virtual Status done(std::size_t index) = 0;
    // File `index` could not be read: `error` says why (a FAIL from the phone, or the
    // connection ended in the middle of it). Returning an error stops the pull.
    virtual Status failed(std::size_t index, const Error& error) = 0;
};

struct SyncLimits {
    std::size_t max_entries_per_directory = 100'000;
    std::size_t pipeline_depth = 64;        // RECV requests queued ahead
    std::size_t pipeline_bytes = 64 << 20;  // ...or this many declared bytes ahead
};

class SyncClient {
  public:
    static Result<SyncClient> open(Connection& connection, SyncLimits limits = {});

    // Follows symlinks (STA2 when the phone offers stat_v2, else STAT with 32-bit sizes).
    Result<sync::FileStat> stat(std::string_view path);
    Result<sync::FileStat> lstat(std::string_view path);

    // Lists a directory (LIS2 when offered, else LIST), without "." and "..". Stops with
    // Errc::protocol past max_entries_per_directory.
    Status list(std::string_view path, const std::function<Status(sync::DirEntry&&)>& on_entry);

    // Pulls `paths` in order; `sizes` (same length, may be empty) are the declared sizes used
    // to bound how far ahead requests are queued.
    Status pull(std::span<const std::string> paths, std::span<const std::uint64_t> sizes,
                PullHandler& handler);

    bool uses_v2() const { return stat_v2_; }

  private:
    SyncClient(Connection& c, Stream s, SyncLimits limits);
    Status reopen();
    Status write_requests(std::span<const std::string> paths, std::size_t from, std::size_t to);
    Result<std::uint32_t> read_u32();
    Result<std::string> read_fail_message();
    Status receive_file(std::size_t index, PullHandler& handler, bool* stream_lost);

    Connection* conn_;
    Stream stream_;
    SyncLimits limits_;
    bool stat_v2_ = false;
    bool ls_v2_ = false;
    bool recv_v2_ = false;
};

}  // namespace exhibit::adb
