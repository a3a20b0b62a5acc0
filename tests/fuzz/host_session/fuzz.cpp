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

using namespace exhibit;

namespace {

struct Contract {
    int open = 0;  // writers alive and not yet ended
};

class CheckingWriter final : public drivers::ArtefactWriter {
  public:
    explicit CheckingWriter(Contract& c) : contract_(&c) { ++contract_->open; }
    ~CheckingWriter() override {
        if (!ended_)
            --contract_->open;  // dropped unfinished: an answer came while it was open
    }
    Status append(std::span<const std::byte> bytes) override {
        if (ended_)
            __builtin_trap();  // a byte after the artefact's end
        bytes_ += bytes.size();
        return {};
    }
    Status finish() override { return end(); }
    Status finish_incomplete(std::string reason) override {
        if (reason.empty())
            __builtin_trap();  // the reason is checked before it reaches the store
        return end();
    }

  private:
    Status end() {
        if (ended_)
            __builtin_trap();  // ended twice
        ended_ = true;
        --contract_->open;
        return {};
    }
    Contract* contract_;
    std::uint64_t bytes_ = 0;
    bool ended_ = false;
};

class CheckingSink final : public drivers::ArtefactSink {
  public:
    void planned(std::uint64_t, std::uint64_t) override {}
    Result<std::unique_ptr<drivers::ArtefactWriter>> begin(const drivers::Artefact&) override {
        if (contract_.open != 0)
            __builtin_trap();  // a second artefact while one is open
        return std::make_unique<CheckingWriter>(contract_);
    }
    void skipped(const drivers::Artefact&, const Error&) override {}
    bool stop_requested() const override { return false; }
    int open() const { return contract_.open; }

  private:
    Contract contract_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    UniqueFd fd(::memfd_create("fuzz-session", MFD_CLOEXEC));
    if (!fd || ::write(fd.get(), data, size) != static_cast<ssize_t>(size) ||
        ::lseek(fd.get(), 0, SEEK_SET) != 0)
        __builtin_trap();
    CheckingSink sink;
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
            if (sink.open() != 0)
                __builtin_trap();  // an artefact outlived its request
            continue;
        }
        if (!frames->take(*frame))
            break;  // a protocol error ends the child
        if (sink.open() != (frames->artefact_open() ? 1 : 0))
            __builtin_trap();  // the state machine and the sink disagree
    }
    return 0;
}
