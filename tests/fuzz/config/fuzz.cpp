// exhibitd's configuration as TOML text (the main file or one drop-in; each is read with
// these rules): toml++'s parser under it, then every key's type and range check.
#include <cstdint>
#include <string_view>

#include "daemon/config/config.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace exhibit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    config::Environment env{.state_directory = "/var/lib/exhibit", .hostname = "fuzz-kiosk"};
    fuzz::Input in(data, size);
    (void)config::load_config_text(in.rest(), "fuzz.conf", env);
    return 0;
}
