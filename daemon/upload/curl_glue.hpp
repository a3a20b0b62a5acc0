// libcurl's multi interface driven by an sd-event loop, in the manner of systemd's
// src/import/curl-util.c: CURLMOPT_SOCKETFUNCTION adds, changes and removes sd-event I/O
// sources; CURLMOPT_TIMERFUNCTION arms one sd-event timer; every event calls
// curl_multi_socket_action() and then reaps finished transfers. Nothing ever blocks the
// loop, and curl_multi_perform() is never called.
//
// Thread-bound: create, use and destroy it on the thread that runs its sd_event loop.
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include <functional>
#include <memory>
#include <unordered_map>

#include "common/error.hpp"
#include "daemon/upload/loop_handles.hpp"

namespace exhibit::upload {

class CurlGlue {
  public:
    // Called once per transfer when it ends, with curl's result; the handle has already been
    // removed from the multi handle and may be reused or destroyed by the callback.
    using Finished = std::function<void(CURL*, CURLcode)>;

    static Result<std::unique_ptr<CurlGlue>> create(sd_event* loop);
    ~CurlGlue();
    CurlGlue(const CurlGlue&) = delete;
    CurlGlue& operator=(const CurlGlue&) = delete;

    // Starts a transfer; `on_finished` runs from the loop when it ends. The handle stays
    // owned by the caller, who must keep it alive until then or call remove() first.
    Status add(CURL* handle, Finished on_finished);
    // Stops a transfer without calling its callback (cancellation).
    void remove(CURL* handle);

    // Resumes a transfer paused by CURL_READFUNC_PAUSE.
    Status unpause(CURL* handle);

    // Limits connections per host (the multi handle's pool is shared by every transfer, so
    // connections are reused across requests).
    void set_max_host_connections(long n);

    sd_event* loop() const { return loop_; }
    std::size_t active() const { return finished_.size(); }

  private:
    explicit CurlGlue(sd_event* loop);

    static int on_socket(CURL* easy, curl_socket_t fd, int what, void* userp,
                         void* socketp) noexcept;
    static int on_timer(CURLM* multi, long timeout_ms, void* userp) noexcept;
    static int on_io(sd_event_source* s, int fd, uint32_t revents, void* userdata) noexcept;
    static int on_time(sd_event_source* s, uint64_t usec, void* userdata) noexcept;

    int update_socket(curl_socket_t fd, int what);
    int update_timer(long timeout_ms);
    void action(curl_socket_t fd, int mask);
    void reap_finished();

    sd_event* loop_;  // borrowed; outlives the glue
    CurlMultiPtr multi_;
    EventSourcePtr timer_;
    std::unordered_map<curl_socket_t, EventSourcePtr> ios_;
    std::unordered_map<CURL*, Finished> finished_;
};

// Turns a CURLcode and the transfer's error buffer into an Error.
Error curl_error(CURLcode code, const char* error_buffer);

}  // namespace exhibit::upload
