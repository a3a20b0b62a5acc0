// The one a{sv} codec of exhibit, shared by exhibitd's D-Bus edge, exhibitctl and the tests:
// the values exhibit's API passes in a{sv} arguments, replies and properties
// (interface/org.exhibit.Exhibit1.xml), reading an a{sv} into a map, writing a map as a{sv},
// and typed access that names the key on error.
//
// Reading is hostile-input code (exhibitd reads its callers' arguments with it): whatever a
// peer sends ends as a value or as an Error with a closed code and a sentence, never as a
// crash. Reentrant.
#pragma once

#include <systemd/sd-bus.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/error.hpp"

namespace exhibit {

// One value of an a{sv}. On the bus: s, as, b, t, x and d.
using Value =
    std::variant<std::string, std::vector<std::string>, bool, std::uint64_t, std::int64_t, double>;
using ValueMap = std::map<std::string, Value>;

// How read_value_map() treats the type of each value.
enum class Reading {
    // A caller's arguments (exhibitd): only the types the API takes, s, as, b, t and x (u and
    // i widened to t and x). A value of any other type is refused: Errc::invalid_argument,
    // naming the key and the type.
    arguments,
    // exhibitd's replies and properties (clients): also o and g (as strings), ao (as a list),
    // y and q (as t), n (as x) and d. A value of any other type (a nested container, a
    // variant in a variant) is skipped, so that what a newer daemon adds does not break an
    // older client.
    replies,
};

// Reads the a{sv} at the read position of `m` and leaves the position after it; strict
// unless asked otherwise. A key sent twice keeps its last value. Errors: an sd-bus failure
// (malformed, or not an a{sv}) is Errc::io with the errno; a refused value is
// Errc::invalid_argument.
Result<ValueMap> read_value_map(sd_bus_message* m, Reading reading = Reading::arguments);

// Appends `map` as an a{sv}, in key order. Returns sd-bus's result: negative errno on failure.
int append_value_map(sd_bus_message* m, const ValueMap& map);

// Typed access for a caller's arguments; errors are Errc::invalid_argument naming the key.
// An absent key is "" (or an error when `required`).
Result<std::string> get_string(const ValueMap& map, const std::string& key, bool required);
// An absent key is an empty list.
Result<std::vector<std::string>> get_strings(const ValueMap& map, const std::string& key);
// Fails if `map` has a key not in `allowed`; `what` names the argument ("options").
Status only_keys(const ValueMap& map, std::initializer_list<std::string_view> allowed,
                 std::string_view what);

// An sd-bus negative errno as an Error (Errc::io): "what: strerror".
Error bus_error(int r, std::string_view what);

}  // namespace exhibit
