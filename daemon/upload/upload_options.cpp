#include "upload_options.hpp"

#include <fmt/format.h>

#include "daemon/upload/tus_protocol.hpp"

namespace exhibit::upload {

namespace {
bool valid_pin(std::string_view pins) {
    while (!pins.empty()) {
        auto semi = pins.find(';');
        auto pin = pins.substr(0, semi);
        if (!pin.starts_with("sha256//") || pin.size() != 8 + 44)
            return false;
        if (!base64_decode(pin.substr(8)))
            return false;
        if (semi == std::string_view::npos)
            break;
        pins.remove_prefix(semi + 1);
    }
    return true;
}
}  // namespace

Status validate(const UploadOptions& o) {
    if (o.endpoint.empty())
        return fail(Errc::config, "upload.endpoint is not set");
    const auto scheme = url_scheme(o.endpoint);
    if (scheme.empty())
        return fail(Errc::config, fmt::format("upload.endpoint \"{}\" is not a URL", o.endpoint));
    if (scheme == "http") {
        if (!is_loopback_url(o.endpoint))
            return fail(Errc::config,
                        fmt::format("upload.endpoint \"{}\" is plain http; only https is allowed "
                                    "(http only for a loopback address, with "
                                    "upload.allow_insecure_loopback)",
                                    o.endpoint));
        if (!o.allow_insecure_loopback)
            return fail(Errc::config,
                        fmt::format("upload.endpoint \"{}\" is plain http; set "
                                    "upload.allow_insecure_loopback = true to allow it on "
                                    "loopback (tests and demos only)",
                                    o.endpoint));
    } else if (scheme != "https") {
        return fail(Errc::config,
                    fmt::format("upload.endpoint \"{}\" must be an https URL", o.endpoint));
    } else {
        if (o.ca_file.empty())
            return fail(Errc::config, "upload.ca_file is not set (the DFU store's CA)");
        if (o.client_cert.empty() || o.client_key.empty())
            return fail(Errc::config,
                        "upload.client_cert and upload.client_key are required (mutual TLS)");
    }
    if (!o.pinned_public_key.empty() && !valid_pin(o.pinned_public_key))
        return fail(Errc::config,
                    "upload.pinned_public_key must be \"sha256//<base64 of 32 "
                    "bytes>\", several separated by ';'");
    if (o.chunk_size < kMinChunkSize || o.chunk_size > kMaxChunkSize)
        return fail(Errc::config, fmt::format("upload.chunk_size must be between {} and {} bytes",
                                              kMinChunkSize, kMaxChunkSize));
    if (o.max_chunk_size < o.chunk_size || o.max_chunk_size > kMaxChunkSize)
        return fail(
            Errc::config,
            fmt::format("upload.max_chunk_size must be between upload.chunk_size and {} bytes",
                        kMaxChunkSize));
    if (o.chunk_growth_time < 0ms)
        return fail(Errc::config, "the chunk growth time must not be negative");
    if (o.concurrency < 1 || o.concurrency > 16)
        return fail(Errc::config, "upload.concurrency must be between 1 and 16");
    for (auto [name, m] : {std::pair{"upload.window_start", o.window_start},
                           std::pair{"upload.window_end", o.window_end}})
        if (m < 0min || m >= 24h)
            return fail(Errc::config, fmt::format("{} must be a time of day (00:00-23:59)", name));
    if (o.retention < 0s)
        return fail(Errc::config, "upload.retention must not be negative");
    if (o.retry_initial <= 0ms || o.retry_max < o.retry_initial)
        return fail(Errc::config, "upload.retry_initial must be positive and at most retry_max");
    if (o.max_rejections < 1)
        return fail(Errc::config, "upload.max_rejections must be at least 1");
    if (o.connect_timeout <= 0ms || o.stall_timeout < 1s || o.poll_interval <= 0ms)
        return fail(Errc::config, "upload timeouts must be positive (stall_timeout >= 1 s)");
    return {};
}

}  // namespace exhibit::upload
