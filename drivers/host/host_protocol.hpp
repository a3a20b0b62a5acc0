// The framed protocol between exhibitd and a driver host (exhibit-driver-host), the child
// process in which a device family's session runs (drivers/host/README.md). One stream
// socket; every frame is
//
//     u32 length (little-endian, of what follows) | u8 type | payload
//
// A payload is JSON for every type but `data`, whose payload is the artefact's bytes. exhibitd
// asks one request at a time and reads frames until that request's final frame (`ok` or
// `error`); everything the child sends is validated before it is used: the length, the type
// for the state, the JSON's shape and every value's range. A child that breaks any rule is
// ended and its session fails with Errc::protocol, naming the rule.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "drivers/artefact.hpp"
#include "drivers/driver.hpp"

namespace exhibit::host {

// The descriptors a driver host is given: its end of the socket to exhibitd, and, for a
// family whose device exhibitd opens (HostedDriverOptions::open_device), the device.
inline constexpr int kHostSocket = 3;
inline constexpr int kDeviceFd = 4;

// The largest payload either side sends: an artefact's bytes go in data frames of at most
// kMaxData, and no JSON payload comes near it.
inline constexpr std::size_t kMaxData = 1u << 20;
inline constexpr std::size_t kMaxPayload = kMaxData + 4096;

enum class FrameType : std::uint8_t {
    // exhibitd → driver host: the requests.
    open = 1,         // {"family", "device": {...}}: open the device, waiting for its owner
    device_info = 2,  // {}
    preview = 3,      // a scope
    extract = 4,      // a scope
    signature = 5,    // {"signature"}: the answer to `sign` (base64)
    public_key = 6,   // {"key"}: the answer to `offer_key`
    // driver host → exhibitd.
    report = 10,      // {"condition", "detail"}: while opening, the device waits for its owner
    ok = 11,          // the request's answer: {"reusable", "result"}
    error = 12,       // the request failed: {"reusable", "code", "message"}
    planned = 13,     // {"artefacts", "bytes"}
    begin = 14,       // an artefact
    data = 15,        // the open artefact's next bytes (raw)
    finish = 16,      // {}: the open artefact ended, every byte sent
    incomplete = 17,  // {"reason"}: the open artefact ended short
    skipped = 18,     // {"artefact", "code", "message"}
    // While opening, for a family whose device asks the kiosk to prove who it is (ADB's
    // AUTH; HostedDriverOptions::device_key): the key stays in exhibitd. exhibitd answers
    // with `signature`, `public_key` or `error`.
    sign = 19,        // {"challenge"}: the device's challenge (base64), to be signed
    offer_key = 20,   // {}: the public key to offer a device that does not know it
    // At any time, for a family that reaches its device through a service only exhibitd may
    // reach (iPhones: usbmuxd's socket and its pair records; HostedDriverOptions::relay):
    // the child asks, exhibitd checks the request against what this device may be given and
    // answers with `relayed`, which may carry one descriptor (a connection to the phone,
    // SCM_RIGHTS), or ends the child.
    relay = 21,       // {"call", ...}: the family's request
    relayed = 7,      // exhibitd → driver host: {"result", ...}, perhaps with a descriptor
};

std::string_view to_string(FrameType t);

struct Frame {
    FrameType type = FrameType::ok;
    std::vector<std::byte> payload;

    // The payload as JSON; Errc::protocol when it is not a JSON object.
    Result<nlohmann::json> json() const;
};

// Writes one frame whole (the socket is blocking); Errc::io when the peer is gone. With
// `pass` (>= 0), that descriptor goes with the frame's first byte (SCM_RIGHTS): only exhibitd
// passes one, in a `relayed` frame.
Status write_frame(int fd, FrameType type, std::span<const std::byte> payload, int pass = -1);
Status write_frame(int fd, FrameType type, const nlohmann::json& payload, int pass = -1);

// Reads one frame. `wait` bounds the wait for its first byte (nullopt: no bound); once it has
// begun, a frame must arrive whole within kFrameTime. Errc::timeout when nothing came within
// `wait`, Errc::io "… closed …" at the end of the stream, Errc::protocol for a length over
// kMaxPayload or a type this protocol does not have.
inline constexpr std::chrono::seconds kFrameTime{30};
Result<Frame> read_frame(int fd, std::optional<std::chrono::milliseconds> wait);
// The same into `frame`, whose payload's memory is kept from one frame to the next: a stream
// of 1 MiB data frames then costs no allocation, page faults or zeroing per frame.
Status read_frame(int fd, Frame& frame, std::optional<std::chrono::milliseconds> wait);
// The same, taking the one descriptor that may come with the frame into `passed` (the
// child's side of `relayed`); more than one is a protocol error. exhibitd never reads
// descriptors: the plain read_frame drops any a child sends.
Status read_frame(int fd, Frame& frame, UniqueFd& passed,
                  std::optional<std::chrono::milliseconds> wait);

// The text at `key` of a JSON object from the other side: Errc::protocol when it is missing,
// not text, or longer than `max` bytes. (nlohmann's value() throws on a value of another
// type: never use it on what a child sent.)
Result<std::string> text_field(const nlohmann::json& j, std::string_view key,
                               std::size_t max = 4096);
// The whole number at `key`, from 0 to `max`: Errc::protocol when it is missing, not a whole
// number, or out of range.
Result<std::uint64_t> whole_number(const nlohmann::json& j, std::string_view key,
                                   std::uint64_t max);

// What crosses the socket, as JSON and back. Every from_json checks the shape and ranges and
// fails with Errc::protocol naming what was wrong.
nlohmann::json to_json(const drivers::Scope& scope);
Result<drivers::Scope> scope_from_json(const nlohmann::json& j);
nlohmann::json to_json(const drivers::Artefact& artefact);
Result<drivers::Artefact> artefact_from_json(const nlohmann::json& j);
nlohmann::json to_json(const drivers::DeviceInfo& info);
Result<drivers::DeviceInfo> device_info_from_json(const nlohmann::json& j);
nlohmann::json to_json(const drivers::Preview& preview);
Result<drivers::Preview> preview_from_json(const nlohmann::json& j);
nlohmann::json to_json(const Error& error);
// An error the child reports: its code and message as sent (the message cut at 1,000 bytes).
Result<Error> error_from_json(const nlohmann::json& j);

// The device's challenge a child asks exhibitd to sign (a `sign` frame): exactly `size` bytes,
// as base64 at "challenge"; Errc::protocol otherwise.
Result<std::vector<std::byte>> challenge_from_json(const nlohmann::json& j, std::size_t size);

// The device to open, as the child needs it: its identity and where it sits on the bus.
struct HostedDevice {
    drivers::Device device;  // without the USB port: the child finds the device itself
    std::optional<std::uint8_t> usb_bus;
    std::optional<std::uint8_t> usb_address;  // libusb's device address on that bus
};
nlohmann::json to_json(const HostedDevice& device);
Result<HostedDevice> hosted_device_from_json(const nlohmann::json& j);

}  // namespace exhibit::host
