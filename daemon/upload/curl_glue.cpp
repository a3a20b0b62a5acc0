#include "curl_glue.hpp"

#include <sys/epoll.h>
#include <time.h>

#include <fmt/format.h>

#include "common/log.hpp"
#include "daemon/upload/message_ids.hpp"

namespace exhibit::upload {

Error curl_error(CURLcode code, const char* error_buffer) {
    std::string detail = error_buffer && *error_buffer ? error_buffer : curl_easy_strerror(code);
    Errc errc = Errc::io;
    switch (code) {
        case CURLE_OPERATION_TIMEDOUT:
            errc = Errc::timeout;
            break;
        case CURLE_ABORTED_BY_CALLBACK:
            errc = Errc::cancelled;
            break;
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
            errc = Errc::config;
            break;
        default:
            break;
    }
    return Error{errc, fmt::format("{} (curl error {})", detail, static_cast<int>(code)), 0};
}

CurlGlue::CurlGlue(sd_event* loop) : loop_(loop) {}

CurlGlue::~CurlGlue() {
    // Transfers still registered are detached so curl_multi_cleanup() does not touch them;
    // their owners destroy the easy handles.
    for (auto& [easy, cb] : finished_)
        curl_multi_remove_handle(multi_.get(), easy);
    finished_.clear();
    multi_.reset();  // may call on_socket(REMOVE) for pooled connections: ios_ is still alive
    ios_.clear();
    timer_.reset();
}

Result<std::unique_ptr<CurlGlue>> CurlGlue::create(sd_event* loop) {
    if (!loop)
        return fail(Errc::invalid_argument, "the upload channel needs an sd-event loop");
    std::unique_ptr<CurlGlue> glue(new CurlGlue(loop));
    CurlMultiPtr multi(curl_multi_init());
    if (!multi)
        return fail(Errc::internal, "curl_multi_init failed");
    if (curl_multi_setopt(multi.get(), CURLMOPT_SOCKETFUNCTION, &CurlGlue::on_socket) != CURLM_OK ||
        curl_multi_setopt(multi.get(), CURLMOPT_SOCKETDATA, glue.get()) != CURLM_OK ||
        curl_multi_setopt(multi.get(), CURLMOPT_TIMERFUNCTION, &CurlGlue::on_timer) != CURLM_OK ||
        curl_multi_setopt(multi.get(), CURLMOPT_TIMERDATA, glue.get()) != CURLM_OK)
        return fail(Errc::internal, "cannot install curl's socket and timer callbacks");
    glue->multi_ = std::move(multi);
    return glue;
}

Status CurlGlue::add(CURL* handle, Finished on_finished) {
    auto [it, inserted] = finished_.emplace(handle, std::move(on_finished));
    if (!inserted)
        return fail(Errc::internal, "transfer added twice");
    if (auto rc = curl_multi_add_handle(multi_.get(), handle); rc != CURLM_OK) {
        finished_.erase(it);
        return fail(Errc::internal,
                    fmt::format("curl_multi_add_handle failed: {}", curl_multi_strerror(rc)));
    }
    return {};
}

void CurlGlue::remove(CURL* handle) {
    if (finished_.erase(handle) > 0)
        curl_multi_remove_handle(multi_.get(), handle);
}

Status CurlGlue::unpause(CURL* handle) {
    if (auto rc = curl_easy_pause(handle, CURLPAUSE_CONT); rc != CURLE_OK)
        return std::unexpected(curl_error(rc, nullptr));
    return {};
}

void CurlGlue::set_max_host_connections(long n) {
    curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS, n);
    curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, n + 2);
}

int CurlGlue::on_socket(CURL*, curl_socket_t fd, int what, void* userp, void*) noexcept {
    try {
        return static_cast<CurlGlue*>(userp)->update_socket(fd, what);
    } catch (...) {
        return -1;
    }
}

