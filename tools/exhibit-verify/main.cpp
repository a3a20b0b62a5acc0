// exhibit-verify: the DFU's check of what a kiosk delivered. Works on files (a tus file store,
// or a folder of files plus the manifest), or on a copy of the uploads in an S3 bucket (an
// s3:// location, exhibit-dfu-server's store); docs/exhibit-verify.md has the layouts, the
// checks, the JSON and the exit codes.
#include <iostream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "common/fs.hpp"
#include "tools/exhibit-verify/s3_store.hpp"
#include "tools/exhibit-verify/verifier.hpp"

namespace {

using namespace exhibit;
using namespace exhibit::verify;

constexpr int kVerified = 0;
constexpr int kFailed = 1;
constexpr int kUsage = 2;

int usage(const std::string& message) {
    std::cerr << "exhibit-verify: " << message << "\n";
    return kUsage;
}

// The trusted key from --key and/or --fingerprint; an error line when they are unusable.
std::expected<TrustedKey, std::string> trusted_key(const std::string& key_file,
                                                   const std::string& fingerprint) {
    TrustedKey trusted;
    if (!fingerprint.empty()) {
        auto fp = normalise_fingerprint(fingerprint);
        if (!fp)
            return std::unexpected("--fingerprint: expected SHA256: and 64 hex digits");
        trusted.fingerprint = *fp;
    }
    if (key_file.empty())
        return trusted;
    auto pem = fs::read_file(key_file, 1 << 16);
    if (!pem)
        return std::unexpected("--key: " + pem.error().describe());
    auto key = keys::PublicKey::from_pem(*pem);
    if (!key)
        return std::unexpected(fmt::format("--key: {} is not an Ed25519 public key in PEM ({})",
                                           key_file, key.error().describe()));
    if (!trusted.fingerprint.empty() && key->fingerprint() != trusted.fingerprint)
        return std::unexpected(fmt::format("--key has fingerprint {}, not the --fingerprint {}",
                                           key->fingerprint(), trusted.fingerprint));
    trusted.fingerprint = key->fingerprint();
    trusted.key = std::move(*key);
    return trusted;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "exhibit-verify: check a session delivered by an exhibit kiosk: the manifest's "
        "signature\nwith the kiosk's key, its canonical form, and every item's size and "
        "SHA-256.\nExit codes: 0 verified, 1 verification failed, 2 usage or unreadable input.",
        "exhibit-verify"};
    std::string key_file, fingerprint, dir, s3_env, session_id, kiosk_id;
    bool json = false;
    app.add_option("--key", key_file, "the kiosk's public key, PEM (BEGIN PUBLIC KEY)");
    app.add_option("--fingerprint", fingerprint,
                   "the kiosk key's fingerprint, SHA256:<hex> (trust the manifest's embedded "
                   "key only if it has this fingerprint)");
    app.add_flag("--json", json, "print the report as JSON");
    app.add_option("--s3-env", s3_env,
                   "for an s3:// STORE: a file of KEY=VALUE lines (S3_ENDPOINT, S3_REGION, "
                   "S3_CA_FILE, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) over the environment's");
    app.add_option("--session-id", session_id,
                   "for an s3:// STORE: read only this session's uploads (with --kiosk-id)");
    app.add_option("--kiosk-id", kiosk_id, "for an s3:// STORE: read only this kiosk's uploads");
    app.add_option("STORE", dir,
                   "a tus file store folder, a folder of files with the manifest, or "
                   "s3://BUCKET[/PREFIX] (exhibit-dfu-server's object store)")
        ->required();
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return usage(std::string(e.what()) + " (see exhibit-verify --help)");
    }
    if (key_file.empty() && fingerprint.empty())
        return usage(
            "say which kiosk key to trust: --key KIOSK_PUBLIC_KEY.pem or --fingerprint "
            "SHA256:…");
    auto trusted = trusted_key(key_file, fingerprint);
    if (!trusted)
        return usage(trusted.error());
    auto store = open_store_argument(dir, s3_env, [&](const auto& metadata) {
        auto is = [&](const char* key, const std::string& want) {
            auto it = metadata.find(key);
            return want.empty() || (it != metadata.end() && it->second == want);
        };
        return is("session_id", session_id) && is("kiosk_id", kiosk_id);
    });
    if (!store)
        return usage(store.error().describe());
    for (const auto& problem : store->summary.problems)
        std::cerr << "exhibit-verify: " << dir << ": " << problem << "\n";
    auto delivery = Delivery::open(store->dir);
    if (!delivery)
        return usage(delivery.error().describe());
    const auto report = verify_delivery(*delivery, *trusted);
    if (json)
        std::cout << to_json(report).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
    else
        std::cout << render_text(report);
    if (!report.ok()) {
        std::cerr << "exhibit-verify: verification FAILED for " << dir << "\n";
        return kFailed;
    }
    return kVerified;
}
