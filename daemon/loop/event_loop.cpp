#include "daemon/loop/event_loop.hpp"

#include <pthread.h>
#include <signal.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include <fmt/format.h>

#include "common/log.hpp"
#include "daemon/loop/message_ids.hpp"

namespace exhibit::loop {

namespace {

struct SignalCallback final : EventSource::Handler {
    SignalHandler fn;
};

struct TimerCallback final : EventSource::Handler {
    TimerHandler fn;
    std::uint64_t interval_usec = 0;
};

struct IoCallback final : EventSource::Handler {
    IoHandler fn;
};

std::unexpected<Error> sd_fail(std::string what, int negative_errno) {
    return std::unexpected(Error{Errc::io, std::move(what), -negative_errno});
}

// A callback threw: a bug. Log it and stop the loop so systemd restarts a clean process.
int on_callback_exception(sd_event_source* s) noexcept {
    try {
        std::string what = "unknown exception";
        try {
            throw;
        } catch (const std::exception& e) {
            what = e.what();
        } catch (...) {
        }
        const char* description = nullptr;
        (void)sd_event_source_get_description(s, &description);
        const std::string source = description ? description : "(unnamed)";
        log::event(log::Level::error, message_id::kCallbackFailed,
                   fmt::format("event loop callback {} failed: {}; stopping", source, what),
                   {{"EXHIBIT_EVENT_SOURCE", source}, log::field::error_class(Errc::internal)});
    } catch (...) {
        // Logging itself failed; still stop the loop below.
    }
    sd_event_exit(sd_event_source_get_event(s), EXIT_FAILURE);
    return 0;
}

int signal_trampoline(sd_event_source* s, const signalfd_siginfo* info, void* userdata) noexcept {
    try {
        static_cast<SignalCallback*>(userdata)->fn(*info);
        return 0;
    } catch (...) {
        return on_callback_exception(s);
    }
}

int timer_trampoline(sd_event_source* s, std::uint64_t now, void* userdata) noexcept {
    try {
        auto* cb = static_cast<TimerCallback*>(userdata);
        // Re-arm first, so a handler that throws does not also silence the timer.
        int r = sd_event_source_set_time(s, now + cb->interval_usec);
        if (r >= 0)
            r = sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
        if (r < 0)
            log::event(log::Level::error, message_id::kTimerRearmFailed,
                       fmt::format("cannot re-arm a timer: {}", std::strerror(-r)),
                       {log::field::error_class(Errc::io)});
        cb->fn();
        return 0;
    } catch (...) {
        return on_callback_exception(s);
    }
}

int io_trampoline(sd_event_source* s, int fd, std::uint32_t revents, void* userdata) noexcept {
    try {
        static_cast<IoCallback*>(userdata)->fn(fd, revents);
        return 0;
    } catch (...) {
        return on_callback_exception(s);
    }
}

}  // namespace

Result<EventLoop> EventLoop::create() {
    sd_event* raw = nullptr;
    int r = sd_event_new(&raw);
    if (r < 0)
        return sd_fail("cannot create the event loop", r);
    return EventLoop(EventPtr(raw));
}

Result<EventSource> EventLoop::add_signal(int signo, SignalHandler handler) {
    auto cb = std::make_unique<SignalCallback>();
    cb->fn = std::move(handler);
    sd_event_source* raw = nullptr;
    int r = sd_event_add_signal(event_.get(), &raw, signo, signal_trampoline, cb.get());
    if (r < 0)
        return sd_fail(fmt::format("cannot watch signal {}", strsignal(signo)), r);
    EventSourcePtr source(raw);
    (void)sd_event_source_set_description(raw, sigabbrev_np(signo));
    return EventSource(std::move(cb), std::move(source));
}

Result<EventSource> EventLoop::add_periodic_timer(std::chrono::microseconds interval,
                                                  TimerHandler handler,
                                                  std::string_view description) {
    if (interval.count() <= 0)
        return fail(Errc::invalid_argument, "a periodic timer needs a positive interval");
    auto cb = std::make_unique<TimerCallback>();
    cb->fn = std::move(handler);
    cb->interval_usec = static_cast<std::uint64_t>(interval.count());
    sd_event_source* raw = nullptr;
    int r = sd_event_add_time_relative(event_.get(), &raw, CLOCK_MONOTONIC, cb->interval_usec, 0,
                                       timer_trampoline, cb.get());
    std::string name(description);
    if (r < 0)
        return sd_fail(fmt::format("cannot add timer {}", name), r);
    EventSourcePtr source(raw);
    (void)sd_event_source_set_description(raw, name.c_str());
    return EventSource(std::move(cb), std::move(source));
}

Result<EventSource> EventLoop::add_io(int fd, std::uint32_t events, IoHandler handler,
                                      std::string_view description) {
    auto cb = std::make_unique<IoCallback>();
    cb->fn = std::move(handler);
    sd_event_source* raw = nullptr;
    int r = sd_event_add_io(event_.get(), &raw, fd, events, io_trampoline, cb.get());
    std::string name(description);
    if (r < 0)
        return sd_fail(fmt::format("cannot watch {}", name), r);
    EventSourcePtr source(raw);
    (void)sd_event_source_set_description(raw, name.c_str());
    return EventSource(std::move(cb), std::move(source));
}

Result<bool> EventLoop::enable_watchdog() {
    int r = sd_event_set_watchdog(event_.get(), 1);
    if (r < 0)
        return sd_fail("cannot enable the watchdog", r);
    return r > 0;
}

Result<int> EventLoop::run() {
    int r = sd_event_loop(event_.get());
    if (r < 0)
        return sd_fail("the event loop failed", r);
    return r;
}

void EventLoop::exit(int code) {
    (void)sd_event_exit(event_.get(), code);
}

Status block_signals(std::initializer_list<int> signals) {
    sigset_t set;
    sigemptyset(&set);
    for (int s : signals)
        sigaddset(&set, s);
    int r = pthread_sigmask(SIG_BLOCK, &set, nullptr);
    if (r != 0)
        return fail_errno("cannot block signals", r);
    return {};
}

}  // namespace exhibit::loop
