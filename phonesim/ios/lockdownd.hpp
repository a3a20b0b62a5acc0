// lockdownd on port 62078, one host connection: 4-byte big-endian length + plist requests
// (XML or binary), XML answers that echo Request and carry Error on refusal. QueryType,
// GetValue, SetValue, Pair, ValidatePair, Unpair, StartSession (then TLS), StopSession (then
// plaintext again), StartService, Goodbye. Thread-bound: one per connection.
#pragma once

#include <memory>
#include <string>

#include "phonesim/ios/ios_device.hpp"
#include "phonesim/ios/plist_codec.hpp"

namespace exhibit::phonesim::ios {

class Lockdownd {
  public:
    Lockdownd(IosDevice& device, Stream& plain) : device_(device), plain_(plain) {}

    // Answers requests until the host closes, says Goodbye, or breaks the protocol.
    void run();

  private:
    enum class After { go_on, start_tls, stop_tls, close };

    Stream& current() { return tls_ ? static_cast<Stream&>(*tls_) : plain_; }
    After handle(plist_t request, const std::string& name, plist_t reply);
    void get_value(plist_t request, plist_t reply);
    void pair(plist_t request, plist_t reply);
    void validate_pair(plist_t request, plist_t reply);
    void unpair(plist_t request, plist_t reply);
    After start_session(plist_t request, plist_t reply);
    void start_service(plist_t request, plist_t reply);

    IosDevice& device_;
    Stream& plain_;
    std::unique_ptr<TlsStream> tls_;
    std::string session_id_;
};

// The values GetValue reports: all of them, or (without a session) the few a real device
// gives any host.
PlistPtr lockdown_values(const IosDevice& device, bool in_session);

}  // namespace exhibit::phonesim::ios
