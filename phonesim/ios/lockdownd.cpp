#include "phonesim/ios/lockdownd.hpp"

#include <openssl/rand.h>

#include <array>
#include <cstdio>

namespace exhibit::phonesim::ios {

namespace {

constexpr char kLockdownType[] = "com.apple.mobile.lockdown";

// Keys real devices answer before a session (ideviceinfo -s).
constexpr const char* kBasicKeys[] = {
    "BuildVersion",   "DeviceClass", "DeviceName",   "DevicePublicKey",
    "HardwareModel",  "ProductName", "ProductType",  "ProductVersion",
    "UniqueDeviceID", "WiFiAddress", "HostAttached", "ActivationState",
};

std::string random_uuid() {
    std::array<unsigned char, 16> r{};
    RAND_bytes(r.data(), static_cast<int>(r.size()));
    char text[37];
    std::snprintf(text, sizeof text,
                  "%02X%02X%02X%02X-%02X%02X-%02X%02X-%02X%02X-%02X%02X%02X%02X%02X%02X", r[0],
                  r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13],
                  r[14], r[15]);
    return text;
}

void set_error(plist_t reply, std::string_view error) {
    set_string(reply, "Error", error);
}

// The few domains ideviceinfo -q asks for; any other domain is an empty dictionary.
PlistPtr domain_values(std::string_view domain) {
    PlistPtr values(plist_new_dict());
    if (domain == "com.apple.disk_usage") {
        set_uint(values.get(), "TotalDiskCapacity", 128ull << 30);
        set_uint(values.get(), "TotalDataCapacity", 110ull << 30);
        set_uint(values.get(), "AmountDataAvailable", 60ull << 30);
    } else if (domain == "com.apple.mobile.battery") {
        set_uint(values.get(), "BatteryCurrentCapacity", 80);
        set_bool(values.get(), "BatteryIsCharging", false);
    }
    return values;
}

}  // namespace

PlistPtr lockdown_values(const IosDevice& device, bool in_session) {
    const auto& id = device.settings().identity;
    PlistPtr all(plist_new_dict());
    plist_t v = all.get();
    set_string(v, "ActivationState", "Activated");
    set_string(v, "BuildVersion", id.build_version);
    set_string(v, "CPUArchitecture", "arm64e");
    set_string(v, "DeviceClass", "iPhone");
    set_string(v, "DeviceColor", "1");
    set_string(v, "DeviceName", id.device_name);
    set_data(v, "DevicePublicKey", as_bytes(device.keys().public_key_pem()));
    set_string(v, "HardwareModel", id.hardware_model);
    set_bool(v, "HostAttached", true);
    set_bool(v, "PasswordProtected", device.trust_state() == TrustState::locked);
    set_string(v, "ProductName", "iPhone OS");
    set_string(v, "ProductType", id.product_type);
    set_string(v, "ProductVersion", id.product_version);
    set_string(v, "SerialNumber", id.serial_number);
    set_string(v, "TimeZone", "Europe/London");
    set_string(v, "UniqueDeviceID", id.unique_device_id);
    set_string(v, "WiFiAddress", id.wifi_address);
    if (in_session)
        return all;
    PlistPtr basic(plist_new_dict());
    for (const char* key : kBasicKeys)
        if (plist_t item = plist_dict_get_item(v, key))
            plist_dict_set_item(basic.get(), key, plist_copy(item));
    return basic;
}

void Lockdownd::run() {
    for (;;) {
        auto message = read_lockdown_message(current());
        if (!message || !*message)
            return;
        plist_t request = (*message)->get();
        auto name = dict_string(request, "Request");
        PlistPtr reply(plist_new_dict());
        if (!name) {
            set_error(reply.get(), "InvalidRequest");
            (void)write_lockdown_message(current(), reply.get());
            continue;
        }
        set_string(reply.get(), "Request", *name);
        if (*name == "GetValue" && device_.settings().hostile.malformed_lockdown_reply) {
            constexpr std::string_view garbage = "<?xml version=\"1.0\"?><plist><dict><key>Va";
            if (!write_lockdown_raw(current(), as_bytes(garbage)))
                return;
            continue;
        }
        After after = handle(request, *name, reply.get());
        if (!write_lockdown_message(current(), reply.get()))
            return;
        switch (after) {
            case After::go_on:
                break;
            case After::close:
                return;
            case After::start_tls: {
                auto tls = TlsStream::accept(device_.tls(), plain_);
                if (!tls)
                    return;
                tls_ = std::move(*tls);
                break;
            }
            case After::stop_tls:
                if (!tls_->take_close_notify())
                    return;
                tls_.reset();
                session_id_.clear();
                break;
        }
    }
}

