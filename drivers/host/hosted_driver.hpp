// A device family whose sessions run in a child process, the driver host
// (exhibit-driver-host, drivers/host/README.md), instead of inside exhibitd. exhibitd keeps
// the family's description (name, version, functions, categories); open() starts a child for
// the device, and the session it returns asks the child over the framed protocol of
// host_protocol.hpp. Every artefact's bytes arrive in exhibitd as data frames and go into the
// sink exhibitd gave, which hashes and stores them: the child never reaches the store.
//
// What the child's isolation gives: a parser the phone breaks (a crash, a hang, memory
// without end) ends that child and that session, named, and nothing else; a stop, an unplug
// or a cancel ends the child at once with SIGKILL, even inside a library call that offers no
// way out (libmtp's folder listing); the child runs without new privileges, with a memory
// limit and no right to write a file.
//
// HostedDriver is thread-safe as any Driver; a HostedSession is used by one thread at a time,
// interrupt() from any.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/unique_fd.hpp"
#include "drivers/driver.hpp"
#include "drivers/host/host_protocol.hpp"

namespace exhibit::host {

// exhibitd's side of a family's `relay` requests (host_protocol.hpp) for one device: what the
// child may be given of a service only exhibitd reaches (iPhones: usbmuxd). Made when the
// device is opened and kept with its session; destroyed when the session ends (or the child
// is ended), where it may tidy what the child could not (an iPhone's pairing left behind).
// Used by the session's thread only.
class Relay {
  public:
    virtual ~Relay() = default;
    struct Answer {
        nlohmann::json result;  // the `relayed` frame's JSON
        UniqueFd pass;          // a descriptor to give the child with it, or none
    };
    // The answer to a child's request, or a protocol error naming what this device may not
    // be given (the child is then ended).
    virtual Result<Answer> answer(const nlohmann::json& request) = 0;
};

struct HostedDriverOptions {
    std::filesystem::path program;  // exhibit-driver-host
    // The family's settings for the child, as its command line says them
    // ("--user-wait-seconds", "120").
    std::vector<std::string> arguments;
    // The longest the child may send nothing while it works on a request (a folder listing
    // inside libmtp sends nothing until it ends; opening waits for the person) before it is
    // ended, and its session with it (Errc::timeout).
    std::chrono::milliseconds silence_limit{std::chrono::minutes(10)};
    // The child's data segment limit (RLIMIT_DATA): a phone that makes a library allocate
    // without end ends the child, not exhibitd.
    std::uint64_t memory_limit = 256ull << 20;
    // When set, exhibitd opens the device itself (a removable disk, read-only; a phone's
    // network link) and the child is given only that descriptor, as kDeviceFd: it loads its
    // system call filter before it reads a byte, so even the device's partition table and
    // file systems are parsed where no file can be opened and no socket made
    // (drivers/host/README.md). An empty descriptor: the child opens this device itself (a
    // phone on USB, found by its bus and address).
    std::function<Result<UniqueFd>(const drivers::Device&, const drivers::OpenContext&)>
        open_device;
    // For a family whose device asks the kiosk to prove who it is (ADB's AUTH): while it
    // opens the device the child may ask exhibitd, once each, to sign the device's challenge
    // (`sign`) and for the public key to offer (`offer_key`), so that the private key never
    // enters the child. Without it, or asked otherwise, the child is ended.
    struct DeviceKey {
        std::size_t challenge_size = 0;  // a challenge has exactly this many bytes
        std::function<Result<std::vector<std::byte>>(std::span<const std::byte>)> sign;
        std::function<Result<std::string>()> public_key;
    };
    std::optional<DeviceKey> device_key;
    // For a family that reaches its device through a service only exhibitd may reach: the
    // relay for a device, made as it is opened. Without it, a `relay` frame ends the child.
    std::function<std::unique_ptr<Relay>(const drivers::Device&)> relay;
};

class HostProcess;

class HostedDriver final : public drivers::Driver {
  public:
    // `family` says what the family is; the child opens devices with its own copy of it
    // (the same build), chosen by name().
    HostedDriver(std::unique_ptr<drivers::Driver> family, HostedDriverOptions options);

    std::string_view name() const override { return family_->name(); }
    std::string_view version() const override { return family_->version(); }
    std::span<const drivers::Function> serves() const override { return family_->serves(); }
    std::span<const drivers::Category> categories() const override {
        return family_->categories();
    }
    std::string_view categories_note() const override { return family_->categories_note(); }
    Result<std::unique_ptr<drivers::DriverSession>> open(
        const drivers::Device& device, const drivers::OpenContext& context) const override;

