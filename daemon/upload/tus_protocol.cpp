#include "tus_protocol.hpp"

#include <curl/curl.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "common/utf8.hpp"
#include "daemon/upload/curl_handles.hpp"
#include "daemon/upload/upload_options.hpp"

namespace exhibit::upload {

namespace {

std::string lower(std::string_view s) {
    std::string out(s);
    std::ranges::transform(out, out.begin(), [](unsigned char c) {
        return static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
    });
    return out;
}

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
        s.remove_suffix(1);
    return s;
}

std::vector<std::string> split_list(std::string_view s) {
    std::vector<std::string> out;
    while (!s.empty()) {
        auto comma = s.find(',');
        auto part = trim(s.substr(0, comma));
        if (!part.empty())
            out.emplace_back(part);
        if (comma == std::string_view::npos)
            break;
        s.remove_prefix(comma + 1);
    }
    return out;
}

std::string url_part(CURLU* url, CURLUPart part) {
    char* value = nullptr;
    const bool found = curl_url_get(url, part, &value,
                                    part == CURLUPART_PORT ? CURLU_DEFAULT_PORT : 0) == CURLUE_OK;
    CurlStringPtr owned(value);
    return found && value ? std::string(value) : std::string();
}

CurlUrlPtr parse_url(std::string_view text) {
    CurlUrlPtr url(curl_url());
    if (!url || curl_url_set(url.get(), CURLUPART_URL, std::string(text).c_str(), 0) != CURLUE_OK)
        return nullptr;
    return url;
}

bool same_origin(CURLU* a, CURLU* b) {
    for (auto part : {CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT})
        if (lower(url_part(a, part)) != lower(url_part(b, part)))
            return false;
    return true;
}

}  // namespace

bool Headers::add_line(std::string_view line) {
    if (line.starts_with("HTTP/")) {
        map_.clear();
        return false;
    }
    auto colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
        return false;
    add(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
    return true;
}

void Headers::add(std::string_view name, std::string_view value) {
    // What a server sends is kept only in a form that is safe to quote anywhere.
    constexpr std::size_t kMaxValue = 8192;
    auto key = lower(printable_text(name, 256));
    auto clean = printable_text(value, kMaxValue);
    auto it = map_.find(key);
    if (it == map_.end())
        map_.emplace(std::move(key), std::move(clean));
    else if (it->second.size() < kMaxValue)
        it->second += fmt::format(", {}", clean);
}

std::optional<std::string> Headers::get(std::string_view name) const {
    auto it = map_.find(lower(name));
    if (it == map_.end())
        return std::nullopt;
    return it->second;
}

bool ServerCapabilities::has_extension(std::string_view name) const {
    return std::ranges::find(extensions, name) != extensions.end();
}

bool ServerCapabilities::offers_sha256() const {
    return std::ranges::find(checksum_algorithms, "sha256") != checksum_algorithms.end() &&
           has_extension("checksum");
}

Result<ServerCapabilities> parse_capabilities(long status, const Headers& headers) {
    if (status != 200 && status != 204)
        return fail(Errc::protocol,
                    fmt::format("the server answered OPTIONS with HTTP {}, not a tus discovery "
                                "response",
                                status));
    ServerCapabilities caps;
    auto version = headers.get("tus-version");
    if (!version)
        return fail(Errc::protocol, "the server sent no Tus-Version: it is not a tus server");
    caps.versions = split_list(*version);
    if (std::ranges::find(caps.versions, kTusVersion) == caps.versions.end())
        return fail(Errc::unsupported,
                    fmt::format("the server speaks tus {}, not {}", *version, kTusVersion));
    if (auto ext = headers.get("tus-extension"))
        caps.extensions = split_list(*ext);
    if (auto algos = headers.get("tus-checksum-algorithm"))
        for (auto& a : split_list(*algos))
            caps.checksum_algorithms.push_back(lower(a));
    if (auto max = headers.get("tus-max-size")) {
        auto n = parse_uint(*max);
        if (!n)
            return fail(Errc::protocol, fmt::format("bad Tus-Max-Size \"{}\"", *max));
        caps.max_size = *n;
    }
    if (!caps.has_extension("creation"))
        return fail(Errc::unsupported,
                    "the server does not offer the tus creation extension; exhibit needs it");
    if (auto format = headers.get("exhibit-receipt")) {
        if (*format == kDfuReceiptFormat)
            caps.receipts = true;
        else
            caps.unknown_receipt_format = printable_excerpt(*format, 64);
    }
    if (auto min = headers.get("exhibit-min-chunk-size")) {
        auto n = parse_uint(*min);
        if (!n || *n == 0 || *n > kMaxChunkSize)
            return fail(Errc::protocol,
                        fmt::format("bad Exhibit-Min-Chunk-Size \"{}\" (1 byte to {} bytes)",
                                    printable_excerpt(*min, 32), kMaxChunkSize));
        caps.min_chunk_size = *n;
    }
    return caps;
}

namespace {
bool is_sha256_hex(std::string_view s) {
    return s.size() == 64 && std::ranges::all_of(s, [](char c) {
               return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
           });
}
}  // namespace

Result<DfuReceipt> parse_dfu_receipt(std::string_view body) {
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.is_object())
        return fail(Errc::protocol, "the receipt is not a JSON object");
    auto text = [&](const char* key) -> Result<std::string> {
        auto it = j.find(key);
        if (it == j.end() || !it->is_string())
            return fail(Errc::protocol, fmt::format("the receipt has no \"{}\" text", key));
        return it->get<std::string>();
    };
    auto format = text("format");
    if (!format)
        return std::unexpected(format.error());
    if (*format != kDfuReceiptFormat)
        return fail(Errc::protocol, fmt::format("the receipt's format is \"{}\", not {}",
                                                printable_excerpt(*format, 64), kDfuReceiptFormat));
    DfuReceipt r;
    for (auto [key, out] : {std::pair{"upload_id", &r.upload_id}, std::pair{"sha256", &r.sha256},
                            std::pair{"verdict", &r.verdict},
                            std::pair{"verified_at", &r.verified_at}}) {
        auto value = text(key);
        if (!value)
            return std::unexpected(value.error());
        if (value->size() > 256)
            return fail(Errc::protocol, fmt::format("the receipt's \"{}\" is too long", key));
        *out = printable_excerpt(*value, 256);
    }
    if (!is_sha256_hex(r.sha256))
        return fail(Errc::protocol, "the receipt's sha256 is not 64 lowercase hex digits");
    auto size = j.find("size");
    if (size == j.end() || !size->is_number_unsigned())
        return fail(Errc::protocol, "the receipt has no \"size\" byte count");
    r.size = size->get<std::uint64_t>();
    return r;
}

