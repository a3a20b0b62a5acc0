// Runs exhibit-phonesim for a test: a simulated phone on 127.0.0.1, stopped by PID at the end.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/process.hpp"

namespace exhibit::testing {

inline std::string phonesim_binary() {
    return std::string(EXHIBIT_BINARY_DIR) + "/bin/exhibit-phonesim";
}

class PhoneSim {
  public:
    // Starts `exhibit-phonesim --listen 127.0.0.1:0 <args>` and waits for its port.
    explicit PhoneSim(std::vector<std::string> args) {
        std::vector<std::string> argv = {phonesim_binary(), "--listen", "127.0.0.1:0"};
        argv.insert(argv.end(), args.begin(), args.end());
        process_ = Process::start(argv);
        auto line = process_.wait_for_line("listening on 127.0.0.1:", std::chrono::seconds(20));
        if (line)
            port_ = static_cast<std::uint16_t>(std::stoi(line->substr(line->rfind(':') + 1)));
    }
    bool ok() const { return port_ != 0; }
    std::uint16_t port() const { return port_; }
    std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
    Process& process() { return process_; }

  private:
    Process process_;
    std::uint16_t port_ = 0;
};

}  // namespace exhibit::testing