  private:
    struct KeysAsked {
        bool signed_challenge = false;
        bool offered_key = false;
    };
    // A `sign` or `offer_key` frame while opening: answered on the child's socket, or a
    // protocol error (no key here, asked twice, a challenge of the wrong size).
    Status answer_key_request(HostProcess& process, const Frame& f, KeysAsked& asked) const;

    std::unique_ptr<drivers::Driver> family_;
    HostedDriverOptions options_;
};

// The running child: its pid and exhibitd's end of the socket. Ended with SIGKILL and reaped
// when destroyed.
class HostProcess {
  public:
    // `device`: the descriptor the child gets as kDeviceFd, or -1 for none.
    static Result<std::unique_ptr<HostProcess>> start(const HostedDriverOptions& options, int device,
                                                      std::string_view family);
    ~HostProcess();
    HostProcess(const HostProcess&) = delete;
    HostProcess& operator=(const HostProcess&) = delete;

    int fd() const { return socket_.get(); }
    // SIGKILL; safe from any thread, any number of times (the pid is reaped only by the
    // destructor, so it cannot name another process meanwhile).
    void kill();
    // How the child ended ("was killed by signal 11 (…)"), once its end of the socket has
    // closed; a child still running is ended first. Reaps it.
    std::string how_it_ended();

  private:
    HostProcess(pid_t pid, UniqueFd socket) : pid_(pid), socket_(std::move(socket)) {}
    pid_t pid_;
    UniqueFd socket_;
    std::mutex mutex_;  // kill() from any thread never meets a pid already reaped
    bool reaped_ = false;
    int status_ = 0;
};

class HostedSession final : public drivers::DriverSession {
  public:
    HostedSession(std::unique_ptr<HostProcess> process, std::string family,
                  std::chrono::milliseconds silence_limit, std::unique_ptr<Relay> relay = {})
        : process_(std::move(process)),
          family_(std::move(family)),
          silence_limit_(silence_limit),
          relay_(std::move(relay)) {}
    ~HostedSession() override;

    Result<drivers::DeviceInfo> device_info() override;
    Result<drivers::Preview> preview(const drivers::Scope& scope) override;
    Status extract(const drivers::Scope& scope, drivers::ArtefactSink& sink) override;
    void interrupt() override;
    bool reusable() const override { return reusable_ && !interrupted_ && !ended_; }

  private:
    Result<nlohmann::json> ask(FrameType request, const nlohmann::json& payload,
                               drivers::ArtefactSink* sink);

    std::unique_ptr<HostProcess> process_;
    std::string family_;
    std::chrono::milliseconds silence_limit_;
    std::unique_ptr<Relay> relay_;  // destroyed after the child is ended
    std::atomic<bool> interrupted_{false};
    bool reusable_ = true;
    bool ended_ = false;  // the child is gone or was ended: nothing more can be asked
};

// The frames a child sends while it extracts, applied to the sink in their order: a plan,
// skipped artefacts, and artefacts one at a time (begin, data…, then finish or incomplete).
// A frame out of that order, or one that says nothing valid, is a protocol error (the child
// is then ended). An artefact still open when the answer comes stays unfinished, as
// in-process: its writer is dropped with this object.
class ExtractionFrames {
  public:
    explicit ExtractionFrames(drivers::ArtefactSink& sink) : sink_(&sink) {}
    Status take(const Frame& f);
    bool artefact_open() const { return writer_ != nullptr; }

  private:
    drivers::ArtefactSink* sink_;
    std::unique_ptr<drivers::ArtefactWriter> writer_;
};

// Reads the frames that answer one request until its final frame: `ok` gives its "result",
// `error` the child's error as `refused` (the child is still there for the next request).
// `on_frame` takes every other frame and returns an error for a frame not allowed there.
// Polls once a second for `stopped`; ends the child (Errc::timeout) after `silence_limit`
// without a frame. An error means the child has been ended (or is gone). Shared by open()
// and the session's requests.
struct Answer {
    nlohmann::json result;
    bool reusable = true;
    std::optional<Error> refused;
};
// An answer's final frame (`ok` or `error`, is_answer()) as an Answer; a protocol error when
// it is not a well-formed one.
bool is_answer(FrameType type);
Result<Answer> answer_from(const Frame& f);
// A `relay` frame answered through `relay` on the child's socket, or a protocol error (no
// relay for this family, or a request the relay refuses).
Status answer_relay(HostProcess& process, Relay* relay, const Frame& f);
Result<Answer> await_answer(HostProcess& process, std::string_view family,
                            std::chrono::milliseconds silence_limit,
                            const std::function<bool()>& stopped,
                            const std::function<Status(const Frame&)>& on_frame);

}  // namespace exhibit::host
