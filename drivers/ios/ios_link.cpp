#include "drivers/ios/ios_link.hpp"

#include <sys/socket.h>

#include <libimobiledevice/libimobiledevice.h>
#include <libimobiledevice/lockdown.h>
#include <plist/plist.h>
#include <usbmuxd.h>

#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace exhibit::ios {

namespace {

constexpr const char* kLabel = "exhibit";

std::string lockdown_text(lockdownd_error_t e) {
    switch (e) {
        case LOCKDOWN_E_PASSWORD_PROTECTED:
            return "the phone is locked (PasswordProtected)";
        case LOCKDOWN_E_PAIRING_DIALOG_RESPONSE_PENDING:
            return "the phone shows Trust This Computer (PairingDialogResponsePending)";
        case LOCKDOWN_E_USER_DENIED_PAIRING:
            return "the person tapped Don't Trust (UserDeniedPairing)";
        case LOCKDOWN_E_INVALID_HOST_ID:
            return "the phone does not know this kiosk (InvalidHostID)";
        case LOCKDOWN_E_RECEIVE_TIMEOUT:
            return "the phone's lockdown service did not answer in time";
        case LOCKDOWN_E_MUX_ERROR:
            return "the connection through usbmuxd failed";
        case LOCKDOWN_E_SSL_ERROR:
            return "the TLS session with the phone failed";
        case LOCKDOWN_E_PLIST_ERROR:
        case LOCKDOWN_E_INVALID_RESPONSE:
        case LOCKDOWN_E_DICT_ERROR:
            return "the phone's lockdown answer was malformed";
        case LOCKDOWN_E_INVALID_SERVICE:
            return "the phone does not offer the service";
        default:
            return fmt::format("lockdown error {}", static_cast<int>(e));
    }
}

Errc lockdown_errc(lockdownd_error_t e) {
    switch (e) {
        case LOCKDOWN_E_RECEIVE_TIMEOUT:
            return Errc::timeout;
        case LOCKDOWN_E_MUX_ERROR:
            return Errc::io;
        case LOCKDOWN_E_INVALID_SERVICE:
            return Errc::unsupported;
        default:
            return Errc::protocol;
    }
}

std::unexpected<Error> lockdown_fail(std::string_view what, lockdownd_error_t e) {
    return fail(lockdown_errc(e), fmt::format("{}: {}", what, lockdown_text(e)));
}

// A scalar plist node as text; nullopt for containers and data.
std::optional<std::string> node_text(plist_t node) {
    switch (plist_get_node_type(node)) {
        case PLIST_STRING: {
            char* s = nullptr;
            plist_get_string_val(node, &s);
            std::string out = s ? s : "";
            free(s);
            return out;
        }
        case PLIST_UINT: {
            std::uint64_t v = 0;
            plist_get_uint_val(node, &v);
            return std::to_string(v);
        }
        case PLIST_BOOLEAN: {
            std::uint8_t v = 0;
            plist_get_bool_val(node, &v);
            return v ? "true" : "false";
        }
        case PLIST_REAL: {
            double v = 0;
            plist_get_real_val(node, &v);
            return fmt::format("{}", v);
        }
        default:
            return std::nullopt;
    }
}

struct PlistFree {
    void operator()(plist_t p) const { plist_free(p); }
};
using PlistPtr = std::unique_ptr<void, PlistFree>;

std::map<std::string, std::string> flatten(plist_t dict) {
    std::map<std::string, std::string> out;
    if (!dict || plist_get_node_type(dict) != PLIST_DICT)
        return out;
    plist_dict_iter it = nullptr;
    plist_dict_new_iter(dict, &it);
    for (;;) {
        char* key = nullptr;
        plist_t value = nullptr;
        plist_dict_next_item(dict, it, &key, &value);
        if (!key)
            break;
        if (auto text = node_text(value))
            out.emplace(key, std::move(*text));
        free(key);
    }
    free(it);
    return out;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string udid_from_usb_serial(std::string_view serial) {
    if (serial.size() == 24)
        return fmt::format("{}-{}", serial.substr(0, 8), serial.substr(8));
    return std::string(serial);
}

// ---- AfcConnection ----

AfcConnection::AfcConnection(idevice_connection_t connection, std::chrono::milliseconds stall)
    : connection_(connection), stall_(stall) {
    idevice_connection_get_fd(connection_, &fd_);
}

AfcConnection::~AfcConnection() {
    idevice_disconnect(connection_);
}

void AfcConnection::interrupt() {
    interrupted_ = true;
    if (fd_ >= 0)
        ::shutdown(fd_, SHUT_RDWR);
}

Status AfcConnection::send_all(std::span<const std::byte> bytes) {
    while (!bytes.empty()) {
        if (interrupted_)
            return fail(Errc::cancelled, "the phone's link was interrupted");
        std::uint32_t sent = 0;
        auto chunk = static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), 1u << 20));
        auto e = idevice_connection_send(connection_, reinterpret_cast<const char*>(bytes.data()),
                                         chunk, &sent);
        if (e != IDEVICE_E_SUCCESS || sent == 0) {
            broken_ = true;
            if (interrupted_)
                return fail(Errc::cancelled, "the phone's link was interrupted");
            lost_ = true;
            return fail(Errc::io, "the connection to the phone was lost while sending");
        }
        bytes = bytes.subspan(sent);
    }
    return {};
}

