#include "phonesim/ios/ios_device.hpp"

#include "phonesim/ios/afc_server.hpp"
#include "phonesim/ios/lockdownd.hpp"
#include "phonesim/ios/plist_codec.hpp"

namespace exhibit::phonesim::ios {

Result<std::unique_ptr<IosDevice>> IosDevice::create(IosSettings settings) {
    auto keys = DeviceKeys::generate();
    if (!keys)
        return std::unexpected(keys.error().with_context("simulated iPhone"));
    auto tls = TlsContext::create(*keys);
    if (!tls)
        return std::unexpected(tls.error().with_context("simulated iPhone"));
    return std::unique_ptr<IosDevice>(
        new IosDevice(std::move(settings), std::move(*keys), std::move(*tls)));
}

IosDevice::IosDevice(IosSettings settings, DeviceKeys keys, TlsContext tls)
    : settings_(std::move(settings)),
      keys_(std::move(keys)),
      tls_(std::move(tls)),
      trust_(settings_.trust) {}

bool IosDevice::listens(std::uint16_t port) const {
    if (port == kLockdownPort)
        return true;
    std::lock_guard lock(ports_mutex_);
    return open_ports_.contains(port);
}

std::optional<std::uint16_t> IosDevice::open_service(IosService service) {
    std::lock_guard lock(ports_mutex_);
    if (open_ports_.size() >= kMaxPendingServices)
        return std::nullopt;
    // Ports go round 49152..65535, skipping those still waiting for their connection.
    for (;;) {
        std::uint16_t port = next_port_;
        next_port_ =
            next_port_ == 65535 ? kFirstServicePort : static_cast<std::uint16_t>(next_port_ + 1);
        if (!open_ports_.contains(port)) {
            open_ports_.emplace(port, service);
            return port;
        }
    }
}

void IosDevice::serve(std::uint16_t port, Stream& stream) {
    if (port == kLockdownPort) {
        Lockdownd(*this, stream).run();
        return;
    }
    IosService service;
    {
        std::lock_guard lock(ports_mutex_);
        auto it = open_ports_.find(port);
        if (it == open_ports_.end())
            return;  // not listening (the transport should have refused it)
        service = it->second;
        open_ports_.erase(it);  // one connection per StartService
    }
    switch (service) {
        case IosService::afc:
        case IosService::crash_report_copy:
            afc::AfcServer(*this, stream).run();
            return;
        case IosService::crash_report_mover:
            (void)stream.write_all(as_bytes("ping"));
            return;
    }
}

}  // namespace exhibit::phonesim::ios
