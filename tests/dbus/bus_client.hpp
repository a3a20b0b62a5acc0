// Minimal sd-bus client for the API tests: calls a method (optionally as another user, in a
// forked child that drops its privileges) and reports the error name or the reply.
#pragma once

#include <grp.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <functional>
#include <string>
#include <vector>

namespace exhibit::testing {

struct CallOutcome {
    std::string error_name;  // empty on success
    std::string error_message;
    std::string reply_text;  // a few reply values rendered by the caller's reader
};

using Builder = std::function<int(sd_bus_message*)>;
using Reader = std::function<std::string(sd_bus_message*)>;

inline sd_bus* open_bus(const std::string& address) {
    sd_bus* bus = nullptr;
    if (sd_bus_new(&bus) < 0)
        return nullptr;
    if (sd_bus_set_address(bus, address.c_str()) < 0 || sd_bus_set_bus_client(bus, 1) < 0 ||
        sd_bus_start(bus) < 0) {
        sd_bus_unref(bus);
        return nullptr;
    }
    return bus;
}

inline CallOutcome call_method(const std::string& address, const std::string& path,
                               const std::string& iface, const std::string& member,
                               const Builder& build, const Reader& read = {}) {
    CallOutcome out;
    sd_bus* bus = open_bus(address);
    if (!bus)
        return {"test.CannotConnect", "", ""};
    sd_bus_message* m = nullptr;
    sd_bus_message_new_method_call(bus, &m, "org.exhibit.Exhibit1", path.c_str(), iface.c_str(),
                                   member.c_str());
    if (build && build(m) < 0)
        out = {"test.CannotBuild", "", ""};
    sd_bus_error error = SD_BUS_ERROR_NULL;
    sd_bus_message* reply = nullptr;
    if (out.error_name.empty()) {
        if (sd_bus_call(bus, m, 60'000'000, &error, &reply) < 0) {
            out.error_name = error.name ? error.name : "test.Unknown";
            out.error_message = error.message ? error.message : "";
        } else if (read) {
            out.reply_text = read(reply);
        }
    }
    sd_bus_error_free(&error);
    sd_bus_message_unref(reply);
    sd_bus_message_unref(m);
    sd_bus_flush_close_unref(bus);
    return out;
}

// Runs call_method in a child with the given uid, gid and supplementary groups; returns the
// error name ("" when the call succeeded).
inline std::string call_as(uid_t uid, gid_t gid, const std::vector<gid_t>& groups,
                           const std::string& address, const std::string& path,
                           const std::string& iface, const std::string& member,
                           const Builder& build) {
    int fds[2];
    if (::pipe(fds) != 0)
        return "test.NoPipe";
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        if (::setgroups(groups.size(), groups.data()) != 0 || ::setresgid(gid, gid, gid) != 0 ||
            ::setresuid(uid, uid, uid) != 0)
            ::_exit(3);
        auto r = call_method(address, path, iface, member, build);
        std::string text = r.error_name.empty() ? "OK" : r.error_name;
        [[maybe_unused]] auto n = ::write(fds[1], text.data(), text.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string text;
    char buf[256];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
        text.append(buf, static_cast<std::size_t>(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (text.empty())
        return "test.ChildFailed";
    return text == "OK" ? "" : text;
}

// Appends an a{sv} with string, string-list or empty contents.
struct Arg {
    std::string key;
    std::vector<std::string> list;  // used when is_list
    std::string text;
    bool is_list = false;
};
inline int append_map(sd_bus_message* m, const std::vector<Arg>& args) {
    int r = sd_bus_message_open_container(m, 'a', "{sv}");
    for (const auto& a : args) {
        if (r < 0)
            break;
        if (a.is_list) {
            r = sd_bus_message_open_container(m, 'e', "sv");
            if (r >= 0)
                r = sd_bus_message_append(m, "s", a.key.c_str());
            if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "as");
            if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "s");
            for (const auto& s : a.list)
                if (r >= 0)
                    r = sd_bus_message_append(m, "s", s.c_str());
            if (r >= 0)
                r = sd_bus_message_close_container(m);
            if (r >= 0)
                r = sd_bus_message_close_container(m);
            if (r >= 0)
                r = sd_bus_message_close_container(m);
        } else {
            r = sd_bus_message_append(m, "{sv}", a.key.c_str(), "s", a.text.c_str());
        }
    }
    return r < 0 ? r : sd_bus_message_close_container(m);
}

}  // namespace exhibit::testing