Status AfcConnection::receive_exact(std::span<std::byte> bytes) {
    auto last_progress = std::chrono::steady_clock::now();
    while (!bytes.empty()) {
        if (interrupted_)
            return fail(Errc::cancelled, "the phone's link was interrupted");
        std::uint32_t got = 0;
        auto want = static_cast<std::uint32_t>(std::min<std::size_t>(bytes.size(), 1u << 20));
        auto e = idevice_connection_receive_timeout(connection_, reinterpret_cast<char*>(bytes.data()),
                                                    want, &got, 500);
        if (got > 0) {
            bytes = bytes.subspan(got);
            last_progress = std::chrono::steady_clock::now();
            continue;
        }
        if (interrupted_)
            return fail(Errc::cancelled, "the phone's link was interrupted");
        if (e == IDEVICE_E_TIMEOUT || e == IDEVICE_E_SUCCESS) {
            if (std::chrono::steady_clock::now() - last_progress >= stall_) {
                broken_ = true;
                return fail(Errc::timeout,
                            fmt::format("the phone sent nothing for {} s",
                                        std::chrono::duration_cast<std::chrono::seconds>(stall_)
                                            .count()));
            }
            continue;
        }
        broken_ = true;
        lost_ = true;
        return fail(Errc::io, "the connection to the phone was lost");
    }
    return {};
}

// ---- IosLink ----

struct IosLink::Lockdown {
    lockdownd_client_t client = nullptr;
    ~Lockdown() {
        if (client)
            lockdownd_client_free(client);
    }
};

IosLink::IosLink(idevice_t device, std::string udid) : device_(device), udid_(std::move(udid)) {}

IosLink::~IosLink() {
    lockdown_.reset();
    idevice_free(device_);
}

Result<std::unique_ptr<IosLink>> IosLink::connect(const std::string& udid,
                                                  std::chrono::milliseconds appear,
                                                  std::stop_token stop) {
    const auto deadline = std::chrono::steady_clock::now() + appear;
    std::mutex m;
    std::condition_variable_any cv;
    for (;;) {
        usbmuxd_device_info_t info{};
        // 1: listed; 0: usbmuxd answered without it; below 0: usbmuxd did not answer (no
        // socket, or no reply within libusbmuxd's own wait, about 10 s).
        const int listed = usbmuxd_get_device(udid.c_str(), &info, DEVICE_LOOKUP_USBMUX);
        if (listed > 0) {
            idevice_t device = nullptr;
            if (idevice_new_with_options(&device, udid.c_str(), IDEVICE_LOOKUP_USBMUX) ==
                IDEVICE_E_SUCCESS)
                return std::unique_ptr<IosLink>(new IosLink(device, udid));
        }
        if (std::chrono::steady_clock::now() >= deadline)
            return fail(Errc::not_found,
                        listed < 0
                            ? fmt::format("usbmuxd did not answer when asked for the iPhone {}: "
                                          "it is not running, or it stopped serving after an "
                                          "iPhone was pulled out during a copy (usbmuxd 1.1.1; "
                                          "restarting usbmuxd brings it back)",
                                          udid)
                            : fmt::format("usbmuxd does not list the iPhone {}", udid));
        std::unique_lock lock(m);
        cv.wait_for(lock, stop, std::chrono::milliseconds(200), [] { return false; });
        if (stop.stop_requested())
            return fail(Errc::cancelled, "stopped while waiting for usbmuxd to list the iPhone");
    }
}

Result<std::map<std::string, std::string>> IosLink::public_values() {
    lockdownd_client_t client = nullptr;
    if (auto e = lockdownd_client_new(device_, &client, kLabel); e != LOCKDOWN_E_SUCCESS)
        return lockdown_fail("reaching the phone's lockdown service", e);
    Lockdown guard{client};
    plist_t all = nullptr;
    auto e = lockdownd_get_value(client, nullptr, nullptr, &all);
    PlistPtr keep(all);
    if (e != LOCKDOWN_E_SUCCESS)
        return lockdown_fail("reading the phone's identity", e);
    return flatten(all);
}

