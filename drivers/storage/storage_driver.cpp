#include "drivers/storage/storage_driver.hpp"

#include <tsk/libtsk.h>

#include <algorithm>

#include <fmt/format.h>

#include "drivers/storage/storage_extractor.hpp"
#include "drivers/storage/tsk_disk.hpp"

namespace exhibit::storage {

drivers::Function block_function() {
    return {"block:storage"};
}

StorageDriver::StorageDriver(StorageDriverOptions options)
    : options_(options), serves_{block_function()} {}

std::string_view StorageDriver::version() const {
    static const std::string v = fmt::format("1 (libtsk {})", TSK_VERSION_STR);
    return v;
}

namespace {

Status removable_disk(const drivers::Device& device) {
    if (!device.offers(block_function()) || !device.address.starts_with(kAddressPrefix))
        return fail(Errc::unsupported, fmt::format("{} is not a removable disk", device.id));
    return {};
}

std::filesystem::path node_of(const drivers::Device& device) {
    return device.address.substr(kAddressPrefix.size());
}

}  // namespace

Result<UniqueFd> StorageDriver::open_node(const drivers::Device& device,
                                          const drivers::OpenContext& /*context*/) {
    if (auto s = removable_disk(device); !s)
        return std::unexpected(s.error());
    return Disk::open_node(node_of(device));
}

Result<std::unique_ptr<drivers::DriverSession>> StorageDriver::open(
    const drivers::Device& device, const drivers::OpenContext& context) const {
    if (auto s = removable_disk(device); !s)
        return std::unexpected(s.error());
    return open_disk(Disk::open(node_of(device)), device, context);
}

Result<std::unique_ptr<drivers::DriverSession>> StorageDriver::open(
    UniqueFd disk, const drivers::Device& device, const drivers::OpenContext& context) const {
    if (auto s = removable_disk(device); !s)
        return std::unexpected(s.error());
    return open_disk(Disk::adopt(std::move(disk), node_of(device)), device, context);
}

Result<std::unique_ptr<drivers::DriverSession>> StorageDriver::open_disk(
    Result<std::unique_ptr<Disk>> disk, const drivers::Device& device,
    const drivers::OpenContext& context) const {
    if (!disk)
        return std::unexpected(disk.error());
    // Looking for file systems reads the disk: a stop (unplug, cancel) interrupts the reads.
    Disk* reading = disk->get();
    std::stop_callback on_stop(context.stop, [reading] { reading->interrupt(); });
    auto tsk = TskDisk::open(std::move(*disk), options_.limits.max_volumes);
    if (!tsk)
        return std::unexpected(tsk.error());
    return std::make_unique<StorageSession>(std::move(*tsk), device, options_.limits);
}

StorageSession::StorageSession(std::unique_ptr<TskDisk> disk, drivers::Device device,
                               StorageLimits limits)
    : disk_(std::move(disk)), device_(std::move(device)), limits_(limits) {}

StorageSession::~StorageSession() = default;

void StorageSession::interrupt() {
    disk_->disk().interrupt();
}

bool StorageSession::reusable() const {
    return !disk_->disk().interrupted() && !disk_->disk().gone();
}

Result<drivers::DeviceInfo> StorageSession::device_info() {
    drivers::DeviceInfo info;
    info.manufacturer = device_.manufacturer;
    info.model = device_.product;
    info.serial = device_.serial;
    StorageExtractor(*disk_, limits_).describe(info);
    return info;
}

Status StorageSession::files_only(const drivers::Scope& scope) const {
    return drivers::refuse_unoffered(scope, kCategories, kFilesOnlyNote);
}

Result<drivers::Preview> StorageSession::preview(const drivers::Scope& scope) {
    if (auto s = files_only(scope); !s)
        return std::unexpected(s.error());
    return StorageExtractor(*disk_, limits_).preview(scope);
}

Status StorageSession::extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) {
    if (auto s = files_only(scope); !s)
        return s;
    return StorageExtractor(*disk_, limits_).extract(scope, sink);
}

}  // namespace exhibit::storage
