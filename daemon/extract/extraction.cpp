#include "daemon/extract/extraction.hpp"

#include <fmt/format.h>

#include "common/log.hpp"
#include "daemon/extract/message_ids.hpp"

namespace exhibit::extract {

nlohmann::json device_to_json(const drivers::DeviceInfo& info) {
    nlohmann::json j = {{"manufacturer", info.manufacturer},
                        {"model", info.model},
                        {"serial", info.serial},
                        {"os_version", info.os_version},
                        {"build_fingerprint", info.build_fingerprint}};
    if (info.clock_offset_ms)
        j["clock_offset_ms"] = *info.clock_offset_ms;
    return j;
}

nlohmann::json scope_to_json(const drivers::Scope& scope) {
    nlohmann::json categories = nlohmann::json::array();
    for (auto c : scope.categories)
        categories.push_back(drivers::to_string(c));
    nlohmann::json j = {{"categories", categories}};
    if (scope.from_ms)
        j["from_ms"] = *scope.from_ms;
    if (scope.until_ms)
        j["until_ms"] = *scope.until_ms;
    if (!scope.numbers.empty())
        j["numbers"] = scope.numbers;  // as given: what was agreed
    return j;
}

namespace {

// Why a session ends when the store could not record. A full disk says so first, whichever
// write met it: a blob's bytes (ENOSPC) or the catalog (SQLite's "database or disk is full").
std::string store_failure(const Error& error) {
    if (error.code == Errc::no_space)
        return fmt::format("the kiosk's disk is full: {}", error.describe());
    return error.describe();
}

}  // namespace

std::pair<store::SessionState, std::string> classify_end(const Error& error, StopReason why) {
    if (why == StopReason::device_gone)
        return {store::SessionState::interrupted, "interrupted: device disconnected"};
    if (why == StopReason::shutdown)
        return {store::SessionState::interrupted, "interrupted: exhibitd stopped"};
    if (why == StopReason::cancelled)
        return {store::SessionState::cancelled, "cancelled"};
    switch (error.code) {
        case Errc::cancelled:
            return {store::SessionState::cancelled, "cancelled"};
        case Errc::protocol:
        case Errc::timeout:
        case Errc::io:
        case Errc::not_found:
            return {store::SessionState::interrupted,
                    fmt::format("interrupted: {}", error.describe())};
        default:  // the kiosk's side: the store could not record (a full disk among others)
            return {store::SessionState::failed, store_failure(error)};
    }
}

SessionOutcome run_extraction(store::Store& store, drivers::DriverSession& device,
                              std::int64_t session_id, const drivers::Scope& scope,
                              std::stop_token stop, StoreSink::ProgressFn on_progress,
                              const std::atomic<StopReason>* stop_reason,
                              std::optional<drivers::DeviceInfo> known_device) {
    SessionOutcome outcome;
    auto why = [&] { return stop_reason ? stop_reason->load() : StopReason::none; };
    auto end = [&](store::SessionState state, std::optional<std::string> reason) {
        outcome.state = state;
        outcome.reason = reason;
        if (auto s = store.catalog().set_session_state(session_id, state, reason, "exhibitd"); !s)
            log::event(log::Level::error, message_id::kSessionNotRecorded,
                       fmt::format("session {}: cannot record its end: {}", session_id,
                                   s.error().describe()),
                       {log::field::session(session_id),
                        {"EXHIBIT_SESSION_STATE", std::string(store::to_string(state))},
                        log::field::error_class(s.error())});
        return outcome;
    };
    if (auto s = store.catalog().set_session_state(session_id, store::SessionState::running,
                                                   std::nullopt, "exhibitd");
        !s)
        return end(store::SessionState::failed, store_failure(s.error()));

    auto info =
        known_device ? Result<drivers::DeviceInfo>(std::move(*known_device)) : device.device_info();
    if (!info) {
        auto [state, reason] = classify_end(info.error(), why());
        return end(state, reason);
    }
    outcome.device = *info;
    if (auto s = store.catalog().set_session_device(session_id, device_to_json(*info), info->serial,
                                                    info->clock_offset_ms);
        !s)
        return end(store::SessionState::failed, store_failure(s.error()));

    StoreSink sink(store, session_id, stop, on_progress);
    auto extracted = device.extract(scope, sink);
    auto flushed = sink.flush();  // commit what arrived whole, whatever happened next
    outcome.progress = sink.progress();
    if (sink.storage_error())
        return end(store::SessionState::failed, store_failure(*sink.storage_error()));
    if (!flushed)
        return end(store::SessionState::failed, store_failure(flushed.error()));
    if (!extracted) {
        auto [state, reason] = classify_end(extracted.error(), why());
        return end(state, reason);
    }
    return end(store::SessionState::completed, std::nullopt);
}

}  // namespace exhibit::extract
