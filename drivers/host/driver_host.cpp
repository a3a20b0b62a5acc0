#include "drivers/host/driver_host.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace exhibit::host {

namespace {

using nlohmann::json;

// An artefact's bytes and end, as frames.
class FrameWriter final : public drivers::ArtefactWriter {
  public:
    explicit FrameWriter(int fd) : fd_(fd) {}
    Status append(std::span<const std::byte> bytes) override {
        while (!bytes.empty()) {
            auto n = std::min(bytes.size(), kMaxData);
            if (auto s = write_frame(fd_, FrameType::data, bytes.first(n)); !s)
                return s;
            bytes = bytes.subspan(n);
        }
        return {};
    }
    Status finish() override { return write_frame(fd_, FrameType::finish, json::object()); }
    Status finish_incomplete(std::string reason) override {
        return write_frame(fd_, FrameType::incomplete, json{{"reason", std::move(reason)}});
    }

  private:
    int fd_;
};

// What the family pushes goes to exhibitd as frames; exhibitd stores it. A stop comes as
// SIGKILL, so stop_requested() has nothing to say.
class FrameSink final : public drivers::ArtefactSink {
  public:
    explicit FrameSink(int fd) : fd_(fd) {}
    void planned(std::uint64_t artefacts, std::uint64_t bytes) override {
        (void)write_frame(fd_, FrameType::planned, json{{"artefacts", artefacts}, {"bytes", bytes}});
    }
    Result<std::unique_ptr<drivers::ArtefactWriter>> begin(
        const drivers::Artefact& artefact) override {
        if (auto s = write_frame(fd_, FrameType::begin, to_json(artefact)); !s)
            return std::unexpected(s.error());
        return std::make_unique<FrameWriter>(fd_);
    }
    void skipped(const drivers::Artefact& artefact, const Error& why) override {
        auto j = to_json(why);
        j["artefact"] = to_json(artefact);
        (void)write_frame(fd_, FrameType::skipped, j);
    }
    bool stop_requested() const override { return false; }

  private:
    int fd_;
};

Status answer(int fd, bool reusable, const Result<json>& result) {
    if (!result) {
        auto j = to_json(result.error());
        j["reusable"] = reusable;
        return write_frame(fd, FrameType::error, j);
    }
    return write_frame(fd, FrameType::ok, json{{"reusable", reusable}, {"result", *result}});
}

template <class T, class F>
Result<json> as_json(Result<T> r, F&& convert) {
    if (!r)
        return std::unexpected(r.error());
    return convert(*r);
}

}  // namespace

Status confine_driver_host(std::uint64_t memory_limit) {
    const pid_t parent = ::getppid();
    if (::prctl(PR_SET_PDEATHSIG, SIGKILL) != 0)
        return fail_errno("cannot ask to end with exhibitd");
    if (::getppid() != parent)
        return fail(Errc::io, "exhibitd ended before the driver host started");
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return fail_errno("cannot give up new privileges");
    if (::syscall(SYS_close_range, kHostSocket + 1, ~0U, 0) != 0)
        return fail_errno("cannot close inherited descriptors");
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGXFSZ, SIG_IGN);  // a write to a file fails with EFBIG instead
    for (auto [resource, limit, what] :
         {std::tuple{RLIMIT_FSIZE, std::uint64_t{0}, "file size"},
          std::tuple{RLIMIT_CORE, std::uint64_t{0}, "core size"},
          std::tuple{RLIMIT_DATA, memory_limit, "data size"}}) {
        const rlimit r{limit, limit};
        if (::setrlimit(resource, &r) != 0)
            return fail_errno(fmt::format("cannot limit the {}", what));
    }
    return {};
}

int serve_device(int fd, const OpenDevice& open) {
    auto request = read_frame(fd, std::nullopt);
    if (!request)
        return request.error().code == Errc::io ? 0 : 1;
    if (request->type != FrameType::open)
        return 2;
    auto j = request->json();
    auto device = j ? hosted_device_from_json(*j) : std::unexpected(j.error());
    if (!device)
        return 2;
    drivers::OpenContext context{.report = [fd](drivers::DeviceCondition c, std::string detail) {
        (void)write_frame(fd, FrameType::report,
                          json{{"condition", drivers::to_string(c)}, {"detail", detail}});
    }};
    auto session = open(*device, context);
    if (!session) {
        (void)answer(fd, false, std::unexpected(session.error()));
        return 0;
    }
    if (!answer(fd, true, json::object()))
        return 1;
    auto& s = **session;
    for (;;) {
        request = read_frame(fd, std::nullopt);
        if (!request)
            return request.error().code == Errc::io ? 0 : 1;
        Result<json> result = json::object();
        switch (request->type) {
            case FrameType::device_info:
                result = as_json(s.device_info(), [](const auto& v) { return to_json(v); });
                break;
            case FrameType::preview:
            case FrameType::extract: {
                auto body = request->json();
                auto scope = body ? scope_from_json(*body) : std::unexpected(body.error());
                if (!scope)
                    return 2;
                if (request->type == FrameType::preview) {
                    result = as_json(s.preview(*scope), [](const auto& v) { return to_json(v); });
                } else {
                    FrameSink sink(fd);
                    if (auto done = s.extract(*scope, sink); !done)
                        result = std::unexpected(done.error());
                }
                break;
            }
            default:
                return 2;
        }
        if (!answer(fd, s.reusable(), result))
            return 1;
    }
}

}  // namespace exhibit::host
