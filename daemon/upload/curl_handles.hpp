// The one owner of each libcurl handle the upload channel holds: easy, multi, header-list and
// URL handles, and strings libcurl allocated. (The sd-event sources it registers are
// common/sd_event_handles.hpp's.)
#pragma once

#include <curl/curl.h>

#include "common/c_handle.hpp"
#include "common/sd_event_handles.hpp"

namespace exhibit::upload {

using CurlEasyPtr = CHandle<CURL, curl_easy_cleanup>;
using CurlMultiPtr = CHandle<CURLM, curl_multi_cleanup>;
using CurlSlistPtr = CHandle<curl_slist, curl_slist_free_all>;
using CurlUrlPtr = CHandle<CURLU, curl_url_cleanup>;
using CurlStringPtr = CHandle<char, curl_free>;

}  // namespace exhibit::upload
