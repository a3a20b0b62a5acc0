// One removable disk opened for reading only: its device node (or, in tests and the demo, an
// image file standing for one), its size and sector size, and positioned reads that a stop
// can interrupt. Nothing here can write: the node is opened O_RDONLY, and for a real block
// device the kernel's read-only flag is set too (BLKROSET; the packaged udev rule sets it
// first), so that nothing else on the kiosk (an automounter, a mistaken command) writes to it
// while exhibit reads it.
//
// A read that fails with the errors of a vanished device (ENODEV, ENXIO, EIO, ENOMEDIUM), or
// comes back short of the size the disk stated, marks the disk gone: every later read fails
// with kDeviceDisconnected.
//
// Used by one thread at a time; interrupt() from any.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace exhibit::storage {

class Disk {
  public:
    static Result<std::unique_ptr<Disk>> open(const std::filesystem::path& node);
    // The disk behind a descriptor opened read-only by someone else (exhibitd, for its driver
    // host child); `node` names it in messages and the session record.
    static Result<std::unique_ptr<Disk>> adopt(UniqueFd fd, const std::filesystem::path& node);
    // Opens `node` as open() does (read-only, no controlling terminal, close-on-exec), without
    // reading it.
    static Result<UniqueFd> open_node(const std::filesystem::path& node);

    Disk(const Disk&) = delete;
    Disk& operator=(const Disk&) = delete;

    const std::filesystem::path& node() const { return node_; }
    std::uint64_t size() const { return size_; }
    unsigned sector_size() const { return sector_size_; }
    bool block_device() const { return block_device_; }
    // Whether the kernel's read-only flag holds, for the session record: "set", "set (before
    // exhibit opened it)", "not a block device (an image file)", or "not set: why".
    const std::string& write_block() const { return write_block_; }

    // Reads exactly buffer.size() bytes at `offset` (clipped at the disk's end): the count
    // read, or Errc::cancelled after interrupt(), or Errc::io kDeviceDisconnected.
    Result<std::size_t> read(std::uint64_t offset, std::span<std::byte> buffer);

    void interrupt() { interrupted_.store(true); }
    bool interrupted() const { return interrupted_.load(); }
    bool gone() const { return gone_.load(); }

  private:
    Disk() = default;

    std::filesystem::path node_;
    UniqueFd fd_;
    std::uint64_t size_ = 0;
    unsigned sector_size_ = 512;
    bool block_device_ = false;
    std::string write_block_;
    std::atomic<bool> interrupted_{false};  // set from any thread
    std::atomic<bool> gone_{false};
};

}  // namespace exhibit::storage
