// Turns the a{sv} arguments of the API into validated core requests. Every rejection names
// the argument and says what is allowed (it becomes Error.InvalidArgument on the bus).
#pragma once

#include "daemon/bus/bus_message.hpp"
#include "daemon/store/catalog.hpp"
#include "drivers/artefact.hpp"

namespace exhibit::bus {

Result<drivers::Scope> parse_scope(const ValueMap& scope);
Result<store::CaseSpec> parse_case(const ValueMap& case_args);
Result<store::Priority> parse_priority(const ValueMap& options);

}  // namespace exhibit::bus
