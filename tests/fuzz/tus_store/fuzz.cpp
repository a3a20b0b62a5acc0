// What the DFU's tools read from a tus file store, where every file arrived from a kiosk over
// the network: exhibit-verify's reading of the store (info files in @tus/file-store's and
// tusd's forms, their metadata) and of the manifests and items found there, and
// exhibit-fleet's reading of heartbeats and of its enrolment file.
//
// The input is five parts separated by "\n~~~\n": an @tus/file-store info file for upload u1,
// u1's data, a tusd .info file for u2, a heartbeat document (written as upload hb, signed
// here with this target's own kiosk key so that the fuzzer gets past the signature to what a
// genuine kiosk's heartbeat could hold), and enrolment lines.
#include <cstdint>
#include <string>

#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "daemon/keys/identity_key.hpp"
#include "tests/fuzz/fuzz_input.hpp"
#include "tools/exhibit-fleet/fleet.hpp"
#include "tools/exhibit-verify/delivery.hpp"
#include "tools/exhibit-verify/verifier.hpp"

using namespace exhibit;

namespace {

// The kiosk key of this target: fixed, so that the seed heartbeats carry its public key
// (xRs4... below) and fingerprint. A test key, never a kiosk's.
constexpr const char* kTestKeyPem =
    "-----BEGIN PRIVATE KEY-----\n"
    "MC4CAQAwBQYDK2VwBCIEINmc7n+L9qKVx3xp4pfIjmRrEkhBLDeZ5yoSpN2Cxj+/\n"
    "-----END PRIVATE KEY-----\n";

fuzz::ScratchDir& scratch() {
    static fuzz::ScratchDir dir;
    return dir;
}

const keys::IdentityKey& kiosk_key() {
    static auto key = [] {
        fuzz::ScratchDir& dir = scratch();
        dir.fresh();
        dir.write("kiosk.key", kTestKeyPem);
        std::filesystem::permissions(dir.path() / "kiosk.key",
                                     std::filesystem::perms::owner_read |
                                         std::filesystem::perms::owner_write);
        auto k = keys::IdentityKey::load(dir.path() / "kiosk.key");
        if (!k)
            std::abort();
        return std::move(*k);
    }();
    return *key;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    (void)kiosk_key();
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    const std::string_view sep = "\n~~~\n";
    const auto u1_info = in.until(sep), u1_data = in.until(sep), u2_info = in.until(sep),
               heartbeat = in.until(sep), enrolment_text = in.rest();

    auto& dir = scratch();
    const auto& store = dir.fresh();
    dir.write("u1.json", u1_info);
    dir.write("u1", u1_data);
    dir.write("u2.info", u2_info);
    auto signature = kiosk_key().sign(heartbeat);
    if (!signature)
        std::abort();
    const nlohmann::json hb_info = {
        {"id", "hb"},
        {"size", heartbeat.size()},
        {"offset", heartbeat.size()},
        {"metadata",
         {{"type", "heartbeat"},
          {"kiosk_id", "fuzz-kiosk"},
          {"signature", base64_encode(std::span<const std::byte>(*signature))},
          {"signature_algorithm", "ed25519"}}},
        {"creation_date", "2026-12-06T00:00:00.000Z"}};
    dir.write("hb.json", hb_info.dump());
    dir.write("hb", heartbeat);

    if (auto delivery = verify::Delivery::open(store)) {
        verify::TrustedKey trusted{.fingerprint = kiosk_key().fingerprint()};
        (void)verify::verify_delivery(*delivery, trusted);
    }
    fleet::Enrolment enrolled;
    if (auto parsed = fleet::parse_enrolment(enrolment_text, "kiosks"))
        enrolled = std::move(*parsed);
    enrolled["fuzz-kiosk"] = kiosk_key().fingerprint();
    (void)fleet::read_fleet({store}, enrolled);
    return 0;
}
