// What an S3 object store answers exhibit-verify and exhibit-fleet when they read a DFU store
// in object storage (tools/exhibit-verify/s3_protocol.hpp): a ListObjectsV2 page (XML) and an
// error document, and a --s3-env file's lines.
#include <cstdint>
#include <string>

#include "tools/exhibit-verify/s3_protocol.hpp"

using namespace exhibit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    if (auto page = verify::parse_s3_listing(text)) {
        if (page->next_token && page->next_token->empty())
            __builtin_trap();  // an empty token would list the first page again, for ever
        for (const auto& o : page->objects)
            if (o.key.size() > size)
                __builtin_trap();  // decoding entities never lengthens a key
    }
    (void)verify::s3_error_summary(text);
    (void)verify::s3_settings(verify::parse_env_lines(text));
    return 0;
}
