#include "tests/drivers/fake_driver.hpp"

#include <algorithm>
#include <atomic>

#include <fmt/format.h>

namespace exhibit::testing {

void FakePhone::add(drivers::Category category, std::string path, std::string bytes,
                    std::int64_t mtime_ms, std::optional<std::uint64_t> declared) {
    std::lock_guard lock(mutex_);
    FakeArtefact a{.artefact = {.category = category,
                                .source_path = std::move(path),
                                .declared_size = declared.value_or(bytes.size()),
                                .mtime_ms = mtime_ms},
                   .bytes = std::move(bytes)};
    artefacts_.push_back(std::move(a));
}

void FakePhone::set_info(drivers::DeviceInfo info) {
    std::lock_guard lock(mutex_);
    info_ = std::move(info);
}

void FakePhone::lock() {
    std::lock_guard lock(mutex_);
    locked_ = true;
}

void FakePhone::unlock() {
    {
        std::lock_guard lock(mutex_);
        locked_ = false;
    }
    cv_.notify_all();
}

void FakePhone::refuse(std::string why) {
    std::lock_guard lock(mutex_);
    refusal_ = std::move(why);
}

void FakePhone::kill_kept_link() {
    std::lock_guard lock(mutex_);
    kill_link_ = true;
}

void FakePhone::hold(std::string path, std::uint64_t bytes) {
    std::lock_guard lock(mutex_);
    hold_ = std::pair(std::move(path), bytes);
}

bool FakePhone::wait_held(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, timeout, [&] { return held_; });
}

int FakePhone::opens() const {
    std::lock_guard lock(mutex_);
    return opens_;
}

// One link to the fake phone.
class FakeSession final : public drivers::DriverSession {
  public:
    explicit FakeSession(std::shared_ptr<FakePhone> phone) : phone_(std::move(phone)) {}

    Result<drivers::DeviceInfo> device_info() override {
        if (auto s = check(); !s)
            return std::unexpected(s.error());
        std::lock_guard lock(phone_->mutex_);
        return phone_->info_;
    }

    Result<drivers::Preview> preview(const drivers::Scope& scope) override {
        if (auto s = check(); !s)
            return std::unexpected(s.error());
        drivers::Preview preview;
        for (const auto& a : in_scope(scope)) {
            auto& c = preview[a.artefact.category];
            ++c.count;
            c.bytes += *a.artefact.declared_size;
        }
        return preview;
    }

    Status extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) override {
        if (auto s = check(); !s)
            return s;
        auto artefacts = in_scope(scope);
        std::uint64_t bytes = 0;
        for (const auto& a : artefacts)
            bytes += *a.artefact.declared_size;
        sink.planned(artefacts.size(), bytes);
        for (const auto& a : artefacts) {
            if (sink.stop_requested())
                return fail(Errc::cancelled, "the extraction was cancelled");
            auto writer = sink.begin(a.artefact);
            if (!writer)
                return std::unexpected(writer.error());
            std::uint64_t sent = 0;
            for (std::size_t at = 0; at < a.bytes.size(); at += kChunk) {
                if (auto s = hold_here(a.artefact.source_path, sent); !s) {
                    (void)(*writer)->finish_incomplete(
                        fmt::format("{} after {} bytes", s.error().describe(), sent));
                    return s;
                }
                auto piece = std::string_view(a.bytes).substr(at, kChunk);
                if (auto s = (*writer)->append(as_bytes(piece)); !s)
                    return s;
                sent += piece.size();
            }
            if (auto s = (*writer)->finish(); !s)
                return s;
        }
        return {};
    }

    void interrupt() override {
        {
            std::lock_guard lock(phone_->mutex_);
            interrupted_ = true;
        }
        phone_->cv_.notify_all();
    }

    bool reusable() const override {
        std::lock_guard lock(phone_->mutex_);
        return !interrupted_ && !dead_;
    }

  private:
    static constexpr std::size_t kChunk = 64 * 1024;

    static std::span<const std::byte> as_bytes(std::string_view s) {
        return std::as_bytes(std::span(s.data(), s.size()));
    }

    Status check() {
        std::lock_guard lock(phone_->mutex_);
        if (interrupted_)
            return fail(Errc::cancelled, "the fake link was interrupted");
        if (phone_->kill_link_) {
            phone_->kill_link_ = false;
            dead_ = true;
        }
        if (dead_)
            return fail(Errc::protocol, "the fake link died");
        return {};
    }

    std::vector<FakeArtefact> in_scope(const drivers::Scope& scope) const {
        std::lock_guard lock(phone_->mutex_);
        std::vector<FakeArtefact> out;
        for (const auto& a : phone_->artefacts_)
            if (scope.categories.contains(a.artefact.category) &&
                scope.includes_time(a.artefact.mtime_ms))
                out.push_back(a);
        return out;
    }

    // Waits for an interrupt when the phone holds this transfer here (as a cable pulled
    // part-way would leave a real link).
    Status hold_here(const std::string& path, std::uint64_t sent) {
        std::unique_lock lock(phone_->mutex_);
        if (interrupted_)
            return fail(Errc::io, std::string(drivers::kDeviceDisconnected));
        if (!phone_->hold_ || phone_->hold_->first != path || sent < phone_->hold_->second)
            return {};
        phone_->held_ = true;
        phone_->cv_.notify_all();
        phone_->cv_.wait(lock, [&] { return interrupted_; });
        return fail(Errc::io, std::string(drivers::kDeviceDisconnected));
    }

    std::shared_ptr<FakePhone> phone_;
    bool interrupted_ = false;  // guarded by the phone's mutex
    bool dead_ = false;         // guarded by the phone's mutex
};

std::span<const drivers::Category> FakeDriver::categories() const {
    static constexpr drivers::Category kMedia[] = {drivers::Category::photos,
                                                   drivers::Category::videos};
    if (phone_->media_only())
        return kMedia;
    return drivers::kAllCategories;
}

std::string_view FakeDriver::categories_note() const {
    return phone_->media_only() ? "this fake phone gives photos and videos only" : "";
}

Result<std::unique_ptr<drivers::DriverSession>> FakeDriver::open(
    const drivers::Device& device, const drivers::OpenContext& context) const {
    if (!device.offers(kFakeFunction) || !device.address.starts_with("fake:"))
        return fail(Errc::unsupported, fmt::format("{} is not a fake device", device.id));
    // Declared before the lock: a stop callback that runs takes the lock itself.
    std::stop_callback wake(context.stop, [p = phone_.get()] {
        std::lock_guard lock(p->mutex_);
        p->cv_.notify_all();
    });
    std::unique_lock lock(phone_->mutex_);
    if (phone_->refusal_)
        return fail(Errc::unsupported, *phone_->refusal_);
    if (phone_->locked_) {
        lock.unlock();
        if (context.report)
            context.report(drivers::DeviceCondition::locked, "unlock the phone to continue");
        lock.lock();
        phone_->cv_.wait(lock, [&] { return !phone_->locked_ || context.stop.stop_requested(); });
        if (phone_->locked_)
            return fail(Errc::cancelled, "stopped while the phone was locked");
    }
    ++phone_->opens_;
    lock.unlock();
    return std::make_unique<FakeSession>(phone_);
}

}  // namespace exhibit::testing
