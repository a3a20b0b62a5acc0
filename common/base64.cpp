#include "base64.hpp"

#include <openssl/evp.h>

namespace exhibit {

std::string base64_encode(std::span<const std::byte> data) {
    std::string out(4 * ((data.size() + 2) / 3) + 1, '\0');
    const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(data.data()),
                                  static_cast<int>(data.size()));
    out.resize(static_cast<std::size_t>(n));
    return out;
}

Result<std::vector<std::byte>> base64_decode(std::string_view text) {
    if (text.size() % 4 != 0)
        return fail(Errc::invalid_argument, "base64 text has a length that is not a multiple of 4");
    std::vector<std::byte> out(text.size() / 4 * 3);
    if (text.empty())
        return out;
    const int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                  reinterpret_cast<const unsigned char*>(text.data()),
                                  static_cast<int>(text.size()));
    if (n < 0)
        return fail(Errc::invalid_argument, "invalid base64");
    // EVP_DecodeBlock counts the padding as zero bytes: take them off.
    const std::size_t pad = text.ends_with("==") ? 2 : text.ends_with("=") ? 1 : 0;
    out.resize(static_cast<std::size_t>(n) - pad);
    return out;
}

}  // namespace exhibit
