// Standard base64 (RFC 4648 alphabet, with '=' padding, no line breaks), over OpenSSL.
// Reentrant.
#pragma once

#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace exhibit {

std::string base64_encode(std::span<const std::byte> data);
inline std::string base64_encode(std::string_view text) {
    return base64_encode(std::as_bytes(std::span(text)));
}

// Errc::invalid_argument unless `text` is padded base64 whose length is a multiple of 4
// ("" decodes to nothing).
Result<std::vector<std::byte>> base64_decode(std::string_view text);

}  // namespace exhibit
