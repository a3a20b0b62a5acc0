// A tus server's answers as the upload job reads them: the status (the first two bytes), then
// raw header lines as libcurl hands them over (at most 100, as the client keeps), then after
// an empty line the body. Every header the job looks at goes through the parser it uses:
// Tus-Version/Tus-Extension/Tus-Max-Size/Tus-Checksum-Algorithm (OPTIONS), Location
// (resolved against the endpoint, which it must never leave), Upload-Offset, Upload-Length,
// Upload-Metadata; the body through the excerpt put in error messages, and as a DFU store's
// receipt (GET <upload>/receipt) and the reason of a pending one.
#include <cstdint>
#include <string>

#include "daemon/upload/tus_protocol.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace exhibit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    const long status = in.u8() | static_cast<long>(in.u8()) << 8;
    upload::Headers headers;
    for (int n = 0; n < 100 && !in.empty(); ++n) {
        auto line = in.until("\n");
        if (line.empty() || line == "\r")
            break;
        std::string with_end(line);
        with_end += '\n';
        (void)headers.add_line(with_end);
    }
    (void)upload::classify_status(status);
    if (auto caps = upload::parse_capabilities(status, headers))
        if (caps->min_chunk_size && (*caps->min_chunk_size == 0 || *caps->min_chunk_size > (1u << 30)))
            __builtin_trap();  // a smallest chunk the kiosk could not send
    const std::string endpoint = "https://dfu.example:8443/files/";
    if (auto location = headers.get("location")) {
        if (auto url = upload::resolve_location(endpoint, *location)) {
            if (!upload::on_endpoint_origin(endpoint, *url))
                __builtin_trap();  // resolve_location let the upload leave the DFU store
        }
        (void)upload::url_scheme(*location);
        (void)upload::is_loopback_url(*location);
    }
    for (const char* name : {"upload-offset", "upload-length"})
        if (auto v = headers.get(name))
            (void)upload::parse_uint(*v);
    if (auto meta = headers.get("upload-metadata"))
        (void)upload::decode_metadata(*meta);
    const auto body = in.rest();
    (void)upload::printable_excerpt(body);
    if (auto receipt = upload::parse_dfu_receipt(body))
        if (receipt->sha256.size() != 64)
            __builtin_trap();  // a receipt naming no sha256 would be compared as one
    (void)upload::pending_receipt_reason(body);
    return 0;
}
