#include "phonesim/usb/emulated_bus.hpp"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <umockdev.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>

#include <fmt/format.h>

namespace exhibit::usbsim {

namespace {

constexpr std::uint8_t kBus = 1;

// sysfs attribute text: printable, no backslash (umockdev's record format escapes with it).
std::string attribute(std::string_view s) {
    std::string out;
    for (char c : s)
        if (static_cast<unsigned char>(c) >= 0x20 && c != '\\' && c != 0x7f)
            out += c;
    return out;
}

std::string_view sysfs_speed(Speed s) {
    return s == Speed::full ? "12" : s == Speed::high ? "480" : "5000";
}

// Every testbed a bus makes holds this file, locked by the bus until it is destroyed.
constexpr std::string_view kMarker = "exhibit-phonesim.lock";

// Locks a new marker in `root`. It is made and locked under another name, then renamed, so
// that a sweep never finds the marker of a live bus unlocked.
Result<UniqueFd> mark_testbed(const std::string& root) {
    const auto temp = fmt::format("{}/.{}", root, kMarker);
    UniqueFd fd(::open(temp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!fd)
        return fail_errno(fmt::format("cannot create {}", temp));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0)
        return fail_errno(fmt::format("cannot lock {}", temp));
    if (::rename(temp.c_str(), fmt::format("{}/{}", root, kMarker).c_str()) != 0)
        return fail_errno(fmt::format("cannot rename {}", temp));
    return fd;
}

using GErrorPtr = CHandle<GError, g_error_free>;
using GStringPtr = CHandle<gchar, g_free>;

// Takes `e` (GLib's out-parameter error) over.
Error glib_error(GError* e, std::string_view what) {
    GErrorPtr owned(e);
    return Error{Errc::io, fmt::format("{}: {}", what, e ? e->message : "unknown error"), 0};
}

}  // namespace

// umockdev_in_mock_environment() only answers true once a testbed exists (it looks at /sys)
// and caches its first answer, so the library itself is looked for instead.
bool EmulatedBus::preload_active() {
    void* preload = ::dlopen("libumockdev-preload.so.0", RTLD_NOW | RTLD_NOLOAD);
    if (!preload)
        return false;
    ::dlclose(preload);
    return true;
}

std::size_t EmulatedBus::remove_stale_testbeds() {
    namespace fsys = std::filesystem;
    std::size_t removed = 0;
    std::error_code ec;
    // increment(ec), not a range-for: the folder is shared, and an error must not throw.
    for (fsys::directory_iterator it(g_get_tmp_dir(), ec), end; !ec && it != end;
         it.increment(ec)) {
        const auto& dir = it->path();
        struct stat st {};
        if (!dir.filename().string().starts_with("umockdev.") || ::lstat(dir.c_str(), &st) != 0 ||
            !S_ISDIR(st.st_mode) || st.st_uid != ::geteuid())
            continue;
        UniqueFd marker(
            ::open((dir / kMarker).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
        if (!marker || ::flock(marker.get(), LOCK_EX | LOCK_NB) != 0)
            continue;  // not a phonesim testbed, or its bus is alive
        std::error_code gone;
        fsys::remove_all(dir, gone);
        if (!gone)
            ++removed;
    }
    return removed;
}

Result<std::unique_ptr<EmulatedBus>> EmulatedBus::create() {
    if (!preload_active())
        return fail(Errc::unsupported,
                    "libumockdev-preload is not loaded (link it with --no-as-needed or start "
                    "with LD_PRELOAD=libumockdev-preload.so.0)");
    ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
    GObjectPtr<> testbed(umockdev_testbed_new());
    if (!testbed)
        return fail(Errc::io, "cannot create the umockdev testbed");
    GStringPtr root(umockdev_testbed_get_root_dir(static_cast<UMockdevTestbed*>(testbed.get())));
    std::string root_dir = root ? root.get() : "";
    auto marker = mark_testbed(root_dir);
    if (!marker)
        return std::unexpected(marker.error());
    return std::unique_ptr<EmulatedBus>(
        new EmulatedBus(std::move(testbed), root_dir, std::move(*marker)));
}

EmulatedBus::~EmulatedBus() {
    std::vector<EmulatedDevice*> plugged;
    {
        std::lock_guard lock(mutex_);
        for (auto& d : devices_)
            if (d->plugged())
                plugged.push_back(d.get());
    }
    for (auto* d : plugged)
        unplug(*d);
    testbed_.reset();  // removes the tree and unsets $UMOCKDEV_DIR; handlers go after it
    std::lock_guard lock(mutex_);
    devices_.clear();
}

std::uint8_t EmulatedBus::next_address() {
    for (int tries = 0; tries < 127; ++tries) {
        last_address_ = static_cast<std::uint8_t>(last_address_ >= 127 ? 2 : last_address_ + 1);
        bool used = std::ranges::any_of(
            devices_, [&](const auto& d) { return d->plugged() && d->address() == last_address_; });
        if (!used)
            return last_address_;
    }
    return 0;
}

EmulatedDevice* EmulatedBus::at_port(std::uint8_t port) {
    std::lock_guard lock(mutex_);
    for (auto& d : devices_)
        if (d->plugged() && d->port_ == port)
            return d.get();
    return nullptr;
}

Result<EmulatedDevice*> EmulatedBus::plug(const DeviceSpec& spec, std::uint8_t port,
                                          AdbServer server, PipeServer mtp,
                                          PipeServer usbmux) {
    if (port == 0 || port > 15)
        return fail(Errc::invalid_argument, fmt::format("port {} is not 1 to 15", port));
    if (at_port(port))
        return fail(Errc::exists, fmt::format("a device is already plugged at {}-{}", kBus, port));
    auto desc = build_descriptors(spec);
    if (!desc)
        return std::unexpected(desc.error());
    std::unique_lock lock(mutex_);
    auto address = next_address();
    if (address == 0)
        return fail(Errc::no_space, "no free USB address");
    std::unique_ptr<EmulatedDevice> d(new EmulatedDevice(
        spec, std::move(*desc), kBus, port, address, std::move(server), std::move(mtp),
        std::move(usbmux)));
    d->syspath_ = fmt::format("/sys/devices/pci0000:00/0000:00:14.0/usb{}/{}", kBus, d->bus_path());
    auto* tb = static_cast<UMockdevTestbed*>(testbed_.get());
    d->testbed_ = tb;
    GError* err = nullptr;
    // The handler first, so the node can be opened as soon as the "add" uevent is out.
    auto* handler = static_cast<UMockdevIoctlBase*>(d->make_handler());
    if (!umockdev_testbed_attach_ioctl(tb, d->devnode().c_str(), handler, &err))
        return std::unexpected(glib_error(err, "attach the ioctl handler"));
    // add_from_string writes every attribute and the node before it sends "add", so a
    // listener never reads a half-built device.
    if (!umockdev_testbed_add_from_string(tb, record(*d, d->descriptors_).c_str(), &err))
        return std::unexpected(glib_error(err, "add the device"));
    // EXHIBIT_USBSIM_BUSY_POLL=1 keeps umockdev's plain-file node, to show what the FIFO saves.
    if (!std::getenv("EXHIBIT_USBSIM_BUSY_POLL")) {
        auto fifo = replace_node_with_fifo(d->devnode());
        if (fifo)
            d->set_node_fifo(std::move(*fifo));
        else
            std::fprintf(stderr, "usbsim: %s; hosts will poll busily\n",
                         fifo.error().describe().c_str());
    }
    devices_.push_back(std::move(d));
    return devices_.back().get();
}

std::string EmulatedBus::record(const EmulatedDevice& d, const BuiltDescriptors& desc) const {
    std::string hex;
    for (auto b : desc.sysfs_blob())
        hex += fmt::format("{:02X}", b);
    const auto& s = d.spec();
    unsigned minor = (kBus - 1u) * 128u + (d.address() - 1u);
    // "A:" values take a literal \n, as the kernel's attributes end in a newline.
    return fmt::format(
        "P: {}\nN: bus/usb/{:03}/{:03}\n"
        "E: SUBSYSTEM=usb\nE: DEVTYPE=usb_device\nE: DRIVER=usb\nE: DEVNAME={}\n"
        "E: BUSNUM={:03}\nE: DEVNUM={:03}\nE: MAJOR=189\nE: MINOR={}\n"
        "E: PRODUCT={:x}/{:x}/{:x}\nE: ID_VENDOR_ID={:04x}\nE: ID_MODEL_ID={:04x}\n"
        "A: busnum={}\\n\nA: devnum={}\\n\nA: speed={}\\n\nA: bConfigurationValue={}\\n\n"
        "A: bNumConfigurations={}\\n\nA: bNumInterfaces={:2}\\n\n"
        "A: idVendor={:04x}\\n\nA: idProduct={:04x}\\n\n"
        "A: manufacturer={}\\n\nA: product={}\\n\nA: serial={}\\n\nA: dev=189:{}\\n\n"
        "H: descriptors={}\n",
        d.syspath().substr(4), kBus, d.address(), d.devnode(), kBus, d.address(), minor,
        s.vendor_id, s.product_id, s.bcd_device, s.vendor_id, s.product_id, kBus, d.address(),
        sysfs_speed(s.speed), s.plugged_configuration(), s.served_configuration(),
        s.interfaces.size(), s.vendor_id, s.product_id,
        attribute(s.manufacturer), attribute(s.product), attribute(s.serial), minor, hex);
}

Result<UniqueFd> EmulatedBus::replace_node_with_fifo(const std::string& devnode) const {
    auto node = root_ + devnode;
    auto tmp = node + ".fifo";
    if (::mkfifo(tmp.c_str(), 0666) != 0)
        return fail_errno(fmt::format("mkfifo {}", tmp));
    UniqueFd fd(::open(tmp.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd) {
        auto e = fail_errno(fmt::format("open {}", tmp));
        ::unlink(tmp.c_str());
        return e;
    }
    std::vector<char> page(4096);
    while (::write(fd.get(), page.data(), page.size()) > 0) {  // full: nothing to reap
    }
    if (::rename(tmp.c_str(), node.c_str()) != 0) {
        auto e = fail_errno(fmt::format("rename {}", tmp));
        ::unlink(tmp.c_str());
        return e;
    }
    return fd;
}

Result<EmulatedDevice*> EmulatedBus::plug_disk(DeviceSpec spec, std::uint8_t port,
                                               const std::string& image) {
    std::error_code ec;
    const auto bytes = std::filesystem::file_size(image, ec);
    if (ec)
        return fail(Errc::not_found, fmt::format("disk image {}: {}", image, ec.message()));
    if (bytes % 512 != 0)
        return fail(Errc::invalid_argument,
                    fmt::format("disk image {} is not a whole number of 512-byte sectors", image));
    spec.interfaces = {interface_preset("mass_storage").value()};
    std::string name;
    {
        std::lock_guard lock(mutex_);
        if (next_disk_ > 'z')
            return fail(Errc::no_space, "no free disk name");
        name = fmt::format("sd{}", next_disk_++);
    }
    // The node first, with the image's bytes and umockdev's block-device mark (sticky bit).
    const auto node = fmt::format("{}/dev/{}", root_, name);
    std::filesystem::create_directories(root_ + "/dev", ec);
    if (!std::filesystem::copy_file(image, node, std::filesystem::copy_options::overwrite_existing,
                                    ec))
        return fail(Errc::io, fmt::format("copy {} to {}: {}", image, node, ec.message()));
    if (::chmod(node.c_str(), 01644) != 0)
        return fail_errno(fmt::format("chmod {}", node));
    auto usb = plug(spec, port);
    if (!usb)
        return usb;
    const unsigned minor = static_cast<unsigned>(name.back() - 'a') * 16u;
    const auto syspath = fmt::format("{}/{}:1.0/host{}/target{}:0:0/{}:0:0:0/block/{}",
                                     (*usb)->syspath(), (*usb)->bus_path(), port, port, port, name);
    auto record = fmt::format(
        "P: {}\n"
        "E: SUBSYSTEM=block\nE: DEVTYPE=disk\nE: DEVNAME=/dev/{}\nE: MAJOR=8\nE: MINOR={}\n"
        "E: ID_BUS=usb\nE: ID_TYPE=disk\nE: ID_VENDOR={}\nE: ID_VENDOR_ID={:04x}\n"
        "E: ID_MODEL={}\nE: ID_MODEL_ID={:04x}\nE: ID_SERIAL_SHORT={}\n"
        "A: dev=8:{}\\n\nA: size={}\\n\nA: removable=1\\n\nA: ro=0\\n\n",
        syspath.substr(4), name, minor, attribute(spec.manufacturer), spec.vendor_id,
        attribute(spec.product), spec.product_id, attribute(spec.serial), minor, bytes / 512);
    auto* tb = static_cast<UMockdevTestbed*>(testbed_.get());
    GError* err = nullptr;
    if (!umockdev_testbed_add_from_string(tb, record.c_str(), &err))
        return std::unexpected(glib_error(err, "add the stick's disk"));
    std::lock_guard lock(mutex_);
    disks_[*usb] = syspath;
    return usb;
}

void EmulatedBus::unplug(EmulatedDevice& d, std::size_t once_in_flight) {
    if (!d.plugged())
        return;
    d.mark_unplugged(once_in_flight);
    auto* tb = static_cast<UMockdevTestbed*>(testbed_.get());
    std::string disk;
    {
        std::lock_guard lock(mutex_);
        if (auto it = disks_.find(&d); it != disks_.end()) {
            disk = it->second;
            disks_.erase(it);
        }
    }
    if (!disk.empty()) {
        umockdev_testbed_uevent(tb, disk.c_str(), "remove");
        umockdev_testbed_remove_device(tb, disk.c_str());
    }
    // The uevent reads the device's properties from sysfs: send it before removing them
    // (remove_device itself sends nothing).
    umockdev_testbed_uevent(tb, d.syspath().c_str(), "remove");
    umockdev_testbed_remove_device(tb, d.syspath().c_str());
    GError* err = nullptr;
    if (!umockdev_testbed_detach_ioctl(tb, d.devnode().c_str(), &err))
        std::fprintf(stderr, "usbsim: %s\n",
                     glib_error(err, "detach the ioctl handler").describe().c_str());
    d.stop_server();
}

}  // namespace exhibit::usbsim
