// Minimal sd-bus client for the API tests: calls a method (optionally as another user, in a
// forked child that drops its privileges) and reports the error name or the reply, or listens
// to exhibitd's signals as another user. Arguments
// are written with the shared codec (common/bus_value.hpp: append_value_map).
#pragma once

#include <grp.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/bus_handles.hpp"
#include "common/bus_value.hpp"

namespace exhibit::testing {

struct CallOutcome {
    std::string error_name;  // empty on success
    std::string error_message;
    std::string reply_text;  // a few reply values rendered by the caller's reader
};

using Builder = std::function<int(sd_bus_message*)>;
using Reader = std::function<std::string(sd_bus_message*)>;

inline CallOutcome call_method(const std::string& address, const std::string& path,
                               const std::string& iface, const std::string& member,
                               const Builder& build, const Reader& read = {}) {
    auto bus = open_bus(address);
    if (!bus)
        return {"test.CannotConnect", "", ""};
    sd_bus_message* raw = nullptr;
    sd_bus_message_new_method_call(bus->get(), &raw, "org.exhibit.Exhibit1", path.c_str(),
                                   iface.c_str(), member.c_str());
    MessagePtr m(raw);
    if (build && build(raw) < 0)
        return {"test.CannotBuild", "", ""};
    CallOutcome out;
    BusError error;
    sd_bus_message* reply_raw = nullptr;
    const int r = sd_bus_call(bus->get(), raw, 60'000'000, error.get(), &reply_raw);
    MessagePtr reply(reply_raw);
    if (r < 0) {
        out.error_name = error.is_set() ? error.name() : "test.Unknown";
        out.error_message = error.message();
    } else if (read) {
        out.reply_text = read(reply_raw);
    }
    return out;
}

// What a child wrote to its end of a pipe, once it closed it; closes `fd`.
inline std::string read_to_end_and_close(int fd) {
    std::string text;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0)
        text.append(buf, static_cast<std::size_t>(n));
    ::close(fd);
    return text;
}

// In a forked child: takes on `uid`, `gid` and the supplementary `groups` for good, or ends
// the child with status 3.
inline void become(uid_t uid, gid_t gid, const std::vector<gid_t>& groups) {
    if (::setgroups(groups.size(), groups.data()) != 0 || ::setresgid(gid, gid, gid) != 0 ||
        ::setresuid(uid, uid, uid) != 0)
        ::_exit(3);
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
        become(uid, gid, groups);
        auto r = call_method(address, path, iface, member, build);
        std::string text = r.error_name.empty() ? "OK" : r.error_name;
        [[maybe_unused]] auto n = ::write(fds[1], text.data(), text.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string text = read_to_end_and_close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (text.empty())
        return "test.ChildFailed";
    return text == "OK" ? "" : text;
}

// In a child with the given uid, gid and supplementary groups: asks the bus for every signal
// exhibitd sends,
// tells the parent once the match is in place (one byte on the pipe), and reports the
// members it received ("InterfacesAdded PropertiesChanged …") within `listen`.
inline std::set<std::string> signals_received_as(uid_t uid, gid_t gid,
                                                 const std::vector<gid_t>& groups,
                                                 const std::string& address,
                                                 std::chrono::milliseconds listen,
                                                 const std::function<void()>& trigger) {
    int fds[2];
    if (::pipe(fds) != 0)
        return {"test.NoPipe"};
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(fds[0]);
        become(uid, gid, groups);
        auto bus = open_bus(address);
        if (!bus)
            ::_exit(4);
        std::string members;
        auto on_signal = [](sd_bus_message* m, void* userdata, sd_bus_error*) {
            *static_cast<std::string*>(userdata) += std::string(sd_bus_message_get_member(m)) + " ";
            return 0;
        };
        if (sd_bus_match_signal(bus->get(), nullptr, "org.exhibit.Exhibit1", nullptr, nullptr,
                                nullptr, on_signal, &members) < 0)
            ::_exit(5);
        [[maybe_unused]] auto n = ::write(fds[1], "r", 1);
        const auto end = std::chrono::steady_clock::now() + listen;
        while (std::chrono::steady_clock::now() < end) {
            while (sd_bus_process(bus->get(), nullptr) > 0) {
            }
            sd_bus_wait(bus->get(), 50'000);
        }
        n = ::write(fds[1], members.data(), members.size());
        ::_exit(0);
    }
    ::close(fds[1]);
    char ready = 0;
    const bool listening = ::read(fds[0], &ready, 1) == 1;
    if (listening)
        trigger();
    const std::string text = read_to_end_and_close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!listening)
        return {fmt::format("test.ChildFailed({})", WEXITSTATUS(status))};
    std::set<std::string> out;
    std::istringstream words(text);
    for (std::string w; words >> w;)
        out.insert(w);
    return out;
}

}  // namespace exhibit::testing
