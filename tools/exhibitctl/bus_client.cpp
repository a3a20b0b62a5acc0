#include "bus_client.hpp"

#include <csignal>
#include <cstring>

#include <fmt/format.h>

#include "common/bus_dict.hpp"

namespace exhibit::ctl {

namespace {

volatile std::sig_atomic_t g_interrupted = 0;

extern "C" void on_interrupt(int) {
    g_interrupted = 1;
}

// The one owner of an sd_bus_error.
class ErrorHolder {
  public:
    ErrorHolder() = default;
    ~ErrorHolder() { sd_bus_error_free(&error_); }
    ErrorHolder(const ErrorHolder&) = delete;
    ErrorHolder& operator=(const ErrorHolder&) = delete;
    sd_bus_error* get() { return &error_; }

  private:
    sd_bus_error error_ = SD_BUS_ERROR_NULL;
};

// A negative errno from sd-bus (not a D-Bus error reply) as a Failure, through the one mapping.
Failure errno_failure(int r, std::string_view what) {
    ErrorHolder e;
    sd_bus_error_set_errno(e.get(), r);
    return failure_from_bus_error(e.get()->name ? e.get()->name : "System.Error",
                                  e.get()->message ? e.get()->message : std::strerror(-r), what);
}

Outcome<std::vector<std::string>> read_string_array(sd_bus_message* m, char type) {
    const char contents[2] = {type, '\0'};
    if (int r = sd_bus_message_enter_container(m, 'a', contents); r < 0)
        return std::unexpected(errno_failure(r, "reading a reply"));
    std::vector<std::string> out;
    const char* s = nullptr;
    int r;
    while ((r = sd_bus_message_read_basic(m, type, &s)) > 0)
        out.emplace_back(s ? s : "");
    if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
        return std::unexpected(errno_failure(r, "reading a reply"));
    return out;
}

struct Boolean {};  // 'b' travels as an int in sd-bus

template <class T>
Outcome<Value> read_as(sd_bus_message* m, char type) {
    using Raw = std::conditional_t<std::is_same_v<T, Boolean>, int, T>;
    Raw v{};
    if (int r = sd_bus_message_read_basic(m, type, &v); r < 0)
        return std::unexpected(errno_failure(r, "reading a reply"));
    if constexpr (std::is_same_v<T, Boolean>)
        return Value(v != 0);
    else if constexpr (std::is_same_v<T, double>)
        return Value(v);
    else if constexpr (std::is_signed_v<T>)
        return Value(static_cast<std::int64_t>(v));
    else
        return Value(static_cast<std::uint64_t>(v));
}

// The variant at the read position; nullopt for types exhibit does not use (skipped).
Outcome<std::optional<Value>> read_variant(sd_bus_message* m) {
    const char* contents = nullptr;
    int r = sd_bus_message_peek_type(m, nullptr, &contents);
    if (r < 0 || !contents)
        return std::unexpected(errno_failure(r < 0 ? r : -EBADMSG, "reading a reply"));
    const std::string sig = contents;
    if ((r = sd_bus_message_enter_container(m, 'v', sig.c_str())) < 0)
        return std::unexpected(errno_failure(r, "reading a reply"));
    Outcome<Value> value = failure(Exit::failed, "");
    bool known = true;
    if (sig == "s" || sig == "o" || sig == "g") {
        const char* s = nullptr;
        r = sd_bus_message_read_basic(m, sig[0], &s);
        value = Value(std::string(s ? s : ""));
    } else if (sig == "as" || sig == "ao") {
        auto list = read_string_array(m, sig[1]);
        value = list ? Outcome<Value>(Value(std::move(*list))) : std::unexpected(list.error());
    } else if (sig == "b") {
        value = read_as<Boolean>(m, 'b');
    } else if (sig == "y") {
        value = read_as<std::uint8_t>(m, 'y');
    } else if (sig == "q") {
        value = read_as<std::uint16_t>(m, 'q');
    } else if (sig == "u") {
        value = read_as<std::uint32_t>(m, 'u');
    } else if (sig == "t") {
        value = read_as<std::uint64_t>(m, 't');
    } else if (sig == "n") {
        value = read_as<std::int16_t>(m, 'n');
    } else if (sig == "i") {
        value = read_as<std::int32_t>(m, 'i');
    } else if (sig == "x") {
        value = read_as<std::int64_t>(m, 'x');
    } else if (sig == "d") {
        value = read_as<double>(m, 'd');
    } else {
        known = false;
        r = sd_bus_message_skip(m, sig.c_str());
    }
    if (r < 0)
        return std::unexpected(errno_failure(r, "reading a reply"));
    if (known && !value)
        return std::unexpected(value.error());
    if ((r = sd_bus_message_exit_container(m)) < 0)
        return std::unexpected(errno_failure(r, "reading a reply"));
    return known ? std::optional<Value>(std::move(*value)) : std::nullopt;
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
    if (int r = sd_bus_message_enter_container(m, 'a', "{sv}"); r < 0)
        return std::unexpected(errno_failure(r, "reading a reply"));
    ValueMap map;
    for (;;) {
        int r = sd_bus_message_enter_container(m, 'e', "sv");
        if (r < 0)
            return std::unexpected(errno_failure(r, "reading a reply"));
        if (r == 0)
            break;
        const char* key = nullptr;
        if ((r = sd_bus_message_read_basic(m, 's', &key)) < 0)
            return std::unexpected(errno_failure(r, "reading a reply"));
        auto value = read_variant(m);
        if (!value)
            return std::unexpected(value.error());
        if (*value)
            map[key ? key : ""] = std::move(**value);
        if ((r = sd_bus_message_exit_container(m)) < 0)
            return std::unexpected(errno_failure(r, "reading a reply"));
    }
    if (int r = sd_bus_message_exit_container(m); r < 0)
        return std::unexpected(errno_failure(r, "reading a reply"));
    return map;
}

int append_dict(sd_bus_message* m, const ValueMap& map) {
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    for (auto it = map.begin(); r >= 0 && it != map.end(); ++it) {
        const char* key = it->first.c_str();
        const auto& v = it->second;
        if (const auto* s = std::get_if<std::string>(&v)) {
            r = sd_bus_message_append(m, "{sv}", key, "s", s->c_str());
        } else if (const auto* b = std::get_if<bool>(&v)) {
            r = sd_bus_message_append(m, "{sv}", key, "b", static_cast<int>(*b));
        } else if (const auto* t = std::get_if<std::uint64_t>(&v)) {
            r = sd_bus_message_append(m, "{sv}", key, "t", *t);
        } else if (const auto* x = std::get_if<std::int64_t>(&v)) {
            r = sd_bus_message_append(m, "{sv}", key, "x", *x);
        } else if (const auto* d = std::get_if<double>(&v)) {
            r = sd_bus_message_append(m, "{sv}", key, "d", *d);
        } else if (const auto* l = std::get_if<std::vector<std::string>>(&v)) {
            r = append_string_list_entry(m, key, *l);
        }
    }
    return r < 0 ? r : sd_bus_message_close_container(m);
}

Outcome<BusClient> BusClient::connect(const std::string& spec) {
    sd_bus* raw = nullptr;
    int r;
    if (spec == "system") {
        r = sd_bus_open_system(&raw);
    } else if (spec == "session") {
        r = sd_bus_open_user(&raw);
    } else {
        if (spec.find(':') == std::string::npos || spec.find('=') == std::string::npos)
            return failure(Exit::usage, fmt::format("--bus: \"{}\" is not system, session or a "
                                                    "D-Bus address (unix:path=…)",
                                                    spec));
        r = sd_bus_new(&raw);
        if (r >= 0)
            r = sd_bus_set_address(raw, spec.c_str());
        if (r >= 0)
            r = sd_bus_set_bus_client(raw, 1);
        if (r >= 0)
            r = sd_bus_start(raw);
    }
    BusPtr bus(raw);
    if (r < 0)
        return failure(Exit::unreachable,
                       fmt::format("cannot connect to the {} bus: {}", spec, std::strerror(-r)));
    return BusClient(std::move(bus));
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
    ErrorHolder error;
    sd_bus_message* reply = nullptr;
    const auto usec = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(timeout).count());
    r = sd_bus_call(bus_.get(), raw, usec, error.get(), &reply);
    MessagePtr owned(reply);
    if (r < 0) {
        if (sd_bus_error_is_set(error.get()))
            return std::unexpected(failure_from_bus_error(
                error.get()->name, error.get()->message ? error.get()->message : "", member));
        return std::unexpected(errno_failure(r, member));
    }
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
    ErrorHolder error;
    int r = sd_bus_call_method(bus_.get(), "org.freedesktop.DBus", "/org/freedesktop/DBus",
                               "org.freedesktop.DBus", "GetNameOwner", error.get(), &raw, "s",
                               "org.exhibit.Exhibit1");
    MessagePtr reply(raw);
    if (r < 0)
        return std::unexpected(
            sd_bus_error_is_set(error.get())
                ? failure_from_bus_error(error.get()->name,
                                         error.get()->message ? error.get()->message : "",
                                         "GetNameOwner")
                : errno_failure(r, "GetNameOwner"));
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
