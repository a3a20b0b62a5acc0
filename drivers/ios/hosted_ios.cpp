#include "drivers/ios/hosted_ios.hpp"

#include <usbmuxd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <future>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "drivers/ios/ios_link.hpp"

namespace exhibit::ios {

using nlohmann::json;

namespace {

// A pair record is a few kilobytes of plist; the system BUID a UUID.
constexpr std::size_t kMaxPairRecord = 64 << 10;
constexpr std::uint64_t kMaxConnections = 256;
// How long the child waits for usbmuxd to remove a pairing before it is answered anyway.
constexpr std::chrono::seconds kRemovalWait{2};

std::unexpected<Error> refused(std::string_view what) {
    return fail(Errc::protocol, fmt::format("the ios driver host asked usbmuxd {}", what));
}

class UsbmuxRelay final : public host::Relay {
  public:
    UsbmuxRelay(std::string udid, bool keep_pairing)
        : udid_(std::move(udid)), keep_pairing_(keep_pairing) {}

    ~UsbmuxRelay() override {
        // The child saved a pairing and was ended before it removed it: the kiosk's half goes.
        if (pairing_saved_ && !keep_pairing_)
            forget_pair_record_in_background(udid_);
    }

    Result<Answer> answer(const json& request) override {
        auto call = host::text_field(request, "call", 32);
        if (!call)
            return std::unexpected(call.error());
        if (*call == "read_buid")
            return read_buid();
        if (*call == "connect")
            return connect(request);
        // Every other call names the phone: this session's, and no other.
        auto udid = host::text_field(request, "udid", 64);
        if (!udid)
            return std::unexpected(udid.error());
        if (*udid != udid_)
            return refused(fmt::format("for another phone than its own ({})", udid_));
        if (*call == "get_device")
            return get_device();
        if (*call == "read_pair_record")
            return read_pair_record();
        if (*call == "save_pair_record")
            return save_pair_record(request);
        if (*call == "delete_pair_record")
            return delete_pair_record();
        return refused(fmt::format("for \"{}\", which it is not given", call->substr(0, 32)));
    }

  private:
    Result<Answer> get_device() {
        usbmuxd_device_info_t info{};
        const int r = usbmuxd_get_device(udid_.c_str(), &info, DEVICE_LOOKUP_USBMUX);
        if (r <= 0)
            return Answer{.result = {{"result", r}}, .pass = {}};
        handle_ = info.handle;
        return Answer{.result = {{"result", 1},
                                 {"handle", info.handle},
                                 {"product_id", info.product_id}},
                      .pass = {}};
    }

    Result<Answer> connect(const json& request) {
        auto handle = host::whole_number(request, "handle", UINT64_MAX);
        auto port = host::whole_number(request, "port", UINT64_MAX);
        if (!handle || !port)
            return refused("to connect without a handle and a port");
        if (!handle_ || *handle != *handle_)
            return refused("to connect to a device it was not given");
        const auto p = *port;
        if (p == 0 || p > 65535)
            return refused("to connect to a port that is not one");
        if (++connections_ > kMaxConnections)
            return refused(fmt::format("for more than {} connections", kMaxConnections));
        const int fd = usbmuxd_connect(*handle_, static_cast<unsigned short>(p));
        if (fd < 0)
            return Answer{.result = {{"result", fd}}, .pass = {}};
        return Answer{.result = {{"result", 0}}, .pass = UniqueFd(fd)};
    }

    Result<Answer> read_pair_record() {
        char* data = nullptr;
        std::uint32_t size = 0;
        const int r = usbmuxd_read_pair_record(udid_.c_str(), &data, &size);
        std::unique_ptr<char, decltype(&std::free)> owned(data, &std::free);
        if (r != 0 || data == nullptr)
            return Answer{.result = {{"result", r != 0 ? r : -1}}, .pass = {}};
        if (size > kMaxPairRecord)
            return Answer{.result = {{"result", -EFBIG}}, .pass = {}};
        return Answer{.result = {{"result", 0},
                                 {"record", base64_encode(std::as_bytes(std::span(data, size)))}},
                      .pass = {}};
    }

    Result<Answer> save_pair_record(const json& request) {
        auto device_id = host::whole_number(request, "device_id", UINT64_MAX);
        if (!device_id || (*device_id != 0 && (!handle_ || *device_id != *handle_)))
            return refused("to save a pairing for a device it was not given");
        auto encoded = host::text_field(request, "record", kMaxPairRecord * 4 / 3 + 4);
        if (!encoded)
            return std::unexpected(encoded.error());
        auto record = base64_decode(*encoded);
        if (!record || record->empty())
            return refused("to save a pairing that is not base64");
        const int r = usbmuxd_save_pair_record_with_device_id(
            udid_.c_str(), static_cast<std::uint32_t>(*device_id),
            reinterpret_cast<const char*>(record->data()),
            static_cast<std::uint32_t>(record->size()));
        if (r == 0)
            pairing_saved_ = true;
        return Answer{.result = {{"result", r}}, .pass = {}};
    }

