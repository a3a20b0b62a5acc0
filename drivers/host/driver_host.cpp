#include "drivers/host/driver_host.hpp"

#include <poll.h>
#include <seccomp.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <ctime>
#include <memory>
#include <thread>
#include <tuple>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/base64.hpp"

namespace exhibit::host {

namespace {

using nlohmann::json;

// AddressSanitizer's allocator maps its regions as the program runs, far beyond any data
// limit a child is given: in a sanitizer build (the tests' build-asan/, never a package) the
// child runs without RLIMIT_DATA, so that its code is checked under ASan too.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kAddressSanitizer = true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr bool kAddressSanitizer = true;
#else
constexpr bool kAddressSanitizer = false;
#endif
#else
constexpr bool kAddressSanitizer = false;
#endif

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

Status confine_driver_host(std::uint64_t memory_limit, bool keep_device) {
    // Ends with exhibitd's end of the socket, even while the family is inside a library call:
    // a thread waits for the hang-up alone. (Not PR_SET_PDEATHSIG: that follows the thread
    // that started the child, a session worker that may end while the link is kept.)
    std::thread([] {
        pollfd p{.fd = kHostSocket, .events = POLLRDHUP, .revents = 0};
        for (;;) {
            int r = ::poll(&p, 1, -1);
            if (r > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0)
                ::_exit(0);
            if (r < 0 && errno != EINTR)
                ::_exit(1);
        }
    }).detach();
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        return fail_errno("cannot give up new privileges");
    if (::syscall(SYS_close_range, (keep_device ? kDeviceFd : kHostSocket) + 1, ~0U, 0) != 0)
        return fail_errno("cannot close inherited descriptors");
    ::signal(SIGPIPE, SIG_IGN);
    ::signal(SIGXFSZ, SIG_IGN);  // a write to a file fails with EFBIG instead
    for (auto [resource, limit, what] :
         {std::tuple{RLIMIT_FSIZE, std::uint64_t{0}, "file size"},
          std::tuple{RLIMIT_CORE, std::uint64_t{0}, "core size"},
          std::tuple{RLIMIT_DATA, memory_limit, "data size"}}) {
        if (resource == RLIMIT_DATA && kAddressSanitizer)
            continue;
        const rlimit r{limit, limit};
        if (::setrlimit(resource, &r) != 0)
            return fail_errno(fmt::format("cannot limit the {}", what));
    }
    return {};
}

Status forbid_reaching_out() {
    static std::atomic<bool> loaded{false};
    if (loaded)
        return {};
    ::tzset();
    using Filter = std::unique_ptr<void, decltype(&seccomp_release)>;
    Filter filter(seccomp_init(SCMP_ACT_ALLOW), &seccomp_release);
    if (!filter)
        return fail(Errc::internal, "cannot make a system call filter");
    const auto denied = SCMP_ACT_ERRNO(EPERM);
    for (int call : {
             // files and file system
             SCMP_SYS(open), SCMP_SYS(openat), SCMP_SYS(openat2), SCMP_SYS(creat),
             SCMP_SYS(open_by_handle_at), SCMP_SYS(name_to_handle_at), SCMP_SYS(truncate),
             SCMP_SYS(link), SCMP_SYS(linkat), SCMP_SYS(symlink), SCMP_SYS(symlinkat),
             SCMP_SYS(unlink), SCMP_SYS(unlinkat), SCMP_SYS(rename), SCMP_SYS(renameat),
             SCMP_SYS(renameat2), SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(rmdir),
             SCMP_SYS(mknod), SCMP_SYS(mknodat), SCMP_SYS(chmod), SCMP_SYS(fchmodat),
             SCMP_SYS(chown), SCMP_SYS(lchown), SCMP_SYS(fchownat), SCMP_SYS(utimensat),
             SCMP_SYS(mount), SCMP_SYS(umount2), SCMP_SYS(pivot_root), SCMP_SYS(chroot),
             SCMP_SYS(fanotify_init), SCMP_SYS(inotify_init), SCMP_SYS(inotify_init1),
             // the network and other processes
             SCMP_SYS(socket), SCMP_SYS(socketpair), SCMP_SYS(connect), SCMP_SYS(bind),
             SCMP_SYS(listen), SCMP_SYS(accept), SCMP_SYS(accept4), SCMP_SYS(execve),
             SCMP_SYS(execveat), SCMP_SYS(ptrace), SCMP_SYS(process_vm_readv),
             SCMP_SYS(process_vm_writev), SCMP_SYS(pidfd_open), SCMP_SYS(pidfd_getfd),
             // ways around a filter, or into the kernel's less trodden parts
             SCMP_SYS(io_uring_setup), SCMP_SYS(io_uring_enter), SCMP_SYS(io_uring_register),
             SCMP_SYS(bpf), SCMP_SYS(userfaultfd), SCMP_SYS(perf_event_open),
             SCMP_SYS(add_key), SCMP_SYS(request_key), SCMP_SYS(keyctl), SCMP_SYS(personality),
             SCMP_SYS(seccomp), SCMP_SYS(unshare), SCMP_SYS(setns)}) {
        if (seccomp_rule_add(filter.get(), denied, call, 0) != 0)
            return fail(Errc::internal, fmt::format("cannot filter system call {}", call));
    }
    // Signals only to itself (raise() and abort() use tgkill on its own pid).
    const auto self = static_cast<scmp_datum_t>(::getpid());
    for (int call : {SCMP_SYS(kill), SCMP_SYS(tgkill)})
        if (seccomp_rule_add(filter.get(), denied, call, 1, SCMP_A0(SCMP_CMP_NE, self)) != 0)
            return fail(Errc::internal, "cannot filter signals");
    if (seccomp_rule_add(filter.get(), denied, SCMP_SYS(tkill), 0) != 0)
        return fail(Errc::internal, "cannot filter signals");
    // For every thread of the process (libusb's and the hang-up watcher were started before),
    // not only the caller's: a thread left unfiltered would be a way around the filter.
    if (seccomp_attr_set(filter.get(), SCMP_FLTATR_CTL_TSYNC, 1) != 0)
        return fail(Errc::internal, "cannot filter every thread");
    if (int rc = seccomp_load(filter.get()); rc != 0)
        return fail_errno("cannot load the system call filter", -rc);
    loaded = true;
    return {};
}

namespace {

// Sends a key request and reads exhibitd's answer: a frame of type `expected` whose JSON
// holds the text at `field`, or exhibitd's refusal (`error`).
Result<std::string> ask_key(int fd, FrameType request, const json& payload, FrameType expected,
                            std::string_view field) {
    if (auto s = write_frame(fd, request, payload); !s)
        return std::unexpected(s.error());
    auto f = read_frame(fd, kFrameTime);
    if (!f)
        return std::unexpected(f.error().with_context("waiting for exhibitd's key"));
    auto j = f->json();
    if (!j)
        return std::unexpected(j.error());
    if (f->type == FrameType::error) {
        auto e = error_from_json(*j);
        return std::unexpected(e ? *e : e.error());
    }
    if (f->type != expected)
        return fail(Errc::protocol, fmt::format("exhibitd answered a key request with {}",
                                                to_string(f->type)));
    return text_field(*j, field, 8192);
}

}  // namespace

Result<std::vector<std::byte>> ask_signature(int fd, std::span<const std::byte> challenge) {
    auto text = ask_key(fd, FrameType::sign, json{{"challenge", base64_encode(challenge)}},
                        FrameType::signature, "signature");
    if (!text)
        return std::unexpected(text.error());
    return base64_decode(*text);
}

Result<std::string> ask_public_key(int fd) {
    return ask_key(fd, FrameType::offer_key, json::object(), FrameType::public_key, "key");
}

int serve_device(int fd, const OpenDevice& open, bool filter_first) {
    if (filter_first)
        if (auto confined = forbid_reaching_out(); !confined) {
            (void)answer(fd, false, std::unexpected(confined.error().with_context("driver host")));
            return 1;
        }
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
    if (!filter_first)
        if (auto confined = forbid_reaching_out(); !confined) {
            (void)answer(fd, false, std::unexpected(confined.error().with_context("driver host")));
            return 1;
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
