// One emulated USB device on a umockdev testbed: its sysfs entry, its /dev node and a
// usbdevfs ioctl handler that answers the host's URBs the way a kernel and a phone would.
//
//   - Control: GET_DESCRIPTOR (device, configuration, strings), GET_STATUS,
//     GET_CONFIGURATION; SET_* accepted; anything else stalls.
//   - The ADB interface's bulk pair is a byte pipe to a device-side server (the phonesim
//     engine, or a test server) run on its own thread, one run per host connection: a
//     connection starts when a host claims the interface and ends when it releases it,
//     closes the device or the device is unplugged.
//   - IN transfers are filled packet by packet from what the device sent, as a host
//     controller does: a transfer completes when full or at a short packet; a packet larger
//     than the room left is an overflow. The device never adds zero-length packets.
//   - Other interfaces' endpoints enumerate but never answer (IN stays pending, OUT is taken
//     and dropped).
//   - The usbmux interface's bulk pair is served the same way (phonesim/usb/usbmux_server).
//   - SET_CONFIGURATION switches configuration and updates sysfs bConfigurationValue (libusb
//     reads it there); interfaces can be claimed only in the served configuration.
//   - Claims are exclusive (EBUSY for a second host), halts are cleared by CLEAR_HALT, and
//     unplug fails everything in flight with ESHUTDOWN (libusb: NO_DEVICE) and every later
//     ioctl with ENODEV.
//   - Idle costs nothing: the /dev node is a FIFO kept full (not writable) while nothing is
//     reapable, so a host's poll() sleeps instead of spinning (umockdev's plain file is
//     always writable).
//
// Thread-safe: the ioctl handler runs on umockdev's worker thread, the server on its own
// thread, the test on the caller's; one mutex guards the model. Owned by an EmulatedBus.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "drivers/adb/transport.hpp"
#include "phonesim/usb/device_spec.hpp"
#include "phonesim/usb/gobject_ptr.hpp"

struct _GObject;  // GLib's GObject, for umockdev's weak references

// umockdev's ioctl argument type (same typedef as <umockdev.h>, without GLib's headers).
typedef struct _UMockdevIoctlData UMockdevIoctlData;

namespace exhibit::usbsim {

// Serves one host connection on the ADB interface; returns when it ends (the transport
// fails once the host goes away or the device is unplugged).
using AdbServer = std::function<void(adb::Transport& transport)>;

class EmulatedDevice;
// Serves one host connection on a bulk interface through the device's receive() and send()
// for `connection`; returns when it ends.
using PipeServer = std::function<void(EmulatedDevice& device, std::uint64_t connection)>;

// An AdbServer as a PipeServer: the connection seen as an adb::Transport (one message as
// two IN transfers, header then payload, never a zero-length packet).
PipeServer adb_pipe_server(AdbServer server);

struct DeviceStats {
    std::uint64_t submits = 0;
    std::uint64_t reaps = 0;
    std::uint64_t empty_reaps = 0;  // REAPURBNDELAY with nothing to reap (idle polling)
    std::uint64_t discards = 0;
    std::uint64_t out_transfers = 0;  // on the ADB OUT endpoint
    std::uint64_t zero_length_out = 0;
    std::uint64_t bytes_out = 0;
    std::uint64_t bytes_in = 0;
    std::uint64_t clear_halts = 0;
    std::uint64_t connections = 0;  // host connections served on the ADB interface
};

class EmulatedDevice {
  public:
    EmulatedDevice(const EmulatedDevice&) = delete;
    EmulatedDevice& operator=(const EmulatedDevice&) = delete;
    ~EmulatedDevice();

    const DeviceSpec& spec() const { return spec_; }
    std::string bus_path() const;  // "1-3"
    const std::string& devnode() const { return devnode_; }
    const std::string& syspath() const { return syspath_; }
    std::uint8_t address() const { return address_; }
    bool plugged() const;
    DeviceStats stats() const;

    // Test hook: `endpoint` stalls (what is pending on it and what comes next fails with
    // EPIPE) until the host clears the halt.
    void halt(std::uint8_t endpoint);

    std::uint16_t bulk_packet_size() const { return spec_.bulk_packet_size(); }

    // The device side of a served interface's pipe, for the transport handed to the server.
    // `connection` names one host connection; every call fails once it ended.
    Result<std::vector<std::byte>> receive(std::uint64_t connection);
    Result<bool> wait_receivable(std::uint64_t connection, std::chrono::milliseconds timeout);
    Status send(std::uint64_t connection, std::vector<std::byte> transfer);
    void end_connection(std::uint64_t connection);

