// The device side of ADB: serves one host connection (CNXN, AUTH, streams; the sync: and
// shell: services) over any exhibit::adb::Transport, so the same engine runs behind TCP
// (exhibit-phonesim --listen) and behind emulated USB bulk endpoints.
//
// One engine per connection, used from one thread. Nothing the host sends can change the
// phone's tree: SEND/SND2 are refused.
#pragma once

#include <atomic>
#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "drivers/adb/adb_protocol.hpp"
#include "drivers/adb/transport.hpp"
#include "phonesim/auth_keys.hpp"
#include "phonesim/records.hpp"
#include "phonesim/shell_commands.hpp"
#include "phonesim/virtual_fs.hpp"

namespace exhibit::phonesim {

struct Scenario;  // hostile behaviours for tests (scenario.hpp)

struct PhoneOptions {
    std::filesystem::path root;
    Records records;
    PhoneIdentity identity;  // getprop values and clock offset
    std::string product = "phonesim";
    std::string model = "Phonesim";
    std::string device = "phonesim";
    bool require_auth = false;
    std::shared_ptr<AuthKeys> keys;  // required when require_auth
    std::uint32_t max_payload = adb::kMaxPayload;
    // Only what the phone really serves: SND2 exists but is refused (the phone is
    // read-only), so no push or compression features are advertised.
    std::set<std::string> features = {"shell_v2", "cmd", "stat_v2", "ls_v2", "sendrecv_v2"};
    std::shared_ptr<const Scenario> scenario;  // may be null
};

class DeviceEngine {
  public:
    explicit DeviceEngine(const PhoneOptions& options);
    ~DeviceEngine();

    // Serves until the host closes the connection or the transport fails; returns why it
    // ended (a closed connection is not an error).
    Status serve(adb::Transport& transport);

  private:
    struct Stream;
    Status handle(const adb::Message& m);
    Status on_cnxn(const adb::Message& m);
    Status on_auth(const adb::Message& m);
    Status on_open(const adb::Message& m);
    Status send(std::uint32_t command, std::uint32_t arg0, std::uint32_t arg1,
                std::span<const std::byte> payload = {});
    Status send_token();
    Status go_online();
    Status pump_output();
    std::string banner() const;

    const PhoneOptions& options_;
    VirtualFs fs_;
    adb::Transport* transport_ = nullptr;
    std::uint32_t version_ = adb::kVersionMin;
    std::uint32_t max_payload_ = adb::kMaxPayloadV1;
    // The payload being produced, kept between messages: a fresh megabyte per message would
    // cost the simulated phone page faults and copies a real one does not have.
    std::vector<std::byte> out_;
    bool online_ = false;
    std::optional<std::string> waiting_key_;  // offered, waiting for the person
    std::array<std::byte, adb::kAuthTokenSize> token_{};
    std::map<std::uint32_t, std::unique_ptr<Stream>> streams_;
    std::uint32_t next_id_ = 1;
};

}  // namespace exhibit::phonesim
