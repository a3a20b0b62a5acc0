// What an iPhone's driver host child asks exhibitd of usbmuxd (drivers/ios/hosted_ios.hpp):
// the input is a sequence of `relay` frames' JSON, one per line, as a child taken over by the
// phone could send them, each answered by one session's relay. The relay must answer or
// refuse with Errc::protocol, never crash or throw, and never give a descriptor to a request
// it refused. usbmuxd is absent here (USBMUXD_SOCKET_ADDRESS names no socket), so every
// request the rules let through reaches libusbmuxd and fails there, as with usbmuxd stopped.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <nlohmann/json.hpp>

#include "drivers/ios/hosted_ios.hpp"

using namespace exhibit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const bool no_usbmuxd = [] {
        return ::setenv("USBMUXD_SOCKET_ADDRESS", "UNIX:/nonexistent/exhibit-fuzz-usbmuxd", 1) == 0;
    }();
    (void)no_usbmuxd;
    auto relay = ios::usbmux_relay("00008101-000A1B2C3D4E5F60", /*keep_pairing=*/false);
    std::string_view rest(reinterpret_cast<const char*>(data), size);
    for (int i = 0; i < 16 && !rest.empty(); ++i) {
        const auto end = rest.find('\n');
        const auto line = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view() : rest.substr(end + 1);
        auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded() || !j.is_object())
            continue;  // the frame's own check refuses these (host_frames)
        auto answer = relay->answer(j);
        if (!answer) {
            if (answer.error().code != Errc::protocol)
                std::abort();
            continue;
        }
        if (!answer->result.is_object() || !answer->result.contains("result"))
            std::abort();
    }
    return 0;
}
