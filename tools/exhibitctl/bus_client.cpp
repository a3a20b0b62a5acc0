#include "bus_client.hpp"

#include <unistd.h>

#include <csignal>
#include <cstring>

#include <fmt/format.h>

namespace exhibit::ctl {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_interrupt(int) {
    g_interrupted = 1;
}

// A negative errno from sd-bus (not a D-Bus error reply) as a Failure, through the one mapping.
Failure errno_failure(int r, std::string_view what) {
    BusError e;
    sd_bus_error_set_errno(e.get(), r);
    return failure_from_bus_error(e.get()->name ? e.get()->name : "System.Error",
                                  e.get()->message ? e.get()->message : std::strerror(-r), what);
}

// A failed call: the D-Bus error it was answered with, or else its errno.
Failure call_failure(int r, const BusError& error, std::string_view what) {
    return error.is_set() ? failure_from_bus_error(error.name(), error.message(), what)
                          : errno_failure(r, what);
}

}  // namespace

void install_interrupt_handler() {
    struct sigaction sa {};
    sa.sa_handler = on_interrupt;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: the wait returns EINTR
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
}

Outcome<ValueMap> read_dict(sd_bus_message* m) {
    auto map = read_value_map(m, Reading::replies);
    if (!map)
        return std::unexpected(errno_failure(
            map.error().sys_errno != 0 ? -map.error().sys_errno : -EBADMSG, "reading a reply"));
    return std::move(*map);
}

Outcome<BusClient> BusClient::connect_remote(const std::string& spec) {
    auto host = parse_remote_host(spec);
    if (!host)
        return std::unexpected(host.error());
    auto tunnel = SshTunnel::start(*host);
    if (!tunnel)
        return std::unexpected(tunnel.error());
    sd_bus* raw = nullptr;
    int r = sd_bus_new(&raw);
    BusPtr bus(raw);
    const int fd = tunnel->take_bus_fd();
    if (r >= 0)
        r = sd_bus_set_fd(raw, fd, fd);
    if (r < 0) {
        ::close(fd);  // sd-bus owns it only once set
        return std::unexpected(errno_failure(r, "connecting over ssh"));
    }
    if ((r = sd_bus_set_bus_client(raw, 1)) >= 0 &&
        (r = sd_bus_set_description(raw, host->spec.c_str())) >= 0)
        r = sd_bus_start(raw);
    // Authentication and Hello go through ssh and the bridge: wait for them here, so that a
    // failure is explained by what ssh said, naming the host.
    const char* unique = nullptr;
    if (r >= 0)
        r = sd_bus_get_unique_name(raw, &unique);
    if (r < 0)
        return std::unexpected(tunnel->explain(r));
    return BusClient(std::move(*tunnel), std::move(bus));
}

Outcome<BusClient> BusClient::connect(const std::string& spec, const std::string& host) {
    if (!host.empty())
        return connect_remote(host);
    if (spec != "system" && spec != "session" &&
        (spec.find(':') == std::string::npos || spec.find('=') == std::string::npos))
        return failure(Exit::usage, fmt::format("--bus: \"{}\" is not system, session or a "
                                                "D-Bus address (unix:path=…)",
                                                spec));
    auto bus = open_bus(spec);
    if (!bus)
        return failure(Exit::unreachable, bus.error().message);
    return BusClient(std::move(*bus));
}

Outcome<MessagePtr> BusClient::call(const std::string& path, const char* iface, const char* member,
                                    const Append& append, std::chrono::seconds timeout) {
    sd_bus_message* raw = nullptr;
    int r = sd_bus_message_new_method_call(bus_.get(), &raw, "org.exhibit.Exhibit1", path.c_str(),
                                           iface, member);
    MessagePtr call(raw);
    if (r >= 0 && append)
        r = append(raw);
    if (r < 0)
        return std::unexpected(errno_failure(r, member));
    BusError error;
    sd_bus_message* reply = nullptr;
    const auto usec = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
    r = sd_bus_call(bus_.get(), raw, usec, error.get(), &reply);
    MessagePtr owned(reply);
    if (r < 0)
        return std::unexpected(call_failure(r, error, member));
    return owned;
}

