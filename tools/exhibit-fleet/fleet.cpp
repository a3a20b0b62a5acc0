#include "tools/exhibit-fleet/fleet.hpp"

#include <algorithm>
#include <charconv>
#include <sstream>
#include <tuple>
#include <variant>

#include <fmt/format.h>

#include "common/base64.hpp"
#include "common/fs.hpp"
#include "daemon/keys/identity_key.hpp"
#include "tools/exhibit-verify/canonical_json.hpp"
#include "tools/exhibit-verify/json_fields.hpp"
#include "tools/exhibit-verify/tus_store.hpp"

namespace exhibit::fleet {

namespace {

constexpr std::string_view kFormat = "exhibit-heartbeat-v1";
constexpr std::size_t kMaxHeartbeatBytes = 64 * 1024;

bool is_fingerprint(std::string_view s) {
    if (!s.starts_with("SHA256:") || s.size() != 7 + 64)
        return false;
    return std::ranges::all_of(s.substr(7), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
    });
}

// A heartbeat that passed every check, with where it came from.
struct Good {
    std::string upload;
    std::string created;
    std::uint64_t sequence = 0;
    nlohmann::json doc;
};

// Checks one heartbeat upload: the reason it is refused, or the good heartbeat.
std::variant<Good, std::string> check(const verify::StoredUpload& u, const Enrolment& enrolled) {
    if (!u.complete())
        return std::string("incomplete upload");
    if (*u.length > kMaxHeartbeatBytes)
        return fmt::format("{} bytes: larger than any heartbeat", *u.length);
    auto body = fs::read_file(u.data, kMaxHeartbeatBytes);
    if (!body)
        return fmt::format("cannot read it: {}", body.error().describe());
    auto doc = nlohmann::json::parse(*body, nullptr, false);
    if (!doc.is_object())
        return std::string("not a JSON object");
    auto canonical = verify::canonical_json(doc);
    if (!canonical || *canonical != *body)
        return std::string("not in canonical form: not the bytes a kiosk signs");
    // A heartbeat is what a kiosk sent over the network: its fields are read without
    // nlohmann's value() (which throws on a mistyped field) or a const operator[] (undefined
    // for a missing one).
    using verify::json_member, verify::json_string;
    if (json_string(doc, "format") != kFormat)
        return fmt::format("format is not {}", kFormat);
    const auto kiosk = json_string(json_member(doc, "kiosk"), "id");
    if (kiosk.empty())
        return std::string("names no kiosk");
    if (u.meta("kiosk_id") != kiosk)
        return fmt::format("the upload says kiosk \"{}\", the document \"{}\"", u.meta("kiosk_id"),
                           kiosk);
    auto e = enrolled.find(kiosk);
    if (e == enrolled.end())
        return fmt::format("kiosk \"{}\" is not enrolled", kiosk);
    const auto& key = json_member(doc, "key");
    if (!json_member(key, "public_key_ed25519").is_string())
        return std::string("carries no public key");
    auto raw = base64_decode(json_string(key, "public_key_ed25519"));
    if (!raw || raw->size() != 32)
        return std::string("its public key is not 32 bytes of base64");
    auto public_key = keys::PublicKey::from_raw(*raw);
    if (!public_key)
        return fmt::format("its public key is unusable: {}", public_key.error().describe());
    if (public_key->fingerprint() != e->second)
        return fmt::format("signed with key {}, not the key enrolled for kiosk \"{}\" ({})",
                           public_key->fingerprint(), kiosk, e->second);
    if (json_string(key, "fingerprint") != e->second)
        return std::string("states a key fingerprint that is not its key's");
    auto signature = base64_decode(u.meta("signature"));
    if (!signature || u.meta("signature_algorithm") != "ed25519")
        return std::string("has no Ed25519 signature");
    if (auto s = public_key->verify(*body, *signature); !s)
        return std::string("forged or altered: the signature does not verify");
    if (!json_member(doc, "sequence").is_number_unsigned())
        return std::string("has no sequence number");
    const auto sequence = json_member(doc, "sequence").get<std::uint64_t>();
    return Good{u.id, u.created, sequence, std::move(doc)};
}

}  // namespace

Result<Enrolment> parse_enrolment(std::string_view text, std::string_view source) {
    Enrolment out;
    std::istringstream in{std::string(text)};
    int number = 0;
    for (std::string line; std::getline(in, line);) {
        ++number;
        const auto start = line.find_first_not_of(" \t\r");
        if (start == std::string::npos || line[start] == '#')
            continue;
        std::istringstream words(line);
        std::string kiosk, fingerprint, extra;
        words >> kiosk >> fingerprint >> extra;
        if (kiosk.empty() || !is_fingerprint(fingerprint) || !extra.empty())
            return fail(Errc::invalid_argument,
                        fmt::format("{}:{}: expected \"<kiosk id> SHA256:<64 hex digits>\"",
                                    source, number));
        if (!out.emplace(kiosk, fingerprint).second)
            return fail(Errc::invalid_argument,
                        fmt::format("{}:{}: kiosk \"{}\" is enrolled twice", source, number,
                                    kiosk));
    }
    return out;
}

Result<FleetReport> read_fleet(const std::vector<std::filesystem::path>& dirs,
                               const Enrolment& enrolled) {
    FleetReport report;
    std::map<std::string, std::vector<Good>> good;  // by kiosk
    for (const auto& dir : dirs) {
        auto uploads = verify::read_tus_store(dir);
        if (!uploads)
            return std::unexpected(uploads.error());
        for (const auto& u : *uploads) {
            if (u.meta("type") != "heartbeat")
                continue;
            ++report.uploads_read;
            auto checked = check(u, enrolled);
            if (auto* reason = std::get_if<std::string>(&checked)) {
                report.rejected.push_back({u.id, u.meta("kiosk_id"), *reason});
                continue;
            }
            auto& g = std::get<Good>(checked);
            const auto kiosk = g.doc["kiosk"]["id"].get<std::string>();
            good[kiosk].push_back(std::move(g));
        }
    }
    for (const auto& [kiosk, fingerprint] : enrolled) {
        KioskRow row{.kiosk = kiosk};
        auto it = good.find(kiosk);
        if (it != good.end()) {
            // In the order the DFU store received them: each must come after the ones before,
            // or it is a copy of an older one sent again.
            auto& list = it->second;
            std::ranges::stable_sort(list, [](const Good& a, const Good& b) {
                return a.created < b.created;
            });
            const Good* newest = nullptr;
            for (const auto& g : list) {
                if (newest && g.sequence <= newest->sequence) {
                    report.rejected.push_back(
                        {g.upload, kiosk,
                         fmt::format("replayed: sequence {} arrived after sequence {}",
                                     g.sequence, newest->sequence)});
                    continue;
                }
                newest = &g;
                ++row.heartbeats;
            }
            row.seen = true;
            row.received_at = newest->created;
            row.sequence = newest->sequence;
            row.sent_at = verify::json_string(newest->doc, "sent_at");
            row.document = newest->doc;
        }
        report.kiosks.push_back(std::move(row));
    }
    std::ranges::sort(report.rejected, [](const Rejected& a, const Rejected& b) {
        return std::tie(a.kiosk, a.upload) < std::tie(b.kiosk, b.upload);
    });
    return report;
}

}  // namespace exhibit::fleet
