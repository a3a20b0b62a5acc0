#include "daemon/extract/session_manager.hpp"

#include <fmt/format.h>

#include "common/log.hpp"

namespace exhibit::extract {

using devices::DeviceState;

drivers::Device to_driver_device(const devices::DeviceRecord& record) {
    return {.id = record.id,
            .functions = record.functions,
            .address = record.transport,
            .vendor_id = record.identity.vendor_id,
            .product_id = record.identity.product_id,
            .manufacturer = record.identity.manufacturer,
            .product = record.identity.product,
            .serial = record.identity.serial,
            .usb = record.usb_port};
}

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

void SessionManager::Worker::stop(StopReason why) {
    StopReason expected = StopReason::none;
    reason.compare_exchange_strong(expected, why);
    thread.request_stop();
    std::lock_guard lock(mu_);
    if (session_)
        session_->interrupt();
}

void SessionManager::Worker::set_session(std::shared_ptr<drivers::DriverSession> s) {
    std::lock_guard lock(mu_);
    session_ = std::move(s);
}

SessionManager::SessionManager(loop::LoopChannel& channel, store::Store& store,
                               devices::DeviceRegistry& devices,
                               const drivers::DriverRegistry& drivers,
                               SessionManagerOptions options)
    : channel_(&channel),
      store_(&store),
      devices_(&devices),
      drivers_(&drivers),
      options_(std::move(options)) {
    subscription_ = devices_->subscribe(
        [this](const devices::DeviceRecord& r, devices::DeviceChange c) { device_changed(r, c); });
}

SessionManager::~SessionManager() {
    devices_->unsubscribe(subscription_);
    *alive_ = false;
    for (auto& [key, w] : workers_)
        w->stop(StopReason::shutdown);
    for (auto& [key, w] : workers_)
        if (w->thread.joinable())
            w->thread.join();
}

void SessionManager::device_changed(const devices::DeviceRecord& record,
                                    devices::DeviceChange change) {
    if (change != devices::DeviceChange::removed)
        return;
    // Unplugged, or taken out of the configuration: its session ends "interrupted: device
    // disconnected".
    for (auto& [key, w] : workers_)
        if (w->device_id == record.id)
            w->stop(StopReason::device_gone);
}

Result<SessionManager::Usable> SessionManager::usable_device(const std::string& device_id) {
    const auto* device = devices_->find(device_id);
    if (!device)
        return fail(Errc::not_found, fmt::format("there is no device \"{}\"", device_id));
    const auto* driver = drivers_->find(device->functions);
    if (!driver)
        return fail(Errc::unsupported,
                    fmt::format("device {} cannot be extracted by this kiosk{}", device_id,
                                device->detail.empty() ? "" : ": " + device->detail));
    if (device->state == DeviceState::busy)
        return fail(
            Errc::exists,
            fmt::format("device {} is already busy with an extraction or preview", device_id));
    return Usable{device, driver};
}

Result<std::shared_ptr<drivers::DriverSession>> SessionManager::open(
    const drivers::Driver& driver, const drivers::Device& device, Worker& worker,
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

Result<std::int64_t> SessionManager::start(const StartRequest& request) {
    auto usable = usable_device(request.device_id);
    if (!usable)
        return std::unexpected(usable.error());
    auto spec = request.case_spec;
    spec.scope = scope_to_json(request.scope);
    auto case_id = store_->catalog().create_case(spec, request.actor);
    if (!case_id)
        return std::unexpected(case_id.error());
    const auto& d = *usable->device;
    const auto* driver = usable->driver;
    nlohmann::json identity = {{"transport", d.transport},
                               {"serial", d.identity.serial},
                               {"manufacturer", d.identity.manufacturer},
                               {"product", d.identity.product}};
    auto session_id = store_->catalog().create_session(
        *case_id, identity,
        d.identity.serial.empty() ? std::nullopt : std::optional(d.identity.serial),
        request.priority, request.actor);
    if (!session_id)
        return std::unexpected(session_id.error());

    SessionView view{.id = *session_id, .device_id = d.id};
    sessions_[*session_id] = view;
    (void)devices_->set_state(d.id, DeviceState::busy, "extracting");
    const auto key = next_worker_++;
    auto worker = std::make_unique<Worker>();
    worker->device_id = d.id;
    auto* w = worker.get();
    workers_[key] = std::move(worker);
    w->thread = std::jthread([this, w, key, driver, device = to_driver_device(d),
                              id = *session_id, scope = request.scope,
                              alive = alive_](std::stop_token stop) {
        run_session(*w, *driver, device, id, scope, stop);
        channel_->post([this, key, alive] {
            if (*alive)
                finish_worker(key);
        });
    });
    publish(view);
    return *session_id;
}

void SessionManager::run_session(Worker& worker, const drivers::Driver& driver,
                                 drivers::Device device, std::int64_t session_id,
                                 drivers::Scope scope, std::stop_token stop) {
    SessionView final_view{.id = session_id, .device_id = device.id, .completed = true};
    std::optional<std::string> not_answered;
    auto post_final = [&] {
        channel_->post([this, v = final_view, not_answered, alive = alive_] {
            if (!*alive)
                return;
            auto& s = sessions_[v.id];
            auto rate = s.rate_bytes_per_second;
            s = v;
            s.rate_bytes_per_second = rate;
            publish(s);
            release_device(v.device_id, not_answered);
        });
    };
    auto own = store::Store::open({.state_directory = options_.state_directory,
                                   .kiosk_id = options_.kiosk_id,
                                   .verify = store::VerifyDepth::none,
                                   .reconcile = false,
                                   .clock = options_.clock});
    if (!own) {
        final_view.state = store::SessionState::failed;
        final_view.reason = own.error().describe();
        not_answered = "";  // not contacted
        (void)store_;       // the loop's store is not touched from here
        post_final();
        return;
    }
    auto& store = **own;
    auto conn = open(driver, device, worker, stop);
    if (!conn) {
        auto why = worker.reason.load();
        not_answered = why == StopReason::none
                           ? fmt::format("could not connect: {}", conn.error().describe())
                           : "";
        final_view.state = why == StopReason::cancelled ? store::SessionState::cancelled
                                                        : store::SessionState::interrupted;
        final_view.reason = why == StopReason::device_gone ? "interrupted: device disconnected"
                            : why == StopReason::cancelled
                                ? "cancelled"
                                : fmt::format("could not connect: {}", conn.error().describe());
        (void)store.catalog().set_session_state(session_id, final_view.state, final_view.reason,
                                                "exhibitd");
        post_final();
        return;
    }
    channel_->post([this, id = device.id, alive = alive_] {
        if (*alive && devices_->find(id))
            (void)devices_->set_state(id, DeviceState::busy, "extracting");
    });
    auto on_progress = [this, session_id, id = device.id,
                        alive = alive_](const ExtractionProgress& p) {
        channel_->post([this, session_id, id, p, alive, at = std::chrono::steady_clock::now()] {
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
    log::info("session {}: extracting device {} with driver {} {}", session_id, device.id,
              driver.name(), driver.version());
    auto outcome =
        run_extraction(store, **conn, session_id, scope, stop, on_progress, &worker.reason);
    worker.set_session(nullptr);
    final_view.state = outcome.state;
    final_view.reason = outcome.reason;
    final_view.progress = outcome.progress;
    post_final();
}

void SessionManager::release_device(const std::string& device_id,
                                    const std::optional<std::string>& not_answered) {
    if (!devices_->find(device_id))
        return;  // unplugged meanwhile
    if (!not_answered)
        (void)devices_->set_state(device_id, DeviceState::ready);
    else
        (void)devices_->set_state(device_id, DeviceState::connected, *not_answered);
}

void SessionManager::finish_worker(std::uint64_t key) {
    auto it = workers_.find(key);
    if (it == workers_.end())
        return;
    if (it->second->thread.joinable())
        it->second->thread.join();
    workers_.erase(it);
}

Status SessionManager::cancel(std::int64_t session_id) {
    auto it = sessions_.find(session_id);
    if (it == sessions_.end())
        return fail(Errc::not_found, fmt::format("there is no session {}", session_id));
    if (it->second.completed)
        return fail(Errc::invalid_argument,
                    fmt::format("session {} has already ended", session_id));
    for (auto& [key, w] : workers_)
        if (w->device_id == it->second.device_id)
            w->stop(StopReason::cancelled);
    return {};
}

void SessionManager::preview(const std::string& device_id, const drivers::Scope& scope,
                             PreviewDone done) {
    auto usable = usable_device(device_id);
    if (!usable) {
        done(std::unexpected(usable.error()));
        return;
    }
    (void)devices_->set_state(device_id, DeviceState::busy, "preview");
    const auto key = next_worker_++;
    auto worker = std::make_unique<Worker>();
    worker->device_id = device_id;
    auto* w = worker.get();
    workers_[key] = std::move(worker);
    w->thread = std::jthread([this, w, key, driver = usable->driver,
                              device_copy = to_driver_device(*usable->device), scope,
                              done = std::move(done), alive = alive_](std::stop_token stop) mutable {
        Result<drivers::Preview> result = fail(Errc::internal, "preview did not run");
        std::optional<std::string> not_answered;
        auto conn = open(*driver, device_copy, *w, stop);
        if (!conn) {
            not_answered = fmt::format("could not connect: {}", conn.error().describe());
            result = std::unexpected(conn.error());
        } else {
            result = (*conn)->preview(scope);
        }
        w->set_session(nullptr);
        channel_->post([this, key, id = device_copy.id, result = std::move(result),
                        not_answered = std::move(not_answered), done = std::move(done), alive] {
            if (!*alive)
                return;
            release_device(id, not_answered);
            finish_worker(key);
            done(result);
        });
    });
}

const SessionView* SessionManager::find(std::int64_t session_id) const {
    auto it = sessions_.find(session_id);
    return it == sessions_.end() ? nullptr : &it->second;
}

std::vector<const SessionView*> SessionManager::all() const {
    std::vector<const SessionView*> out;
    for (const auto& [id, s] : sessions_)
        out.push_back(&s);
    return out;
}

void SessionManager::publish(const SessionView& view) {
    for (const auto& o : observers_)
        o(view);
}

}  // namespace exhibit::extract
