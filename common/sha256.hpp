// Streaming SHA-256 over OpenSSL EVP. Thread-compatible: one hasher per stream.
#pragma once

#include <array>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "common/openssl_handles.hpp"

namespace exhibit {

using Digest = std::array<std::byte, 32>;

std::string to_hex(std::span<const std::byte> bytes);
// Parses an even number of hex digits (either case).
Result<std::vector<std::byte>> from_hex(std::string_view hex);
// Parses exactly 64 lowercase or uppercase hex digits.
Result<Digest> digest_from_hex(std::string_view hex);

class Sha256 {
  public:
    Sha256();
    Sha256(Sha256&&) noexcept;
    Sha256& operator=(Sha256&&) noexcept;
    ~Sha256();

    void update(std::span<const std::byte> data);
    void update(std::string_view text) { update(std::as_bytes(std::span(text))); }
    // Returns the digest and resets the hasher for a new stream.
    Digest finish();

    static Digest of(std::span<const std::byte> data);
    static Digest of(std::string_view text) { return of(std::as_bytes(std::span(text))); }
    // Hashes a whole file, streaming; `size` receives its length when non-null.
    static Result<Digest> of_file(const std::filesystem::path& path, std::uint64_t* size = nullptr);

  private:
    EvpMdCtxPtr ctx_;
};

}  // namespace exhibit
