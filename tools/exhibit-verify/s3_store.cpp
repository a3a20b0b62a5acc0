#include "s3_store.hpp"

#include <curl/curl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/fs.hpp"
#include "common/utf8.hpp"

namespace exhibit::verify {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kMaxListing = 16 * 1024 * 1024;  // one page of 1000 keys is ~300 KiB
constexpr std::uint64_t kMaxRecord = 1024 * 1024;         // an upload's .info: a few KiB
constexpr long kConnectTimeoutMs = 10'000;
constexpr long kStallSeconds = 60;

struct CurlDeleter {
    void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};

struct Sink {
    std::string* body = nullptr;  // small answers
    std::FILE* file = nullptr;    // object bodies
    std::uint64_t max = 0;
    std::uint64_t got = 0;
    bool too_large = false;
    bool write_failed = false;
};

std::size_t on_write(char* data, std::size_t size, std::size_t n, void* user) noexcept {
    auto* sink = static_cast<Sink*>(user);
    const std::size_t bytes = size * n;
    if (sink->got + bytes > sink->max) {
        sink->too_large = true;
        return 0;
    }
    sink->got += bytes;
    if (sink->file) {
        if (std::fwrite(data, 1, bytes, sink->file) != bytes) {
            sink->write_failed = true;
            return 0;
        }
    } else {
        try {
            sink->body->append(data, bytes);
        } catch (...) {
            return 0;
        }
    }
    return bytes;
}

// "host[:port]" of an endpoint URL, as the Host header carries it.
std::string host_of(const std::string& endpoint) {
    auto rest = endpoint.substr(endpoint.find("://") + 3);
    return rest.substr(0, rest.find('/'));
}

bool is_upload_id(std::string_view id) {
    static const std::regex pattern("[0-9A-Za-z_-]{1,128}");
    return std::regex_match(id.begin(), id.end(), pattern);
}

}  // namespace

Result<S3Client::Answer> S3Client::request(const std::string& bucket, const std::string& key,
                                           const std::map<std::string, std::string>& query,
                                           std::FILE* file, std::uint64_t max) {
    std::unique_ptr<CURL, CurlDeleter> h(curl_easy_init());
    if (!h)
        return fail(Errc::internal, "curl_easy_init failed");
    const std::string path = "/" + bucket + (key.empty() ? "" : "/" + key);
    S3Request r;
    r.host = host_of(settings_.endpoint);
    r.path = path;
    r.query = query;
    r.amz_date = amz_date(std::time(nullptr));
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    for (const auto& [name, value] : sign_s3_request(r, settings_)) {
        auto* next = curl_slist_append(headers.get(), (name + ": " + value).c_str());
        if (!next)
            return fail(Errc::internal, "out of memory building an S3 request");
        if (!headers)
            headers.reset(next);
    }
    const auto q = canonical_query(query);
    const std::string url = settings_.endpoint + uri_encode(path, true) + (q.empty() ? "" : "?" + q);
    Answer answer;
    Sink sink{file ? nullptr : &answer.body, file, max};
    char error[CURL_ERROR_SIZE] = {};
    CURLcode rc = CURLE_OK;
    auto set = [&](CURLoption opt, auto value) {
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(h.get(), opt, value);
    };
    set(CURLOPT_URL, url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_FOLLOWLOCATION, 0L);
    set(CURLOPT_NOSIGNAL, 1L);
    set(CURLOPT_HTTPHEADER, headers.get());
    set(CURLOPT_WRITEFUNCTION, &on_write);
    set(CURLOPT_WRITEDATA, &sink);
    set(CURLOPT_ERRORBUFFER, error);
    set(CURLOPT_CONNECTTIMEOUT_MS, kConnectTimeoutMs);
    set(CURLOPT_LOW_SPEED_LIMIT, 1L);
    set(CURLOPT_LOW_SPEED_TIME, kStallSeconds);
    set(CURLOPT_SSL_VERIFYPEER, 1L);
    set(CURLOPT_SSL_VERIFYHOST, 2L);
    if (!settings_.ca_file.empty())
        set(CURLOPT_CAINFO, settings_.ca_file.c_str());
    if (rc != CURLE_OK)
        return fail(Errc::internal, fmt::format("cannot set up an S3 request: {}",
                                                curl_easy_strerror(rc)));
    rc = curl_easy_perform(h.get());
    if (sink.too_large)
        return fail(Errc::protocol, fmt::format("the object store's answer for {} has more than "
                                                "{} bytes",
                                                path, max));
    if (sink.write_failed)
        return fail(Errc::io, fmt::format("cannot write {} to the local copy", path));
    if (rc != CURLE_OK)
        return fail(Errc::io, fmt::format("the object store at {} did not answer for {}: {}",
                                          settings_.endpoint, path,
                                          error[0] ? error : curl_easy_strerror(rc)));
    curl_easy_getinfo(h.get(), CURLINFO_RESPONSE_CODE, &answer.status);
    return answer;
}

