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

using namespace exhibit;

namespace {

[[noreturn]] void broken(const std::string& rule) {
    std::fputs(("storage_image: " + rule + "\n").c_str(), stderr);
    std::abort();
}

class CheckingSink;

class CheckingWriter final : public drivers::ArtefactWriter {
  public:
    CheckingWriter(CheckingSink& sink, std::uint64_t limit) : sink_(sink), limit_(limit) {}
    Status append(std::span<const std::byte> bytes) override;
    Status finish() override;
    Status finish_incomplete(std::string reason) override;

  private:
    void end();
    CheckingSink& sink_;
    std::uint64_t limit_;
    std::uint64_t written_ = 0;
    bool ended_ = false;
};

class CheckingSink final : public drivers::ArtefactSink {
  public:
    explicit CheckingSink(std::uint64_t disk_size) : disk_size_(disk_size) {}
    void planned(std::uint64_t, std::uint64_t) override {}
    Result<std::unique_ptr<drivers::ArtefactWriter>> begin(
        const drivers::Artefact& artefact) override {
        if (open_)
            broken("an item was begun while another was open");
        if (artefact.source_path.empty())
            broken("an item without a path");
        if (!artefact.declared_size)
            broken("an item without the size its file system states");
        open_ = true;
        const bool whole_disk = artefact.category == drivers::Category::disk_image;
        if (whole_disk && *artefact.declared_size != disk_size_)
            broken(fmt::format("the whole disk declared {} bytes of {}", *artefact.declared_size,
                               disk_size_));
        return std::make_unique<CheckingWriter>(*this, *artefact.declared_size);
    }
    void skipped(const drivers::Artefact&, const Error&) override {
        if (open_)
            broken("a skip while an item was open");
    }
    bool stop_requested() const override { return false; }
    void closed() {
        if (!open_)
            broken("an item was ended twice");
        open_ = false;
    }
    bool open() const { return open_; }

  private:
    std::uint64_t disk_size_;
    bool open_ = false;
};

Status CheckingWriter::append(std::span<const std::byte> bytes) {
    if (ended_)
        broken("bytes after the item's end");
    written_ += bytes.size();
    if (written_ > limit_)
        broken(fmt::format("{} bytes written to an item that stated {}", written_, limit_));
    return {};
}

void CheckingWriter::end() {
    if (ended_)
        broken("an item was ended twice");
    ended_ = true;
    sink_.closed();
}

Status CheckingWriter::finish() {
    if (written_ != limit_)
        broken(fmt::format("an item called whole after {} of its {} bytes", written_, limit_));
    end();
    return {};
}

Status CheckingWriter::finish_incomplete(std::string reason) {
    if (reason.empty())
        broken("an incomplete item without a reason");
    end();
    return {};
}

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
    CheckingSink sink(size);
    (void)s.extract(scope, sink);
    if (sink.open())
        broken("the extraction ended with an item left open");
    return 0;
}
