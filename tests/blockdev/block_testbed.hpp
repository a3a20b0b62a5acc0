// A umockdev testbed in this process for udev's block devices: a USB device, a stick's disk
// under it, an SD card under an mmc host, an ATA disk, a loop device, each with the sysfs
// attributes and udev properties the kernel and udev's rules give them. libudev in this
// process (linked with the umockdev preload, exhibit_umockdev_preload) sees them, in its
// enumeration and its monitor: adding a device sends its "add" uevent.
//
// Thread-compatible; one testbed per process at a time (it sets $UMOCKDEV_DIR).
#pragma once

#include <umockdev.h>

#include <initializer_list>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "phonesim/usb/emulated_bus.hpp"
#include "phonesim/usb/gobject_ptr.hpp"

namespace exhibit::testing {

using Strings = std::initializer_list<std::pair<std::string, std::string>>;

class BlockTestbed {
  public:
    BlockTestbed() : testbed_(umockdev_testbed_new()) {
        gchar* root = umockdev_testbed_get_root_dir(tb());
        root_ = root;
        g_free(root);
    }

    const std::string& root() const { return root_; }

    // Adds a device (its "add" uevent follows) and returns its sysfs path.
    std::string add(const std::string& subsystem, const std::string& name,
                    const std::string& parent, Strings attributes, Strings properties) {
        auto flat = [](Strings pairs) {
            std::vector<std::string> out;
            for (const auto& [k, v] : pairs) {
                out.push_back(k);
                out.push_back(v);
            }
            return out;
        };
        auto a = flat(attributes);
        auto p = flat(properties);
        auto pointers = [](std::vector<std::string>& v) {
            std::vector<gchar*> out;
            for (auto& s : v)
                out.push_back(s.data());
            out.push_back(nullptr);
            return out;
        };
        auto ap = pointers(a);
        auto pp = pointers(p);
        gchar* path = umockdev_testbed_add_devicev(tb(), subsystem.c_str(), name.c_str(),
                                                   parent.empty() ? nullptr : parent.c_str(),
                                                   ap.data(), pp.data());
        std::string out = path ? path : "";
        g_free(path);
        return out;
    }

    // A USB device at bus path `name` ("1-1"), high speed.
    std::string add_usb(const std::string& name, const std::string& vendor_id,
                        const std::string& product_id) {
        return add("usb", name, "",
                   {{"idVendor", vendor_id}, {"idProduct", product_id}, {"speed", "480"}},
                   {{"DEVTYPE", "usb_device"}, {"ID_BUS", "usb"}});
    }

    void set_attribute(const std::string& syspath, const std::string& name,
                       const std::string& value) {
        umockdev_testbed_set_attribute(tb(), syspath.c_str(), name.c_str(), value.c_str());
    }
    void uevent(const std::string& syspath, const std::string& action) {
        umockdev_testbed_uevent(tb(), syspath.c_str(), action.c_str());
    }
    // The "remove" uevent, then the device's sysfs entry goes (as the kernel does it).
    void remove(const std::string& syspath) {
        uevent(syspath, "remove");
        umockdev_testbed_remove_device(tb(), syspath.c_str());
    }

  private:
    UMockdevTestbed* tb() { return static_cast<UMockdevTestbed*>(testbed_.get()); }

    usbsim::GObjectPtr<> testbed_;
    std::string root_;
};

}  // namespace exhibit::testing
