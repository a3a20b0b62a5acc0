#include "session_manager.hpp"

#include <fmt/format.h>

#include "common/log.hpp"
#include "daemon/store/free_space.hpp"
#include "drivers/adb/connection.hpp"

namespace exhibit::extract {

using devices::DeviceClass;
using devices::DeviceState;

Result<std::unique_ptr<adb::Transport>> connect_tcp_device(const devices::DeviceRecord& device) {
    std::string_view t = device.transport;
    if (!t.starts_with("tcp:"))
        return fail(Errc::unsupported, fmt::format("{} is not a network device", device.id));
    auto hostport = t.substr(4);
    auto colon = hostport.rfind(':');
    if (colon == std::string_view::npos)
        return fail(Errc::invalid_argument, "network device without a port");
    int port = std::atoi(std::string(hostport.substr(colon + 1)).c_str());
    if (port <= 0 || port > 65535)
        return fail(Errc::invalid_argument, "network device with a bad port");
    auto tcp =
        adb::TcpTransport::connect(std::string(hostport.substr(0, colon)),
                                   static_cast<std::uint16_t>(port), std::chrono::seconds(10));
    if (!tcp)
        return std::unexpected(tcp.error());
    return std::unique_ptr<adb::Transport>(std::move(*tcp));
}

namespace {
// The connection's view of a transport that the worker record also holds, so that the loop
// thread can shut it down while the worker thread reads, uses or destroys its connection.
class SharedTransport final : public adb::Transport {
  public:
    explicit SharedTransport(std::shared_ptr<adb::Transport> t) : t_(std::move(t)) {}
    Status read_exact(std::span<std::byte> buffer) override { return t_->read_exact(buffer); }
    Status write_message(std::span<const std::byte> header,
                         std::span<const std::byte> payload) override {
        return t_->write_message(header, payload);
    }
    void shutdown() override { t_->shutdown(); }
    std::string describe() const override { return t_->describe(); }
    Result<bool> wait_readable(std::chrono::milliseconds timeout) override {
        return t_->wait_readable(timeout);
    }

  private:
    std::shared_ptr<adb::Transport> t_;
};
}  // namespace

void SessionManager::Worker::stop(StopReason why) {
    StopReason expected = StopReason::none;
    reason.compare_exchange_strong(expected, why);
    thread.request_stop();
    std::lock_guard lock(mu_);
    if (transport_)
        transport_->shutdown();
}

void SessionManager::Worker::set_transport(std::shared_ptr<adb::Transport> t) {
    std::lock_guard lock(mu_);
    transport_ = std::move(t);
}

SessionManager::SessionManager(loop::LoopChannel& channel, store::Store& store,
                               devices::DeviceRegistry& devices, SessionManagerOptions options)
    : channel_(&channel), store_(&store), devices_(&devices), options_(std::move(options)) {
    if (!options_.connect)
        options_.connect = connect_tcp_device;
}

SessionManager::~SessionManager() {
    *alive_ = false;
    for (auto& [key, w] : workers_)
        w->stop(StopReason::shutdown);
    for (auto& [key, w] : workers_)
        if (w->thread.joinable())
            w->thread.join();
}

Result<const devices::DeviceRecord*> SessionManager::usable_device(const std::string& device_id) {
    const auto* device = devices_->find(device_id);
    if (!device)
        return fail(Errc::not_found, fmt::format("there is no device \"{}\"", device_id));
    if (std::ranges::find(device->classes, DeviceClass::android_adb) == device->classes.end())
        return fail(Errc::unsupported,
                    fmt::format("device {} does not offer ADB; this kiosk cannot extract it yet",
                                device_id));
    if (device->state == DeviceState::busy)
        return fail(
            Errc::exists,
            fmt::format("device {} is already busy with an extraction or preview", device_id));
    return device;
}

Result<std::unique_ptr<adb::Connection>> SessionManager::connect(
    const devices::DeviceRecord& device, Worker& worker) {
    auto opened = options_.connect(device);
    if (!opened)
        return std::unexpected(opened.error());
    std::shared_ptr<adb::Transport> shared(std::move(*opened));
    worker.set_transport(shared);
    if (worker.reason != StopReason::none)
        shared->shutdown();  // stopped while connecting
    auto transport = std::make_unique<SharedTransport>(std::move(shared));
    adb::ConnectOptions opts{.key = options_.host_key, .user_wait = options_.user_wait};
    const auto id = device.id;
    opts.on_auth_state = [this, id, alive = alive_](adb::AuthState state) {
        if (state != adb::AuthState::waiting_for_user)
            return;
        channel_->post([this, id, alive] {
            if (*alive)
                (void)devices_->set_state(
                    id, DeviceState::needs_authorisation,
                    "waiting for the person to allow this kiosk on the phone");
        });
    };
    auto conn = adb::Connection::open(std::move(transport), opts);
    if (!conn)
        worker.set_transport(nullptr);
    return conn;
}

Result<std::int64_t> SessionManager::start(const StartRequest& request) {
    auto device = usable_device(request.device_id);
    if (!device)
        return std::unexpected(device.error());
    if (auto s = store::check_free_space(options_.state_directory, options_.min_free_bytes); !s)
        return std::unexpected(s.error());
    auto spec = request.case_spec;
    spec.scope = scope_to_json(request.scope);
    auto case_id = store_->catalog().create_case(spec, request.actor);
    if (!case_id)
        return std::unexpected(case_id.error());
    const auto& d = **device;
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
    w->thread = std::jthread([this, w, key, device_copy = d, id = *session_id,
                              scope = request.scope, alive = alive_](std::stop_token stop) {
        run_session(*w, device_copy, id, scope, stop);
        channel_->post([this, key, alive] {
            if (*alive)
                finish_worker(key);
        });
    });
    publish(view);
    return *session_id;
}

void SessionManager::run_session(Worker& worker, devices::DeviceRecord device,
                                 std::int64_t session_id, drivers::Scope scope,
                                 std::stop_token stop) {
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
    auto conn = connect(device, worker);
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
    auto outcome = run_adb_session(store, **conn, session_id, scope, stop, on_progress,
                                   *options_.clock, options_.limits, &worker.reason);
    worker.set_transport(nullptr);
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

void SessionManager::device_gone(const std::string& device_id) {
    for (auto& [key, w] : workers_)
        if (w->device_id == device_id)
            w->stop(StopReason::device_gone);
}

void SessionManager::preview(const std::string& device_id, const drivers::Scope& scope,
                             PreviewDone done) {
    auto device = usable_device(device_id);
    if (!device) {
        done(std::unexpected(device.error()));
        return;
    }
    (void)devices_->set_state(device_id, DeviceState::busy, "preview");
    const auto key = next_worker_++;
    auto worker = std::make_unique<Worker>();
    worker->device_id = device_id;
    auto* w = worker.get();
    workers_[key] = std::move(worker);
    w->thread = std::jthread([this, w, key, device_copy = **device, scope, done = std::move(done),
                              alive = alive_](std::stop_token) mutable {
        Result<drivers::Preview> result = fail(Errc::internal, "preview did not run");
        std::optional<std::string> not_answered;
        auto conn = connect(device_copy, *w);
        if (!conn) {
            not_answered = fmt::format("could not connect: {}", conn.error().describe());
            result = std::unexpected(conn.error());
        } else {
            adb::AdbExtractor extractor(**conn, *options_.clock, options_.limits);
            result = extractor.preview(scope);
        }
        w->set_transport(nullptr);
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
