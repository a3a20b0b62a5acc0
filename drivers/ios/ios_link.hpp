// One iPhone reached through usbmuxd with libimobiledevice: its lockdown service (identity,
// the trust flow, the TLS session), the AFC service for its media, and forgetting the
// kiosk's pairing afterwards. The pair record is kept by usbmuxd, as libimobiledevice 1.3.0
// does; the usbmuxd socket is libusbmuxd's default (/var/run/usbmuxd) unless
// USBMUXD_SOCKET_ADDRESS says otherwise.
//
// Used by one thread, except interrupt(), which any thread may call: it ends the AFC
// connection's I/O at once; a lockdown request in flight ends by libusbmuxd's own timeout.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>

#include "common/error.hpp"
#include "drivers/ios/afc_client.hpp"

// libimobiledevice's handles, without its headers.
typedef struct idevice_private idevice_private;
typedef idevice_private* idevice_t;
typedef struct idevice_connection_private idevice_connection_private;
typedef idevice_connection_private* idevice_connection_t;

namespace exhibit::ios {

// The UDID an iPhone's USB serial number stands for: usbmuxd inserts a hyphen after the
// eighth character of a 24-character serial (the UDID of newer iPhones); other serials are
// the UDID as they are.
std::string udid_from_usb_serial(std::string_view serial);

// Removes usbmuxd's record of the kiosk's pairing with the iPhone `udid` on a thread of its
// own, not waited for: usbmuxd 1.1.1 can hang in its own clean-up after an unplug in the
// middle of a transfer, and nothing that ends a session may wait on it.
void forget_pair_record_in_background(std::string udid);

// Where the trust flow stands after one attempt.
enum class Trust {
    trusted,   // a session is open
    locked,    // the phone has a passcode and is locked (or not unlocked since it started)
    pending,   // "Trust This Computer?" is showing on the phone
    refused,   // the person tapped Don't Trust
};

// An AFC connection as the AfcClient's link. interrupt() may come from any thread.
class AfcConnection final : public AfcLink {
  public:
    AfcConnection(idevice_connection_t connection, std::chrono::milliseconds stall);
    ~AfcConnection() override;
    Status send_all(std::span<const std::byte> bytes) override;
    Status receive_exact(std::span<std::byte> bytes) override;
    void interrupt();
    bool interrupted() const { return interrupted_; }
    bool broken() const { return broken_; }
    // usbmuxd ended the connection: the phone was unplugged (or usbmuxd dropped it). Not set
    // by a stall or an interrupt, after which the phone may still be there.
    bool lost() const { return lost_; }

  private:
    idevice_connection_t connection_;
    int fd_ = -1;
    std::chrono::milliseconds stall_;
    std::atomic<bool> interrupted_{false};
    bool broken_ = false;
    bool lost_ = false;
};

class IosLink {
  public:
    ~IosLink();
    IosLink(const IosLink&) = delete;
    IosLink& operator=(const IosLink&) = delete;

    // Waits (up to `appear`, or until `stop`) for usbmuxd to list the iPhone `udid`, then
    // takes it. Errc::not_found when usbmuxd never lists it (not running, or not this phone).
    static Result<std::unique_ptr<IosLink>> connect(const std::string& udid,
                                                    std::chrono::milliseconds appear,
                                                    std::stop_token stop);

    // Who the phone says it is before any trust (lockdown without a session): the basic
    // values a locked, untrusted phone gives.
    Result<std::map<std::string, std::string>> public_values();
    // One attempt at a trusted session: pairs when the kiosk has no pairing with this phone
    // (which shows "Trust This Computer?"), then starts the TLS session.
    Result<Trust> try_session();
    // Every value lockdown gives in the session, flattened to text ("DeviceName", ...), and
    // the phone's clock ("TimeIntervalSince1970") as read now against the kiosk's.
    struct Values {
        std::map<std::string, std::string> values;
        std::optional<std::int64_t> clock_offset_ms;
    };
    Result<Values> values();
    // Starts com.apple.afc (the media folder, /var/mobile/Media) and connects to it.
    Result<std::unique_ptr<AfcConnection>> start_afc(std::chrono::milliseconds stall);
    // Whether usbmuxd holds a pairing record for this phone (the kiosk's half of a pairing).
    bool paired() const;
    // Removes the pairing from the phone (when it is still there) and from usbmuxd.
    Status forget_pairing();
    // The phone has gone: removes only the kiosk's half, from usbmuxd, without waiting for
    // the answer (usbmuxd 1.1.1 can hang in its own clean-up after an unplug in the middle of
    // a transfer, and the end of the session must not wait on it). The phone keeps its half:
    // a record of a host key that then exists nowhere, so it trusts no one by it and asks
    // for Trust again the next time. With `in_background` false the removal is asked in line
    // (where usbmuxd is reached through a relay that answers within seconds).
    void forget_kiosk_half(bool in_background = true);

    void interrupt();
    const std::string& udid() const { return udid_; }

  private:
    IosLink(idevice_t device, std::string udid);
    void end_lockdown();

    idevice_t device_;
    std::string udid_;
    struct Lockdown;
    std::unique_ptr<Lockdown> lockdown_;  // the session's lockdown client, once trusted
    std::atomic<bool> interrupted_{false};
};

}  // namespace exhibit::ios
