// libmtp reports some protocol errors only as text on stderr ("PTP: Sequence number mismatch
// 58 vs expected 57.") and then goes on: its folder listing leaves the object it could not
// describe out, without a word to its caller. To see those errors, stderr (fd 2) becomes a
// pipe whose reader thread passes every line on to the process's former stderr and counts
// the lines libmtp's PTP layer writes ("PTP: …").
//
// Process-wide, started once (on the first MTP device opened: in exhibit-driver-host, before
// its system call filter). Thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace exhibit::mtp {

struct PtpErrors {
    std::uint64_t count = 0;
    std::string last;  // the last such line, without its newline
};

// Starts the watch if it is not running (no-op after the first call). Returns false when
// stderr could not be watched (the count then stays 0, as before this existed).
bool watch_libmtp_stderr();

// The PTP error lines libmtp has written so far, every line written before this call counted.
PtpErrors libmtp_ptp_errors();

}  // namespace exhibit::mtp
