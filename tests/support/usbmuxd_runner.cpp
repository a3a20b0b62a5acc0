#include "tests/support/usbmuxd_runner.hpp"

#include <algorithm>
#include <sstream>
#include <thread>

#include "tests/support/process.hpp"

namespace exhibit::testing {

namespace {

template <class F>
bool wait_until(std::chrono::milliseconds timeout, F&& done) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (done())
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
}

}  // namespace

bool UsbmuxdRunner::available() { return usbsim::Usbmuxd::available(); }

std::optional<UsbmuxdRunner> UsbmuxdRunner::start(const Options& options, std::string* why) {
    auto u = usbsim::Usbmuxd::start({.umockdev_dir = options.umockdev_dir,
                                     .preflight = options.preflight,
                                     .verbosity = options.verbosity});
    if (!u) {
        if (why)
            *why = u.error().describe();
        return std::nullopt;
    }
    return UsbmuxdRunner(std::move(*u));
}

bool UsbmuxdRunner::wait_for_log(const std::string& needle,
                                 std::chrono::milliseconds timeout) const {
    return wait_until(timeout, [&] { return log().find(needle) != std::string::npos; });
}

std::vector<std::string> UsbmuxdRunner::list_udids() const {
    auto [status, out] = run_command({"idevice_id", "-l"}, std::chrono::seconds(10), client_env());
    std::vector<std::string> udids;
    if (status != 0)
        return udids;
    std::istringstream lines(out);
    for (std::string line; std::getline(lines, line);)
        if (!line.empty())
            udids.push_back(line.substr(0, line.find(' ')));
    return udids;
}

bool UsbmuxdRunner::wait_listed(const std::string& udid, bool present,
                                std::chrono::milliseconds timeout) const {
    return wait_until(timeout, [&] {
        auto u = list_udids();
        return (std::find(u.begin(), u.end(), udid) != u.end()) == present;
    });
}

}  // namespace exhibit::testing
