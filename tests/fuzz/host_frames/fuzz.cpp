// What a driver host (the child process that talks to a device, drivers/host) sends exhibitd:
// the frames (length, type) read from its socket, each JSON payload parsed, and every
// validator exhibitd puts a payload through (an artefact, an error, device info, a preview,
// a scope, a device, a challenge to sign, a text field) applied to it. A child is as hostile
// as the device it reads: it may have been taken over by it.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>

#include <nlohmann/json.hpp>

#include "common/unique_fd.hpp"
#include "drivers/host/host_protocol.hpp"

using namespace exhibit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    UniqueFd fd(::memfd_create("fuzz-frames", MFD_CLOEXEC));
    if (!fd || ::write(fd.get(), data, size) != static_cast<ssize_t>(size) ||
        ::lseek(fd.get(), 0, SEEK_SET) != 0)
        __builtin_trap();
    for (int n = 0; n < 64; ++n) {
        auto frame = host::read_frame(fd.get(), std::chrono::milliseconds(0));
        if (!frame)
            break;
        (void)host::to_string(frame->type);
        auto j = frame->json();
        if (!j)
            continue;
        (void)host::text_field(*j, "condition");
        (void)host::text_field(*j, "reason", 1000);
        (void)host::artefact_from_json(*j);
        if (auto a = j->find("artefact"); a != j->end())
            (void)host::artefact_from_json(*a);
        (void)host::error_from_json(*j);
        (void)host::scope_from_json(*j);
        (void)host::hosted_device_from_json(*j);
        (void)host::challenge_from_json(*j, 20);
        if (auto r = j->find("result"); r != j->end()) {
            (void)host::device_info_from_json(*r);
            (void)host::preview_from_json(*r);
        }
    }
    return 0;
}