Result<Trust> IosLink::try_session() {
    if (interrupted_)
        return fail(Errc::cancelled, "the phone's link was interrupted");
    lockdownd_client_t client = nullptr;
    auto e = lockdownd_client_new_with_handshake(device_, &client, kLabel);
    if (e != LOCKDOWN_E_SUCCESS && client) {
        lockdownd_client_free(client);
        client = nullptr;
    }
    switch (e) {
        case LOCKDOWN_E_SUCCESS:
            lockdown_ = std::make_unique<Lockdown>();
            lockdown_->client = client;
            return Trust::trusted;
        case LOCKDOWN_E_PASSWORD_PROTECTED:
            return Trust::locked;
        case LOCKDOWN_E_PAIRING_DIALOG_RESPONSE_PENDING:
            return Trust::pending;
        case LOCKDOWN_E_USER_DENIED_PAIRING:
            return Trust::refused;
        default:
            return lockdown_fail("starting a session with the phone", e);
    }
}

Result<IosLink::Values> IosLink::values() {
    if (!lockdown_)
        return fail(Errc::internal, "no session with the phone");
    const auto before = now_ms();
    plist_t all = nullptr;
    auto e = lockdownd_get_value(lockdown_->client, nullptr, nullptr, &all);
    const auto after = now_ms();
    PlistPtr keep(all);
    if (e != LOCKDOWN_E_SUCCESS)
        return lockdown_fail("reading the phone's values", e);
    Values v{.values = flatten(all), .clock_offset_ms = std::nullopt};
    if (plist_t t = plist_dict_get_item(all, "TimeIntervalSince1970");
        t && plist_get_node_type(t) == PLIST_REAL) {
        double seconds = 0;
        plist_get_real_val(t, &seconds);
        v.clock_offset_ms = static_cast<std::int64_t>(seconds * 1000.0) - (before + after) / 2;
    }
    return v;
}

Result<std::unique_ptr<AfcConnection>> IosLink::start_afc(std::chrono::milliseconds stall) {
    if (!lockdown_)
        return fail(Errc::internal, "no session with the phone");
    lockdownd_service_descriptor_t service = nullptr;
    auto e = lockdownd_start_service(lockdown_->client, "com.apple.afc", &service);
    if (e != LOCKDOWN_E_SUCCESS)
        return lockdown_fail("starting the phone's file service (com.apple.afc)", e);
    const std::uint16_t port = service->port;
    const bool ssl = service->ssl_enabled != 0;
    lockdownd_service_descriptor_free(service);
    idevice_connection_t connection = nullptr;
    if (idevice_connect(device_, port, &connection) != IDEVICE_E_SUCCESS)
        return fail(Errc::io, fmt::format("connecting to the phone's file service on port {}",
                                          port));
    if (ssl && idevice_connection_enable_ssl(connection) != IDEVICE_E_SUCCESS) {
        idevice_disconnect(connection);
        return fail(Errc::protocol, "the TLS handshake with the phone's file service failed");
    }
    // The session's lockdown connection is not needed any more: the phone closes idle ones.
    end_lockdown();
    return std::make_unique<AfcConnection>(connection, stall);
}

void IosLink::end_lockdown() {
    lockdown_.reset();  // libimobiledevice stops the session and says goodbye
}

bool IosLink::paired() const {
    char* record = nullptr;
    uint32_t size = 0;
    if (usbmuxd_read_pair_record(udid_.c_str(), &record, &size) != 0)
        return false;
    std::free(record);
    return true;
}

Status IosLink::forget_pairing() {
    end_lockdown();
    Status result;
    lockdownd_client_t client = nullptr;
    if (auto e = lockdownd_client_new(device_, &client, kLabel); e == LOCKDOWN_E_SUCCESS) {
        Lockdown guard{client};
        if (auto u = lockdownd_unpair(client, nullptr); u != LOCKDOWN_E_SUCCESS)
            result = lockdown_fail("removing the kiosk's pairing from the phone", u);
    } else {
        result = lockdown_fail("reaching the phone to remove the kiosk's pairing", e);
    }
    // The kiosk's half of the pairing goes whatever the phone said (it may be unplugged).
    usbmuxd_delete_pair_record(udid_.c_str());
    return result;
}

void IosLink::forget_kiosk_half(bool in_background) {
    end_lockdown();
    if (!in_background) {
        usbmuxd_delete_pair_record(udid_.c_str());
        return;
    }
    forget_pair_record_in_background(udid_);
}

void forget_pair_record_in_background(std::string udid) {
    // The thread holds its own copy of the UDID and nothing of its caller.
    std::thread([udid = std::move(udid)] { usbmuxd_delete_pair_record(udid.c_str()); }).detach();
}

void IosLink::interrupt() {
    interrupted_ = true;
}

}  // namespace exhibit::ios
