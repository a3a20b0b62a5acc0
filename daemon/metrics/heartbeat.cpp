#include "daemon/metrics/heartbeat.hpp"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "common/fs.hpp"
#include "daemon/store/manifest.hpp"

namespace exhibit::metrics {

namespace {

std::int64_t whole_seconds(TimePoint t) {
    return to_unix_ms(t) / 1000;
}

nlohmann::json figures_json(const KioskFigures& f, TimePoint now) {
    nlohmann::json queue = nlohmann::json::object();
    for (auto lane : kLanes)
        for (auto state : kUploadStates) {
            QueueFigure q;
            if (auto it = f.queue.find({std::string(lane), std::string(state)});
                it != f.queue.end())
                q = it->second;
            queue[std::string(lane)][std::string(state)] = {{"items", q.jobs},
                                                            {"bytes", q.bytes}};
        }
    auto counts = [](const auto& names, const std::map<std::string, std::uint64_t>& m) {
        nlohmann::json out = nlohmann::json::object();
        for (auto name : names) {
            auto it = m.find(std::string(name));
            out[std::string(name)] = it == m.end() ? 0 : it->second;
        }
        return out;
    };
    const std::int64_t oldest_age =
        f.oldest_unsent ? std::max<std::int64_t>(0, whole_seconds(now) -
                                                        whole_seconds(*f.oldest_unsent))
                        : 0;
    return {
        {"items",
         {{"complete", f.items_complete},
          {"incomplete", f.items_incomplete},
          {"flagged", f.items_flagged}}},
        {"store_damaged", f.items_flagged > 0},
        {"free_bytes", f.free_bytes},
        {"min_free_bytes", f.min_free_bytes},
        {"upload_queue", queue},
        {"oldest_unsent_age_seconds", oldest_age},
        {"evidence_wait_limit_seconds", f.evidence_wait_limit.count()},
        {"last_delivery", f.last_delivery ? nlohmann::json(format_utc_ms(*f.last_delivery))
                                          : nlohmann::json(nullptr)},
        {"delivered_bytes", f.delivered_bytes},
        {"uploads_configured", f.uploads_configured},
        {"upload_failures", counts(kFailureReasons, f.upload_failures)},
        {"extractions", counts(kExtractionResults, f.sessions_by_state)},
        {"devices_connected", counts(kDeviceClasses, f.devices)},
        {"audit_chain_verified", f.audit_chain_ok.value_or(false)},
    };
}

}  // namespace

Result<SignedHeartbeat> build_heartbeat(const KioskFigures& figures, const keys::IdentityKey& key,
                                        std::string_view kiosk_id, std::string_view version,
                                        std::uint64_t sequence, TimePoint now) {
    const auto raw_key = key.public_key().raw();
    nlohmann::json doc = {
        {"format", kHeartbeatFormat},
        {"kiosk", {{"id", kiosk_id}, {"version", version}}},
        {"key",
         {{"fingerprint", key.fingerprint()},
          {"public_key_ed25519", base64_encode(std::span<const std::byte>(raw_key))}}},
        {"sequence", sequence},
        {"sent_at", format_utc_ms(now)},
        {"figures", figures_json(figures, now)},
    };
    auto body = store::canonical_json(doc);
    if (!body)
        return std::unexpected(body.error());
    auto signature = key.sign(*body);
    if (!signature)
        return std::unexpected(signature.error());
    return SignedHeartbeat{std::move(*body),
                           base64_encode(std::span<const std::byte>(*signature)),
                           key.fingerprint(), sequence};
}

Result<std::uint64_t> HeartbeatSequence::next(TimePoint now) {
    std::uint64_t last = 0;
    if (std::filesystem::exists(file_)) {
        auto text = fs::read_file(file_, 64);
        if (!text)
            return std::unexpected(text.error());
        auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), last);
        if (ec != std::errc{})
            return fail(Errc::corrupt, fmt::format("{} does not hold a sequence number", file_.string()));
        (void)end;
    }
    const auto clock = static_cast<std::uint64_t>(std::max<std::int64_t>(0, to_unix_ms(now)));
    const std::uint64_t next = std::max(last + 1, clock);
    if (auto s = fs::write_file_atomic(file_, std::to_string(next) + "\n", 0600); !s)
        return std::unexpected(s.error());
    return next;
}

}  // namespace exhibit::metrics