    Result<Answer> delete_pair_record() {
        // usbmuxd 1.1.1 can hang in its own clean-up after an unplug: the removal runs on a
        // thread of its own, and the child has its answer when it is done or after
        // kRemovalWait, whichever comes first.
        auto done = std::make_shared<std::promise<int>>();
        auto answer = done->get_future();
        std::thread([udid = udid_, done] {
            done->set_value(usbmuxd_delete_pair_record(udid.c_str()));
        }).detach();
        pairing_saved_ = false;
        const int r = answer.wait_for(kRemovalWait) == std::future_status::ready ? answer.get()
                                                                                : -ETIMEDOUT;
        return Answer{.result = {{"result", r}}, .pass = {}};
    }

    Result<Answer> read_buid() {
        char* buid = nullptr;
        const int r = usbmuxd_read_buid(&buid);
        std::unique_ptr<char, decltype(&std::free)> owned(buid, &std::free);
        if (r != 0 || buid == nullptr)
            return Answer{.result = {{"result", r != 0 ? r : -1}}, .pass = {}};
        auto text = std::string(buid);
        if (text.size() > 64)
            return Answer{.result = {{"result", -EFBIG}}, .pass = {}};
        return Answer{.result = {{"result", 0}, {"buid", text}}, .pass = {}};
    }

    std::string udid_;
    bool keep_pairing_;
    std::optional<std::uint32_t> handle_;  // usbmuxd's handle for this phone, once asked
    std::uint64_t connections_ = 0;
    bool pairing_saved_ = false;
};

bool read_count(const std::string& text, std::uint64_t max, std::uint64_t& out) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size() && out <= max;
}

}  // namespace

std::unique_ptr<host::Relay> usbmux_relay(std::string udid, bool keep_pairing) {
    return std::make_unique<UsbmuxRelay>(std::move(udid), keep_pairing);
}

std::vector<std::string> child_arguments(const IosDriverOptions& o) {
    return {"--user-wait-ms",
            std::to_string(o.user_wait.count()),
            "--poll-ms",
            std::to_string(o.poll.count()),
            "--appear-ms",
            std::to_string(o.appear.count()),
            "--stall-ms",
            std::to_string(o.stall.count()),
            "--keep-pairing",
            o.keep_pairing ? "yes" : "no",
            "--max-entries",
            std::to_string(o.limits.max_entries),
            "--max-depth",
            std::to_string(o.limits.max_depth),
            "--max-listing-bytes",
            std::to_string(o.afc.max_listing_bytes),
            "--read-chunk",
            std::to_string(o.afc.read_chunk)};
}

Result<IosDriverOptions> options_from_arguments(const std::vector<std::string>& arguments) {
    IosDriverOptions o;
    for (std::size_t i = 0; i < arguments.size(); i += 2) {
        const auto& key = arguments[i];
        if (i + 1 >= arguments.size())
            return fail(Errc::invalid_argument, fmt::format("{} needs a value", key));
        const auto& value = arguments[i + 1];
        std::uint64_t n = 0;
        const std::uint64_t day_ms = 24ull * 3600 * 1000;
        if (key == "--user-wait-ms" && read_count(value, day_ms, n))
            o.user_wait = std::chrono::milliseconds(n);
        else if (key == "--poll-ms" && read_count(value, day_ms, n) && n > 0)
            o.poll = std::chrono::milliseconds(n);
        else if (key == "--appear-ms" && read_count(value, day_ms, n))
            o.appear = std::chrono::milliseconds(n);
        else if (key == "--stall-ms" && read_count(value, day_ms, n) && n > 0)
            o.stall = std::chrono::milliseconds(n);
        else if (key == "--keep-pairing" && (value == "yes" || value == "no"))
            o.keep_pairing = value == "yes";
        else if (key == "--max-entries" && read_count(value, 100'000'000, n) && n > 0)
            o.limits.max_entries = n;
        else if (key == "--max-depth" && read_count(value, 1000, n) && n > 0)
            o.limits.max_depth = n;
        else if (key == "--max-listing-bytes" && read_count(value, 256u << 20, n) && n > 0)
            o.afc.max_listing_bytes = n;
        else if (key == "--read-chunk" && read_count(value, 16u << 20, n) && n > 0)
            o.afc.read_chunk = n;
        else
            return fail(Errc::invalid_argument, fmt::format("unusable {} {}", key, value));
    }
    // In the child, usbmuxd is exhibitd's to wait for: removing a pairing is asked in line and
    // answered within kRemovalWait (UsbmuxRelay::delete_pair_record), never on a thread of
    // the child's, whose frames would cross the session's.
    o.pairing_removal_in_background = false;
    return o;
}

std::unique_ptr<drivers::Driver> hosted_ios_driver(HostedIosOptions options) {
    const bool keep = options.options.keep_pairing;
    host::HostedDriverOptions hosted{
        .program = std::move(options.program),
        .arguments = child_arguments(options.options),
        .relay = [keep](const drivers::Device& device) {
            return usbmux_relay(udid_from_usb_serial(device.serial), keep);
        }};
    return std::make_unique<host::HostedDriver>(std::make_unique<IosDriver>(options.options),
                                                std::move(hosted));
}

}  // namespace exhibit::ios
