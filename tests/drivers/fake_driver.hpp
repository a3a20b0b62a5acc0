// A made-up device family for tests: "fake", serving the made-up function "fake:sim" (devices
// at addresses "fake:NAME"). It is registered exactly as exhibitd registers ADB (one
// DriverRegistry::add line) and driven by the real session manager and store, to show that a
// family needs nothing in daemon/extract or daemon/bus.
//
// The phone behind it is a FakePhone the test sets up: artefacts (bytes, category, time, a
// declared size that may lie), and behaviours - locked until unlock(), unusable, a link that
// dies while kept, a transfer that stops part-way until the session is interrupted.
//
// FakeDriver is thread-safe; a FakePhone is shared by the test and the workers (its members
// are guarded by its mutex).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "drivers/driver.hpp"

namespace exhibit::testing {

inline const drivers::Function kFakeFunction{"fake:sim"};

struct FakeArtefact {
    drivers::Artefact artefact;  // declared_size unset: the true size
    std::string bytes;
};

class FakePhone {
  public:
    // What the phone holds and says about itself.
    void add(drivers::Category category, std::string path, std::string bytes,
             std::int64_t mtime_ms = 1'700'000'000'000, std::optional<std::uint64_t> declared = {});
    void set_info(drivers::DeviceInfo info);

    // Behaviours.
    void lock();  // open() reports `locked` and waits for unlock() (or a stop)
    void unlock();
    void refuse(std::string why);  // open() fails, Errc::unsupported
    // The family then offers photos and videos only (Driver::categories), as MTP offers files.
    void offer_media_only() { media_only_ = true; }
    bool media_only() const { return media_only_; }
    // The kept link fails its next call (and is no longer reusable), once.
    void kill_kept_link();
    // Stops sending after `bytes` of artefact `path` until the session is interrupted.
    void hold(std::string path, std::uint64_t bytes);
    // Blocks until a transfer is held (true), or `timeout` passes.
    bool wait_held(std::chrono::milliseconds timeout);

    int opens() const;  // links opened so far

  private:
    friend class FakeDriver;
    friend class FakeSession;
    mutable std::mutex mutex_;
    std::condition_variable cv_;
    std::vector<FakeArtefact> artefacts_;
    drivers::DeviceInfo info_;
    bool locked_ = false;
    std::atomic<bool> media_only_{false};
    std::optional<std::string> refusal_;
    bool kill_link_ = false;
    std::optional<std::pair<std::string, std::uint64_t>> hold_;
    bool held_ = false;
    int opens_ = 0;
};

class FakeDriver final : public drivers::Driver {
  public:
    explicit FakeDriver(std::shared_ptr<FakePhone> phone) : phone_(std::move(phone)) {}

    std::string_view name() const override { return "fake"; }
    std::string_view version() const override { return "0 (test only)"; }
    std::span<const drivers::Function> serves() const override { return {&kFakeFunction, 1}; }
    std::span<const drivers::Category> categories() const override;
    std::string_view categories_note() const override;
    Result<std::unique_ptr<drivers::DriverSession>> open(
        const drivers::Device& device, const drivers::OpenContext& context) const override;

  private:
    std::shared_ptr<FakePhone> phone_;
};

}  // namespace exhibit::testing
