// What the session manager's workers run, on their own threads: opening a device with its
// driver, an extraction session, a preview. They reach the loop only through the channel;
// what they return is handed to the loop side (session_manager.cpp) when they end.
#include <fmt/format.h>

#include "common/log.hpp"
#include "daemon/extract/message_ids.hpp"
#include "daemon/extract/session_manager.hpp"

namespace exhibit::extract {

using devices::DeviceState;

namespace {

DeviceState device_state(drivers::DeviceCondition c) {
    switch (c) {
        case drivers::DeviceCondition::needs_authorisation:
            return DeviceState::needs_authorisation;
        case drivers::DeviceCondition::locked:
            return DeviceState::locked;
        case drivers::DeviceCondition::unsupported:
            return DeviceState::unsupported;
    }
    return DeviceState::connected;
}

}  // namespace

std::string not_connected_reason(const Error& error) {
    if (error.code == Errc::io && error.message == drivers::kDeviceDisconnected)
        return "interrupted: device disconnected";  // as when the unplug is noticed first
    return fmt::format("could not connect: {}", error.describe());
}

Result<std::shared_ptr<drivers::DriverSession>> SessionManager::open(const drivers::Driver& driver,
                                                                     const drivers::Device& device,
                                                                     Worker& worker,
                                                                     std::stop_token stop) {
    drivers::OpenContext context{.stop = std::move(stop)};
    context.report = [this, id = device.id, alive = alive_](drivers::DeviceCondition c,
                                                            std::string detail) {
        channel_->post([this, id, c, detail = std::move(detail), alive] {
            if (*alive && devices_->find(id))
                (void)devices_->set_state(id, device_state(c), detail);
        });
    };
    auto opened = driver.open(device, context);
    if (!opened)
        return std::unexpected(opened.error());
    std::shared_ptr<drivers::DriverSession> session(std::move(*opened));
    worker.set_session(session);
    if (worker.reason != StopReason::none)
        session->interrupt();  // stopped as it opened
    return session;
}

SessionManager::Settled SessionManager::not_opened(const Error& error, StopReason why) {
    if (why != StopReason::none)
        return {DeviceState::connected, ""};  // stopped, not unreachable
    if (error.code == Errc::unsupported)
        return {DeviceState::unsupported, error.message};
    return {DeviceState::connected, fmt::format("could not connect: {}", error.describe())};
}

StoreSink::ProgressFn SessionManager::progress_reporter(std::int64_t session_id) {
    return [this, session_id, alive = alive_](const ExtractionProgress& p) {
        channel_->post([this, session_id, p, alive, at = std::chrono::steady_clock::now()] {
            if (!*alive)
                return;
            auto& s = sessions_[session_id];
            if (s.completed)
                return;
            auto& [t0, b0] = rate_marks_[session_id];
            if (t0.time_since_epoch().count() != 0 && at > t0 && p.bytes_done >= b0)
                s.rate_bytes_per_second = static_cast<double>(p.bytes_done - b0) /
                                          std::chrono::duration<double>(at - t0).count();
            t0 = at;
            b0 = p.bytes_done;
            s.state = store::SessionState::running;
            s.progress = p;
            publish(s);
        });
    };
}

template <typename First>
auto SessionManager::attach(Worker& worker, const drivers::Driver& driver,
                            const drivers::Device& device,
                            std::shared_ptr<drivers::DriverSession> kept, std::stop_token stop,
                            First first, const std::function<void()>& on_link)
    -> Result<Attached<std::invoke_result_t<First&, drivers::DriverSession&>>> {
    const bool reused = kept != nullptr;
    auto session = std::move(kept);
    if (reused) {
        worker.set_session(session);
        if (worker.reason != StopReason::none)
            session->interrupt();
    } else {
        auto opened = open(driver, device, worker, stop);
        if (!opened)
            return std::unexpected(opened.error());
        session = std::move(*opened);
    }
    if (on_link)
        on_link();
    auto answer = first(*session);
    if (!answer && reused && !session->reusable() && worker.reason == StopReason::none) {
        // The error's class only: a phone's answer to a preview may name its folders.
        log::event(log::Level::info, message_id::kLinkReopened,
                   fmt::format("device {}: the kept link failed ({}); connecting again", device.id,
                               to_string(answer.error().code)),
                   {log::field::device(device.id), log::field::device_class(worker.device_class),
                    log::field::error_class(answer.error())});
        worker.set_session(nullptr);
        session.reset();
        auto opened = open(driver, device, worker, stop);
        if (!opened)
            return std::unexpected(opened.error());
        session = std::move(*opened);
        answer = first(*session);
    }
    return Attached<decltype(answer)>{std::move(session), std::move(answer)};
}

SessionManager::JobEnd SessionManager::run_session(Worker& worker, const drivers::Driver& driver,
                                                   const drivers::Device& device,
                                                   std::int64_t session_id,
                                                   const drivers::Scope& scope,
                                                   std::shared_ptr<drivers::DriverSession> kept,
                                                   std::stop_token stop) {
    JobEnd end;
    auto& view = end.session.emplace(
        SessionView{.id = session_id, .device_id = device.id, .completed = true});
    auto own = store::Store::open({.state_directory = options_.state_directory,
                                   .kiosk_id = options_.kiosk_id,
                                   .verify = store::VerifyDepth::none,
                                   .reconcile = false,
                                   .clock = options_.clock});
    if (!own) {  // the loop's store is not touched from here: nothing is recorded
        view.state = store::SessionState::failed;
        view.reason = own.error().describe();
        end.keep = std::move(kept);
        end.device = end.keep ? Settled{} : Settled{DeviceState::connected, ""};
        return end;
    }
    auto& store = **own;

    // The identity first: on a kept link it also shows whether the link still works, and a
    // link opened again for that reason is in place before anything is recorded.
    auto attached = attach(
        worker, driver, device, std::move(kept), stop,
        [](drivers::DriverSession& s) { return s.device_info(); },
        [&] {
            channel_->post([this, id = device.id, alive = alive_] {
                if (*alive && devices_->find(id))
                    (void)devices_->set_state(id, DeviceState::busy, "extracting");
            });
        });
    // The session could not start on the device: recorded, and the device says why.
    if (!attached) {
        auto why = worker.reason.load();
        end.device = not_opened(attached.error(), why);
        view.state = why == StopReason::cancelled ? store::SessionState::cancelled
                                                  : store::SessionState::interrupted;
        view.reason = why == StopReason::device_gone ? "interrupted: device disconnected"
                      : why == StopReason::cancelled ? "cancelled"
                                                     : not_connected_reason(attached.error());
        (void)store.catalog().set_session_state(session_id, view.state, view.reason, "exhibitd");
        return end;
    }
    auto& [session, info] = *attached;
    log::event(log::Level::info, message_id::kExtractionStarted,
               fmt::format("session {}: extracting device {} with driver {} {}", session_id,
                           device.id, driver.name(), driver.version()),
               {log::field::session(session_id),
                log::field::device(device.id),
                log::field::device_class(worker.device_class),
                {"EXHIBIT_DRIVER", std::string(driver.name())},
                {"EXHIBIT_DRIVER_VERSION", std::string(driver.version())}});
    auto outcome =
        run_extraction(store, *session, session_id, scope, stop, progress_reporter(session_id),
                       &worker.reason, info ? std::optional(std::move(*info)) : std::nullopt);
    worker.set_session(nullptr);
    view.state = outcome.state;
    view.reason = outcome.reason;
    view.progress = outcome.progress;
    if (session->reusable() && worker.reason == StopReason::none)
        end.keep = std::move(session);
    end.device = Settled{};  // it answered
    return end;
}

SessionManager::JobEnd SessionManager::run_preview(Worker& worker, const drivers::Driver& driver,
                                                   const drivers::Device& device,
                                                   const drivers::Scope& scope,
                                                   std::shared_ptr<drivers::DriverSession> kept,
                                                   std::stop_token stop) {
    JobEnd end;
    auto attached = attach(worker, driver, device, std::move(kept), stop,
                           [&](drivers::DriverSession& s) { return s.preview(scope); });
    if (!attached) {
        end.device = not_opened(attached.error(), worker.reason.load());
        end.preview = std::unexpected(attached.error());
        return end;
    }
    auto& [session, counted] = *attached;
    worker.set_session(nullptr);
    end.preview = std::move(counted);
    if (session->reusable() && worker.reason == StopReason::none)
        end.keep = std::move(session);
    end.device = Settled{};  // it answered
    return end;
}

}  // namespace exhibit::extract
