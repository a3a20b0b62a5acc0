// Runs one consented extraction from an Android phone over an open ADB connection into the
// evidence store, and ends the session in the state that tells what happened. Blocking: runs
// on the session's worker thread, which owns `store` and `connection`.
#pragma once

#include <atomic>
#include <optional>
#include <stop_token>
#include <string>

#include <nlohmann/json.hpp>

#include "common/clock.hpp"
#include "daemon/extract/store_sink.hpp"
#include "daemon/store/store.hpp"
#include "drivers/adb/adb_extractor.hpp"
#include "drivers/artefact.hpp"

namespace exhibit::extract {

// Why a session's stop token was triggered: decides the state it ends in.
enum class StopReason { none, cancelled, device_gone, shutdown };

struct SessionOutcome {
    store::SessionState state = store::SessionState::failed;
    std::optional<std::string> reason;  // why it is not completed
    ExtractionProgress progress;
    drivers::DeviceInfo device;
};

nlohmann::json device_to_json(const drivers::DeviceInfo& info);
nlohmann::json scope_to_json(const drivers::Scope& scope);

// `session_id` names a session already created for the case. The session row is moved to
// running, given the device identity and clock offset, and ended completed, cancelled,
// interrupted (the phone went away or misbehaved; every finished item stays) or failed (the
// store could not record).
SessionOutcome run_adb_session(store::Store& store, adb::Connection& connection,
                               std::int64_t session_id, const drivers::Scope& scope,
                               std::stop_token stop, StoreSink::ProgressFn on_progress = {},
                               const Clock& clock = Clock::system(),
                               adb::ExtractorLimits limits = {},
                               const std::atomic<StopReason>* stop_reason = nullptr);

}  // namespace exhibit::extract