Result<std::vector<S3Object>> S3Client::list(const std::string& bucket, const std::string& prefix) {
    std::vector<S3Object> all;
    std::map<std::string, std::string> query = {{"list-type", "2"}};
    if (!prefix.empty())
        query["prefix"] = prefix;
    for (;;) {
        auto answer = request(bucket, "", query, nullptr, kMaxListing);
        if (!answer)
            return std::unexpected(answer.error());
        if (answer->status != 200)
            return fail(answer->status == 404 ? Errc::not_found : Errc::protocol,
                        fmt::format("listing bucket {}: the object store answered HTTP {} {}",
                                    bucket, answer->status, s3_error_summary(answer->body)));
        auto page = parse_s3_listing(answer->body);
        if (!page)
            return fail(Errc::protocol, fmt::format("listing bucket {}: {}", bucket,
                                                    page.error().message));
        for (auto& o : page->objects)
            all.push_back(std::move(o));
        if (!page->next_token)
            return all;
        query["continuation-token"] = *page->next_token;
    }
}

Result<std::string> S3Client::get(const std::string& bucket, const std::string& key,
                                  std::uint64_t max) {
    auto answer = request(bucket, key, {}, nullptr, max);
    if (!answer)
        return std::unexpected(answer.error());
    if (answer->status == 404)
        return fail(Errc::not_found, fmt::format("s3://{}/{} does not exist", bucket, key));
    if (answer->status != 200)
        return fail(Errc::protocol, fmt::format("reading s3://{}/{}: the object store answered "
                                                "HTTP {} {}",
                                                bucket, key, answer->status,
                                                s3_error_summary(answer->body)));
    return std::move(answer->body);
}

Status S3Client::get_to_file(const std::string& bucket, const std::string& key,
                             const fs::path& file, std::uint64_t size) {
    std::unique_ptr<std::FILE, int (*)(std::FILE*)> out(std::fopen(file.c_str(), "wbx"),
                                                        &std::fclose);
    if (!out)
        return fail(Errc::io, fmt::format("cannot create {}", file.string()));
    // An error document is small: allow for one beyond the object's own size.
    auto answer = request(bucket, key, {}, out.get(), size + 64 * 1024);
    if (!answer)
        return std::unexpected(answer.error());
    if (std::fflush(out.get()) != 0)
        return fail(Errc::io, fmt::format("cannot write {}", file.string()));
    if (answer->status != 200)
        return fail(Errc::protocol, fmt::format("reading s3://{}/{}: the object store answered "
                                                "HTTP {}",
                                                bucket, key, answer->status));
    std::error_code ec;
    const auto got = fs::file_size(file, ec);
    if (ec || got != size)
        return fail(Errc::protocol, fmt::format("s3://{}/{} was listed with {} bytes but {} "
                                                "arrived",
                                                bucket, key, size, ec ? 0 : got));
    return {};
}

