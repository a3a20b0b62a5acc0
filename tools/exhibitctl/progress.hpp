// Rendering of a session's progress while `extract --wait` follows it, and of the queue
// while `sync --now --wait` does: a bar redrawn in place on a terminal, one line per update
// otherwise. Pure functions; reentrant.
#pragma once

#include <cstddef>
#include <string>

#include "tools/exhibitctl/values.hpp"

namespace exhibit::ctl {

// One terminal line of at most `width` columns (no newline): bar, percent, bytes, rate,
// items and the tail of the current item, e.g.
//   [#########-----------]  42.0%  1.2 GiB/2.9 GiB  35.1 MiB/s  12/40 items  …/IMG_1.jpg
std::string progress_bar(const ValueMap& session, std::size_t width);

// One line for logs and pipes (no newline), e.g.
//   session 3 running 42.0% 1.2 GiB/2.9 GiB 35.1 MiB/s items 12/40 current /sdcard/IMG_1.jpg
std::string progress_line(const ValueMap& session);

// The queue in one line (no newline), e.g.
//   queue: 3 queued, 1 uploading, 40 received, 0 failed, 1.2 GiB pending
std::string queue_line(const ValueMap& queue);

}  // namespace exhibit::ctl