Lockdownd::After Lockdownd::handle(plist_t request, const std::string& name, plist_t reply) {
    if (name == "QueryType") {
        set_string(reply, "Type", kLockdownType);
    } else if (name == "GetValue") {
        get_value(request, reply);
    } else if (name == "SetValue") {
        auto key = dict_string(request, "Key");
        if (key != "UntrustedHostBUID")
            set_error(reply, "SetProhibited");
    } else if (name == "Pair") {
        pair(request, reply);
    } else if (name == "ValidatePair") {
        validate_pair(request, reply);
    } else if (name == "Unpair") {
        unpair(request, reply);
    } else if (name == "StartSession") {
        return start_session(request, reply);
    } else if (name == "StopSession") {
        if (!tls_) {
            set_error(reply, "SessionInactive");
            return After::go_on;
        }
        return After::stop_tls;
    } else if (name == "StartService") {
        start_service(request, reply);
    } else if (name == "Goodbye") {
        set_string(reply, "Result", "Success");
        return After::close;
    } else {
        set_error(reply, "InvalidRequest");
    }
    return After::go_on;
}

void Lockdownd::get_value(plist_t request, plist_t reply) {
    auto domain = dict_string(request, "Domain");
    auto key = dict_string(request, "Key");
    if (domain)
        set_string(reply, "Domain", *domain);
    if (key)
        set_string(reply, "Key", *key);
    PlistPtr values = domain && !domain->empty() ? domain_values(*domain)
                                                 : lockdown_values(device_, tls_ != nullptr);
    if (!key) {
        plist_dict_set_item(reply, "Value", values.release());
        return;
    }
    plist_t item = plist_dict_get_item(values.get(), key->c_str());
    if (!item) {
        set_error(reply, "MissingValue");
        return;
    }
    plist_dict_set_item(reply, "Value", plist_copy(item));
}

void Lockdownd::pair(plist_t request, plist_t reply) {
    plist_t record = dict_dict(request, "PairRecord");
    auto host_id = record ? dict_string(record, "HostID") : std::nullopt;
    auto device_cert = record ? dict_data(record, "DeviceCertificate") : std::nullopt;
    auto root_cert = record ? dict_data(record, "RootCertificate") : std::nullopt;
    if (!host_id || !device_cert || !root_cert) {
        set_error(reply, "InvalidPairRecord");
        return;
    }
    if (device_.trust_state() == TrustState::locked) {
        set_error(reply, kPasswordProtected);
        return;
    }
    auto to_view = [](const std::vector<std::byte>& b) {
        return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
    };
    if (!device_.keys().check_pair_certificates(to_view(*device_cert), to_view(*root_cert))) {
        set_error(reply, "InvalidPairRecord");
        return;
    }
    Pairing pairing{*host_id, dict_string(record, "SystemBUID").value_or("")};
    if (auto refused = device_.trust_book().pair(pairing)) {
        set_error(reply, *refused);
        return;
    }
    std::array<std::byte, 32> escrow{};
    RAND_bytes(reinterpret_cast<unsigned char*>(escrow.data()), static_cast<int>(escrow.size()));
    set_data(reply, "EscrowBag", escrow);
}

void Lockdownd::validate_pair(plist_t request, plist_t reply) {
    plist_t record = dict_dict(request, "PairRecord");
    auto host_id = record ? dict_string(record, "HostID") : std::nullopt;
    if (!host_id) {
        set_error(reply, "InvalidPairRecord");
        return;
    }
    if (auto refused = device_.trust_book().admit(*host_id))
        set_error(reply, *refused);
}

void Lockdownd::unpair(plist_t request, plist_t reply) {
    plist_t record = dict_dict(request, "PairRecord");
    auto host_id = record ? dict_string(record, "HostID") : std::nullopt;
    if (!host_id) {
        set_error(reply, "InvalidPairRecord");
        return;
    }
    if (!device_.trust_book().unpair(*host_id))
        set_error(reply, kInvalidHostId);
}

Lockdownd::After Lockdownd::start_session(plist_t request, plist_t reply) {
    auto host_id = dict_string(request, "HostID");
    if (!host_id) {
        set_error(reply, "InvalidHostID");
        return After::go_on;
    }
    if (tls_) {
        set_error(reply, "SessionActive");
        return After::go_on;
    }
    if (auto refused = device_.trust_book().admit(*host_id)) {
        set_error(reply, *refused);
        return After::go_on;
    }
    session_id_ = random_uuid();
    set_string(reply, "SessionID", session_id_);
    set_bool(reply, "EnableSessionSSL", true);
    return After::start_tls;
}

void Lockdownd::start_service(plist_t request, plist_t reply) {
    auto service = dict_string(request, "Service");
    if (service)
        set_string(reply, "Service", *service);
    if (!tls_) {
        set_error(reply, "SessionInactive");
        return;
    }
    std::optional<IosService> kind;
    if (service == "com.apple.afc")
        kind = IosService::afc;
    else if (service == "com.apple.crashreportcopymobile")
        kind = IosService::crash_report_copy;
    else if (service == "com.apple.crashreportmover")
        kind = IosService::crash_report_mover;
    if (!kind) {
        set_error(reply, "InvalidService");
        return;
    }
    auto port = device_.open_service(*kind);
    if (!port) {
        set_error(reply, "ServiceLimit");
        return;
    }
    set_uint(reply, "Port", *port);
    set_bool(reply, "EnableServiceSSL", false);
}

}  // namespace exhibit::phonesim::ios
