// The one owner of a GObject reference (umockdev's testbed, ioctl handler and ioctl data),
// without pulling GLib's headers into every includer.
#pragma once

#include <memory>

namespace exhibit::usbsim {

struct GObjectUnref {
    void operator()(void* object) const noexcept;  // g_object_unref
};

template <class T = void>
using GObjectPtr = std::unique_ptr<T, GObjectUnref>;

}  // namespace exhibit::usbsim
