// Crash safety: a separate process streaming items into the store is SIGKILLed at random
// points, many times. After every kill the store reopens with every complete item whole, the
// item cut short kept as an incomplete item of the bytes that arrived, every blob re-hashing
// to its sha256, nothing left in the spool, and an intact audit chain.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <random>
#include <thread>

#include "daemon/store/store.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::store {
namespace {

const std::string kTool = std::string(EXHIBIT_BINARY_DIR) + "/tests/store_tool";

struct Child {
    pid_t pid = -1;
    int out = -1;
};

Child spawn_writer(const std::filesystem::path& dir, unsigned seed) {
    int pipefd[2];
    EXPECT_EQ(::pipe2(pipefd, O_CLOEXEC), 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::dup2(pipefd[1], STDOUT_FILENO);
        auto seed_text = std::to_string(seed);
        ::execl(kTool.c_str(), kTool.c_str(), "crash-writer", dir.c_str(), seed_text.c_str(),
                nullptr);
        ::_exit(127);
    }
    ::close(pipefd[1]);
    return {pid, pipefd[0]};
}

TEST(StoreCrash, SigkillAtRandomPointsNeverLeavesPartialEvidence) {
    constexpr int kRounds = 60;
    testing::TempDir dir;
    std::mt19937 rng(20261128);
    std::int64_t last_count = 0;        // complete items after the previous round
    std::int64_t total_incomplete = 0;  // items cut short by a kill, kept as incomplete
    int rounds_with_commits = 0;
    for (int round = 0; round < kRounds; ++round) {
        SCOPED_TRACE(round);
        Child child = spawn_writer(dir.path(), static_cast<unsigned>(rng()));
        ASSERT_GT(child.pid, 0);
        // Kill anywhere from during start-up (migration, key creation) to mid-stream.
        auto delay = std::chrono::microseconds(rng() % 250'000);
        std::this_thread::sleep_for(delay);
        ASSERT_EQ(::kill(child.pid, SIGKILL), 0);
        int status = 0;
        ASSERT_EQ(::waitpid(child.pid, &status, 0), child.pid);
        ::close(child.out);
        ASSERT_TRUE(WIFSIGNALED(status))
            << "the writer must still have been running (status " << status << ")";

        auto store = Store::open({.state_directory = dir.path(), .verify = VerifyDepth::full});
        ASSERT_TRUE(store) << store.error().describe();
        const auto& report = (*store)->open_report();
        EXPECT_EQ(report.items_missing, 0u);
        EXPECT_EQ(report.items_mismatch, 0u);
        auto items = (*store)->catalog().all_items();
        ASSERT_TRUE(items);
        std::int64_t complete = 0;
        std::int64_t incomplete = 0;
        for (const auto& item : *items) {
            std::uint64_t size = 0;
            auto digest = Sha256::of_file(dir.path() / item.blob, &size);
            ASSERT_TRUE(digest) << item.blob;
            EXPECT_EQ(to_hex(*digest), item.sha256);
            EXPECT_EQ(size, static_cast<std::uint64_t>(item.size));
            ASSERT_TRUE(item.declared_size) << item.source_path;
            if (item.state == ItemState::complete) {
                EXPECT_EQ(item.size, *item.declared_size) << item.source_path;
                ++complete;
            } else {
                // The item being written when the writer died: what reached the spool, kept
                // as an incomplete item of its session, never passed off as the whole file.
                EXPECT_EQ(item.state, ItemState::incomplete) << item.source_path;
                EXPECT_LE(item.size, *item.declared_size) << item.source_path;
                EXPECT_TRUE(item.incomplete_reason && !item.incomplete_reason->empty());
                ++incomplete;
            }
        }
        // Nothing partial anywhere: every blob file's content is its name, and the spool is empty.
        for (const auto& e : std::filesystem::recursive_directory_iterator(dir / "blobs")) {
            if (!e.is_regular_file())
                continue;
            EXPECT_EQ(to_hex(Sha256::of_file(e.path()).value()), e.path().filename().string());
        }
        EXPECT_TRUE(std::filesystem::is_empty(dir / "spool"));
        auto audit = (*store)->audit().verify();
        ASSERT_TRUE(audit);
        EXPECT_TRUE(audit->ok()) << audit->problem;
        EXPECT_EQ(incomplete, total_incomplete + static_cast<std::int64_t>(
                                                     report.partial_items_recorded))
            << "each partial item recorded once, by the open that found it";
        total_incomplete = incomplete;
        EXPECT_GE(complete, last_count) << "committed items are never lost";
        if (complete > last_count)
            ++rounds_with_commits;
        last_count = complete;
    }
    EXPECT_GT(last_count, 0) << "the writer committed items between kills";
    EXPECT_GT(total_incomplete, 0) << "kills landed inside items, and what was there was kept";
    EXPECT_GT(rounds_with_commits, kRounds / 4) << "kills landed while items were being written";
}

}  // namespace
}  // namespace exhibit::store
