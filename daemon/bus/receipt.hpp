// The receipt of a session: what the officer tells the person and writes into the case file.
#pragma once

#include "daemon/bus/bus_message.hpp"
#include "daemon/store/store.hpp"

namespace exhibit::bus {

Result<ValueMap> session_receipt(store::Store& store, std::int64_t session_id);

}  // namespace exhibit::bus
