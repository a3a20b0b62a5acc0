// UTF-8 checks for text from phones, servers and files: one strict decoder (no overlong
// forms, no surrogates, nothing above U+10FFFF). Reentrant.
#pragma once

#include <cstddef>
#include <string_view>

namespace exhibit {

// The length of the valid UTF-8 sequence at the start of `s` (1 for ASCII) with its code
// point in `cp`, or 0 when there is none (empty, a stray continuation byte, a truncated,
// overlong or surrogate sequence, > U+10FFFF).
std::size_t utf8_sequence(std::string_view s, char32_t& cp);
std::size_t utf8_sequence(std::string_view s);

bool is_valid_utf8(std::string_view s);

}  // namespace exhibit
