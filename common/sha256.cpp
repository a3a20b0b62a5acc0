#include "sha256.hpp"

#include <fcntl.h>
#include <openssl/evp.h>

#include <fmt/format.h>
#include <fmt/std.h>

#include <vector>

#include "fs.hpp"

namespace exhibit {

namespace {
int hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}
}  // namespace

std::string to_hex(std::span<const std::byte> bytes) {
    static constexpr char kDigits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (auto b : bytes) {
        auto v = std::to_integer<unsigned>(b);
        out.push_back(kDigits[v >> 4]);
        out.push_back(kDigits[v & 0xf]);
    }
    return out;
}

Result<std::vector<std::byte>> from_hex(std::string_view hex) {
    if (hex.size() % 2 != 0)
        return fail(Errc::invalid_argument, "odd number of hex digits");
    std::vector<std::byte> out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return fail(Errc::invalid_argument, "not a hex digit");
        out[i] = static_cast<std::byte>(hi << 4 | lo);
    }
    return out;
}

Result<Digest> digest_from_hex(std::string_view hex) {
    Digest d{};
    if (hex.size() != d.size() * 2)
        return fail(Errc::invalid_argument, "sha256 must be 64 hex digits");
    auto bytes = from_hex(hex);
    if (!bytes)
        return fail(Errc::invalid_argument, "sha256 has a non-hex digit");
    std::copy(bytes->begin(), bytes->end(), d.begin());
    return d;
}

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
    // Allocation or init failure here means OpenSSL itself is unusable: a programmer or
    // platform error, not input we could recover from.
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
        std::abort();
}
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;
Sha256::~Sha256() = default;

void Sha256::update(std::span<const std::byte> data) {
    if (!data.empty() && EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1)
        std::abort();
}

Digest Sha256::finish() {
    Digest d{};
    unsigned len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), reinterpret_cast<unsigned char*>(d.data()), &len) != 1 ||
        len != d.size() || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
        std::abort();
    return d;
}

Digest Sha256::of(std::span<const std::byte> data) {
    Sha256 h;
    h.update(data);
    return h.finish();
}

Result<Digest> Sha256::of_file(const std::filesystem::path& path, std::uint64_t* size) {
    auto fd = fs::open_file(path, O_RDONLY);
    if (!fd)
        return std::unexpected(fd.error());
    ::posix_fadvise(fd->get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    Sha256 h;
    std::vector<std::byte> buf(1 << 20);
    std::uint64_t total = 0;
    for (;;) {
        auto n = fs::read_some(fd->get(), buf);
        if (!n)
            return fail_errno(fmt::format("cannot read {}", path), n.error().sys_errno);
        if (*n == 0)
            break;
        h.update(std::span(buf.data(), *n));
        total += *n;
    }
    if (size)
        *size = total;
    return h.finish();
}

}  // namespace exhibit
