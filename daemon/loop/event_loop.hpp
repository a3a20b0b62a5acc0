// exhibitd's one sd-event loop, and owners for what registers with it.
//
// Everything the main thread reacts to (signals, timers, the watchdog, and later D-Bus,
// libcurl's multi sockets and the worker→loop eventfd) is an EventSource added here. A
// source unregisters in its destructor; its callback lives exactly as long as the source.
// Callbacks run on the loop thread; an exception escaping one is a bug: it is logged and the
// loop exits with EXIT_FAILURE (systemd restarts the daemon) rather than run half-broken.
//
// Thread-bound: an EventLoop and its sources are used from the thread that created them.
#pragma once

#include <sys/signalfd.h>
#include <systemd/sd-event.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string_view>

#include "common/error.hpp"

namespace exhibit::loop {

struct EventDeleter {
    void operator()(sd_event* e) const noexcept { sd_event_unref(e); }
};
using EventPtr = std::unique_ptr<sd_event, EventDeleter>;

struct EventSourceDeleter {
    void operator()(sd_event_source* s) const noexcept { sd_event_source_disable_unref(s); }
};
using EventSourcePtr = std::unique_ptr<sd_event_source, EventSourceDeleter>;

using SignalHandler = std::function<void(const signalfd_siginfo& info)>;
using TimerHandler = std::function<void()>;
using IoHandler = std::function<void(int fd, std::uint32_t revents)>;

// A registered callback. Move-only; destroying it (or reset()) removes it from the loop.
class EventSource {
  public:
    EventSource() = default;
    EventSource(EventSource&&) noexcept = default;
    EventSource& operator=(EventSource&& other) noexcept {
        if (this != &other) {
            reset();  // unregister before the old callback goes away
            handler_ = std::move(other.handler_);
            source_ = std::move(other.source_);
        }
        return *this;
    }
    EventSource(const EventSource&) = delete;
    EventSource& operator=(const EventSource&) = delete;
    ~EventSource() = default;

    sd_event_source* get() const { return source_.get(); }
    explicit operator bool() const { return static_cast<bool>(source_); }
    void reset() {
        source_.reset();
        handler_.reset();
    }

    // Type-erased callback storage (defined in event_loop.cpp).
    struct Handler {
        virtual ~Handler() = default;
    };

  private:
    friend class EventLoop;
    EventSource(std::unique_ptr<Handler> handler, EventSourcePtr source)
        : handler_(std::move(handler)), source_(std::move(source)) {}

    // Declared first so it is destroyed last: the source never outlives its callback.
    std::unique_ptr<Handler> handler_;
    EventSourcePtr source_;
};

class EventLoop {
  public:
    static Result<EventLoop> create();

    EventLoop(EventLoop&&) noexcept = default;
    EventLoop& operator=(EventLoop&&) noexcept = default;
    EventLoop(const EventLoop&) = delete;
    EventLoop& operator=(const EventLoop&) = delete;
    ~EventLoop() = default;

    // `signo` must already be blocked in every thread (see block_signals).
    Result<EventSource> add_signal(int signo, SignalHandler handler);

    // Calls `handler` every `interval` (CLOCK_MONOTONIC), first after one interval.
    Result<EventSource> add_periodic_timer(std::chrono::microseconds interval, TimerHandler handler,
                                           std::string_view description);

    // Calls `handler` whenever `fd` has any of `events` (EPOLLIN, ...). The fd stays owned by
    // the caller and must outlive the source.
    Result<EventSource> add_io(int fd, std::uint32_t events, IoHandler handler,
                               std::string_view description);

    // Pings systemd's watchdog from the loop when $WATCHDOG_USEC (and $WATCHDOG_PID, if set)
    // ask this process to; returns whether pings are now on.
    Result<bool> enable_watchdog();

    // Runs until exit() is called; returns the code given to exit().
    Result<int> run();
    // Makes run() return `code` after the current callback.
    void exit(int code);

    sd_event* get() const { return event_.get(); }

  private:
    explicit EventLoop(EventPtr event) : event_(std::move(event)) {}
    EventPtr event_;
};

// Blocks `signals` in the calling thread (and threads it starts later), as sd-event's signal
// sources need. Call before starting any thread.
Status block_signals(std::initializer_list<int> signals);

}  // namespace exhibit::loop
