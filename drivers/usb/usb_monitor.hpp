// Watches the USB bus: every device plugged in (or present at start) is inspected —
// identity, descriptors, classification — and reported once; every unplug is reported
// once, with the same plug id. A device plugged in again is a new plug with a new id.
//
// The libusb hotplug callback only queues; the monitor's own thread opens and reads the
// devices afterwards and calls the handler, in the order things happened.
//
// Thread-safe. The handler runs on the monitor's thread and must not block for long (the
// daemon posts to its loop from it).
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>

#include "common/error.hpp"
#include "drivers/usb/classify.hpp"
#include "drivers/usb/usb_context.hpp"
#include "drivers/usb/usb_identity.hpp"
#include "drivers/usb/usb_port.hpp"

namespace exhibit::usb {

struct UsbArrival {
    std::uint64_t plug_id = 0;
    UsbIdentity identity;
    DescriptorSet descriptors;
    Classification classification;
    std::string note;                     // what could not be read, if anything
    std::shared_ptr<const UsbPort> port;  // how a driver opens it
};

struct UsbRemoval {
    std::uint64_t plug_id = 0;
    std::string bus_path;
};

using UsbEvent = std::variant<UsbArrival, UsbRemoval>;

struct UsbMonitorOptions {
    std::chrono::milliseconds string_timeout{500};  // per control transfer while inspecting
};

class UsbMonitor {
  public:
    using Handler = std::function<void(UsbEvent)>;

    static Result<std::unique_ptr<UsbMonitor>> start(std::shared_ptr<UsbContext> context,
                                                     Handler handler,
                                                     UsbMonitorOptions options = {});
    UsbMonitor(const UsbMonitor&) = delete;
    UsbMonitor& operator=(const UsbMonitor&) = delete;
    ~UsbMonitor();  // no handler call runs or starts after this returns

    // The device of a plug that was reported and has not left; Errc::io "device
    // disconnected" otherwise.
    Result<DeviceRef> device(std::uint64_t plug_id) const;
    const std::shared_ptr<UsbContext>& context() const { return context_; }

  private:
    struct Pending {
        DeviceRef device;
        bool arrived = false;
    };
    UsbMonitor(std::shared_ptr<UsbContext> context, Handler handler, UsbMonitorOptions options)
        : context_(std::move(context)), handler_(std::move(handler)), options_(options) {}
    void queue(libusb_device* device, bool arrived);
    void run(const std::stop_token& stop);
    void arrive(DeviceRef device);
    void leave(libusb_device* device);

    std::shared_ptr<UsbContext> context_;
    Handler handler_;
    UsbMonitorOptions options_;
    mutable std::mutex mutex_;  // guards everything below but thread_
    std::condition_variable_any wake_;
    std::deque<Pending> queue_;
    std::map<libusb_device*, std::uint64_t> plug_of_;  // devices reported and not yet gone
    std::map<std::uint64_t, DeviceRef> devices_;
    std::uint64_t next_plug_ = 1;
    std::uint64_t listener_ = 0;
    std::jthread thread_;
};

}  // namespace exhibit::usb
