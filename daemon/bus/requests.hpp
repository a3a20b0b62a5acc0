// Turns the a{sv} arguments of the API into validated core requests. Every rejection names
// the argument and says what is allowed (it becomes Error.InvalidArgument on the bus).
#pragma once

#include "daemon/bus/bus_message.hpp"
#include "daemon/store/catalog.hpp"
#include "drivers/artefact.hpp"

namespace exhibit::bus {

Result<drivers::Scope> parse_scope(const ValueMap& scope);
// `signed_in`: the officer signed in on the calling client, if any; it is the officer
// recorded (officer_id may then be left out, and must not name another officer).
Result<store::CaseSpec> parse_case(const ValueMap& case_args,
                                   const std::optional<std::string>& signed_in = std::nullopt);
Result<store::Priority> parse_priority(const ValueMap& options);

}  // namespace exhibit::bus
