// The one owner of a GObject reference (umockdev's testbed, ioctl handler and ioctl data),
// without pulling GLib's headers into every includer.
#pragma once

#include "common/c_handle.hpp"

namespace exhibit::usbsim {

// g_object_unref (defined where GLib is included).
void unref_gobject(void* object) noexcept;

template <class T = void>
using GObjectPtr = CHandle<T, unref_gobject>;

}  // namespace exhibit::usbsim
