// Runs one consented extraction from a device, through whichever driver opened it, into the
// evidence store, and ends the session in the state that tells what happened. Blocking: runs
// on the session's worker thread, which owns `store` and uses `device`. Knows no family: the
// driver's session does the protocol, the StoreSink the storing.
#pragma once

#include <atomic>
#include <optional>
#include <stop_token>
#include <string>

#include <nlohmann/json.hpp>

#include "daemon/extract/store_sink.hpp"
#include "daemon/store/store.hpp"
#include "drivers/artefact.hpp"
#include "drivers/driver.hpp"

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

// The state a session ends in after the driver stopped with `error`, and its reason.
std::pair<store::SessionState, std::string> classify_end(const Error& error, StopReason why);

// `session_id` names a session already created for the case. The session row is moved to
// running, given the device identity and clock offset (`known_device`, when the caller has
// just read it, else read here), and ended completed, cancelled, interrupted (the device went
// away or misbehaved; every finished item stays) or failed (the store could not record).
SessionOutcome run_extraction(store::Store& store, drivers::DriverSession& device,
                              std::int64_t session_id, const drivers::Scope& scope,
                              std::stop_token stop, StoreSink::ProgressFn on_progress = {},
                              const std::atomic<StopReason>* stop_reason = nullptr,
                              std::optional<drivers::DeviceInfo> known_device = std::nullopt);

}  // namespace exhibit::extract
