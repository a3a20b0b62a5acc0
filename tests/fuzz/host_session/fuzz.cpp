// The order of the frames a driver host child sends exhibitd while it extracts, as
// HostedSession applies them: each request's frames go through ExtractionFrames into an
// artefact sink until the answer's final frame (answer_from), and the next request's frames
// follow. A child is as hostile as the device it reads. Beyond "no crash", the sink checks the
// contract exhibitd's store relies on: one artefact open at a time, no byte outside an
// artefact or after its end, every artefact ended once, and none reported ended when the
// state machine refused the frame that ended it.
#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <memory>

#include "common/unique_fd.hpp"
#include "drivers/host/host_protocol.hpp"
#include "drivers/host/hosted_driver.hpp"
#include "tests/fuzz/checking_sink.hpp"

using namespace exhibit;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    UniqueFd fd(::memfd_create("fuzz-session", MFD_CLOEXEC));
    if (!fd || ::write(fd.get(), data, size) != static_cast<ssize_t>(size) ||
        ::lseek(fd.get(), 0, SEEK_SET) != 0)
        __builtin_trap();
    // exhibitd's frames pass a skip on as it comes, and an answer may end a request while
    // an item is open (the store keeps it unfinished).
    fuzz::CheckingSink sink({.may_drop_open_item = true, .may_skip_inside_item = true});
    auto frames = std::make_unique<host::ExtractionFrames>(sink);
    for (int n = 0; n < 256; ++n) {
        auto frame = host::read_frame(fd.get(), std::chrono::milliseconds(0));
        if (!frame)
            break;
        if (host::is_answer(frame->type)) {
            auto answer = host::answer_from(*frame);
            if (!answer)
                break;  // exhibitd ends the child
            if (frames->artefact_open() && !answer->refused)
                break;  // "ended its answer inside an artefact": the child is ended
            frames = std::make_unique<host::ExtractionFrames>(sink);  // the next request
            if (sink.open())
                fuzz::broken("an artefact outlived its request");
            continue;
        }
        if (!frames->take(*frame))
            break;  // a protocol error ends the child
        if (sink.open() != frames->artefact_open())
            fuzz::broken("the state machine and the sink disagree");
    }
    return 0;
}
