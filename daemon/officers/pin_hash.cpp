#include "daemon/officers/pin_hash.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <charconv>

#include <fmt/format.h>

#include "common/base64.hpp"

namespace exhibit::officers {

namespace {

// N = 2^15, r = 8, p = 1: 32 MiB and some tens of milliseconds per check, so that a stolen
// officers file does not give up 4-digit PINs cheaply (the lock-out guards the kiosk itself).
constexpr int kLogN = 15;
constexpr int kR = 8;
constexpr int kP = 1;
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kHashBytes = 32;
constexpr std::uint64_t kMaxMemory = 64ull << 20;

struct Params {
    int log_n = kLogN;
    int r = kR;
    int p = kP;
    std::vector<std::byte> salt;
    std::vector<std::byte> hash;
};

Result<std::vector<std::byte>> derive(std::string_view pin, const Params& params) {
    std::vector<std::byte> out(kHashBytes);
    const auto& salt = params.salt;
    if (EVP_PBE_scrypt(pin.data(), pin.size(), reinterpret_cast<const unsigned char*>(salt.data()),
                       salt.size(), std::uint64_t{1} << params.log_n,
                       static_cast<std::uint64_t>(params.r), static_cast<std::uint64_t>(params.p),
                       kMaxMemory, reinterpret_cast<unsigned char*>(out.data()), out.size()) != 1)
        return fail(Errc::internal, "scrypt failed");
    return out;
}

int read_int(std::string_view text, std::string_view key) {
    if (!text.starts_with(key))
        return -1;
    int v = -1;
    auto digits = text.substr(key.size());
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    return ec == std::errc() && end == digits.data() + digits.size() ? v : -1;
}

Result<Params> parse(std::string_view stored) {
    auto bad = [] { return fail(Errc::invalid_argument, "not a PIN hash written by exhibit"); };
    // "$scrypt$ln=15,r=8,p=1$<salt>$<hash>" splits into "", "scrypt", costs, salt, hash.
    std::vector<std::string_view> parts;
    for (std::size_t at = 0;;) {
        auto next = stored.find('$', at);
        parts.push_back(stored.substr(at, next == std::string_view::npos ? next : next - at));
        if (next == std::string_view::npos || parts.size() > 5)
            break;
        at = next + 1;
    }
    if (parts.size() != 5 || !parts[0].empty() || parts[1] != "scrypt")
        return bad();
    Params p;
    auto costs = parts[2];
    auto c1 = costs.find(','), c2 = costs.rfind(',');
    if (c1 == std::string_view::npos || c1 == c2)
        return bad();
    p.log_n = read_int(costs.substr(0, c1), "ln=");
    p.r = read_int(costs.substr(c1 + 1, c2 - c1 - 1), "r=");
    p.p = read_int(costs.substr(c2 + 1), "p=");
    if (p.log_n < 10 || p.log_n > 20 || p.r < 1 || p.r > 32 || p.p < 1 || p.p > 16)
        return bad();
    auto salt = base64_decode(parts[3]);
    auto hash = base64_decode(parts[4]);
    if (!salt || !hash || salt->size() < 8 || hash->size() != kHashBytes)
        return bad();
    p.salt = std::move(*salt);
    p.hash = std::move(*hash);
    return p;
}

}  // namespace

bool is_valid_pin(std::string_view pin) {
    return pin.size() >= 4 && pin.size() <= 12 &&
           pin.find_first_not_of("0123456789") == std::string_view::npos;
}

Result<std::string> hash_pin(std::string_view pin) {
    Params p;
    p.salt.resize(kSaltBytes);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(p.salt.data()), static_cast<int>(kSaltBytes)) !=
        1)
        return fail(Errc::internal, "no random bytes for a salt");
    auto hash = derive(pin, p);
    if (!hash)
        return std::unexpected(hash.error());
    return fmt::format("$scrypt$ln={},r={},p={}${}${}", p.log_n, p.r, p.p, base64_encode(p.salt),
                       base64_encode(*hash));
}

Result<bool> pin_matches(std::string_view pin, std::string_view stored) {
    auto p = parse(stored);
    if (!p)
        return std::unexpected(p.error());
    auto hash = derive(pin, *p);
    if (!hash)
        return std::unexpected(hash.error());
    return CRYPTO_memcmp(hash->data(), p->hash.data(), kHashBytes) == 0;
}

}  // namespace exhibit::officers
