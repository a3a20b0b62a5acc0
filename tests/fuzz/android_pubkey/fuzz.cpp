// The Android RSA public key format (one line of a phone's adb_keys: base64 of the 524-byte
// encoding and a comment), and checking a token's signature with a key parsed from it. The
// input is "<line>\n<signature bytes>".
#include <array>
#include <cstdint>

#include "drivers/adb/adb_protocol.hpp"
#include "drivers/adb/android_pubkey.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace exhibit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    const auto line = in.until("\n");
    auto key = adb::AdbPublicKey::parse(line);
    if (!key)
        return 0;
    std::array<std::byte, adb::kAuthTokenSize> token{};
    (void)key->verify_token(token, fuzz::as_bytes(in.rest()));
    return 0;
}
