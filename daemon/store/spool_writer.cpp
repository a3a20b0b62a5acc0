#include "spool_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <new>
#include <vector>

#include <fmt/format.h>

#include "common/fs.hpp"
#include "common/unique_fd.hpp"

namespace exhibit::store {

namespace {
// O_DIRECT wants page-aligned memory, offsets and lengths; 4 KiB suits every block size a
// disk reports.
constexpr std::size_t kAlign = 4096;

Error spool_error(const Error& e) {
    return e.with_context("cannot write to the spool");
}

using BlockPtr = SpoolWriter::BlockPtr;

// Hashes and writes small items for one receiving thread while that thread receives the
// next ones. Several helpers take items in turn: a small item's whole pages are written
// around the page cache, as a large item's are, and each such write waits for the disk, so
// the helpers' writes overlap each other and the receiving. (Through the page cache, the
// copy, the cache's bookkeeping and the later write-back cost nearly as much CPU as the
// hashing, and the batch's flush then had everything still to write.) Each job owns a
// duplicate of its spool file's descriptor, so a job outlives an aborted item harmlessly (its
// file is already unlinked). At most kMaxQueued items wait: a receiver that outruns the disk
// waits too.
class SmallItemFinisher {
  public:
    static SmallItemFinisher& of_this_thread() {
        thread_local SmallItemFinisher finisher;
        return finisher;
    }

    void submit(UniqueFd fd, BlockPtr block, std::size_t size,
                std::shared_ptr<PendingDigest> pending) {
        std::unique_lock lock(mu_);
        while (helpers_.size() < kHelpers)
            helpers_.emplace_back([this] { run(); });
        cv_.wait(lock, [&] { return jobs_.size() < kMaxQueued; });
        jobs_.push_back(Job{std::move(fd), std::move(block), size, std::move(pending)});
        cv_.notify_all();
    }

    // Blocks of finished items (written by these helpers or by a writer of this thread), kept
    // for the next item: an extraction writes thousands of small items one after another,
    // and fresh 2 MiB buffers would cost a map, page faults and an unmap each.
    void give_spare(BlockPtr block) {
        std::lock_guard lock(mu_);
        if (spares_.size() < kMaxSpares)
            spares_.push_back(std::move(block));
    }
    BlockPtr take_spare() {
        std::lock_guard lock(mu_);
        if (spares_.empty())
            return nullptr;
        BlockPtr b = std::move(spares_.back());
        spares_.pop_back();
        return b;
    }

    ~SmallItemFinisher() {
        {
            std::lock_guard lock(mu_);
            stopping_ = true;
            cv_.notify_all();
        }
        for (auto& helper : helpers_)
            helper.join();
    }

  private:
    // Enough writes in flight to keep a disk busy; each helper mostly waits for one.
    static constexpr std::size_t kHelpers = 4;
    static constexpr std::size_t kMaxQueued = 8;
    static constexpr std::size_t kMaxSpares = kMaxQueued + kHelpers;
    struct Job {
        UniqueFd fd;
        BlockPtr block;
        std::size_t size;
        std::shared_ptr<PendingDigest> pending;
    };

    void run() {
        for (;;) {
            Job job;
            {
                std::unique_lock lock(mu_);
                cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
                if (jobs_.empty())
                    return;  // stopping, and everything submitted is done
                job = std::move(jobs_.front());
                jobs_.pop_front();
                cv_.notify_all();
            }
            std::span<const std::byte> bytes(job.block.get(), job.size);
            Sha256 hash;
            hash.update(bytes);
            Digest digest = hash.finish();
            if (auto s = SpoolAppender(job.fd.get()).write(bytes); !s)
                job.pending->resolve(std::unexpected(spool_error(s.error())));
            else
                job.pending->resolve(digest);
            job.fd.reset();
            give_spare(std::move(job.block));
        }
    }

    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Job> jobs_;          // guarded by mu_
    std::vector<BlockPtr> spares_;  // guarded by mu_
    bool stopping_ = false;         // guarded by mu_
    std::vector<std::thread> helpers_;
};
}  // namespace

std::shared_ptr<PendingDigest> PendingDigest::ready(Result<Digest> result) {
    auto p = std::make_shared<PendingDigest>();
    p->resolve(std::move(result));
    return p;
}

Result<Digest> PendingDigest::wait() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return result_.has_value(); });
    return *result_;
}

void PendingDigest::resolve(Result<Digest> result) {
    std::lock_guard lock(mu_);
    result_ = std::move(result);
    cv_.notify_all();
}

SpoolWriter::SpoolWriter(int fd) : fd_(fd), appender_(fd) {}

SpoolWriter::~SpoolWriter() {
    {
        std::lock_guard lock(mu_);
        abandon_ = true;
    }
    stop_helpers();
    for (auto& block : ring_)
        if (block.data)
            SmallItemFinisher::of_this_thread().give_spare(std::move(block.data));
}

Status SpoolWriter::append(std::span<const std::byte> data) {
    if (finished_)
        return fail(Errc::invalid_argument, "the spool writer is already finished");
    while (!data.empty()) {
        Block& block = current();
        if (!block.data)
            block.data = SmallItemFinisher::of_this_thread().take_spare();
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
        // Small item: everything is in the first block.
        if (fill_ > 0) {
            std::span<const std::byte> bytes(current().data.get(), fill_);
            hash_.update(bytes);
            if (auto s = appender_.write(bytes); !s)
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

Result<std::shared_ptr<PendingDigest>> SpoolWriter::finish_later() {
    if (started_ || fill_ == 0 || finished_) {
        auto digest = finish();
        if (!digest)
            return std::unexpected(digest.error());
        return PendingDigest::ready(*digest);
    }
    finished_ = true;
    const int dup = ::fcntl(fd_, F_DUPFD_CLOEXEC, 0);
    if (dup < 0)
        return fail_errno("cannot hand the spool file to its writer");
    auto pending = std::make_shared<PendingDigest>();
    SmallItemFinisher::of_this_thread().submit(UniqueFd(dup), std::move(current().data), fill_,
                                               pending);
    return pending;
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
        auto s = appender_.write(std::span<const std::byte>(block.data.get(), block.size));
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

void SpoolAppender::use_page_cache() {
    if (!direct_)
        return;
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags >= 0)
        ::fcntl(fd_, F_SETFL, flags & ~O_DIRECT);
    direct_ = false;
}

Status SpoolAppender::write(std::span<const std::byte> data) {
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

Status SpoolAppender::write_at(std::span<const std::byte> data) {
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