Outcome<ValueMap> BusClient::get_all(const std::string& path, const char* iface,
                                     std::uint64_t* reply_cookie) {
    auto reply = call(path, "org.freedesktop.DBus.Properties", "GetAll",
                      [&](sd_bus_message* m) { return sd_bus_message_append(m, "s", iface); });
    if (!reply)
        return std::unexpected(reply.error());
    if (reply_cookie)
        (void)sd_bus_message_get_cookie(reply->get(), reply_cookie);
    return read_dict(reply->get());
}

Outcome<ManagedObjects> BusClient::managed_objects() {
    auto reply = call("/org/exhibit/Exhibit1", "org.freedesktop.DBus.ObjectManager",
                      "GetManagedObjects", {});
    if (!reply)
        return std::unexpected(reply.error());
    sd_bus_message* m = reply->get();
    auto bad = [](int r) { return std::unexpected(errno_failure(r, "GetManagedObjects")); };
    ManagedObjects out;
    int r = sd_bus_message_enter_container(m, 'a', "{oa{sa{sv}}}");
    if (r < 0)
        return bad(r);
    while ((r = sd_bus_message_enter_container(m, 'e', "oa{sa{sv}}")) > 0) {
        const char* path = nullptr;
        if ((r = sd_bus_message_read_basic(m, 'o', &path)) < 0 ||
            (r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}")) < 0)
            return bad(r);
        auto& ifaces = out[path ? path : ""];
        while ((r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
            const char* iface = nullptr;
            if ((r = sd_bus_message_read_basic(m, 's', &iface)) < 0)
                return bad(r);
            auto props = read_dict(m);
            if (!props)
                return std::unexpected(props.error());
            ifaces[iface ? iface : ""] = std::move(*props);
            if ((r = sd_bus_message_exit_container(m)) < 0)
                return bad(r);
        }
        if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0 ||
            (r = sd_bus_message_exit_container(m)) < 0)
            return bad(r);
    }
    if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
        return bad(r);
    return out;
}

Outcome<std::string> BusClient::daemon_owner() {
    sd_bus_message* raw = nullptr;
    BusError error;
    int r = sd_bus_call_method(bus_.get(), "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetNameOwner", error.get(), &raw, "s",
                               "org.exhibit.Exhibit1");
    MessagePtr reply(raw);
    if (r < 0)
        return std::unexpected(call_failure(r, error, "GetNameOwner"));
    const char* owner = nullptr;
    if ((r = sd_bus_message_read_basic(raw, 's', &owner)) < 0)
        return std::unexpected(errno_failure(r, "GetNameOwner"));
    return std::string(owner ? owner : "");
}

Done BusClient::run_until(const std::function<bool()>& done,
                          std::optional<std::chrono::seconds> timeout) {
    using Clock = std::chrono::steady_clock;
    const bool bounded = timeout.has_value();
    const auto deadline = Clock::now() + timeout.value_or(std::chrono::seconds(0));
    for (;;) {
        if (done())
            return {};
        if (g_interrupted)
            return failure(Exit::interrupted, "stopped waiting (interrupted); exhibitd carries on");
        int r = sd_bus_process(bus_.get(), nullptr);
        if (r < 0)
            return std::unexpected(errno_failure(r, "waiting for exhibitd"));
        if (r > 0)
            continue;
        if (done())
            return {};
        std::uint64_t usec = UINT64_MAX;
        if (bounded) {
            const auto left = deadline - Clock::now();
            if (left <= Clock::duration::zero())
                return failure(Exit::timed_out,
                               fmt::format("gave up waiting after {} s; exhibitd carries on",
                                           timeout->count()));
            usec = static_cast<std::uint64_t>(
                       std::chrono::duration_cast<std::chrono::microseconds>(left).count()) +
                   1;
        }
        r = sd_bus_wait(bus_.get(), usec);
        if (r < 0 && r != -EINTR)
            return std::unexpected(errno_failure(r, "waiting for exhibitd"));
    }
}

}  // namespace exhibit::ctl