  private:
    friend class EmulatedBus;
    static constexpr std::size_t kMaxQueuedIn = 8u << 20;  // sent ahead of the host's reads
    struct Urb;
    struct Reply {
        long result = 0;
        int error = 0;
    };
    struct Endpoint {
        std::uint8_t interface = 0;
        EndpointKind kind = EndpointKind::bulk;
        std::uint16_t max_packet = 0;
        bool halted = false;
    };
    struct Connection {
        std::uint64_t id = 0;
        const void* owner = nullptr;  // the host client (open fd) that claimed the interface
        bool open = true;
        std::list<std::vector<std::byte>> out;  // host to device, one entry per transfer
        std::list<std::vector<std::byte>> in;   // device to host, one entry per transfer
        std::size_t in_offset = 0;              // consumed bytes of in.front()
        std::size_t in_bytes = 0;
    };
    struct Channel {  // one served interface
        std::uint8_t interface = 0;
        std::uint8_t in = 0;
        std::uint8_t out = 0;
        PipeServer server;
        std::optional<Connection> connection;
        std::jthread thread;
    };
    struct Fill {
        std::size_t bytes = 0;
        int status = 0;  // 0 or -EOVERFLOW
    };

    EmulatedDevice(DeviceSpec spec, BuiltDescriptors descriptors, std::uint8_t bus,
                   std::uint8_t port, std::uint8_t address, AdbServer server, PipeServer mtp,
                   PipeServer usbmux);
    void add_channel(std::optional<std::uint8_t> interface, std::uint8_t in, std::uint8_t out,
                     PipeServer server);
    Reply set_configuration(UMockdevIoctlData* arg);
    // For EmulatedBus: the ioctl handler to attach, and the FIFO that replaces the node.
    void* make_handler();
    void set_node_fifo(UniqueFd fifo);
    // Fails what is in flight and ends the connection; with `once_in_flight`, first waits
    // (EmulatedBus::unplug) until the host has that many bulk IN transfers waiting here.
    void mark_unplugged(std::size_t once_in_flight = 0);
    void stop_server();

    // umockdev trampolines (run on its worker thread).
    static int on_ioctl(void* handler, void* client, void* self) noexcept;
    static void on_client_connected(void* handler, void* client, void* self) noexcept;
    static void on_client_notify(void* client, void* pspec, void* self) noexcept;
    static void on_client_finalized(void* self, ::_GObject* client) noexcept;
    // The rest runs with mutex_ held.
    Reply submit_urb(void* client, UMockdevIoctlData* arg);
    Reply reap_urb(void* client, UMockdevIoctlData* arg, std::unique_ptr<Urb>& keep);
    Reply discard_urb(void* client, UMockdevIoctlData* arg);
    Reply other_ioctl(void* client, std::uint32_t request, UMockdevIoctlData* arg);
    Reply claim(void* client, UMockdevIoctlData* arg, bool claiming);
    void answer_control(Urb& u, std::span<const std::uint8_t> setup);
    std::unique_ptr<Urb> take_reapable(const void* client);
    bool can_fill(const Urb& u);
    bool any_reapable();
    std::optional<Fill> fill_in(Channel& ch, std::uint16_t max_packet, std::size_t length,
                                std::byte* dst);
    void start_connection(Channel& ch, const void* owner, bool carry_in);
    bool usable(std::uint64_t connection) const;
    Connection* live(std::uint64_t connection);  // null unless usable
    Channel* channel_of_interface(std::uint8_t itf);
    Channel* channel_of_endpoint(std::uint8_t ep);
    Channel* channel_of_connection(std::uint64_t connection) const;
    void update_ready();
    void client_gone(const void* client);
    void serve(Channel& ch, const std::stop_token& stop);

    const DeviceSpec spec_;
    const BuiltDescriptors descriptors_;
    const std::uint8_t bus_;
    const std::uint8_t port_;
    const std::uint8_t address_;
    const std::string devnode_;
    std::string syspath_;
    GObjectPtr<> handler_;
    void* testbed_ = nullptr;  // the bus's UMockdevTestbed, for sysfs updates

    mutable std::mutex mutex_;  // guards everything below
    std::condition_variable cv_;
    bool gone_ = false;
    std::uint8_t configuration_ = 1;  // bConfigurationValue; 0: unconfigured
    std::map<std::uint8_t, Endpoint> endpoints_;
    std::map<std::uint8_t, const void*> claims_;      // interface -> client
    std::set<const void*> clients_;                   // host clients alive (weakly referenced)
    std::list<std::unique_ptr<Urb>> pending_;         // IN transfers waiting for data
    std::list<std::unique_ptr<Urb>> done_;            // completed, waiting to be reaped
    std::vector<std::unique_ptr<Channel>> channels_;  // fixed at construction
    std::uint64_t next_connection_ = 1;
    DeviceStats stats_;
    UniqueFd fifo_;  // the /dev node; full = nothing to reap
    bool ready_ = false;
    std::vector<char> page_ = std::vector<char>(4096);
};

}  // namespace exhibit::usbsim
