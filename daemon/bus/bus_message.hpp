// Small RAII and parsing helpers over sd-bus messages, used by the bus adaptor.
#pragma once

#include <systemd/sd-bus.h>

#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "common/error.hpp"

namespace exhibit::bus {

struct BusDeleter {
    void operator()(sd_bus* b) const noexcept { sd_bus_flush_close_unref(b); }
};
using BusPtr = std::unique_ptr<sd_bus, BusDeleter>;
struct SlotDeleter {
    void operator()(sd_bus_slot* s) const noexcept { sd_bus_slot_unref(s); }
};
using SlotPtr = std::unique_ptr<sd_bus_slot, SlotDeleter>;
struct MessageDeleter {
    void operator()(sd_bus_message* m) const noexcept { sd_bus_message_unref(m); }
};
using MessagePtr = std::unique_ptr<sd_bus_message, MessageDeleter>;

// One value of an a{sv} argument, in the types exhibit's API uses.
using Value =
    std::variant<std::string, std::vector<std::string>, bool, std::uint64_t, std::int64_t>;
using ValueMap = std::map<std::string, Value>;

// Reads an a{sv} from `m` (positioned at it). Values of other types are an error naming the
// key, so a caller's mistake is reported, not ignored.
Result<ValueMap> read_value_map(sd_bus_message* m);

// Typed access that names the key and the expected type on error.
Result<std::string> get_string(const ValueMap& map, const std::string& key, bool required);
Result<std::vector<std::string>> get_strings(const ValueMap& map, const std::string& key);
// Fails with InvalidArgument if `map` has a key not in `allowed`.
Status only_keys(const ValueMap& map, std::initializer_list<std::string_view> allowed,
                 std::string_view what);

// Reads an `options a{sv}` argument of a method that accepts no option yet: any key is an
// InvalidArgument naming it.
Status read_no_options(sd_bus_message* m);

// "admin:<uid>" of the method call's sender, for the audit log.
std::string admin_actor(sd_bus_message* m);

// An sd-bus negative errno as an Error.
Error bus_error(int r, std::string_view what);

}  // namespace exhibit::bus