std::string pending_receipt_reason(std::string_view body) {
    const auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_object())
        if (auto it = j.find("reason"); it != j.end() && it->is_string())
            if (auto reason = printable_excerpt(it->get<std::string>(), 200); !reason.empty())
                return reason;
    return "the store has not settled it yet";
}

Result<std::uint64_t> parse_uint(std::string_view text) {
    if (text.empty() || text.size() > 20)
        return fail(Errc::protocol, fmt::format("\"{}\" is not a byte count", text));
    std::uint64_t value = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || ptr != text.data() + text.size())
        return fail(Errc::protocol, fmt::format("\"{}\" is not a byte count", text));
    return value;
}

std::string base64_encode(std::string_view bytes) {
    return exhibit::base64_encode(bytes);
}

Result<std::string> base64_decode(std::string_view text) {
    auto raw = exhibit::base64_decode(text);
    if (!raw)
        return fail(Errc::protocol, raw.error().message);
    return std::string(reinterpret_cast<const char*>(raw->data()), raw->size());
}

Result<std::string> encode_metadata(const MetadataPairs& pairs) {
    std::string out;
    for (const auto& [key, value] : pairs) {
        if (key.empty() || std::ranges::any_of(key, [](unsigned char c) {
                return c <= ' ' || c >= 0x7f || c == ',';
            }))
            return fail(Errc::invalid_argument, fmt::format("bad metadata key \"{}\"", key));
        if (!out.empty())
            out += ',';
        out += key;
        if (!value.empty())
            out += fmt::format(" {}", base64_encode(value));
    }
    return out;
}

Result<MetadataPairs> decode_metadata(std::string_view header) {
    MetadataPairs out;
    for (const auto& part : split_list(header)) {
        auto space = part.find(' ');
        if (space == std::string::npos) {
            out.emplace_back(part, "");
            continue;
        }
        auto value = base64_decode(trim(std::string_view(part).substr(space + 1)));
        if (!value)
            return std::unexpected(value.error());
        out.emplace_back(part.substr(0, space), std::move(*value));
    }
    return out;
}

