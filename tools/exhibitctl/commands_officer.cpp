// exhibitctl officer add|remove|unlock|list: who may sign in at the kiosk (admin). The PIN is
// read from the terminal without echo (twice), or as the first line of standard input; it
// never appears on the command line, where other users could see it.
#include <termios.h>
#include <unistd.h>

#include <iostream>
#include <string>

#include <fmt/format.h>

#include "tools/exhibitctl/bus_client.hpp"
#include "tools/exhibitctl/commands.hpp"
#include "tools/exhibitctl/format.hpp"
#include "tools/exhibitctl/views.hpp"

namespace exhibit::ctl {

namespace {

constexpr const char* kOfficersPath = "/org/exhibit/Exhibit1/officers";
constexpr const char* kOfficersIface = "org.exhibit.Exhibit1.Officers";

bool is_pin(const std::string& pin) {
    return pin.size() >= 4 && pin.size() <= 12 &&
           pin.find_first_not_of("0123456789") == std::string::npos;
}

// One line from the terminal with echo off.
std::string read_hidden(const char* prompt) {
    std::cerr << prompt << std::flush;
    termios saved{};
    const bool tty = ::tcgetattr(STDIN_FILENO, &saved) == 0;
    if (tty) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty) {
        ::tcsetattr(STDIN_FILENO, TCSANOW, &saved);
        std::cerr << "\n";
    }
    return line;
}

Outcome<std::string> read_pin() {
    if (!::isatty(STDIN_FILENO)) {
        std::string pin;
        std::getline(std::cin, pin);
        if (!is_pin(pin))
            return failure(Exit::usage, "the PIN on standard input must be 4 to 12 digits");
        return pin;
    }
    auto pin = read_hidden("PIN (4 to 12 digits): ");
    if (!is_pin(pin))
        return failure(Exit::usage, "a PIN is 4 to 12 digits");
    if (read_hidden("The same PIN again: ") != pin)
        return failure(Exit::usage, "the two PINs differ; nothing was changed");
    return pin;
}

Done id_call(const Globals& g, const char* member, const std::string& id,
             std::string_view done_text) {
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    auto reply = bus->call(kOfficersPath, kOfficersIface, member, [&](sd_bus_message* m) {
        int r = sd_bus_message_append(m, "s", id.c_str());
        return r < 0 ? r : append_value_map(m, {});
    });
    if (!reply)
        return std::unexpected(reply.error());
    std::cout << (g.json ? dump_json({{"ok", true}, {"officer_id", id}})
                         : fmt::format("officer {} {}\n", id, done_text))
              << std::flush;
    return {};
}

}  // namespace

Done cmd_officer_add(const Globals& g, const std::string& id, const std::string& name) {
    auto pin = read_pin();
    if (!pin)
        return std::unexpected(pin.error());
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    auto reply = bus->call(kOfficersPath, kOfficersIface, "Add", [&](sd_bus_message* m) {
        int r = sd_bus_message_append(m, "sss", id.c_str(), name.c_str(), pin->c_str());
        return r < 0 ? r : append_value_map(m, {});
    });
    pin->assign(pin->size(), '\0');
    if (!reply)
        return std::unexpected(reply.error());
    std::cout << (g.json ? dump_json({{"ok", true}, {"officer_id", id}, {"name", name}})
                         : fmt::format("officer {} ({}) may sign in at the kiosk\n", id, name))
              << std::flush;
    return {};
}

Done cmd_officer_remove(const Globals& g, const std::string& id) {
    return id_call(g, "Remove", id, "removed");
}

Done cmd_officer_unlock(const Globals& g, const std::string& id) {
    return id_call(g, "Unlock", id, "unlocked");
}

Done cmd_officer_list(const Globals& g) {
    auto bus = BusClient::connect(g.bus, g.host);
    if (!bus)
        return std::unexpected(bus.error());
    auto reply = bus->call(kOfficersPath, kOfficersIface, "List",
                           [](sd_bus_message* m) { return append_value_map(m, {}); });
    if (!reply)
        return std::unexpected(reply.error());
    auto* m = reply->get();
    nlohmann::json list = nlohmann::json::array();
    std::string text;
    int r = sd_bus_message_enter_container(m, 'a', "(ssx)");
    const char *id = nullptr, *name = nullptr;
    std::int64_t locked_until = 0;
    while (r >= 0 && (r = sd_bus_message_read(m, "(ssx)", &id, &name, &locked_until)) > 0) {
        const std::string lock = locked_until > 0 ? format_time_ms(locked_until) : std::string();
        list.push_back({{"id", id}, {"name", name}, {"locked_until_ms", locked_until}});
        text += fmt::format("{:<16} {:<32} {}\n", id, name,
                            lock.empty() ? "" : "locked until " + lock);
    }
    if (r < 0)
        return failure(Exit::failed, "List: unreadable reply");
    std::cout << (g.json ? dump_json({{"officers", list}})
                         : text.empty() ? "no officers\n" : text)
              << std::flush;
    return {};
}

}  // namespace exhibit::ctl
