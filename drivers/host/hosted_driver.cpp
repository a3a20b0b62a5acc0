#include "drivers/host/hosted_driver.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cstring>
#include <mutex>
#include <stop_token>

#include <fmt/format.h>
#include <libusb.h>
#include <nlohmann/json.hpp>

#include "common/base64.hpp"
#include "drivers/usb/usb_port.hpp"

extern char** environ;

namespace exhibit::host {

using nlohmann::json;

Result<std::unique_ptr<HostProcess>> HostProcess::start(const HostedDriverOptions& options,
                                                        int device, std::string_view family) {
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
        return fail_errno("cannot make the driver host's socket");
    UniqueFd ours(sv[0]), theirs(sv[1]);
    // The child's fd 3 is its end (dup2 clears close-on-exec); stdin is /dev/null; stdout
    // and stderr stay exhibitd's (the journal). The child closes everything else it inherits.
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, theirs.get(), kHostSocket);
    if (device >= 0)
        posix_spawn_file_actions_adddup2(&actions, device, kDeviceFd);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none, all;
    sigemptyset(&none);
    sigfillset(&all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

    std::vector<std::string> args = {options.program.string(), "--family", std::string(family),
                                     "--memory-limit", std::to_string(options.memory_limit)};
    if (device >= 0)
        args.insert(args.end(), {"--device-fd", std::to_string(kDeviceFd)});
    args.insert(args.end(), options.arguments.begin(), options.arguments.end());
    std::vector<char*> argv;
    for (auto& a : args)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, options.program.c_str(), &actions, &attr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        return fail_errno(fmt::format("cannot start {}", options.program.string()), rc);
    return std::unique_ptr<HostProcess>(new HostProcess(pid, std::move(ours)));
}

HostProcess::~HostProcess() {
    kill();
    socket_.reset();
    how_it_ended();
}

void HostProcess::kill() {
    std::lock_guard lock(mutex_);
    if (!reaped_)
        ::kill(pid_, SIGKILL);
}

std::string HostProcess::how_it_ended() {
    std::lock_guard lock(mutex_);
    if (!reaped_) {
        // A child that closed its end but lives on is ended first (a child that already
        // ended keeps its own status: a signal to a zombie changes nothing).
        ::kill(pid_, SIGKILL);
        int status = 0;
        pid_t r;
        do
            r = ::waitpid(pid_, &status, 0);
        while (r < 0 && errno == EINTR);
        reaped_ = true;
        status_ = r == pid_ ? status : 0;
        if (r != pid_)
            return "ended (its status could not be read)";
    }
    if (WIFSIGNALED(status_))
        return fmt::format("was killed by signal {} ({})", WTERMSIG(status_),
                           ::strsignal(WTERMSIG(status_)));
    return fmt::format("exited with status {}", WEXITSTATUS(status_));
}

Result<Answer> await_answer(HostProcess& process, std::string_view family,
                            std::chrono::milliseconds silence_limit,
                            const std::function<bool()>& stopped,
                            const std::function<Status(const Frame&)>& on_frame) {
    using Clock = std::chrono::steady_clock;
    auto end_with = [&](Error e) -> Result<Answer> {
        process.kill();
        return std::unexpected(std::move(e));
    };
    auto last = Clock::now();
    Frame frame;  // one buffer for every frame of the request
    for (;;) {
        if (stopped())
            return end_with({Errc::cancelled, "the extraction was stopped", 0});
        auto read = read_frame(process.fd(), frame, std::chrono::seconds(1));
        if (!read) {
            if (read.error().code == Errc::timeout) {
                if (Clock::now() - last < silence_limit)
                    continue;
                return end_with(
                    {Errc::timeout,
                     fmt::format("the {} driver sent nothing for {} s: the device stopped "
                                 "answering, or answers without end",
                                 family,
                                 std::chrono::duration_cast<std::chrono::seconds>(silence_limit)
                                     .count()),
                     0});
            }
            if (stopped())
                return end_with({Errc::cancelled, "the extraction was stopped", 0});
            if (read.error().code == Errc::io) {  // the child's end closed: it is gone
                process.kill();
                return std::unexpected(Error{
                    Errc::io,
                    fmt::format("the {} driver process {} in the middle of its work", family,
                                process.how_it_ended()),
                    0});
            }
            return end_with(read.error().with_context(fmt::format("{} driver", family)));
        }
        last = Clock::now();
        if (is_answer(frame.type)) {
            auto answer = answer_from(frame);
            if (!answer)
                return end_with(answer.error());
            return answer;
        }
        if (auto s = on_frame(frame); !s)
            return end_with(s.error());
    }
}

bool is_answer(FrameType type) {
    return type == FrameType::ok || type == FrameType::error;
}

Result<Answer> answer_from(const Frame& f) {
    if (!is_answer(f.type))
        return fail(Errc::protocol, fmt::format("a {} frame is not an answer", to_string(f.type)));
    auto parsed = f.json();
    if (!parsed)
        return std::unexpected(parsed.error());
    const json& j = *parsed;
    const auto reusable = j.find("reusable");
    if (reusable == j.end() || !reusable->is_boolean())
        return fail(Errc::protocol, "the driver host sent an answer without \"reusable\"");
    Answer answer{.reusable = *reusable == true};
    if (f.type == FrameType::error) {
        auto e = error_from_json(j);
        if (!e)
            return std::unexpected(e.error());
        answer.refused = std::move(*e);
    } else if (const auto r = j.find("result"); r != j.end()) {
        answer.result = *r;
    } else {
        answer.result = json::object();
    }
    return answer;
}

namespace {

std::unexpected<Error> out_of_place(const Frame& f, std::string_view where) {
    return fail(Errc::protocol,
                fmt::format("the driver host sent a {} frame {}", to_string(f.type), where));
}

}  // namespace

Status ExtractionFrames::take(const Frame& f) {
    if (f.type == FrameType::data) {
        if (!writer_)
            return out_of_place(f, "outside an artefact");
        return writer_->append(f.payload);
    }
    auto j = f.json();
    if (!j)
        return std::unexpected(j.error());
    switch (f.type) {
        case FrameType::planned: {
            auto artefacts = j->find("artefacts");
            auto bytes = j->find("bytes");
            if (artefacts == j->end() || !artefacts->is_number_unsigned() || bytes == j->end() ||
                !bytes->is_number_unsigned())
                return fail(Errc::protocol, "the driver host sent a plan without its totals");
            sink_->planned(artefacts->get<std::uint64_t>(), bytes->get<std::uint64_t>());
            return {};
        }
        case FrameType::begin: {
            if (writer_)
                return out_of_place(f, "before the last artefact ended");
            auto a = artefact_from_json(*j);
            if (!a)
                return std::unexpected(a.error());
            auto w = sink_->begin(*a);
            if (!w)
                return std::unexpected(w.error());
            writer_ = std::move(*w);
            return {};
        }
        case FrameType::finish:
        case FrameType::incomplete: {
            if (!writer_)
                return out_of_place(f, "outside an artefact");
            auto w = std::move(writer_);
            if (f.type == FrameType::finish)
                return w->finish();
            auto reason = text_field(*j, "reason", 1000);
            if (!reason || reason->empty())
                return fail(Errc::protocol,
                            "the driver host ended an artefact short without a reason");
            return w->finish_incomplete(std::move(*reason));
        }
        case FrameType::skipped: {
            auto a = j->find("artefact");
            if (a == j->end() || !a->is_object())
                return fail(Errc::protocol, "the driver host skipped no artefact");
            auto artefact = artefact_from_json(*a);
            auto why = error_from_json(*j);
            if (!artefact || !why)
                return std::unexpected(!artefact ? artefact.error() : why.error());
            sink_->skipped(*artefact, *why);
            return {};
        }
        default:
            return out_of_place(f, "during an extraction");
    }
}

Status answer_relay(HostProcess& process, Relay* relay, const Frame& f) {
    if (relay == nullptr)
        return out_of_place(f, "for a family that relays nothing");
    auto j = f.json();
    if (!j)
        return std::unexpected(j.error());
    auto answer = relay->answer(*j);
    if (!answer)
        return std::unexpected(answer.error());
    return write_frame(process.fd(), FrameType::relayed, answer->result, answer->pass.get());
}

HostedDriver::HostedDriver(std::unique_ptr<drivers::Driver> family, HostedDriverOptions options)
    : family_(std::move(family)), options_(std::move(options)) {}

Status HostedDriver::answer_key_request(HostProcess& process, const Frame& f,
                                        KeysAsked& asked) const {
    if (!options_.device_key)
        return out_of_place(f, "for a family that holds no key");
    const auto& key = *options_.device_key;
    auto j = f.json();
    if (!j)
        return std::unexpected(j.error());
    Result<json> answer = json::object();
    FrameType type = FrameType::signature;
    if (f.type == FrameType::sign) {
        // One signature per opening, as a device asks once: a child cannot use exhibitd
        // as a signing service.
        if (asked.signed_challenge)
            return out_of_place(f, "a second time");
        asked.signed_challenge = true;
        auto challenge = challenge_from_json(*j, key.challenge_size);
        if (!challenge)
            return std::unexpected(challenge.error());
        auto signature = key.sign(*challenge);
        if (signature)
            answer = json{{"signature", base64_encode(*signature)}};
        else
            answer = std::unexpected(signature.error());
    } else {
        if (asked.offered_key)
            return out_of_place(f, "a second time");
        asked.offered_key = true;
        type = FrameType::public_key;
        auto line = key.public_key();
        if (line)
            answer = json{{"key", *line}};
        else
            answer = std::unexpected(line.error());
    }
    if (!answer)
        return write_frame(process.fd(), FrameType::error, to_json(answer.error()));
    return write_frame(process.fd(), type, *answer);
}

Result<std::unique_ptr<drivers::DriverSession>> HostedDriver::open(
    const drivers::Device& device, const drivers::OpenContext& context) const {
    bool served = false;
    for (const auto& f : family_->serves())
        served = served || device.offers(f);
    if (!served)
        return fail(Errc::unsupported,
                    fmt::format("{} offers nothing the {} driver serves", device.id, name()));
    HostedDevice hosted{.device = device};
    hosted.device.usb = nullptr;
    if (device.usb) {
        libusb_device* d = device.usb->device();
        hosted.usb_bus = libusb_get_bus_number(d);
        hosted.usb_address = libusb_get_device_address(d);
    }
    UniqueFd opened;  // exhibitd's copy is closed once the child has its own
    if (options_.open_device) {
        auto fd = options_.open_device(device, context);
        if (!fd)
            return std::unexpected(fd.error());
        opened = std::move(*fd);
    }
    if (opened) {
        // Above the child's fixed descriptors, so that giving it the socket as kHostSocket
        // cannot close the device before it is given as kDeviceFd.
        if (opened.get() <= kDeviceFd) {
            UniqueFd higher(::fcntl(opened.get(), F_DUPFD_CLOEXEC, kDeviceFd + 1));
            if (!higher)
                return fail_errno("cannot hand the device to the driver host");
            opened = std::move(higher);
        }
    }
    // Declared before the process, so that the child is ended before the relay goes.
    std::unique_ptr<Relay> relay = options_.relay ? options_.relay(device) : nullptr;
    auto process = HostProcess::start(options_, opened ? opened.get() : -1, name());
    opened.reset();
    if (!process)
        return std::unexpected(process.error());
    // A stop while the child opens (the person never unlocks, the phone is unplugged) ends
    // the child at once.
    std::stop_callback on_stop(context.stop, [p = process->get()] { p->kill(); });
    if (auto s = write_frame((*process)->fd(), FrameType::open, to_json(hosted)); !s)
        return std::unexpected(s.error().with_context(fmt::format("{} driver", name())));
    KeysAsked keys_asked;
    auto answer = await_answer(
        **process, name(), options_.silence_limit,
        [&] { return context.stop.stop_requested(); },
        [&](const Frame& f) -> Status {
            if (f.type == FrameType::sign || f.type == FrameType::offer_key)
                return answer_key_request(**process, f, keys_asked);
            if (f.type == FrameType::relay)
                return answer_relay(**process, relay.get(), f);
            if (f.type != FrameType::report)
                return out_of_place(f, "while opening the device");
            auto j = f.json();
            if (!j)
                return std::unexpected(j.error());
            auto condition = text_field(*j, "condition", 64);
            auto detail = text_field(*j, "detail", 1000);
            std::optional<drivers::DeviceCondition> c;
            for (auto k : {drivers::DeviceCondition::needs_authorisation,
                           drivers::DeviceCondition::locked, drivers::DeviceCondition::unsupported})
                if (condition && drivers::to_string(k) == *condition)
                    c = k;
            if (!c || !detail)
                return fail(Errc::protocol, "the driver host sent a report that is not one");
            if (context.report)
                context.report(*c, *detail);
            return {};
        });
    if (!answer) {
        if (context.stop.stop_requested() && answer.error().code != Errc::cancelled)
            return fail(Errc::cancelled, "stopped while the device was being opened");
        return std::unexpected(answer.error());
    }
    if (answer->refused)  // the device could not be opened; the child goes with the process
        return std::unexpected(std::move(*answer->refused));
    return std::make_unique<HostedSession>(std::move(*process), std::string(name()),
                                           options_.silence_limit, std::move(relay));
}

HostedSession::~HostedSession() {
    process_.reset();  // the child is ended and reaped first: nothing asks the relay any more
    relay_.reset();
}

void HostedSession::interrupt() {
    interrupted_ = true;
    process_->kill();
}

Result<json> HostedSession::ask(FrameType request, const json& payload,
                                drivers::ArtefactSink* sink) {
    if (interrupted_)
        return fail(Errc::cancelled, "the extraction was stopped");
    if (ended_)
        return fail(Errc::io, fmt::format("the {} driver process has ended", family_));
    if (auto s = write_frame(process_->fd(), request, payload); !s) {
        ended_ = true;
        return std::unexpected(s.error().with_context(fmt::format("{} driver", family_)));
    }
    std::optional<ExtractionFrames> frames;
    if (sink != nullptr)
        frames.emplace(*sink);
    auto on_frame = [&](const Frame& f) -> Status {
        if (f.type == FrameType::relay)
            return answer_relay(*process_, relay_.get(), f);
        if (!frames)
            return out_of_place(f, fmt::format("in answer to {}", to_string(request)));
        return frames->take(f);
    };
    auto answer = await_answer(
        *process_, family_, silence_limit_,
        [&] { return interrupted_.load() || (sink != nullptr && sink->stop_requested()); },
        on_frame);
    if (!answer) {  // the child has been ended
        ended_ = true;
        if (interrupted_ && answer.error().code != Errc::cancelled)
            return fail(Errc::cancelled, "the extraction was stopped");
        return std::unexpected(answer.error());
    }
    reusable_ = answer->reusable;
    if (answer->refused)  // an artefact still open stays unfinished, as in-process
        return std::unexpected(std::move(*answer->refused));
    if (frames && frames->artefact_open()) {
        ended_ = true;
        process_->kill();
        return fail(Errc::protocol, "the driver host ended its answer inside an artefact");
    }
    return std::move(answer->result);
}

Result<drivers::DeviceInfo> HostedSession::device_info() {
    auto j = ask(FrameType::device_info, json::object(), nullptr);
    if (!j)
        return std::unexpected(j.error());
    return device_info_from_json(*j);
}

Result<drivers::Preview> HostedSession::preview(const drivers::Scope& scope) {
    auto j = ask(FrameType::preview, to_json(scope), nullptr);
    if (!j)
        return std::unexpected(j.error());
    return preview_from_json(*j);
}

Status HostedSession::extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) {
    auto j = ask(FrameType::extract, to_json(scope), &sink);
    if (!j)
        return std::unexpected(j.error());
    return {};
}

}  // namespace exhibit::host
