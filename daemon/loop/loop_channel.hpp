// The one way a worker thread reaches the loop: post() queues a callback (thread-safe) and
// wakes the loop through an eventfd; the loop runs queued callbacks in order on its thread.
// Workers never touch loop-owned objects directly.
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <mutex>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "daemon/loop/event_loop.hpp"

namespace exhibit::loop {

class LoopChannel {
  public:
    static Result<std::unique_ptr<LoopChannel>> create(EventLoop& loop);

    // Thread-safe. The callback runs later on the loop thread (never if the channel is
    // destroyed first).
    void post(std::function<void()> callback);

  private:
    LoopChannel() = default;
    void drain();

    UniqueFd eventfd_;
    EventSource source_;
    std::mutex mutex_;
    std::deque<std::function<void()>> queue_;
};

}  // namespace exhibit::loop
