// Local retention of uploaded evidence and the free-disk guard.
//
// A blob is deleted only when every item that shares it (blobs are content-addressed) has a
// receipt older than the retention period, and only while no extraction session is open (an
// item writer may be about to reuse the blob). Evidence without a receipt is never deleted.
// Each release is audited (upload.blob_released) and recorded on the upload rows, so the
// store's blob checks stop expecting the file.
//
// Reentrant functions; thread-bound to the Store they are given.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>

#include "common/clock.hpp"
#include "common/error.hpp"
#include "daemon/store/store.hpp"

namespace exhibit::upload {

struct RetentionReport {
    int blobs_released = 0;
    std::uint64_t bytes_freed = 0;
    bool skipped_for_open_session = false;
};

Result<RetentionReport> release_expired_blobs(store::Store& store, std::chrono::seconds retention,
                                              const Clock& clock);

}  // namespace exhibit::upload
