#include "device_registry.hpp"

#include <fmt/format.h>

namespace exhibit::devices {

std::string_view to_string(DeviceState s) {
    switch (s) {
        case DeviceState::connected:
            return "connected";
        case DeviceState::needs_authorisation:
            return "needs_authorisation";
        case DeviceState::locked:
            return "locked";
        case DeviceState::unsupported:
            return "unsupported";
        case DeviceState::ready:
            return "ready";
        case DeviceState::busy:
            return "busy";
        case DeviceState::gone:
            return "gone";
    }
    return "?";
}

std::string classes_text(const DeviceRecord& r) {
    std::string s;
    for (auto c : r.classes)
        s += fmt::format("{}{}", s.empty() ? "" : ",", to_string(c));
    return s;
}

std::string_view to_string(DeviceClass c) {
    switch (c) {
        case DeviceClass::android_adb:
            return "android_adb";
        case DeviceClass::android_mtp:
            return "android_mtp";
        case DeviceClass::apple:
            return "apple";
        case DeviceClass::mass_storage:
            return "mass_storage";
        case DeviceClass::unsupported:
            return "unsupported";
    }
    return "?";
}

std::string DeviceRegistry::add(DeviceRecord record) {
    record.id = fmt::format("d{}", next_id_++);
    auto [it, inserted] = devices_.emplace(record.id, std::move(record));
    notify(it->second, DeviceChange::added);
    return it->first;
}

Status DeviceRegistry::set_state(const std::string& id, DeviceState state, std::string detail) {
    auto it = devices_.find(id);
    if (it == devices_.end())
        return fail(Errc::not_found, fmt::format("no device {}", id));
    if (it->second.state == state && it->second.detail == detail)
        return {};
    it->second.state = state;
    it->second.detail = std::move(detail);
    notify(it->second, DeviceChange::changed);
    return {};
}

Status DeviceRegistry::remove(const std::string& id) {
    auto it = devices_.find(id);
    if (it == devices_.end())
        return fail(Errc::not_found, fmt::format("no device {}", id));
    auto record = std::move(it->second);
    devices_.erase(it);
    record.state = DeviceState::gone;
    notify(record, DeviceChange::removed);
    return {};
}

const DeviceRecord* DeviceRegistry::find(const std::string& id) const {
    auto it = devices_.find(id);
    return it == devices_.end() ? nullptr : &it->second;
}

const DeviceRecord* DeviceRegistry::find_by_transport(const std::string& transport) const {
    for (const auto& [id, r] : devices_)
        if (r.transport == transport)
            return &r;
    return nullptr;
}

std::vector<const DeviceRecord*> DeviceRegistry::all() const {
    std::vector<const DeviceRecord*> out;
    for (const auto& [id, r] : devices_)
        out.push_back(&r);
    return out;
}

std::uint64_t DeviceRegistry::subscribe(Observer observer) {
    const auto id = next_subscription_++;
    observers_.emplace(id, std::move(observer));
    return id;
}

void DeviceRegistry::unsubscribe(std::uint64_t subscription) {
    observers_.erase(subscription);
}

void DeviceRegistry::notify(const DeviceRecord& r, DeviceChange change) {
    for (const auto& [id, o] : observers_)
        o(r, change);
}

}  // namespace exhibit::devices
