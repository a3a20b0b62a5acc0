// RAII owners of the C handles the upload channel holds: libcurl easy, multi and header-list
// handles and sd-event sources. Each deleter is stateless; none of them throws.
#pragma once

#include <curl/curl.h>
#include <systemd/sd-event.h>

#include <memory>

namespace exhibit::upload {

struct CurlEasyDeleter {
    void operator()(CURL* h) const noexcept { curl_easy_cleanup(h); }
};
struct CurlMultiDeleter {
    void operator()(CURLM* h) const noexcept { curl_multi_cleanup(h); }
};
struct CurlSlistDeleter {
    void operator()(curl_slist* l) const noexcept { curl_slist_free_all(l); }
};
// Disables the source before dropping the reference, so that a source still referenced
// elsewhere (sd-event keeps floating sources) never fires into a destroyed owner.
struct EventSourceDeleter {
    void operator()(sd_event_source* s) const noexcept { sd_event_source_disable_unref(s); }
};
struct EventDeleter {
    void operator()(sd_event* e) const noexcept { sd_event_unref(e); }
};

using CurlEasyPtr = std::unique_ptr<CURL, CurlEasyDeleter>;
using CurlMultiPtr = std::unique_ptr<CURLM, CurlMultiDeleter>;
using CurlSlistPtr = std::unique_ptr<curl_slist, CurlSlistDeleter>;
using EventSourcePtr = std::unique_ptr<sd_event_source, EventSourceDeleter>;
using EventPtr = std::unique_ptr<sd_event, EventDeleter>;

}  // namespace exhibit::upload
