// exhibit-phonesim --usb around a real exhibitd (its log merged into phonesim's stdout), on a
// private D-Bus bus with the project's policy, and exhibitctl to talk to it: the kiosk as a
// person at it would see it, for the tests of each kind of device on the emulated bus.
#pragma once

#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/support/private_bus.hpp"
#include "tests/support/process.hpp"

namespace exhibit::testing {

inline const std::string kBin = std::string(EXHIBIT_BINARY_DIR) + "/bin/";

// `phone_args`: exhibit-phonesim's options for the phone(s) (--root, --phones, --iphone...).
// `restarting`: exhibitd is started again whenever it ends (as systemd's Restart= would), so
// a test can kill it and watch the next one; daemon_pid() is then the restarting shell's.
class KioskOnUsb {
  public:
    KioskOnUsb(const std::filesystem::path& dir, std::vector<std::string> phone_args,
               bool restarting = false)
        : dir_(dir) {
        bus_ = std::make_unique<PrivateBus>(dir);
        std::ofstream(dir / "exhibitd.conf") << fmt::format(
            "[daemon]\nkiosk_id = \"usb-kiosk\"\nwatchdog = false\nlog_target = \"stderr\"\n"
            "[store]\nstate_directory = \"{}\"\nmin_free_mb = 0\n[dbus]\nbus = \"{}\"\n",
            (dir / "state").string(), bus_->address());
        std::vector<std::string> argv = {kBin + "exhibit-phonesim", "--usb", "--control",
                                         control().string()};
        argv.insert(argv.end(), phone_args.begin(), phone_args.end());
        const auto exhibitd =
            fmt::format("{}exhibitd --config {}", kBin, (dir / "exhibitd.conf").string());
        argv.insert(argv.end(),
                    {"--", "sh", "-c",
                     restarting ? fmt::format("trap 'kill $pid; wait $pid; exit 0' TERM\n"
                                              "while :; do {} 2>&1 & pid=$!; wait $pid; "
                                              "echo \"exhibitd ended\"; done",
                                              exhibitd)
                                : fmt::format("exec {} 2>&1", exhibitd)});
        process_ = Process::start(argv);
        auto running = process_.wait_for_line("usb: running sh (pid ", std::chrono::seconds(20));
        if (running)
            daemon_pid_ = std::stoi(running->substr(running->rfind(' ') + 1));
    }
    ~KioskOnUsb() { process_.stop(); }

    bool ok() const { return bus_->ok() && daemon_pid_ > 0; }
    std::filesystem::path control() const { return dir_ / "control"; }
    std::filesystem::path state() const { return dir_ / "state"; }
    pid_t daemon_pid() const { return daemon_pid_; }
    Process& process() { return process_; }
    const std::string& bus_address() const { return bus_->address(); }

    void send(const std::string& line) {
        std::ofstream(control()) << line << "\n";  // phonesim keeps the FIFO open
    }
    // The next line containing `needle` and when it was read.
    std::optional<std::pair<std::string, std::chrono::steady_clock::time_point>> expect(
        const std::string& needle, std::chrono::milliseconds timeout) {
        auto line = process_.wait_for_line(needle, timeout);
        if (!line)
            return std::nullopt;
        return std::pair(*line, std::chrono::steady_clock::now());
    }
    // Reads lines until each needle was in one (any order); when each was read.
    std::map<std::string, std::chrono::steady_clock::time_point> expect_all(const std::vector<std::string>& needles,
                                                        std::chrono::milliseconds timeout) {
        std::map<std::string, std::chrono::steady_clock::time_point> seen;
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (seen.size() < needles.size() && std::chrono::steady_clock::now() < deadline) {
            auto line = process_.read_line(
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
            if (!line)
                break;
            for (const auto& n : needles)
                if (line->find(n) != std::string::npos && !seen.contains(n))
                    seen[n] = std::chrono::steady_clock::now();
        }
        return seen;
    }
    std::pair<int, std::string> ctl(std::vector<std::string> args, int timeout_s = 120) {
        std::vector<std::string> argv = {kBin + "exhibitctl", "--bus", bus_->address()};
        argv.insert(argv.end(), args.begin(), args.end());
        return run_command(argv, std::chrono::seconds(timeout_s));
    }
    // A device as `exhibitctl devices --json` shows it: its state and detail, both empty
    // while it is not listed (or exhibitctl failed).
    struct DeviceView {
        std::string state, detail;
    };
    DeviceView device(const std::string& id) {
        auto [status, out] = ctl({"devices", "--json"}, 10);
        auto list = nlohmann::json::parse(out, nullptr, false);
        if (status != 0 || !list.is_array())
            return {};
        for (const auto& d : list)
            if (d.is_object() && d.value("id", "") == id)
                return {d.value("state", ""), d.value("detail", "")};
        return {};
    }
    // `exhibitctl extract d1 … --wait` as an officer fills it in: case `case_reference`, the
    // owner's consent under notice v1, the `categories` ("photos,videos").
    static std::vector<std::string> extract_d1(const std::string& case_reference,
                                               const std::string& categories) {
        return {"extract",   "d1",    "--case",      case_reference, "--exhibit",
                "EX/1",      "--officer", "PC 1",   "--basis",      "consent",
                "--notice",  "v1",    "--agreed-by", "owner",        "--categories",
                categories,  "--wait"};
    }
    // SIGTERM to phonesim, passed on to exhibitd; phonesim's exit status.
    std::optional<int> stop() {
        process_.kill(SIGTERM);
        auto status = process_.wait(std::chrono::seconds(20));
        if (!status || !WIFEXITED(*status))
            return std::nullopt;
        return WEXITSTATUS(*status);
    }

  private:
    std::filesystem::path dir_;
    std::unique_ptr<PrivateBus> bus_;
    Process process_;
    pid_t daemon_pid_ = 0;
};

}  // namespace exhibit::testing
