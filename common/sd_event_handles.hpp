// The one owner of each sd-event handle: the loop and its sources (exhibitd's loop, the
// upload channel's timers and sockets, the test tools' own loops).
#pragma once

#include <systemd/sd-event.h>

#include "common/c_handle.hpp"

namespace exhibit {

using EventPtr = CHandle<sd_event, sd_event_unref>;
// Disables the source before dropping the reference, so that a source still referenced
// elsewhere (sd-event keeps floating sources) never fires into a destroyed owner.
using EventSourcePtr = CHandle<sd_event_source, sd_event_source_disable_unref>;

}  // namespace exhibit
