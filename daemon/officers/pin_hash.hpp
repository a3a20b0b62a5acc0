// Salted, slow hashes of officers' PINs (scrypt, RFC 7914), kept as one self-describing line
// so the cost can be raised later without breaking stored hashes:
//   $scrypt$ln=15,r=8,p=1$<salt, base64>$<hash, base64>
// A PIN is 4 to 12 digits. Reentrant.
#pragma once

#include <string>
#include <string_view>

#include "common/error.hpp"

namespace exhibit::officers {

bool is_valid_pin(std::string_view pin);

// A new random salt each time; Errc::internal if OpenSSL fails.
Result<std::string> hash_pin(std::string_view pin);

// Whether `pin` matches `stored` (compared in constant time); Errc::invalid_argument when
// `stored` is not a hash this code writes (a damaged officers file).
Result<bool> pin_matches(std::string_view pin, std::string_view stored);

}  // namespace exhibit::officers
