// The usbmux interface of an emulated iPhone: host connections (a usbmuxd claiming the
// interface) served by the usbmux engine (usbmux_engine.hpp), whose TCP connections reach a
// ServiceHost (phonesim/ios/service_host.hpp). Each device packet is one IN transfer, with a
// zero-length packet after one whose length is a multiple of the bulk packet size; each OUT
// transfer from the host is one packet (its zero-length packets are skipped).
#pragma once

#include <memory>
#include <string>

#include "phonesim/ios/service_host.hpp"
#include "phonesim/usb/device_spec.hpp"
#include "phonesim/usb/emulated_device.hpp"
#include "phonesim/usb/usbmux_engine.hpp"

namespace exhibit::usbsim {

PipeServer usbmux_server(std::shared_ptr<phonesim::ios::ServiceHost> host,
                         usbmux::Options options = {});

// An iPhone as the host sees it at plug: 05ac:12a8, "Apple Inc." / "iPhone", the serial
// (24 characters for a current iPhone: usbmuxd makes its UDID by inserting a hyphen after
// 8), high speed, and four configurations as a real one offers — 1 PTP; 2 the iPod audio/HID
// functions; 3 PTP + usbmux; 4 PTP + usbmux + Apple USB Ethernet — in configuration 1
// (the kernel's choice). usbmuxd switches to min(bNumConfigurations, 4) = 4, the served one.
DeviceSpec iphone_spec(std::string serial);

// The UDID usbmuxd and libimobiledevice show for `serial`.
std::string udid_of_serial(const std::string& serial);

}  // namespace exhibit::usbsim
