// Hostile behaviours for testing a host (--scenario FILE). Each rule targets one phone path:
//   {"rules": [
//     {"path": "/sdcard/DCIM", "action": "inject_names", "names": ["..", "a/b", "bell\u0007.jpg"],
//      "names_hex": ["ff fe 2e 6a 70 67"]},
//     {"path": "/sdcard/DCIM/a.jpg", "action": "declare_size", "size": 123},
//     {"path": "/sdcard/DCIM/b.jpg", "action": "stall_after", "bytes": 65536},
//     {"path": "/sdcard/DCIM/c.jpg", "action": "disconnect_after", "bytes": 65536},
//     {"path": "/sdcard/Download", "action": "list_forever"},
//     {"path": "/sdcard/DCIM/d.jpg", "action": "oversized_message"},
//     {"path": "/sdcard/DCIM/e.jpg", "action": "bad_magic"},
//     {"path": "/sdcard/DCIM/f.jpg", "action": "malformed_container", "kind": "type"},
//     {"path": "/sdcard/Music", "action": "parent_loop"}]}
// inject_names also takes "names_utf16_hex" (MTP only: UTF-16 code units as 4-digit hex
// groups, for lone surrogates). malformed_container and parent_loop are MTP only.
// docs/phonesim.md describes each. Immutable after loading; shared by connections.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/error.hpp"

namespace exhibit::phonesim {

// What a malformed_container rule breaks in the object's containers (MTP).
struct MalformedContainer {
    enum class Kind { length, type, transaction };
    Kind kind = Kind::length;
    std::uint32_t length = 8;  // kind length: the length field stated
};

struct Scenario {
    std::map<std::string, std::vector<std::string>> injected_names;  // directory -> raw names
    std::map<std::string, std::uint64_t> declared_size;              // file -> size to state
    std::map<std::string, std::uint64_t> stall_after;                // file -> bytes sent first
    std::map<std::string, std::uint64_t> disconnect_after;           // file -> bytes sent first
    std::set<std::string> list_forever;                              // directories
    std::set<std::string> oversized_message;                         // files
    std::set<std::string> bad_magic;                                 // files
    // MTP only.
    std::map<std::string, std::vector<std::u16string>> injected_utf16_names;  // directory
    std::map<std::string, MalformedContainer> malformed_container;            // object
    std::set<std::string> parent_loop;                                        // directories
};

Result<Scenario> parse_scenario(std::string_view json_text);
Result<Scenario> load_scenario(const std::filesystem::path& file);

}  // namespace exhibit::phonesim