int CurlGlue::update_socket(curl_socket_t fd, int what) {
    if (what == CURL_POLL_REMOVE) {
        ios_.erase(fd);
        return 0;
    }
    std::uint32_t events = EPOLLHUP | EPOLLERR;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= EPOLLIN;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= EPOLLOUT;

    if (auto it = ios_.find(fd); it != ios_.end()) {
        if (sd_event_source_set_io_events(it->second.get(), events) < 0 ||
            sd_event_source_set_enabled(it->second.get(), SD_EVENT_ON) < 0)
            return -1;
        return 0;
    }
    sd_event_source* source = nullptr;
    if (int r = sd_event_add_io(loop_, &source, fd, events, &CurlGlue::on_io, this); r < 0) {
        log::event(log::Level::error, message_id::kTransportFailed,
                   fmt::format("cannot watch curl's socket {}: {}", fd, std::strerror(-r)),
                   {log::field::error_class(Errc::io)});
        return -1;
    }
    ios_.emplace(fd, EventSourcePtr(source));
    sd_event_source_set_description(source, "curl-io");
    return 0;
}

int CurlGlue::on_timer(CURLM*, long timeout_ms, void* userp) noexcept {
    try {
        return static_cast<CurlGlue*>(userp)->update_timer(timeout_ms);
    } catch (...) {
        return -1;
    }
}

int CurlGlue::update_timer(long timeout_ms) {
    if (timeout_ms < 0) {
        if (timer_)
            sd_event_source_set_enabled(timer_.get(), SD_EVENT_OFF);
        return 0;
    }
    std::uint64_t now = 0;
    if (sd_event_now(loop_, CLOCK_MONOTONIC, &now) < 0)
        return -1;
    const std::uint64_t when = now + static_cast<std::uint64_t>(timeout_ms) * 1000;
    if (timer_) {
        if (sd_event_source_set_time(timer_.get(), when) < 0 ||
            sd_event_source_set_enabled(timer_.get(), SD_EVENT_ONESHOT) < 0)
            return -1;
        return 0;
    }
    // Accuracy 1 µs: sd-event's default (0 = 250 ms of coalescing) would stall every transfer
    // start and every curl timeout by up to a quarter of a second.
    sd_event_source* source = nullptr;
    if (sd_event_add_time(loop_, &source, CLOCK_MONOTONIC, when, 1, &CurlGlue::on_time, this) < 0)
        return -1;
    timer_.reset(source);
    sd_event_source_set_description(source, "curl-timer");
    return 0;
}

int CurlGlue::on_io(sd_event_source*, int fd, uint32_t revents, void* userdata) noexcept {
    try {
        int mask = 0;
        if (revents & (EPOLLIN | EPOLLHUP))
            mask |= CURL_CSELECT_IN;
        if (revents & EPOLLOUT)
            mask |= CURL_CSELECT_OUT;
        if (revents & EPOLLERR)
            mask |= CURL_CSELECT_ERR;
        static_cast<CurlGlue*>(userdata)->action(fd, mask);
    } catch (...) {
        log::event(log::Level::error, message_id::kTransportFailed,
                   "unexpected exception in curl's I/O handler",
                   {log::field::error_class(Errc::internal)});
    }
    return 0;
}

int CurlGlue::on_time(sd_event_source*, uint64_t, void* userdata) noexcept {
    try {
        static_cast<CurlGlue*>(userdata)->action(CURL_SOCKET_TIMEOUT, 0);
    } catch (...) {
        log::event(log::Level::error, message_id::kTransportFailed,
                   "unexpected exception in curl's timer handler",
                   {log::field::error_class(Errc::internal)});
    }
    return 0;
}

void CurlGlue::action(curl_socket_t fd, int mask) {
    int running = 0;
    if (auto rc = curl_multi_socket_action(multi_.get(), fd, mask, &running); rc != CURLM_OK)
        log::event(log::Level::error, message_id::kTransportFailed,
                   fmt::format("curl_multi_socket_action failed: {}", curl_multi_strerror(rc)),
                   {log::field::error_class(Errc::io)});
    reap_finished();
}

void CurlGlue::reap_finished() {
    for (;;) {
        int left = 0;
        CURLMsg* msg = curl_multi_info_read(multi_.get(), &left);
        if (!msg)
            break;
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL* easy = msg->easy_handle;
        const CURLcode result = msg->data.result;
        curl_multi_remove_handle(multi_.get(), easy);
        auto node = finished_.extract(easy);
        if (!node.empty() && node.mapped())
            node.mapped()(easy, result);  // may add new transfers or destroy `easy`
    }
}

}  // namespace exhibit::upload
