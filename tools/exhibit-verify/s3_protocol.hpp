// The S3 API as pure functions, for reading a DFU store kept in object storage (Ceph's RADOS
// gateway or any S3-compatible store): where the store is (settings, s3:// locations), AWS
// Signature Version 4 for a request, and the answer of ListObjectsV2 (XML). No I/O; reentrant.
// The requests themselves are s3_store.hpp's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace exhibit::verify {

// How to reach the store: S3_ENDPOINT (http[s]://host[:port], path-style requests),
// S3_REGION (default "default", Ceph's zone group), AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// and S3_CA_FILE (a CA to trust for an https endpoint instead of the system's).
struct S3Settings {
    std::string endpoint;
    std::string region = "default";
    std::string access_key;
    std::string secret_key;
    std::string ca_file;
};
// The settings from `values` (the environment's, then those of an --s3-env file: KEY=VALUE
// lines, the same file exhibit-dfu-server reads). A missing endpoint or key is
// Errc::invalid_argument naming it.
Result<S3Settings> s3_settings(const std::map<std::string, std::string>& values);
// KEY=VALUE lines; blank lines and lines starting with '#' are skipped.
std::map<std::string, std::string> parse_env_lines(std::string_view text);

// "s3://bucket" or "s3://bucket/prefix".
struct S3Location {
    std::string bucket;
    std::string prefix;
};
bool is_s3_url(std::string_view text);
Result<S3Location> parse_s3_url(std::string_view text);

// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters kept, every other byte
// %XX (uppercase); '/' kept when `keep_slash` (object paths).
std::string uri_encode(std::string_view text, bool keep_slash);

// One request to sign. `path` is the URI path before encoding ("/bucket/key"), `query` the
// parameters before encoding, `host` the Host header as sent (with a port that is not the
// scheme's default).
struct S3Request {
    std::string method = "GET";
    std::string host;
    std::string path;
    std::map<std::string, std::string> query;
    std::map<std::string, std::string> headers;  // more headers to sign (lowercase names)
    std::string amz_date;                         // "YYYYMMDDTHHMMSSZ" (UTC)
    std::string payload_sha256;                   // hex; the empty body's when empty
};
// The headers to send: Authorization, x-amz-date, x-amz-content-sha256 (and `headers`).
std::map<std::string, std::string> sign_s3_request(const S3Request& request,
                                                   const S3Settings& settings);
// The encoded query string in canonical order ("a=1&b=2"), as sent and as signed.
std::string canonical_query(const std::map<std::string, std::string>& query);
// "YYYYMMDDTHHMMSSZ" for a Unix time.
std::string amz_date(std::int64_t unix_seconds);

// One page of ListObjectsV2.
struct S3Object {
    std::string key;
    std::uint64_t size = 0;
};
struct S3Listing {
    std::vector<S3Object> objects;
    std::optional<std::string> next_token;  // the page is truncated: ask again with it
};
// Parses a ListObjectsV2 answer. Errc::protocol names what is wrong: not a ListBucketResult,
// an object without a key or size, a truncated page without a continuation token, an entity
// or tag that does not close.
Result<S3Listing> parse_s3_listing(std::string_view xml);
// The code and message of an S3 error document (<Error><Code>…), printable; empty when the
// text is not one.
std::string s3_error_summary(std::string_view xml);

}  // namespace exhibit::verify
