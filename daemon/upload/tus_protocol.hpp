// The tus 1.0 protocol as pure functions: header parsing, metadata encoding, status
// classification, Location resolution and retry delays. No I/O; reentrant.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/error.hpp"
#include "common/sha256.hpp"

namespace exhibit::upload {

inline constexpr std::string_view kTusVersion = "1.0.0";
// HTTP status a tus server answers when an Upload-Checksum does not match (checksum extension).
inline constexpr long kStatusChecksumMismatch = 460;

// Response headers, names lowercased. Repeated headers are joined with ", " (RFC 9110).
class Headers {
  public:
    // Feeds one raw header line as libcurl hands it over ("Name: value\r\n"). A status line
    // ("HTTP/1.1 204 ...") clears what was collected, so only the final response's headers
    // remain after interim responses. Returns false for a line that is not a header.
    bool add_line(std::string_view line);
    void add(std::string_view name, std::string_view value);
    void clear() { map_.clear(); }

    std::optional<std::string> get(std::string_view name) const;
    std::size_t size() const { return map_.size(); }

  private:
    std::map<std::string, std::string, std::less<>> map_;
};

// The receipts a DFU store running exhibit-dfu-server writes (dfu/, docs/dfu.md): it says so
// in its OPTIONS answer with "Exhibit-Receipt: exhibit-dfu-receipt/1".
inline constexpr std::string_view kDfuReceiptFormat = "exhibit-dfu-receipt/1";

// What OPTIONS told about a server.
struct ServerCapabilities {
    std::vector<std::string> versions;
    std::vector<std::string> extensions;
    std::vector<std::string> checksum_algorithms;
    std::optional<std::uint64_t> max_size;
    // The store writes receipts by hash (Exhibit-Receipt names kDfuReceiptFormat): an upload
    // counts as received only once its receipt is there. A format this kiosk does not know is
    // kept in `unknown_receipt_format` and the offset rule applies.
    bool receipts = false;
    std::string unknown_receipt_format;
    // The smallest PATCH body the store takes without a round trip through it, but an upload's
    // last (Exhibit-Min-Chunk-Size; S3's 5 MiB part minimum behind exhibit-dfu-server).
    std::optional<std::uint64_t> min_chunk_size;

    bool has_extension(std::string_view name) const;
    bool offers_sha256() const;
};

Result<ServerCapabilities> parse_capabilities(long status, const Headers& headers);

// What a DFU store's receipt says (GET <upload URL>/receipt answered 200). Only the fields the
// kiosk checks and keeps; the receipt carries more for the DFU.
struct DfuReceipt {
    std::string upload_id;
    std::string sha256;       // of the object as the store holds it, lowercase hex
    std::uint64_t size = 0;   // its bytes
    std::string verdict;      // "matches", "differs" or "not-declared" (the declared sha256)
    std::string verified_at;  // when the store hashed it, as it wrote it
};
// Parses a receipt of kDfuReceiptFormat. Anything else (not JSON, another format, a field
// missing or of the wrong type, a hash that is not 64 lowercase hex digits) is Errc::protocol
// with what is wrong.
Result<DfuReceipt> parse_dfu_receipt(std::string_view body);
// Why a receipt is not there yet, from the store's 202 answer ({"state":"pending","reason":…});
// printable and short, or a generic text when the answer says nothing usable.
std::string pending_receipt_reason(std::string_view body);

// A strict non-negative decimal (no sign, no spaces, no overflow).
Result<std::uint64_t> parse_uint(std::string_view text);

using MetadataPairs = std::vector<std::pair<std::string, std::string>>;
// "key base64(value),key base64(value)"; keys must be non-empty ASCII without spaces or
// commas (checked: Errc::invalid_argument). An empty value is sent as the bare key.
Result<std::string> encode_metadata(const MetadataPairs& pairs);
// The inverse, for tests and tools.
Result<MetadataPairs> decode_metadata(std::string_view header);

std::string base64_encode(std::string_view bytes);
Result<std::string> base64_decode(std::string_view text);

// "sha256 <base64 of the digest>" for Upload-Checksum.
std::string checksum_header_value(const Digest& digest);

// Resolves a Location header against the endpoint URL. The result must stay on the
// endpoint's origin (scheme, host and port): uploads are never sent elsewhere. An "http://"
// Location with the https endpoint's host and explicit port (a TLS-unaware server behind its
// own TLS) is taken as https; anything else on another origin is refused.
Result<std::string> resolve_location(std::string_view endpoint, std::string_view location);
// Whether the absolute `url` (an upload created earlier) is on the endpoint's origin. One that
// is not was made on a DFU store the configuration no longer names: nothing is sent there.
bool on_endpoint_origin(std::string_view endpoint, std::string_view url);

// What to do about an HTTP status from a tus server.
enum class Disposition {
    success,            // 2xx
    conflict,           // 409: our offset is stale; HEAD and continue
    gone,               // 404 / 410: the server lost the upload; create it again
    transient,          // 423 / 429 / 5xx: retry later with backoff
    checksum_mismatch,  // 460: the chunk arrived damaged; send it again
    rejected,           // any other 4xx (and 3xx): the server refuses; bounded retries
};
Disposition classify_status(long status);

// Exponential backoff with jitter: the ceiling doubles from `initial` each attempt up to
// `max`; the delay is drawn uniformly from [ceiling / 2, ceiling] by `random01` in [0, 1).
std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double random01);

// The URL's host is a loopback address (127.0.0.0/8, ::1 or "localhost").
bool is_loopback_url(std::string_view url);
// The URL's scheme, lowercased ("https"); empty when the URL cannot be parsed.
std::string url_scheme(std::string_view url);

// A short, printable excerpt of a response body for error messages (control characters
// dropped, at most `max` bytes, cut at a UTF-8 boundary).
std::string printable_excerpt(std::string_view body, std::size_t max = 200);

}  // namespace exhibit::upload
