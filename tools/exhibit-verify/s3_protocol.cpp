#include "s3_protocol.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <charconv>
#include <ctime>

#include <fmt/format.h>

#include "common/sha256.hpp"
#include "common/utf8.hpp"

namespace exhibit::verify {

namespace {

constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string hmac(std::string_view key, std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
    unsigned int n = 0;
    HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
         reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &n);
    return std::string(reinterpret_cast<const char*>(out.data()), n);
}

std::string hex(std::string_view bytes) {
    return to_hex(std::as_bytes(std::span(bytes.data(), bytes.size())));
}

std::string trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
        s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
        s.remove_suffix(1);
    return std::string(s);
}

// Appends the UTF-8 form of `cp`; false for a code point XML does not allow.
bool append_xml_char(std::string& out, std::uint32_t cp) {
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return false;
    append_utf8(out, cp);
    return true;
}

// The text of an element with its entities decoded.
Result<std::string> xml_text(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    while (!raw.empty()) {
        const auto amp = raw.find('&');
        if (amp == std::string_view::npos) {
            out += raw;
            break;
        }
        out += raw.substr(0, amp);
        raw.remove_prefix(amp + 1);
        const auto semi = raw.find(';');
        if (semi == std::string_view::npos || semi > 10)
            return fail(Errc::protocol, "the listing has an entity that does not close");
        const auto name = raw.substr(0, semi);
        raw.remove_prefix(semi + 1);
        if (name == "amp") {
            out += '&';
        } else if (name == "lt") {
            out += '<';
        } else if (name == "gt") {
            out += '>';
        } else if (name == "quot") {
            out += '"';
        } else if (name == "apos") {
            out += '\'';
        } else if (name.size() > 1 && name[0] == '#') {
            const bool is_hex = name[1] == 'x';
            const auto digits = name.substr(is_hex ? 2 : 1);
            std::uint32_t cp = 0;
            auto [end, ec] =
                std::from_chars(digits.data(), digits.data() + digits.size(), cp, is_hex ? 16 : 10);
            if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() ||
                !append_xml_char(out, cp))
                return fail(Errc::protocol, "the listing has a character reference that is not one");
        } else {
            return fail(Errc::protocol, "the listing has an entity that is not XML's");
        }
    }
    return out;
}

// The raw contents of each <name>…</name> in `xml`, in order (elements of this name do not
// nest in S3's answers). An element that opens and does not close is an error.
Result<std::vector<std::string_view>> elements(std::string_view xml, std::string_view name) {
    const std::string open = fmt::format("<{}>", name), close = fmt::format("</{}>", name);
    std::vector<std::string_view> out;
    for (std::size_t at = xml.find(open); at != std::string_view::npos; at = xml.find(open, at)) {
        const auto from = at + open.size();
        const auto end = xml.find(close, from);
        if (end == std::string_view::npos)
            return fail(Errc::protocol, fmt::format("the listing's <{}> does not close", name));
        out.push_back(xml.substr(from, end - from));
        at = end + close.size();
    }
    return out;
}

// The decoded text of the one <name> in `xml`, nullopt when there is none.
Result<std::optional<std::string>> only_text(std::string_view xml, std::string_view name) {
    auto found = elements(xml, name);
    if (!found)
        return std::unexpected(found.error());
    if (found->empty())
        return std::optional<std::string>();
    if (found->size() > 1)
        return fail(Errc::protocol, fmt::format("the listing has more than one <{}>", name));
    auto text = xml_text(found->front());
    if (!text)
        return std::unexpected(text.error());
    return std::optional(std::move(*text));
}

}  // namespace

std::map<std::string, std::string> parse_env_lines(std::string_view text) {
    std::map<std::string, std::string> out;
    while (!text.empty()) {
        const auto nl = text.find('\n');
        auto line = trim(text.substr(0, nl));
        text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (line.empty() || line.front() == '#')
            continue;
        if (const auto eq = line.find('='); eq != std::string::npos && eq > 0)
            out[trim(std::string_view(line).substr(0, eq))] =
                trim(std::string_view(line).substr(eq + 1));
    }
    return out;
}

Result<S3Settings> s3_settings(const std::map<std::string, std::string>& values) {
    auto get = [&](const char* key) {
        auto it = values.find(key);
        return it == values.end() ? std::string() : it->second;
    };
    S3Settings s;
    s.endpoint = get("S3_ENDPOINT");
    s.access_key = get("AWS_ACCESS_KEY_ID");
    s.secret_key = get("AWS_SECRET_ACCESS_KEY");
    s.ca_file = get("S3_CA_FILE");
    if (auto region = get("S3_REGION"); !region.empty())
        s.region = region;
    for (auto [name, value] : {std::pair{"S3_ENDPOINT", &s.endpoint},
                               std::pair{"AWS_ACCESS_KEY_ID", &s.access_key},
                               std::pair{"AWS_SECRET_ACCESS_KEY", &s.secret_key}})
        if (value->empty())
            return fail(Errc::invalid_argument,
                        fmt::format("{} is not set (in the environment or --s3-env's file)", name));
    if (!s.endpoint.starts_with("http://") && !s.endpoint.starts_with("https://"))
        return fail(Errc::invalid_argument,
                    fmt::format("S3_ENDPOINT \"{}\" is not an http:// or https:// URL", s.endpoint));
    while (s.endpoint.ends_with('/'))
        s.endpoint.pop_back();
    return s;
}

bool is_s3_url(std::string_view text) {
    return text.starts_with("s3://");
}

