// Settings of the upload channel (docs/upload.md lists them as the [upload] configuration
// table). A plain value type; validate() says what is wrong in words.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

#include "common/error.hpp"

namespace exhibit::upload {

using namespace std::chrono_literals;

inline constexpr std::uint64_t kMiB = 1024 * 1024;
inline constexpr std::uint64_t kDefaultChunkSize = 8 * kMiB;
inline constexpr std::uint64_t kMinChunkSize = 64 * 1024;
inline constexpr std::uint64_t kMaxChunkSize = 1024 * kMiB;
// How long a body limit learned from a refusal holds; then chunks may grow past it again.
inline constexpr std::chrono::minutes kBodyLimitLifetime = 1h;

struct UploadOptions {
    // The tus creation URL of the DFU store, e.g. "https://dfu.example.org/files/".
    std::string endpoint;
    // TLS: the CA that signed the DFU server's certificate (the only one trusted), this
    // kiosk's client certificate and key (PEM) for mutual TLS, and optionally the server's
    // public key pin in libcurl's form "sha256//<base64>[;sha256//<base64>...]".
    std::filesystem::path ca_file;
    std::filesystem::path client_cert;
    std::filesystem::path client_key;
    std::string pinned_public_key;
    // Accept "http://" for a loopback endpoint (tests, demo). Never for any other host.
    bool allow_insecure_loopback = false;

    std::uint64_t chunk_size = kDefaultChunkSize;  // bytes per PATCH (the first of each upload)
    // When the server offers no checksum (so a chunk is not a unit of verification), a full
    // chunk confirmed in less than chunk_growth_time makes the next one twice as large, up to
    // max_chunk_size: fewer requests on a fast link, yet a PATCH still ends every few seconds
    // (where the window and a cancellation take effect). A body the server or a proxy refuses
    // as too large (413, or a broken connection the server never saw the body of) halves the
    // chunk for that server, down to kMinChunkSize, for kBodyLimitLifetime.
    std::uint64_t max_chunk_size = kMaxChunkSize;
    std::chrono::milliseconds chunk_growth_time = 2s;
    unsigned concurrency = 2;  // uploads at once

    // The nightly sync window for the normal lane, in local time; start == end means all day.
    std::chrono::minutes window_start = 22h;
    std::chrono::minutes window_end = 6h;
    // Bandwidth caps in bytes per second (0: unlimited), inside the window and outside it
    // (urgent items and requested syncs in daytime share the station's link).
    std::uint64_t max_rate_in_window = 0;
    std::uint64_t max_rate_outside_window = 0;

    // A received blob is deleted locally after this long; unreceived evidence never is.
    std::chrono::seconds retention = std::chrono::days(7);

    // Retries: exponential backoff with jitter between these bounds; a server that rejects
    // an item (4xx) this many times in a row fails it.
    std::chrono::milliseconds retry_initial = 2s;
    std::chrono::milliseconds retry_max = 5min;
    int max_rejections = 5;

    std::chrono::milliseconds connect_timeout = 20s;
    // A transfer that moves no byte for this long is abandoned and retried.
    std::chrono::milliseconds stall_timeout = 60s;
    // How often the queue is looked at without being told (new items from other threads and
    // processes, clock changes, retention).
    std::chrono::milliseconds poll_interval = 30s;
};

// Ok when the options can be used; otherwise an Errc::config error naming the key.
Status validate(const UploadOptions& options);

}  // namespace exhibit::upload
