// The child's side of the iPhone family's relay (hosted_ios.hpp), linked into
// exhibit-driver-host only: libusbmuxd's calls that would open usbmuxd's socket, defined here
// so that they take the place of libusbmuxd's own for libimobiledevice and the family (the
// program exports them: ELF interposition). Each becomes a `relay` frame to exhibitd over the
// driver host's socket, answered by a `relayed` frame; a connection to the phone comes back as
// a descriptor. The calls that work on a connection already made (usbmuxd_send, _recv,
// _disconnect) stay libusbmuxd's: they read and write that descriptor.
//
// exhibitd answers one request at a time and the child asks from one thread at a time (a
// mutex); a broken answer or a closed socket is an error of the call, as usbmuxd gone would be.
#include <usbmuxd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "drivers/host/host_protocol.hpp"

namespace {

using nlohmann::json;
using exhibit::UniqueFd;
namespace host = exhibit::host;

struct Relayed {
    json answer;
    UniqueFd passed;
    int result = -EIO;  // the call's return value as exhibitd gave it
};

std::optional<Relayed> ask(const json& request) {
    static std::mutex one_at_a_time;
    std::lock_guard lock(one_at_a_time);
    if (!host::write_frame(host::kHostSocket, host::FrameType::relay, request))
        return std::nullopt;
    host::Frame frame;
    Relayed r;
    if (!host::read_frame(host::kHostSocket, frame, r.passed, std::nullopt) ||
        frame.type != host::FrameType::relayed)
        return std::nullopt;
    auto j = frame.json();
    if (!j)
        return std::nullopt;
    r.answer = std::move(*j);
    auto result = r.answer.find("result");
    if (result == r.answer.end() || !result->is_number_integer())
        return std::nullopt;
    r.result = result->get<int>();
    return r;
}

}  // namespace

extern "C" {

int usbmuxd_get_device(const char* udid, usbmuxd_device_info_t* device,
                       enum usbmux_lookup_options) {
    if (udid == nullptr || device == nullptr)
        return -EINVAL;
    auto r = ask({{"call", "get_device"}, {"udid", udid}});
    if (!r)
        return -EIO;
    if (r->result <= 0)
        return r->result;
    auto handle = host::whole_number(r->answer, "handle", UINT32_MAX);
    auto product = host::whole_number(r->answer, "product_id", UINT32_MAX);
    if (!handle || !product || std::strlen(udid) >= sizeof device->udid)
        return -EIO;
    std::memset(device, 0, sizeof *device);
    device->handle = static_cast<std::uint32_t>(*handle);
    device->product_id = static_cast<std::uint32_t>(*product);
    std::memcpy(device->udid, udid, std::strlen(udid));
    device->conn_type = CONNECTION_TYPE_USB;
    return 1;
}

int usbmuxd_get_device_by_udid(const char* udid, usbmuxd_device_info_t* device) {
    return usbmuxd_get_device(udid, device, DEVICE_LOOKUP_USBMUX);
}

int usbmuxd_connect(const uint32_t handle, const unsigned short tcp_port) {
    auto r = ask({{"call", "connect"}, {"handle", handle}, {"port", tcp_port}});
    if (!r)
        return -EIO;
    if (r->result < 0)
        return r->result;
    if (!r->passed)
        return -EIO;
    return r->passed.release();
}

int usbmuxd_read_buid(char** buid) {
    if (buid == nullptr)
        return -EINVAL;
    auto r = ask({{"call", "read_buid"}});
    if (!r)
        return -EIO;
    if (r->result != 0)
        return r->result;
    auto value = host::text_field(r->answer, "buid", 64);
    if (!value)
        return -EIO;
    *buid = ::strdup(value->c_str());
    return *buid ? 0 : -ENOMEM;
}

int usbmuxd_read_pair_record(const char* record_id, char** record_data, uint32_t* record_size) {
    if (record_id == nullptr || record_data == nullptr || record_size == nullptr)
        return -EINVAL;
    auto r = ask({{"call", "read_pair_record"}, {"udid", record_id}});
    if (!r)
        return -EIO;
    if (r->result != 0)
        return r->result;
    auto encoded = host::text_field(r->answer, "record", host::kMaxPayload);
    auto record = encoded ? exhibit::base64_decode(*encoded) : std::unexpected(encoded.error());
    if (!record || record->empty())
        return -EIO;
    auto* copy = static_cast<char*>(std::malloc(record->size()));
    if (copy == nullptr)
        return -ENOMEM;
    std::memcpy(copy, record->data(), record->size());
    *record_data = copy;
    *record_size = static_cast<uint32_t>(record->size());
    return 0;
}

int usbmuxd_save_pair_record_with_device_id(const char* record_id, uint32_t device_id,
                                            const char* record_data, uint32_t record_size) {
    if (record_id == nullptr || record_data == nullptr || record_size == 0)
        return -EINVAL;
    auto r = ask({{"call", "save_pair_record"},
                  {"udid", record_id},
                  {"device_id", device_id},
                  {"record", exhibit::base64_encode(std::as_bytes(
                                 std::span(record_data, static_cast<std::size_t>(record_size))))}});
    return r ? r->result : -EIO;
}

int usbmuxd_save_pair_record(const char* record_id, const char* record_data,
                             uint32_t record_size) {
    return usbmuxd_save_pair_record_with_device_id(record_id, 0, record_data, record_size);
}

int usbmuxd_delete_pair_record(const char* record_id) {
    if (record_id == nullptr)
        return -EINVAL;
    auto r = ask({{"call", "delete_pair_record"}, {"udid", record_id}});
    return r ? r->result : -EIO;
}

// What the child is never given: the list of every device, and usbmuxd's events.
int usbmuxd_get_device_list(usbmuxd_device_info_t** device_list) {
    if (device_list != nullptr)
        *device_list = nullptr;
    return -EPERM;
}

int usbmuxd_events_subscribe(usbmuxd_subscription_context_t*, usbmuxd_event_cb_t, void*) {
    return -EPERM;
}

int usbmuxd_subscribe(usbmuxd_event_cb_t, void*) {
    return -EPERM;
}

}  // extern "C"
