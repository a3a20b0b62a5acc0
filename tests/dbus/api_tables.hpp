// What the D-Bus API is and who may use it, as the tests read them: the members of an
// introspection document (the interface XML, or what exhibitd exports), and the access
// tables of docs/dbus-api.md (roles, methods, properties, other calls, signals). Test code.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace exhibit::testing {

// "interface.member" -> "kind signature" for every member of the interfaces named `prefix`*
// in an introspection document.
std::map<std::string, std::string> members_of(const std::string& xml,
                                              const std::string& prefix = "org.exhibit.Exhibit1.");

struct InterfaceRow {
    std::vector<std::string> properties;
    std::string read, write;  // roles
};

// What docs/dbus-api.md says: the callers (its column order), whom each role lets in, and the
// role of every method ("Manager.SignIn"), of reading and writing each interface's properties
// ("Health"), of the other calls ("Peer.Ping") and of receiving each signal
// ("Session.Completed"). `problems` holds what could not be read.
struct AccessTable {
    std::vector<std::string> callers;
    std::map<std::string, std::vector<bool>> roles;
    std::map<std::string, std::string> methods;
    std::map<std::string, InterfaceRow> interfaces;
    std::map<std::string, std::string> other;
    std::map<std::string, std::string> signals;
    std::vector<std::string> problems;

    bool lets_in(const std::string& role, std::size_t caller) const {
        auto it = roles.find(role);
        return it != roles.end() && it->second.at(caller);
    }
};

// Reads docs/dbus-api.md from the source tree.
AccessTable read_access_table();

}  // namespace exhibit::testing