std::string checksum_header_value(const Digest& digest) {
    return fmt::format("sha256 {}",
                       base64_encode(std::string_view(reinterpret_cast<const char*>(digest.data()),
                                                      digest.size())));
}

Result<std::string> resolve_location(std::string_view endpoint, std::string_view location) {
    auto base = parse_url(endpoint);
    if (!base)
        return fail(Errc::config, fmt::format("\"{}\" is not a URL", endpoint));
    auto loc = trim(location);
    if (loc.empty())
        return fail(Errc::protocol, "the server created an upload but sent no Location");
    CurlUrlPtr resolved(curl_url_dup(base.get()));
    if (!resolved ||
        curl_url_set(resolved.get(), CURLUPART_URL, std::string(loc).c_str(), 0) != CURLUE_OK)
        return fail(Errc::protocol, fmt::format("the server sent an unusable Location \"{}\"",
                                                printable_excerpt(loc)));
    // A server behind TLS that does not know it (common with @tus/server) names its uploads
    // "http://" on the very same host and port: that is still the endpoint, reached over TLS.
    const auto base_scheme = lower(url_part(base.get(), CURLUPART_SCHEME));
    if (base_scheme == "https" && lower(url_part(resolved.get(), CURLUPART_SCHEME)) == "http") {
        char* port = nullptr;
        const bool explicit_port =
            curl_url_get(resolved.get(), CURLUPART_PORT, &port, 0) == CURLUE_OK;
        CurlStringPtr owned_port(port);
        if (explicit_port)
            curl_url_set(resolved.get(), CURLUPART_SCHEME, "https", 0);
    }
    if (!same_origin(base.get(), resolved.get()))
        return fail(Errc::protocol,
                    fmt::format("the server sent a Location on another origin (\"{}\"); "
                                "exhibit only uploads to the configured endpoint",
                                printable_excerpt(loc)));
    return url_part(resolved.get(), CURLUPART_URL);
}

bool on_endpoint_origin(std::string_view endpoint, std::string_view url) {
    auto base = parse_url(endpoint);
    auto other = parse_url(url);
    return base && other && same_origin(base.get(), other.get());
}

Disposition classify_status(long status) {
    if (status >= 200 && status < 300)
        return Disposition::success;
    if (status == 409)
        return Disposition::conflict;
    if (status == 404 || status == 410)
        return Disposition::gone;
    if (status == 423 || status == 429 || status >= 500 || status == 0)
        return Disposition::transient;
    if (status == kStatusChecksumMismatch)
        return Disposition::checksum_mismatch;
    return Disposition::rejected;
}

std::chrono::milliseconds backoff_delay(int attempt, std::chrono::milliseconds initial,
                                        std::chrono::milliseconds max, double random01) {
    const double cap = static_cast<double>(std::max(max.count(), initial.count()));
    const int exponent = std::clamp(attempt - 1, 0, 40);
    const double ceiling =
        std::min(cap, static_cast<double>(initial.count()) * std::ldexp(1.0, exponent));
    const double r = std::clamp(random01, 0.0, 1.0);
    return std::chrono::milliseconds(static_cast<std::int64_t>(ceiling / 2 + r * ceiling / 2));
}

bool is_loopback_url(std::string_view url) {
    auto parsed = parse_url(url);
    if (!parsed)
        return false;
    auto host = lower(url_part(parsed.get(), CURLUPART_HOST));
    if (host == "localhost" || host == "[::1]" || host == "::1")
        return true;
    // 127.0.0.0/8 in dotted-quad form only.
    if (!host.starts_with("127."))
        return false;
    int dots = 0;
    for (char c : host) {
        if (c == '.')
            ++dots;
        else if (c < '0' || c > '9')
            return false;
    }
    return dots == 3;
}

std::string url_scheme(std::string_view url) {
    auto parsed = parse_url(url);
    return parsed ? lower(url_part(parsed.get(), CURLUPART_SCHEME)) : std::string();
}

std::string printable_excerpt(std::string_view body, std::size_t max) {
    return std::string(trim(printable_text(body, max)));
}

}  // namespace exhibit::upload
