// A USB stick or memory card, hostile: the input is the whole disk, byte for byte. It goes
// through the storage family as exhibit-driver-host's child runs it on a stick exhibitd
// opened read-only (StorageDriver::open on a read-only descriptor): the partition table and
// every file system found are read by The Sleuth Kit through the driver's own read callback,
// the disk is described, previewed, and every file of every category is taken (CCTV exports
// whole, the whole disk last), into a sink that checks what the family promises exhibitd:
// one item open at a time, every item ended once, no byte outside one and none past the size
// its file system states (the whole disk: past the disk's size).
//
// The disk is a memfd reopened read-only, so nothing touches the file system. libtsk is a
// third-party parser: a crash found here inside it is contained in the kiosk by the driver
// host (docs/security.md), and is reported upstream rather than fixed here.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "drivers/storage/storage_driver.hpp"
#include "tests/fuzz/checking_sink.hpp"

using namespace exhibit;
using fuzz::broken;

namespace {

// The input as a read-only descriptor of a disk, as exhibitd hands a stick to the child.
UniqueFd read_only_disk(const std::uint8_t* data, std::size_t size) {
    UniqueFd memory(::memfd_create("storage_image", MFD_CLOEXEC));
    if (!memory)
        broken("memfd_create failed");
    for (std::size_t at = 0; at < size;) {
        auto n = ::write(memory.get(), data + at, size - at);
        if (n <= 0)
            broken("cannot write the memfd");
        at += static_cast<std::size_t>(n);
    }
    UniqueFd disk(::open(fmt::format("/proc/self/fd/{}", memory.get()).c_str(),
                         O_RDONLY | O_CLOEXEC));
    if (!disk)
        broken("cannot reopen the memfd read-only");
    return disk;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    // Small limits keep each run short; the code paths are those of the defaults.
    static const storage::StorageDriver driver(
        {.limits = {.max_files = 2000, .max_depth = 16, .max_volumes = 4}});
    const drivers::Device device{.id = "d1",
                                 .functions = {storage::block_function()},
                                 .address = std::string(storage::kAddressPrefix) + "/dev/fuzz"};
    auto session = driver.open(read_only_disk(data, size), device, {});
    if (!session)
        return 0;
    auto& s = **session;
    (void)s.device_info();
    drivers::Scope scope;
    for (auto c : storage::kCategories)
        scope.categories.insert(c);
    (void)s.preview(scope);
    fuzz::CheckingSink sink({.stated_sizes = true, .disk_size = size});
    (void)s.extract(scope, sink);
    if (sink.open())
        broken("the extraction ended with an item left open");
    return 0;
}
