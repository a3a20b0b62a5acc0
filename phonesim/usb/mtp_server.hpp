// The MTP interface of an emulated phone: host connections served by phonesim's MTP
// responder (phonesim/mtp/), one container per IN transfer, a zero-length packet after a
// container whose length is a multiple of the bulk packet size.
#pragma once

#include <functional>
#include <memory>

#include "phonesim/mtp/mtp_responder.hpp"
#include "phonesim/usb/emulated_device.hpp"

namespace exhibit::usbsim {

// `unplug` is called (from the server's thread) when a disconnect_after rule fires; it must
// only ask for the unplug, which happens later.
PipeServer mtp_server(std::shared_ptr<const phonesim::mtp::MtpSettings> settings,
                      std::function<void()> unplug);

}  // namespace exhibit::usbsim