Result<S3Location> parse_s3_url(std::string_view text) {
    if (!is_s3_url(text))
        return fail(Errc::invalid_argument, fmt::format("\"{}\" is not an s3:// location", text));
    text.remove_prefix(5);
    const auto slash = text.find('/');
    S3Location loc{std::string(text.substr(0, slash)),
                   slash == std::string_view::npos ? "" : std::string(text.substr(slash + 1))};
    // S3's bucket names: 3 to 63 lowercase letters, digits, dots and hyphens.
    if (loc.bucket.size() < 3 || loc.bucket.size() > 63 ||
        loc.bucket.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789.-") != std::string::npos)
        return fail(Errc::invalid_argument,
                    fmt::format("\"{}\" is not a bucket name (3 to 63 of a-z, 0-9, '.', '-')",
                                loc.bucket));
    return loc;
}

std::string uri_encode(std::string_view text, bool keep_slash) {
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '.' || c == '_' || c == '~' || (keep_slash && c == '/'))
            out += static_cast<char>(c);
        else
            out += fmt::format("%{:02X}", c);
    }
    return out;
}

std::string canonical_query(const std::map<std::string, std::string>& query) {
    // Sorted by encoded name; the names used here encode to themselves, so the map's order is
    // the canonical one.
    std::string out;
    for (const auto& [name, value] : query) {
        if (!out.empty())
            out += '&';
        out += uri_encode(name, false) + '=' + uri_encode(value, false);
    }
    return out;
}

std::string amz_date(std::int64_t unix_seconds) {
    const std::time_t t = unix_seconds;
    std::tm tm{};
    ::gmtime_r(&t, &tm);
    std::array<char, 20> buf{};
    std::strftime(buf.data(), buf.size(), "%Y%m%dT%H%M%SZ", &tm);
    return buf.data();
}

std::map<std::string, std::string> sign_s3_request(const S3Request& r, const S3Settings& s) {
    const std::string payload = r.payload_sha256.empty() ? std::string(kEmptySha256)
                                                         : r.payload_sha256;
    std::map<std::string, std::string> headers;  // lowercase names, sorted: signed as they are
    for (const auto& [name, value] : r.headers)
        headers[name] = trim(value);
    headers["host"] = r.host;
    headers["x-amz-content-sha256"] = payload;
    headers["x-amz-date"] = r.amz_date;
    std::string canonical_headers, signed_headers;
    for (const auto& [name, value] : headers) {
        canonical_headers += name + ':' + value + '\n';
        signed_headers += (signed_headers.empty() ? "" : ";") + name;
    }
    const std::string canonical_request =
        fmt::format("{}\n{}\n{}\n{}\n{}\n{}", r.method, uri_encode(r.path, true),
                    canonical_query(r.query), canonical_headers, signed_headers, payload);
    const std::string date = r.amz_date.substr(0, 8);
    const std::string scope = fmt::format("{}/{}/s3/aws4_request", date, s.region);
    const std::string to_sign = fmt::format("AWS4-HMAC-SHA256\n{}\n{}\n{}", r.amz_date, scope,
                                            to_hex(Sha256::of(canonical_request)));
    const std::string key =
        hmac(hmac(hmac(hmac("AWS4" + s.secret_key, date), s.region), "s3"), "aws4_request");
    headers.erase("host");  // libcurl sends it from the URL
    headers["authorization"] =
        fmt::format("AWS4-HMAC-SHA256 Credential={}/{},SignedHeaders={},Signature={}",
                    s.access_key, scope, signed_headers, hex(hmac(key, to_sign)));
    return headers;
}

Result<S3Listing> parse_s3_listing(std::string_view xml) {
    if (xml.find("<ListBucketResult") == std::string_view::npos ||
        xml.find("</ListBucketResult>") == std::string_view::npos)
        return fail(Errc::protocol, "the answer is not a ListBucketResult");
    S3Listing listing;
    auto contents = elements(xml, "Contents");
    if (!contents)
        return std::unexpected(contents.error());
    for (auto entry : *contents) {
        auto key = only_text(entry, "Key");
        auto size = key ? only_text(entry, "Size") : Result<std::optional<std::string>>();
        if (!key)
            return std::unexpected(key.error());
        if (!size)
            return std::unexpected(size.error());
        if (!*key || !*size)
            return fail(Errc::protocol, "the listing has an object without a key or a size");
        S3Object object{std::move(**key), 0};
        auto [end, ec] = std::from_chars((*size)->data(), (*size)->data() + (*size)->size(),
                                         object.size);
        if ((*size)->empty() || ec != std::errc{} || end != (*size)->data() + (*size)->size())
            return fail(Errc::protocol, "the listing has an object whose size is not a number");
        listing.objects.push_back(std::move(object));
    }
    // The rest of the page, outside the objects: <IsTruncated> and the token to go on.
    std::string rest(xml);
    for (auto entry : *contents) {
        const auto at = rest.find(entry);
        if (at != std::string::npos)
            rest.erase(at, entry.size());
    }
    auto truncated = only_text(rest, "IsTruncated");
    if (!truncated)
        return std::unexpected(truncated.error());
    if (*truncated && **truncated == "true") {
        auto token = only_text(rest, "NextContinuationToken");
        if (!token)
            return std::unexpected(token.error());
        if (!*token || (*token)->empty())
            return fail(Errc::protocol, "the listing is truncated but gives no continuation token");
        listing.next_token = std::move(**token);
    }
    return listing;
}

std::string s3_error_summary(std::string_view xml) {
    if (xml.find("<Error>") == std::string_view::npos)
        return {};
    auto code = only_text(xml, "Code");
    auto message = only_text(xml, "Message");
    std::string out = code && *code ? **code : "";
    if (message && *message && !(*message)->empty())
        out += (out.empty() ? "" : ": ") + **message;
    return printable_text(out, 200);
}

}  // namespace exhibit::verify
