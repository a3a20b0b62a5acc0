// exhibit-verify on a delivery handed over as a folder of files: the manifest (read, parsed,
// its canonical form, format, totals, seal, key and every item it lists looked for in the
// folder) and its signature file. The input is the manifest, "\n~~~\n", the .sig file's
// bytes, "\n~~~\n", and the bytes of the one other file in the folder, 1.bin.
#include <cstdint>

#include "tests/fuzz/fuzz_input.hpp"
#include "tools/exhibit-verify/delivery.hpp"
#include "tools/exhibit-verify/verifier.hpp"

using namespace exhibit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static fuzz::ScratchDir dir;
    fuzz::Input in(data, size);
    const std::string_view sep = "\n~~~\n";
    const auto manifest = in.until(sep), signature = in.until(sep), item = in.rest();
    const auto& folder = dir.fresh();
    dir.write("manifest.json", manifest);
    dir.write("manifest.json.sig", signature);
    dir.write("1.bin", item);
    if (auto delivery = verify::Delivery::open(folder)) {
        verify::TrustedKey trusted{
            .fingerprint =
                "SHA256:0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"};
        (void)verify::verify_delivery(*delivery, trusted);
    }
    return 0;
}
