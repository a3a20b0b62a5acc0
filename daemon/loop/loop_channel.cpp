#include "loop_channel.hpp"

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

namespace exhibit::loop {

Result<std::unique_ptr<LoopChannel>> LoopChannel::create(EventLoop& loop) {
    std::unique_ptr<LoopChannel> channel(new LoopChannel());
    channel->eventfd_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!channel->eventfd_)
        return fail_errno("cannot create the worker channel's eventfd");
    auto source = loop.add_io(
        channel->eventfd_.get(), EPOLLIN, [c = channel.get()](int, std::uint32_t) { c->drain(); },
        "worker-channel");
    if (!source)
        return std::unexpected(source.error());
    channel->source_ = std::move(*source);
    return channel;
}

void LoopChannel::post(std::function<void()> callback) {
    {
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(callback));
    }
    std::uint64_t one = 1;
    // A full counter (impossible in practice) still leaves the fd readable: nothing is lost.
    [[maybe_unused]] auto n = ::write(eventfd_.get(), &one, sizeof one);
}

void LoopChannel::drain() {
    std::uint64_t count = 0;
    [[maybe_unused]] auto n = ::read(eventfd_.get(), &count, sizeof count);
    std::deque<std::function<void()>> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(queue_);
    }
    for (auto& callback : batch)
        callback();
}

}  // namespace exhibit::loop
