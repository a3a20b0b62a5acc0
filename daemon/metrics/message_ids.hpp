// Fixed journald MESSAGE_IDs of the metrics' events (made with `systemd-id128 new`; never
// change or reuse one). Each is explained in packaging/journald/exhibit.catalog; tests/journal
// checks the two agree.
#pragma once

#include <string_view>

namespace exhibit::metrics::message_id {

// The metrics file could not be written (logged once until it changes or works again).
// Fields: EXHIBIT_METRICS_FILE, EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kMetricsWriteFailed = "fc27310614ee45379212fe7d76f7f7f4";
// The metrics file is written again after failing. Fields: EXHIBIT_METRICS_FILE.
inline constexpr std::string_view kMetricsWritten = "f56814bdcc9e484db44595c76219b56e";
// The check of the audit log's hash chain for the metrics could not run.
// Fields: EXHIBIT_ERROR_CLASS.
inline constexpr std::string_view kAuditCheckFailed = "aeff8281b0884988a90c7deb726f38ca";
// The audit log's hash chain is broken (exhibit_audit_chain_verified 0).
// Fields: EXHIBIT_AUDIT_SEQ.
inline constexpr std::string_view kAuditChainBroken = "1e078c236617467bb1f3afec208b9bdd";

}  // namespace exhibit::metrics::message_id
