#include "daemon/store/spool_writer.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <random>
#include <thread>
#include <vector>

#include "common/fs.hpp"
#include "common/unique_fd.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::store {
namespace {

constexpr std::size_t kBlock = SpoolWriter::kBlockSize;

std::vector<std::byte> random_bytes(std::size_t n, unsigned seed) {
    std::mt19937 gen(seed);
    std::vector<std::byte> out(n);
    for (auto& b : out)
        b = static_cast<std::byte>(gen());
    return out;
}

std::vector<std::byte> read_whole(const std::filesystem::path& path) {
    std::vector<std::byte> out;
    auto fd = fs::open_file(path, O_RDONLY);
    EXPECT_TRUE(fd.has_value());
    std::byte buf[65536];
    for (;;) {
        ssize_t n = ::read(fd->get(), buf, sizeof buf);
        EXPECT_GE(n, 0);
        if (n <= 0)
            break;
        out.insert(out.end(), buf, buf + n);
    }
    return out;
}

// A spool file opened read-only: every write to it fails (EBADF).
Result<UniqueFd> unwritable_spool(const testing::TempDir& dir) {
    const auto path = dir.path() / "spool";
    if (auto created = fs::open_file(path, O_WRONLY | O_CREAT | O_EXCL); !created)
        return std::unexpected(created.error());
    return fs::open_file(path, O_RDONLY);
}

class SpoolWriterTest : public ::testing::TestWithParam<std::size_t> {
  protected:
    testing::TempDir dir;
};

// Every size around the page and block edges, and more blocks than the ring holds: the file
// holds exactly the bytes appended, and the digest is theirs.
TEST_P(SpoolWriterTest, FileAndDigestMatchWhatWasAppended) {
    const std::size_t size = GetParam();
    const auto data = random_bytes(size, static_cast<unsigned>(size));
    const auto path = dir.path() / "spool";
    auto fd = fs::open_file(path, O_WRONLY | O_CREAT | O_EXCL);
    ASSERT_TRUE(fd.has_value());
    SpoolWriter writer(fd->get());
    // Appends in uneven pieces, as a phone's messages arrive.
    std::mt19937 gen(7);
    std::span<const std::byte> rest(data);
    while (!rest.empty()) {
        const std::size_t n = std::min<std::size_t>(rest.size(), 1 + gen() % 70000);
        ASSERT_TRUE(writer.append(rest.first(n)));
        rest = rest.subspan(n);
    }
    EXPECT_EQ(writer.appended(), size);
    auto digest = writer.finish();
    ASSERT_TRUE(digest.has_value()) << digest.error().describe();
    EXPECT_EQ(*digest, Sha256::of(data));
    EXPECT_EQ(read_whole(path), data);
    EXPECT_FALSE(writer.finish().has_value()) << "a writer finishes once";
}

INSTANTIATE_TEST_SUITE_P(Sizes, SpoolWriterTest,
                         ::testing::Values(0, 1, 4095, 4096, 4097, kBlock - 1, kBlock, kBlock + 1,
                                           kBlock + 4096, 2 * kBlock + 12345,
                                           (SpoolWriter::kBlocks + 3) * kBlock + 511));

// A write that fails on the helper thread surfaces as an error on the caller, without a hang.
TEST(SpoolWriter, WriteFailureIsReportedNotHung) {
    testing::TempDir dir;
    auto fd = unwritable_spool(dir);
    ASSERT_TRUE(fd.has_value());
    SpoolWriter writer(fd->get());
    const auto data = random_bytes(kBlock, 1);
    const auto start = std::chrono::steady_clock::now();
    Status status;
    for (int i = 0; i < 100 && status; ++i)
        status = writer.append(data);
    auto digest = writer.finish();
    EXPECT_FALSE(status.has_value() && digest.has_value());
    const auto& error = status ? digest.error() : status.error();
    EXPECT_NE(error.message.find("cannot write to the spool"), std::string::npos)
        << error.describe();
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// A small item that cannot be written fails at finish().
TEST(SpoolWriter, SmallItemWriteFailureIsReported) {
    testing::TempDir dir;
    auto fd = unwritable_spool(dir);
    ASSERT_TRUE(fd.has_value());
    SpoolWriter writer(fd->get());
    const auto data = random_bytes(1000, 2);
    ASSERT_TRUE(writer.append(data));
    EXPECT_FALSE(writer.finish().has_value());
}

// Destroying a writer in the middle of a large item (a cancelled extraction) stops its
// helpers promptly.
TEST(SpoolWriter, DestroyedMidItemStopsPromptly) {
    testing::TempDir dir;
    auto fd = fs::open_file(dir.path() / "spool", O_WRONLY | O_CREAT | O_EXCL);
    ASSERT_TRUE(fd.has_value());
    const auto data = random_bytes(kBlock + 100, 3);
    const auto start = std::chrono::steady_clock::now();
    {
        SpoolWriter writer(fd->get());
        for (int i = 0; i < 6; ++i)
            ASSERT_TRUE(writer.append(data));
    }
    EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// Small items handed to the thread's helper: each one's file and digest are right, even when
// the caller closed its own descriptor before the helper got to it.
TEST(SpoolWriter, SmallItemsFinishedLaterArriveWhole) {
    testing::TempDir dir;
    std::vector<std::pair<std::vector<std::byte>, std::shared_ptr<PendingDigest>>> items;
    for (unsigned i = 0; i < 40; ++i) {
        const auto data = random_bytes(1 + i * 7919 % 300000, i);
        const auto path = dir.path() / fmt::format("spool-{}", i);
        auto fd = fs::open_file(path, O_WRONLY | O_CREAT | O_EXCL);
        ASSERT_TRUE(fd.has_value());
        SpoolWriter writer(fd->get());
        ASSERT_TRUE(writer.append(data));
        auto pending = writer.finish_later();
        ASSERT_TRUE(pending.has_value()) << pending.error().describe();
        fd->reset();  // the sealed item may be dropped before its bytes are written
        items.emplace_back(data, *pending);
    }
    for (unsigned i = 0; i < items.size(); ++i) {
        auto digest = items[i].second->wait();
        ASSERT_TRUE(digest.has_value()) << digest.error().describe();
        EXPECT_EQ(*digest, Sha256::of(items[i].first));
        EXPECT_EQ(read_whole(dir.path() / fmt::format("spool-{}", i)), items[i].first);
    }
}

// A large item is finished at once: finish_later() gives a digest that is already there.
TEST(SpoolWriter, LargeItemFinishedLaterIsAlreadyDone) {
    testing::TempDir dir;
    auto fd = fs::open_file(dir.path() / "spool", O_WRONLY | O_CREAT | O_EXCL);
    ASSERT_TRUE(fd.has_value());
    const auto data = random_bytes(kBlock * 2 + 5, 9);
    SpoolWriter writer(fd->get());
    ASSERT_TRUE(writer.append(data));
    auto pending = writer.finish_later();
    ASSERT_TRUE(pending.has_value());
    EXPECT_EQ((*pending)->wait().value(), Sha256::of(data));
}

// A small item that cannot be written reports it through its pending digest.
TEST(SpoolWriter, SmallItemFinishedLaterReportsAWriteFailure) {
    testing::TempDir dir;
    auto fd = unwritable_spool(dir);
    ASSERT_TRUE(fd.has_value());
    SpoolWriter writer(fd->get());
    ASSERT_TRUE(writer.append(random_bytes(1000, 4)));
    auto pending = writer.finish_later();
    ASSERT_TRUE(pending.has_value());
    auto digest = (*pending)->wait();
    ASSERT_FALSE(digest.has_value());
    EXPECT_NE(digest.error().message.find("cannot write to the spool"), std::string::npos);
}

// A full disk (/dev/full answers every write with ENOSPC) says so once, with the spool as the
// place, for large items (the writing helper) and small ones (finished later) alike.
TEST(SpoolWriter, AFullDiskNamesItsCauseOnce) {
    const std::string cause = std::strerror(ENOSPC);
    for (std::size_t size : {std::size_t{1000}, 3 * kBlock}) {
        auto fd = fs::open_file("/dev/full", O_WRONLY);
        ASSERT_TRUE(fd.has_value());
        SpoolWriter writer(fd->get());
        Result<Digest> digest = Digest{};
        if (auto s = writer.append(random_bytes(size, 5)); !s) {
            digest = std::unexpected(s.error());
        } else if (size < kBlock) {
            auto pending = writer.finish_later();
            ASSERT_TRUE(pending.has_value());
            digest = (*pending)->wait();
        } else {
            digest = writer.finish();
        }
        ASSERT_FALSE(digest.has_value()) << size;
        const auto text = digest.error().describe();
        EXPECT_EQ(digest.error().code, Errc::no_space) << text;
        EXPECT_TRUE(text.starts_with("cannot write to the spool: write failed: ")) << text;
        std::size_t n = 0;
        for (auto at = text.find(cause); at != std::string::npos; at = text.find(cause, at + 1))
            ++n;
        EXPECT_EQ(n, 1u) << text;
    }
}

// A thread that ends with items still with its helper: the helper finishes them first.
TEST(SpoolWriter, AThreadEndingWithQueuedItemsStillFinishesThem) {
    testing::TempDir dir;
    std::vector<std::shared_ptr<PendingDigest>> pendings;
    const auto data = random_bytes(200000, 5);
    std::thread([&] {
        for (int i = 0; i < 20; ++i) {
            auto fd = fs::open_file(dir.path() / fmt::format("s{}", i), O_WRONLY | O_CREAT);
            ASSERT_TRUE(fd.has_value());
            SpoolWriter writer(fd->get());
            ASSERT_TRUE(writer.append(data));
            pendings.push_back(writer.finish_later().value());
        }
    }).join();
    ASSERT_EQ(pendings.size(), 20u);
    for (auto& p : pendings)
        EXPECT_EQ(p->wait().value(), Sha256::of(data));
}

// Whether the file system under `dir` takes direct (page-cache-bypassing) writes.
bool takes_direct_writes(const std::filesystem::path& dir) {
    const auto probe = dir / "direct-probe";
    UniqueFd fd(::open(probe.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_DIRECT, 0600));
    if (!fd)
        return false;
    SpoolWriter::BlockPtr page(static_cast<std::byte*>(std::aligned_alloc(4096, 4096)));
    std::memset(page.get(), 0, 4096);
    const bool ok = ::pwrite(fd.get(), page.get(), 4096, 0) == 4096;
    ::unlink(probe.c_str());
    return ok;
}

// How many of the file's first `pages` pages are in the page cache.
std::size_t cached_pages(const std::filesystem::path& path, std::size_t pages) {
    auto fd = fs::open_file(path, O_RDONLY);
    EXPECT_TRUE(fd.has_value());
    const std::size_t length = pages * 4096;
    void* map = ::mmap(nullptr, length, PROT_READ, MAP_SHARED, fd->get(), 0);
    EXPECT_NE(map, MAP_FAILED);
    std::vector<unsigned char> resident(pages);
    EXPECT_EQ(::mincore(map, length, resident.data()), 0);
    ::munmap(map, length);
    return static_cast<std::size_t>(
        std::count_if(resident.begin(), resident.end(), [](unsigned char r) { return r & 1; }));
}

// A small item's whole pages are written around the page cache, as a large item's are
// (finished now or later): the batch's flush finds them already written, and extracting a
// phone does not fill the kiosk's memory with evidence nobody reads back. Where the file
// system refuses direct writes they go through the cache, whole.
TEST(SpoolWriter, SmallItemsWholePagesBypassThePageCache) {
    testing::TempDir dir;
    const bool direct = takes_direct_writes(dir.path());
    const std::size_t pages = 25;
    const auto data = random_bytes(pages * 4096 + 100, 6);  // 25 whole pages and a tail
    for (const bool later : {false, true}) {
        const auto path = dir.path() / fmt::format("spool-{}", later);
        auto fd = fs::open_file(path, O_WRONLY | O_CREAT | O_EXCL);
        ASSERT_TRUE(fd.has_value());
        SpoolWriter writer(fd->get());
        ASSERT_TRUE(writer.append(data));
        Result<Digest> digest = later ? writer.finish_later().value()->wait() : writer.finish();
        ASSERT_TRUE(digest.has_value()) << digest.error().describe();
        EXPECT_EQ(*digest, Sha256::of(data));
        EXPECT_EQ(cached_pages(path, pages), direct ? 0u : pages) << "finished later: " << later;
        EXPECT_EQ(read_whole(path), data);
    }
}

}  // namespace
}  // namespace exhibit::store
