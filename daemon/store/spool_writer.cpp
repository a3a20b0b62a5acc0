#include "spool_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include <fmt/format.h>

namespace exhibit::store {

namespace {
// O_DIRECT wants page-aligned memory, offsets and lengths; 4 KiB suits every block size a
// disk reports.
constexpr std::size_t kAlign = 4096;

// Blocks of finished writers, kept for the next item on the same thread: an extraction
// writes thousands of small items one after another, and fresh 2 MiB buffers would cost a
// map, page faults and an unmap each.
thread_local std::vector<std::unique_ptr<std::byte, SpoolWriter::FreeBytes>> spare_blocks;

Error spool_error(const Error& e) {
    return Error{e.code, fmt::format("cannot write to the spool: {}", e.describe()), e.sys_errno};
}
}  // namespace

void SpoolWriter::FreeBytes::operator()(std::byte* p) const noexcept {
    std::free(p);
}

SpoolWriter::SpoolWriter(int fd) : fd_(fd) {}

SpoolWriter::~SpoolWriter() {
    {
        std::lock_guard lock(mu_);
        abandon_ = true;
    }
    stop_helpers();
    for (auto& block : ring_)
        if (block.data && spare_blocks.size() < kBlocks)
            spare_blocks.push_back(std::move(block.data));
}

Status SpoolWriter::append(std::span<const std::byte> data) {
    if (finished_)
        return fail(Errc::invalid_argument, "the spool writer is already finished");
    while (!data.empty()) {
        Block& block = current();
        if (!block.data && !spare_blocks.empty()) {
            block.data = std::move(spare_blocks.back());
            spare_blocks.pop_back();
        }
        if (!block.data) {
            void* p = std::aligned_alloc(kAlign, kBlockSize);
            if (!p)
                return fail(Errc::io, "cannot allocate a spool buffer");
            block.data.reset(static_cast<std::byte*>(p));
        }
        const std::size_t n = std::min(data.size(), kBlockSize - fill_);
        std::memcpy(block.data.get() + fill_, data.data(), n);
        fill_ += n;
        appended_ += n;
        data = data.subspan(n);
        if (fill_ == kBlockSize)
            if (auto s = hand_over(kBlockSize); !s)
                return s;
    }
    return {};
}

Status SpoolWriter::hand_over(std::size_t size) {
    if (!started_)
        start_helpers();
    std::unique_lock lock(mu_);
    current().size = size;
    ++submitted_;
    fill_ = 0;
    cv_.notify_all();
    // The next block is free once both helpers are done with what it last held.
    cv_.wait(lock, [&] { return error_ || std::min(hashed_, written_) + kBlocks > submitted_; });
    if (error_)
        return std::unexpected(*error_);
    return {};
}

Result<Digest> SpoolWriter::finish() {
    if (finished_)
        return fail(Errc::invalid_argument, "the spool writer is already finished");
    finished_ = true;
    if (!started_) {
        // Small item: everything is in the first block. It goes through the page cache: a
        // batch of small items is flushed together when it commits, which costs less than
        // a direct write (and a wait for the disk) per item.
        direct_tried_ = true;
        if (fill_ > 0) {
            std::span<const std::byte> bytes(current().data.get(), fill_);
            hash_.update(bytes);
            if (auto s = write_block(bytes); !s)
                return std::unexpected(spool_error(s.error()));
        }
        return hash_.finish();
    }
    {
        std::lock_guard lock(mu_);
        if (fill_ > 0) {
            current().size = fill_;
            ++submitted_;
            fill_ = 0;
        }
        closing_ = true;
        cv_.notify_all();
    }
    stop_helpers();
    if (error_)
        return std::unexpected(*error_);
    return hash_.finish();
}

void SpoolWriter::start_helpers() {
    started_ = true;
    hasher_ = std::thread([this] { hash_loop(); });
    writer_ = std::thread([this] { write_loop(); });
}

void SpoolWriter::stop_helpers() {
    {
        std::lock_guard lock(mu_);
        closing_ = true;
        cv_.notify_all();
    }
    if (hasher_.joinable())
        hasher_.join();
    if (writer_.joinable())
        writer_.join();
}

bool SpoolWriter::wait_for_block(std::uint64_t seq) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return abandon_ || error_ || submitted_ > seq || closing_; });
    return !abandon_ && !error_ && submitted_ > seq;
}

void SpoolWriter::hash_loop() {
    for (std::uint64_t seq = 0; wait_for_block(seq); ++seq) {
        const Block& block = ring_[seq % kBlocks];
        hash_.update(std::span<const std::byte>(block.data.get(), block.size));
        std::lock_guard lock(mu_);
        hashed_ = seq + 1;
        cv_.notify_all();
    }
}

void SpoolWriter::write_loop() {
    for (std::uint64_t seq = 0; wait_for_block(seq); ++seq) {
        const Block& block = ring_[seq % kBlocks];
        auto s = write_block(std::span<const std::byte>(block.data.get(), block.size));
        std::lock_guard lock(mu_);
        if (!s) {
            error_ = spool_error(s.error());
        } else {
            written_ = seq + 1;
        }
        cv_.notify_all();
        if (!s)
            return;
    }
}

void SpoolWriter::use_page_cache() {
    if (!direct_)
        return;
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0)
        ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT);
    direct_ = false;
}

Status SpoolWriter::write_block(std::span<const std::byte> data) {
    if (!direct_tried_) {
        direct_tried_ = true;
        const int flags = ::fcntl(fd_, F_GETFL);
        direct_ = flags >= 0 && ::fcntl(fd_, F_SETFL, flags | O_DIRECT) == 0;
    }
    // Whole pages go around the page cache; a ragged tail (the item's last bytes) through it.
    const std::size_t whole = direct_ && offset_ % kAlign == 0 ? data.size() / kAlign * kAlign : 0;
    if (whole > 0)
        if (auto s = write_at(data.first(whole)); !s)
            return s;
    if (whole < data.size()) {
        use_page_cache();
        return write_at(data.subspan(whole));
    }
    return {};
}

Status SpoolWriter::write_at(std::span<const std::byte> data) {
    while (!data.empty()) {
        const ssize_t n = ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(offset_));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EINVAL && direct_) {
            // The file system refuses this direct write after all: write through the cache.
            use_page_cache();
            continue;
        }
        if (n < 0)
            return fail_errno("write failed");
        if (n == 0)
            return fail(Errc::io, "write made no progress");
        offset_ += static_cast<std::uint64_t>(n);
        data = data.subspan(static_cast<std::size_t>(n));
        // A short direct write leaves an unaligned offset: finish through the cache.
        if (direct_ && offset_ % kAlign != 0)
            use_page_cache();
    }
    return {};
}

}  // namespace exhibit::store
