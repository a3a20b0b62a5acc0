// UTF-8 checks for text from phones, servers and files: one strict decoder (no overlong
// forms, no surrogates, nothing above U+10FFFF). Reentrant.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace exhibit {

// The length of the valid UTF-8 sequence at the start of `s` (1 for ASCII) with its code
// point in `cp`, or 0 when there is none (empty, a stray continuation byte, a truncated,
// overlong or surrogate sequence, > U+10FFFF).
std::size_t utf8_sequence(std::string_view s, char32_t& cp);
std::size_t utf8_sequence(std::string_view s);

bool is_valid_utf8(std::string_view s);

// Appends the UTF-8 form of code point `cp` (at most U+10FFFF; the caller has checked it is
// one it wants: this encodes, it does not judge).
void append_utf8(std::string& out, char32_t cp);

// `text` as valid UTF-8 without control characters, at most `max` bytes (never half a
// character): tabs and line breaks become spaces, other controls are dropped, and a byte that
// is not part of valid UTF-8 becomes '?'. What a server or a phone sends can then go into
// messages, JSON and D-Bus strings.
std::string printable_text(std::string_view text, std::size_t max);

}  // namespace exhibit
