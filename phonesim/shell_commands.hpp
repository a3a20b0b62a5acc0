// The read-only shell commands the simulated phone answers (getprop, date, pm, content,
// echo, id); anything else is "not found" with exit status 127, like Android's sh.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "phonesim/records.hpp"

namespace exhibit::phonesim {

struct ShellOutput {
    std::string out;
    std::string err;
    int exit_code = 0;
};

struct PhoneIdentity {
    std::map<std::string, std::string> properties;  // getprop, after defaults and records
    std::int64_t clock_offset_seconds = 0;          // the phone's clock minus the host's
};

// Splits a command line into words (spaces; single and double quotes group; no expansion).
std::vector<std::string> split_words(std::string_view command);

ShellOutput run_shell_command(std::string_view command, const PhoneIdentity& phone,
                              const Records& records);

}  // namespace exhibit::phonesim
