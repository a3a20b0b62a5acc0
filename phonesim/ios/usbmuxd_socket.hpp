// A fake usbmuxd for fast tests (facts §1.3, option b): a UNIX socket that speaks usbmuxd's
// client protocol (16-byte little-endian header {length, version 1, message 8, tag} + XML
// plist) to libusbmuxd, for one attached device. ListDevices, Listen (Attached), Connect
// (PortNumber in network order; Result 0 then the raw stream, bridged to the device's
// ServiceHost; a port it does not listen on: Result 3), ReadBUID and Read/Save/DeletePairRecord
// kept as files in a directory. Every reply goes out in pieces of at most 16 KiB, as the
// real usbmuxd delivers them. Clients reach it with USBMUXD_SOCKET_ADDRESS=UNIX:<path>.
//
// Thread-safe. One thread accepts (and joins finished clients); one thread per client
// connection. The destructor
// stops: it closes the listener, shuts every client connection down and joins the threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "phonesim/ios/plist_codec.hpp"
#include "phonesim/ios/service_host.hpp"

namespace exhibit::phonesim::ios {

struct UsbmuxdSocketSettings {
    std::filesystem::path socket_path;
    std::filesystem::path pair_record_dir;  // <PairRecordID>.plist; created when missing
    std::string udid;                       // the attached device's SerialNumber
    std::uint32_t device_id = 1;
    std::uint16_t product_id = 0x12a8;
    std::string system_buid = "EXHIBIT0-0000-4000-8000-000000000001";
};

// usbmuxd's Result numbers.
inline constexpr std::uint64_t kMuxOk = 0;
inline constexpr std::uint64_t kMuxBadCommand = 1;
inline constexpr std::uint64_t kMuxBadDevice = 2;
inline constexpr std::uint64_t kMuxConnRefused = 3;
inline constexpr std::uint64_t kMuxBadVersion = 6;

// Client connections served at once; more are closed on arrival.
inline constexpr std::size_t kMaxClients = 64;

class UsbmuxdSocket {
  public:
    static Result<std::unique_ptr<UsbmuxdSocket>> start(UsbmuxdSocketSettings settings,
                                                        ServiceHost& host);
    ~UsbmuxdSocket();
    UsbmuxdSocket(const UsbmuxdSocket&) = delete;
    UsbmuxdSocket& operator=(const UsbmuxdSocket&) = delete;

    const std::filesystem::path& path() const { return settings_.socket_path; }
    // "USBMUXD_SOCKET_ADDRESS=UNIX:<path>", for a client's environment.
    std::string client_environment() const;

  private:
    UsbmuxdSocket(UsbmuxdSocketSettings settings, ServiceHost& host, UniqueFd listener,
                  UniqueFd wake);
    void accept_loop();
    void serve_client(int fd);
    // One request; false when the connection is done with the protocol (closed, handed to
    // the device, or broken).
    bool handle(int fd, std::uint32_t tag, plist_t request);
    Status send_plist(int fd, std::uint32_t tag, plist_t dict);
    Status send_result(int fd, std::uint32_t tag, std::uint64_t number);
    PlistPtr attached_event() const;
    std::optional<std::filesystem::path> record_path(plist_t request) const;

    const UsbmuxdSocketSettings settings_;
    ServiceHost& host_;
    UniqueFd listener_;
    UniqueFd wake_;  // eventfd: the accept loop stops
    std::mutex mutex_;
    std::map<int, std::thread> clients_;  // by socket; at most kMaxClients
    std::vector<std::thread> finished_;   // joined by the accept loop
    std::thread acceptor_;
};

}  // namespace exhibit::phonesim::ios
