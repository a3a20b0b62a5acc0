#include "watch.hpp"

#include <cstring>

#include <fmt/format.h>

namespace exhibit::ctl {

Outcome<std::unique_ptr<Watch>> Watch::start(BusClient& bus, std::string path_namespace,
                                             std::string iface) {
    std::unique_ptr<Watch> watch(new Watch(bus, std::move(path_namespace), std::move(iface)));
    auto owner = bus.daemon_owner();
    if (!owner)
        return std::unexpected(owner.error());
    watch->owner_ = *owner;
    if (auto s = watch->subscribe(); !s)
        return std::unexpected(s.error());
    return watch;
}

Done Watch::subscribe() {
    const std::string rules[] = {
        fmt::format("type='signal',sender='org.exhibit.Exhibit1',path_namespace='{}',"
                    "interface='org.freedesktop.DBus.Properties',member='PropertiesChanged',"
                    "arg0='{}'",
                    namespace_, iface_),
        fmt::format("type='signal',sender='org.exhibit.Exhibit1',path_namespace='{}',"
                    "interface='{}',member='Completed'",
                    namespace_, iface_),
        "type='signal',sender='org.freedesktop.DBus',path='/org/freedesktop/DBus',"
        "interface='org.freedesktop.DBus',member='NameOwnerChanged',arg0='org.exhibit.Exhibit1'",
    };
    sd_bus_message_handler_t handlers[] = {on_properties, on_completed, on_owner};
    for (std::size_t i = 0; i < std::size(rules); ++i) {
        sd_bus_slot* slot = nullptr;
        int r = sd_bus_add_match(bus_->get(), &slot, rules[i].c_str(), handlers[i], this);
        if (r < 0)
            return failure(
                Exit::unreachable,
                fmt::format("cannot subscribe to exhibitd's signals: {}", std::strerror(-r)));
        slots_.emplace_back(slot);
    }
    return {};
}

Done Watch::follow(const std::string& path) {
    path_ = path;
    auto props = bus_->get_all(path, iface_.c_str(), &base_cookie_);
    if (!props)
        return std::unexpected(props.error());
    properties_ = std::move(*props);
    for (const auto& change : early_changes_[path])
        if (change.cookie > base_cookie_)
            merge(properties_, change.values);
    early_changes_.clear();
    if (auto it = early_completions_.find(path); it != early_completions_.end())
        completion_ = it->second;
    early_completions_.clear();
    if (on_update_)
        on_update_();
    return {};
}

bool Watch::from_daemon(sd_bus_message* m) const {
    const char* sender = sd_bus_message_get_sender(m);
    return sender && owner_ == sender;
}

void Watch::properties_changed(sd_bus_message* m) {
    if (!from_daemon(m))
        return;
    const char* path = sd_bus_message_get_path(m);
    const char* iface = nullptr;
    if (!path || sd_bus_message_read_basic(m, 's', &iface) < 0 || !iface || iface_ != iface)
        return;
    auto changed = read_dict(m);
    if (!changed)
        return;
    std::uint64_t cookie = 0;
    (void)sd_bus_message_get_cookie(m, &cookie);
    if (path_.empty()) {
        early_changes_[path].push_back({cookie, std::move(*changed)});
        return;
    }
    if (path_ != path || cookie <= base_cookie_)
        return;
    merge(properties_, *changed);
    if (on_update_)
        on_update_();
}

void Watch::completed(sd_bus_message* m) {
    if (!from_daemon(m))
        return;
    const char* path = sd_bus_message_get_path(m);
    const char* state = nullptr;
    const char* reason = nullptr;
    if (!path || sd_bus_message_read(m, "ss", &state, &reason) < 0)
        return;
    Completion c{state ? state : "", reason ? reason : ""};
    if (path_.empty())
        early_completions_.emplace(path, std::move(c));
    else if (path_ == path && !completion_)
        completion_ = std::move(c);
}

void Watch::owner_changed(sd_bus_message* m) {
    const char* name = nullptr;
    const char* old_owner = nullptr;
    const char* new_owner = nullptr;
    if (sd_bus_message_read(m, "sss", &name, &old_owner, &new_owner) < 0)
        return;
    if (name && std::strcmp(name, "org.exhibit.Exhibit1") == 0 && old_owner && owner_ == old_owner)
        gone_ = true;
}

int Watch::on_properties(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    try {
        static_cast<Watch*>(userdata)->properties_changed(m);
    } catch (...) {
    }
    return 0;
}

int Watch::on_completed(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    try {
        static_cast<Watch*>(userdata)->completed(m);
    } catch (...) {
    }
    return 0;
}

int Watch::on_owner(sd_bus_message* m, void* userdata, sd_bus_error*) noexcept {
    try {
        static_cast<Watch*>(userdata)->owner_changed(m);
    } catch (...) {
    }
    return 0;
}

}  // namespace exhibit::ctl
