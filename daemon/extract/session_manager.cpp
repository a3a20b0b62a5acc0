// The loop side of the session manager: device links, requests, cancellation, the views
// clients follow. What the workers run is in session_workers.cpp.
#include "daemon/extract/session_manager.hpp"

#include <algorithm>

#include <fmt/format.h>

#include <exhibit/version.hpp>

#include "common/log.hpp"
#include "daemon/extract/message_ids.hpp"
#include "daemon/store/free_space.hpp"

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
    // Devices that were there before the manager: contacted now.
    for (const auto* d : devices_->all())
        device_changed(*d, devices::DeviceChange::added);
}

std::vector<std::string> SessionManager::stop_workers() {
    *alive_ = false;  // what the workers post from here on is dropped
    for (auto& [key, w] : workers_)
        w->stop(StopReason::shutdown);
    const auto deadline = std::chrono::steady_clock::now() + options_.stop_grace;
    std::vector<std::string> stuck;
    for (auto& [key, w] : workers_) {
        while (!w->finished && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        if (w->finished) {
            w->thread.join();
            continue;
        }
        // Still inside its driver: left running, with the Worker it uses, until the process
        // ends. Joining would wait for the driver; destroying would free what it uses.
        stuck.push_back(w->device_id);
        w->thread.detach();
        (void)w.release();
    }
    workers_.clear();
    workers_stopped_ = true;
    return stuck;
}

SessionManager::~SessionManager() {
    devices_->unsubscribe(subscription_);
    if (!workers_stopped_)
        (void)stop_workers();
    const Error stopped{Errc::cancelled, "exhibitd stopped", 0};
    for (auto& [id, link] : links_) {
        if (link.waiting)  // no answer for a preview: the bus is gone already
            end_unstarted(*link.waiting, store::SessionState::interrupted,
                          "interrupted: exhibitd stopped", stopped, /*silent=*/true);
        if (link.idle)
            link.idle->interrupt();
    }
}

void SessionManager::device_changed(const devices::DeviceRecord& record,
                                    devices::DeviceChange change) {
    if (change == devices::DeviceChange::added) {
        const auto* driver = drivers_->find(record.functions);
        if (driver && record.state != DeviceState::unsupported)
            start_contact(record, *driver);
        return;
    }
    if (change != devices::DeviceChange::removed)
        return;
    // Unplugged, or taken out of the configuration: its session ends "interrupted: device
    // disconnected", its first contact stops, its kept link closes.
    for (auto& [key, w] : workers_)
        if (w->device_id == record.id)
            w->stop(StopReason::device_gone);
    auto it = links_.find(record.id);
    if (it == links_.end())
        return;
    auto link = std::move(it->second);
    links_.erase(it);  // workers still running find no link and drop what they bring
    if (link.waiting)
        end_unstarted(*link.waiting, store::SessionState::interrupted,
                      "interrupted: device disconnected",
                      Error{Errc::io, std::string(drivers::kDeviceDisconnected), 0});
    if (link.idle)
        link.idle->interrupt();
}

const drivers::Driver* SessionManager::driver_for(const std::string& device_id) const {
    const auto* device = devices_->find(device_id);
    return device ? drivers_->find(device->functions) : nullptr;
}

Result<SessionManager::Usable> SessionManager::usable_device(const std::string& device_id,
                                                             const drivers::Scope& scope) {
    const auto* device = devices_->find(device_id);
    if (!device)
        return fail(Errc::not_found, fmt::format("there is no device \"{}\"", device_id));
    const auto* driver = drivers_->find(device->functions);
    if (!driver)
        return fail(Errc::unsupported,
                    fmt::format("device {} cannot be extracted by this kiosk{}", device_id,
                                device->detail.empty() ? "" : ": " + device->detail));
    // A category the family cannot take is refused here, saying why, rather than found
    // missing from the receipt.
    for (auto c : scope.categories)
        if (std::ranges::find(driver->categories(), c) == driver->categories().end())
            return fail(Errc::invalid_argument,
                        fmt::format("device {} cannot give {}: {}", device_id,
                                    drivers::to_string(c), driver->categories_note()));
    if (auto it = links_.find(device_id); it != links_.end() && it->second.busy())
        return fail(
            Errc::exists,
            fmt::format("device {} is already busy with an extraction or preview", device_id));
    return Usable{device, driver};
}

void SessionManager::start_contact(const devices::DeviceRecord& record,
                                   const drivers::Driver& driver) {
    auto& link = links_[record.id];
    if (link.contact || link.job || link.idle)
        return;
    const auto key = next_worker_++;
    auto worker = std::make_unique<Worker>();
    worker->device_id = record.id;
    worker->device_class = devices::classes_text(record);
    auto* w = worker.get();
    workers_[key] = std::move(worker);
    link.contact = key;
    w->thread = std::jthread([this, w, key, driver = &driver, device = to_driver_device(record),
                              alive = alive_](std::stop_token stop) {
        auto opened = open(*driver, device, *w, stop);
        w->set_session(nullptr);
        const auto settled = opened ? Settled{} : not_opened(opened.error(), w->reason.load());
        channel_->post([this, key, id = device.id, opened, settled, alive] {
            if (*alive)
                contacted(key, id, opened, settled);
        });
        w->finished = true;
    });
}

void SessionManager::contacted(std::uint64_t key, const std::string& device_id,
                               Result<std::shared_ptr<drivers::DriverSession>> opened,
                               Settled settled) {
    finish_worker(key);
    auto it = links_.find(device_id);
    const auto* record = devices_->find(device_id);
    if (it == links_.end() || !record)
        return;  // the device left meanwhile: what was opened closes here
    auto& link = it->second;
    link.contact = 0;
    if (opened && !(*opened)->reusable())
        opened = fail(Errc::cancelled, "the link closed as it opened");
    if (!opened) {
        log::event(log::Level::info, message_id::kLinkFailed,
                   fmt::format("device {}: {}", device_id, opened.error().describe()),
                   {log::field::device(device_id),
                    log::field::device_class(devices::classes_text(*record)),
                    log::field::error_class(opened.error())});
        settle(device_id, settled);
        if (link.waiting) {
            auto job = std::move(*link.waiting);
            link.waiting.reset();
            end_unstarted(job, store::SessionState::interrupted,
                          not_connected_reason(opened.error()), opened.error());
        }
        return;
    }
    if (link.waiting) {
        auto job = std::move(*link.waiting);
        link.waiting.reset();
        const auto* driver = drivers_->find(record->functions);
        start_job(*record, *driver, link, std::move(job), std::move(*opened));
        return;
    }
    link.idle = std::move(*opened);
    settle(device_id, settled);
}

void SessionManager::dispatch(const Usable& usable, Job job) {
    const auto& record = *usable.device;
    auto& link = links_[record.id];
    if (link.idle) {
        start_job(record, *usable.driver, link, std::move(job), std::move(link.idle));
        return;
    }
    if (link.contact) {
        // The first contact is still opening the device: the job takes its link when it is
        // open. The person may be looking at the phone's prompt: that state stays shown.
        if (record.state != DeviceState::needs_authorisation && record.state != DeviceState::locked)
            (void)devices_->set_state(record.id, DeviceState::busy,
                                      job.session_id ? "extracting" : "preview");
        link.waiting = std::move(job);
        return;
    }
    start_job(record, *usable.driver, link, std::move(job), nullptr);
}

void SessionManager::start_job(const devices::DeviceRecord& record, const drivers::Driver& driver,
                               Link& link, Job job,
                               std::shared_ptr<drivers::DriverSession> session) {
    const auto key = next_worker_++;
    auto worker = std::make_unique<Worker>();
    worker->device_id = record.id;
    worker->device_class = devices::classes_text(record);
    worker->session_id = job.session_id;
    auto* w = worker.get();
    workers_[key] = std::move(worker);
    link.job = key;
    (void)devices_->set_state(record.id, DeviceState::busy,
                              job.session_id ? "extracting" : "preview");
    w->thread = std::jthread([this, w, key, driver = &driver, device = to_driver_device(record),
                              job = std::move(job), session = std::move(session),
                              alive = alive_](std::stop_token stop) mutable {
        auto end = job.session_id
                       ? run_session(*w, *driver, device, job.session_id, job.scope,
                                     std::move(session), stop)
                       : run_preview(*w, *driver, device, job.scope, std::move(session), stop);
        channel_->post([this, key, id = device.id, job = std::move(job), end = std::move(end),
                        alive]() mutable {
            if (*alive)
                job_done(key, id, std::move(job), std::move(end));
        });
        w->finished = true;
    });
}

void SessionManager::job_done(std::uint64_t key, const std::string& device_id, Job job,
                              JobEnd end) {
    finish_worker(key);
    if (end.session) {
        auto& s = sessions_[end.session->id];
        auto rate = s.rate_bytes_per_second;
        s = *end.session;
        s.rate_bytes_per_second = rate;
        publish(s);
    }
    auto it = links_.find(device_id);
    if (it != links_.end() && devices_->find(device_id)) {
        it->second.job = 0;
        it->second.idle = std::move(end.keep);
        settle(device_id, end.device);
    }
    if (end.preview && job.done)
        job.done(std::move(*end.preview));
}

void SessionManager::end_unstarted(Job& job, store::SessionState state, const std::string& reason,
                                   const Error& error, bool silent) {
    if (!job.session_id) {
        if (job.done && !silent)
            job.done(std::unexpected(error));
        return;
    }
    if (auto s = store_->catalog().set_session_state(job.session_id, state, reason, "exhibitd"); !s)
        log::event(log::Level::error, message_id::kSessionNotRecorded,
                   fmt::format("session {}: cannot record its end: {}", job.session_id,
                               s.error().describe()),
                   {log::field::session(job.session_id),
                    {"EXHIBIT_SESSION_STATE", std::string(store::to_string(state))},
                    log::field::error_class(s.error())});
    auto& view = sessions_[job.session_id];
    view.state = state;
    view.reason = reason;
    view.completed = true;
    if (!silent)
        publish(view);
}

void SessionManager::settle(const std::string& device_id, const Settled& settled) {
    if (devices_->find(device_id))
        (void)devices_->set_state(device_id, settled.state, settled.detail);
}

void SessionManager::finish_worker(std::uint64_t key) {
    auto it = workers_.find(key);
    if (it == workers_.end())
        return;
    if (it->second->thread.joinable())
        it->second->thread.join();
    workers_.erase(it);
}

nlohmann::json extraction_method(const drivers::Driver& driver,
                                 std::span<const drivers::Function> device_functions,
                                 const nlohmann::json& configuration) {
    nlohmann::json served = nullptr;
    for (const auto& f : device_functions)
        if (std::ranges::find(driver.serves(), f) != driver.serves().end()) {
            served = f.name;
            break;
        }
    return {{"software", {{"name", "exhibit"}, {"version", kVersion}}},
            {"driver",
             {{"name", driver.name()}, {"version", driver.version()}, {"function", served}}},
            {"configuration", configuration}};
}

Result<std::int64_t> SessionManager::start(const StartRequest& request) {
    auto usable = usable_device(request.device_id, request.scope);
    if (!usable)
        return std::unexpected(usable.error());
    if (auto s = store::check_free_space(options_.state_directory, options_.min_free_bytes); !s)
        return std::unexpected(s.error());
    auto spec = request.case_spec;
    spec.scope = scope_to_json(request.scope);
    auto case_id = store_->catalog().create_case(spec, request.actor);
    if (!case_id)
        return std::unexpected(case_id.error());
    const auto& d = *usable->device;
    nlohmann::json identity = {{"transport", d.transport},
                               {"serial", d.identity.serial},
                               {"manufacturer", d.identity.manufacturer},
                               {"product", d.identity.product}};
    auto session_id = store_->catalog().create_session(
        *case_id, identity,
        d.identity.serial.empty() ? std::nullopt : std::optional(d.identity.serial),
        request.priority, request.actor,
        extraction_method(*usable->driver, d.functions, options_.method_configuration));
    if (!session_id)
        return std::unexpected(session_id.error());

    SessionView view{.id = *session_id, .device_id = d.id};
    sessions_[*session_id] = view;
    dispatch(*usable, Job{.scope = request.scope, .session_id = *session_id});
    publish(view);
    return *session_id;
}

void SessionManager::preview(const std::string& device_id, const drivers::Scope& scope,
                             PreviewDone done) {
    auto usable = usable_device(device_id, scope);
    if (!usable) {
        done(std::unexpected(usable.error()));
        return;
    }
    dispatch(*usable, Job{.scope = scope, .done = std::move(done)});
}

Status SessionManager::cancel(std::int64_t session_id) {
    auto it = sessions_.find(session_id);
    if (it == sessions_.end())
        return fail(Errc::not_found, fmt::format("there is no session {}", session_id));
    if (it->second.completed)
        return fail(Errc::invalid_argument,
                    fmt::format("session {} has already ended", session_id));
    const auto& device_id = it->second.device_id;
    if (auto l = links_.find(device_id);
        l != links_.end() && l->second.waiting && l->second.waiting->session_id == session_id) {
        // Still waiting for the device's first contact, which goes on for the next request.
        l->second.waiting.reset();
        Job job{.session_id = session_id};
        end_unstarted(job, store::SessionState::cancelled, "cancelled",
                      Error{Errc::cancelled, "cancelled", 0});
        if (const auto* d = devices_->find(device_id); d && d->state == DeviceState::busy)
            (void)devices_->set_state(device_id, DeviceState::connected);
        return {};
    }
    for (auto& [key, w] : workers_)
        if (w->session_id == session_id)
            w->stop(StopReason::cancelled);
    return {};
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
