// Writes one item's bytes into its spool file and hashes them (SHA-256) while the caller
// keeps receiving: the caller copies into fixed-size, page-aligned blocks, and each full
// block goes to two helper threads, one hashing it and one writing it, so that receiving,
// hashing and writing overlap. Blocks are reused in a ring: memory stays flat whatever the
// item's size, and a caller that outruns the disk waits for a free block.
//
// Writes bypass the page cache (O_DIRECT) where the file system allows it: evidence is
// flushed before it counts and is read back rarely, so caching it only costs a copy and
// leaves the flush with everything still to do. The tail that is not a whole number of
// pages is written through the cache. A file system without O_DIRECT gets ordinary writes.
//
// An item smaller than one block never starts the helpers. finish() hashes and writes it on
// the caller's thread; finish_later() hands that to a few long-lived helpers of the caller's
// thread, so that the caller goes on receiving the next items meanwhile and the helpers'
// waits for the disk overlap.
//
// The caller uses it from one thread. Destroying it stops the helpers; what they wrote stays
// in the file, which the owner then discards.
#pragma once

#include <array>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <thread>

#include "common/c_handle.hpp"
#include "common/error.hpp"
#include "common/sha256.hpp"

namespace exhibit::store {

// Appends to a spool file from its start: whole pages around the page cache (O_DIRECT) where
// the file system allows it, the rest through the cache. One thread at a time.
class SpoolAppender {
  public:
    explicit SpoolAppender(int fd) : fd_(fd) {}
    Status write(std::span<const std::byte> data);

  private:
    Status write_at(std::span<const std::byte> data);
    void use_page_cache();

    int fd_;
    std::uint64_t offset_ = 0;
    bool direct_tried_ = false;
    bool direct_ = false;
};

// The digest of an item whose last bytes a helper may still be hashing and writing.
class PendingDigest {
  public:
    static std::shared_ptr<PendingDigest> ready(Result<Digest> result);
    // Waits for the helper: the digest, or why the item could not be written.
    Result<Digest> wait();
    void resolve(Result<Digest> result);

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    std::optional<Result<Digest>> result_;  // guarded by mu_
};

class SpoolWriter {
  public:
    static constexpr std::size_t kBlockSize = 2 << 20;
    static constexpr std::size_t kBlocks = 4;

    // `fd`: the empty spool file, open for writing; it must outlive this writer.
    explicit SpoolWriter(int fd);
    SpoolWriter(const SpoolWriter&) = delete;
    SpoolWriter& operator=(const SpoolWriter&) = delete;
    ~SpoolWriter();

    Status append(std::span<const std::byte> data);
    // Writes what is left, waits for the helpers and returns the digest of every appended
    // byte. The writer is spent afterwards.
    Result<Digest> finish();
    // As finish(), but a small item's hashing and writing may still be under way when it
    // returns: its digest (and any write error) comes from the PendingDigest. The spool
    // file's descriptor may be closed meanwhile; the helper writes through its own.
    Result<std::shared_ptr<PendingDigest>> finish_later();

    std::uint64_t appended() const { return appended_; }

    // A block from std::aligned_alloc.
    using BlockPtr = CHandle<std::byte, ::free>;

  private:
    struct Block {
        BlockPtr data;
        std::size_t size = 0;
    };

    Block& current() { return ring_[submitted_ % kBlocks]; }
    Status hand_over(std::size_t size);
    void start_helpers();
    void stop_helpers();
    void hash_loop();
    void write_loop();
    // Waits until block `seq` is submitted; false when there is nothing more to do.
    bool wait_for_block(std::uint64_t seq);

    const int fd_;
    std::array<Block, kBlocks> ring_;
    Sha256 hash_;  // the hashing helper's once started, the caller's before
    std::uint64_t appended_ = 0;
    std::size_t fill_ = 0;  // bytes in the current block
    bool started_ = false;
    bool finished_ = false;

    // The writing helper's once started, the caller's before.
    SpoolAppender appender_;

    std::mutex mu_;
    std::condition_variable cv_;
    std::uint64_t submitted_ = 0;  // blocks handed over; guarded by mu_ once started
    std::uint64_t hashed_ = 0;     // guarded by mu_
    std::uint64_t written_ = 0;    // guarded by mu_
    bool closing_ = false;         // no more blocks will come; guarded by mu_
    bool abandon_ = false;         // stop without finishing; guarded by mu_
    std::optional<Error> error_;   // the writing helper's first error; guarded by mu_
    std::thread hasher_;
    std::thread writer_;
};

}  // namespace exhibit::store