Result<MirrorSummary> mirror_tus_uploads(
    S3Client& client, const S3Location& location, const fs::path& dir,
    const std::function<bool(const std::map<std::string, std::string>&)>& select) {
    auto objects = client.list(location.bucket, location.prefix);
    if (!objects)
        return std::unexpected(objects.error());
    std::map<std::string, std::uint64_t> size_of;
    for (const auto& o : *objects)
        size_of[o.key] = o.size;
    MirrorSummary summary;
    for (const auto& [key, record_size] : size_of) {
        if (!key.ends_with(".info"))
            continue;
        // The id is what follows the prefix ("folder" of the listing) up to ".info".
        const auto stem = key.substr(0, key.size() - 5);
        const auto id = stem.substr(stem.rfind('/') + 1);
        if (!is_upload_id(id)) {
            summary.problems.push_back(
                fmt::format("{}: not an upload's record (its name is not an upload id)",
                            printable_text(key, 200)));
            continue;
        }
        auto record = client.get(location.bucket, key, kMaxRecord);
        if (!record) {
            summary.problems.push_back(fmt::format("{}: {}", id, record.error().message));
            continue;
        }
        const auto info = nlohmann::json::parse(*record, nullptr, false);
        std::map<std::string, std::string> metadata;
        if (info.is_object())
            if (auto m = info.find("metadata"); m != info.end() && m->is_object())
                for (const auto& [k, v] : m->items())
                    if (v.is_string())
                        metadata[k] = v.get<std::string>();
        if (select && !select(metadata)) {
            ++summary.skipped;
            continue;
        }
        if (auto s = exhibit::fs::write_file_atomic(dir / (id + ".json"), *record, 0600,
                                                    exhibit::fs::Durability::none);
            !s)
            return std::unexpected(s.error());
        if (auto data = size_of.find(stem); data != size_of.end()) {
            if (auto s = client.get_to_file(location.bucket, stem, dir / id, data->second); !s)
                return std::unexpected(s.error());
        } else {
            ++summary.incomplete;
        }
        ++summary.uploads;
    }
    return summary;
}

Result<ScratchDir> ScratchDir::create(std::string_view name) {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = fmt::format("{}/{}-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
    if (!::mkdtemp(pattern.data()))
        return fail(Errc::io, fmt::format("cannot create a folder for the copy ({})", pattern));
    return ScratchDir(pattern);
}

ScratchDir::~ScratchDir() {
    if (!path_.empty()) {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
}

Result<StoreArgument> open_store_argument(
    const std::string& argument, const std::string& env_file,
    const std::function<bool(const std::map<std::string, std::string>&)>& select) {
    StoreArgument out;
    if (!is_s3_url(argument)) {
        out.dir = argument;
        return out;
    }
    auto location = parse_s3_url(argument);
    if (!location)
        return std::unexpected(location.error());
    std::map<std::string, std::string> values;
    for (const char* key : {"S3_ENDPOINT", "S3_REGION", "S3_CA_FILE", "AWS_ACCESS_KEY_ID",
                            "AWS_SECRET_ACCESS_KEY"})
        if (const char* v = std::getenv(key))
            values[key] = v;
    if (!env_file.empty()) {
        auto text = exhibit::fs::read_file(env_file, 1 << 16);
        if (!text)
            return std::unexpected(text.error());
        for (auto& [k, v] : parse_env_lines(*text))
            values[k] = v;
    }
    auto settings = s3_settings(values);
    if (!settings)
        return std::unexpected(settings.error());
    auto scratch = ScratchDir::create("exhibit-s3");
    if (!scratch)
        return std::unexpected(scratch.error());
    out.scratch = std::make_unique<ScratchDir>(std::move(*scratch));
    out.dir = out.scratch->path();
    S3Client client(std::move(*settings));
    auto summary = mirror_tus_uploads(client, *location, out.dir, select);
    if (!summary)
        return std::unexpected(summary.error());
    out.summary = std::move(*summary);
    return out;
}

}  // namespace exhibit::verify
