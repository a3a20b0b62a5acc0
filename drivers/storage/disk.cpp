#include "drivers/storage/disk.hpp"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "drivers/driver.hpp"

namespace exhibit::storage {

Result<UniqueFd> Disk::open_node(const std::filesystem::path& node) {
    // O_RDONLY is the guarantee that this process writes nothing; O_NOCTTY and O_CLOEXEC
    // keep the descriptor to itself.
    UniqueFd fd(::open(node.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY));
    if (!fd)
        return fail_errno(fmt::format("cannot open {} for reading", node.string()));
    return fd;
}

Result<std::unique_ptr<Disk>> Disk::open(const std::filesystem::path& node) {
    auto fd = open_node(node);
    if (!fd)
        return std::unexpected(fd.error());
    return adopt(std::move(*fd), node);
}

Result<std::unique_ptr<Disk>> Disk::adopt(UniqueFd fd, const std::filesystem::path& node) {
    std::unique_ptr<Disk> disk(new Disk());
    auto& d = *disk;
    d.node_ = node;
    d.fd_ = std::move(fd);
    const int mode = ::fcntl(d.fd_.get(), F_GETFL);
    if (mode < 0 || (mode & O_ACCMODE) != O_RDONLY)
        return fail(Errc::invalid_argument,
                    fmt::format("{} was not opened read-only", node.string()));
    struct stat st {};
    if (::fstat(d.fd_.get(), &st) != 0)
        return fail_errno(fmt::format("cannot stat {}", node.string()));
    if (S_ISBLK(st.st_mode)) {
        d.block_device_ = true;
        std::uint64_t bytes = 0;
        if (::ioctl(d.fd_.get(), BLKGETSIZE64, &bytes) != 0) {
            // Not a kernel block device after all (an emulated one: umockdev marks a plain
            // file as one): its end is its size.
            const off_t end = ::lseek(d.fd_.get(), 0, SEEK_END);
            if (end < 0)
                return fail_errno(fmt::format("cannot read the size of {}", node.string()));
            bytes = static_cast<std::uint64_t>(end);
        }
        d.size_ = bytes;
        int sector = 0;
        if (::ioctl(d.fd_.get(), BLKSSZGET, &sector) == 0 && sector >= 512 && sector % 512 == 0)
            d.sector_size_ = static_cast<unsigned>(sector);
        // The kernel's own write block on the whole device. Setting it needs CAP_SYS_ADMIN,
        // which the packaged service does not have: its udev rule sets the flag (blockdev
        // --setro) as the disk appears, before exhibitd is told of it. Either way the flag is
        // read back, and the session record says whether it held.
        int read_only = 1;
        const bool set_here = ::ioctl(d.fd_.get(), BLKROSET, &read_only) == 0;
        const int set_errno = errno;
        read_only = 0;
        if (::ioctl(d.fd_.get(), BLKROGET, &read_only) == 0 && read_only)
            d.write_block_ = set_here ? "set" : "set (before exhibit opened it)";
        else
            d.write_block_ = fmt::format("not set: {}", std::strerror(set_errno));
    } else if (S_ISREG(st.st_mode)) {
        d.size_ = static_cast<std::uint64_t>(st.st_size);
        d.write_block_ = "not a block device (an image file)";
    } else {
        return fail(Errc::unsupported,
                    fmt::format("{} is neither a block device nor an image file", node.string()));
    }
    return disk;
}

Result<std::size_t> Disk::read(std::uint64_t offset, std::span<std::byte> buffer) {
    if (interrupted())
        return fail(Errc::cancelled, "the disk's reading was stopped");
    if (gone())
        return fail(Errc::io, std::string(drivers::kDeviceDisconnected));
    if (offset >= size_)
        return 0;
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), size_ - offset));
    std::size_t done = 0;
    while (done < want) {
        if (interrupted())
            return fail(Errc::cancelled, "the disk's reading was stopped");
        ssize_t n = ::pread(fd_.get(), buffer.data() + done, want - done,
                            static_cast<off_t>(offset + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno != ENODEV && errno != ENXIO && errno != EIO && errno != ENOMEDIUM)
            return fail_errno(fmt::format("cannot read {} at byte {}", node_.string(),
                                          offset + done));
        if (n <= 0) {
            // The disk went away (pulled out, card removed) or no longer holds the size it
            // stated: nothing read from it from now on can be trusted to be whole.
            gone_.store(true);
            return fail(Errc::io, std::string(drivers::kDeviceDisconnected));
        }
        done += static_cast<std::size_t>(n);
    }
    return done;
}

}  // namespace exhibit::storage
