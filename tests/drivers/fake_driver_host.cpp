// A driver host for tests (started by HostedDriver as exhibitd starts exhibit-driver-host),
// confined as the real one is, whose device is made up and whose behaviour is chosen by
// --mode: an honest session, or a child that breaks the protocol, crashes, hangs, eats
// memory, tries to write a file, or to reach anything outside (reach_out). hosted_driver_test.cpp drives it.
//
//   fake-driver-host --family fake --memory-limit BYTES --mode MODE
//   fake-driver-host --family fake --memory-limit BYTES --device-fd 4   (a device exhibitd
//     opened: the session tells what it read from fd 4, and what opening a file gave it
//     before it read the device)
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <thread>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "drivers/host/driver_host.hpp"

using namespace exhibit;
using nlohmann::json;

namespace {

constexpr int kFd = host::kHostSocket;

std::span<const std::byte> bytes_of(std::string_view s) {
    return std::as_bytes(std::span(s));
}

// An honest made-up phone: two photos, the second stated larger than it is, and a skip.
class HonestSession final : public drivers::DriverSession {
  public:
    Result<drivers::DeviceInfo> device_info() override {
        return drivers::DeviceInfo{.manufacturer = "Fake", .model = "Hosted", .serial = "H1",
                                   .properties = {{"ro.fake", "1"}}};
    }
    Result<drivers::Preview> preview(const drivers::Scope&) override {
        return drivers::Preview{{drivers::Category::photos, {.count = 2, .bytes = 11}}};
    }
    Status extract(const drivers::Scope&, drivers::ArtefactSink& sink) override {
        sink.planned(2, 11);
        for (auto [path, text, declared] : {std::tuple{"/a.jpg", "hello", 5u},
                                            std::tuple{"/b\xff.jpg", "short", 6u}}) {
            auto w = sink.begin({.category = drivers::Category::photos,
                                 .source_path = path,
                                 .declared_size = declared,
                                 .mtime_ms = 1'700'000'000'000});
            if (!w)
                return std::unexpected(w.error());
            auto read = drivers::stream_file(**w, declared, [&](const auto& consume) {
                return consume(bytes_of(text));
            });
            if (!read)
                return std::unexpected(read.error());
        }
        sink.skipped({.category = drivers::Category::photos, .source_path = "/.."},
                     Error{Errc::invalid_argument, "a name that is '..'", 0});
        return {};
    }
    void interrupt() override {}
    bool reusable() const override { return true; }
};

void send_raw(std::string_view bytes) {
    (void)!::write(kFd, bytes.data(), bytes.size());
}

std::string frame(host::FrameType type, std::string_view payload) {
    std::string out(5, '\0');
    const auto length = static_cast<std::uint32_t>(payload.size() + 1);
    std::memcpy(out.data(), &length, 4);
    out[4] = static_cast<char>(type);
    return out + std::string(payload);
}

// Answers the open request, then breaks the protocol in `mode` at the first request.
int misbehave(std::string_view mode) {
    // A thread started before the filter (as libusb's is) tries too, once the filter is in.
    std::mutex m;
    std::condition_variable cv;
    bool filtered = false;
    std::string earlier_thread;
    std::thread earlier([&] {
        std::unique_lock lock(m);
        cv.wait(lock, [&] { return filtered; });
        earlier_thread = ::open("/etc/hostname", O_RDONLY) >= 0 ? "allowed"
                                                                 : ::strerrorname_np(errno);
    });
    auto release = [&] {
        {
            std::lock_guard lock(m);
            filtered = true;
        }
        cv.notify_all();
        earlier.join();
    };
    if (!host::read_frame(kFd, std::nullopt))
        ::_exit(1);
    if (mode == "bad_report")  // a report whose condition is not text
        send_raw(frame(host::FrameType::report, R"({"condition": 5, "detail": "x"})"));
    // As serve_device does once the device is open (write_file shows the rlimit alone).
    if (mode != "write_file" && !host::forbid_reaching_out())
        ::_exit(1);
    release();
    (void)host::write_frame(kFd, host::FrameType::ok, json{{"reusable", true}});
    if (!host::read_frame(kFd, std::nullopt))
        return 1;
    const json photo = {{"category", "photos"}, {"source_path_b64", "L3guanBn"}};
    if (mode == "oversized") {
        send_raw(std::string("\xff\xff\xff\x7f\x0f", 5));
    } else if (mode == "unknown_type") {
        send_raw(frame(static_cast<host::FrameType>(99), "{}"));
    } else if (mode == "data_outside") {
        send_raw(frame(host::FrameType::data, "bytes"));
    } else if (mode == "bad_json") {
        send_raw(frame(host::FrameType::planned, "{\"artefacts\": "));
    } else if (mode == "double_begin") {
        send_raw(frame(host::FrameType::begin, photo.dump()));
        send_raw(frame(host::FrameType::begin, photo.dump()));
    } else if (mode == "bad_category") {
        send_raw(frame(host::FrameType::begin,
                       json{{"category", "secrets"}, {"source_path_b64", "L3g="}}.dump()));
    } else if (mode == "ok_inside_artefact") {
        send_raw(frame(host::FrameType::begin, photo.dump()));
        send_raw(frame(host::FrameType::data, "part"));
        send_raw(frame(host::FrameType::ok, "{\"reusable\": true}"));
    } else if (mode == "bad_reason") {
        send_raw(frame(host::FrameType::begin, photo.dump()));
        send_raw(frame(host::FrameType::incomplete, R"({"reason": 7})"));
    } else if (mode == "half_frame") {
        send_raw(frame(host::FrameType::begin, photo.dump()).substr(0, 9));
        return 0;  // and leave
    } else if (mode == "silent") {
        for (;;)
            ::pause();
    } else if (mode == "crash") {
        send_raw(frame(host::FrameType::begin, photo.dump()));
        send_raw(frame(host::FrameType::data, "some bytes"));
        ::raise(SIGSEGV);
    } else if (mode == "hog") {
        // A parser that believes a length field: memory without end, until the limit.
        std::vector<std::vector<char>> heap;
        for (;;)
            heap.emplace_back(std::size_t{16} << 20, 'x');
    } else if (mode == "reach_out") {
        // A driver gone wrong, or taken over by the phone, tries to reach the store, the
        // network, another program and exhibitd itself. Each attempt's errno is reported.
        auto outcome = [](long rc) { return rc >= 0 ? std::string("allowed") : std::string(::strerrorname_np(errno)); };
        std::string said;
        said += "open " + outcome(::open("/etc/hostname", O_RDONLY));
        said += ", openat " + outcome(::openat(AT_FDCWD, "/tmp", O_RDONLY | O_DIRECTORY));
        said += ", socket " + outcome(::socket(AF_INET, SOCK_STREAM, 0));
        said += ", unix socket " + outcome(::socket(AF_UNIX, SOCK_STREAM, 0));
        char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
        said += ", execve " + outcome(::execve("/bin/true", argv, environ));
        said += ", kill " + outcome(::kill(::getppid(), 0));
        said += ", mkdir " + outcome(::mkdir("/tmp/exhibit-fake-driver-host-dir", 0700));
        said += ", open on an earlier thread " + earlier_thread;
        (void)host::write_frame(kFd, host::FrameType::error,
                                json{{"reusable", false},
                                     {"code", static_cast<int>(Errc::io)},
                                     {"errno", 0},
                                     {"message", said}});
    } else if (mode == "write_file") {
        // A driver gone wrong writes to a file: no byte can land.
        int fd = ::open("/tmp/exhibit-fake-driver-host-wrote", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        auto n = fd >= 0 ? ::write(fd, "evidence?", 9) : -1;
        const int err = errno;
        ::unlink("/tmp/exhibit-fake-driver-host-wrote");
        (void)host::write_frame(
            kFd, host::FrameType::error,
            json{{"reusable", false},
                 {"code", static_cast<int>(Errc::io)},
                 {"errno", n < 0 ? err : 0},
                 {"message", n < 0 ? "the write failed" : "the write landed"}});
    }
    for (;;)
        ::pause();  // exhibitd ends it
}

}  // namespace

// A device exhibitd opened and gave as fd 4: read under the filter, which is loaded before
// the request is read (serve_device's filter_first).
class GivenDeviceSession final : public drivers::DriverSession {
  public:
    explicit GivenDeviceSession(std::string seen) : seen_(std::move(seen)) {}
    Result<drivers::DeviceInfo> device_info() override {
        return drivers::DeviceInfo{.model = seen_};
    }
    Result<drivers::Preview> preview(const drivers::Scope&) override { return drivers::Preview{}; }
    Status extract(const drivers::Scope&, drivers::ArtefactSink&) override { return {}; }
    void interrupt() override {}
    bool reusable() const override { return true; }

  private:
    std::string seen_;
};

// A device that asks the kiosk to prove who it is (serial "SIGN…"): the child asks exhibitd
// to sign a challenge and for the public key, as an ADB child does, and tells what it got.
// SIGN_TWICE asks for a second signature, SIGN_SHORT sends a challenge of 5 bytes.
Result<std::unique_ptr<drivers::DriverSession>> ask_for_the_key(std::string_view serial) {
    std::vector<std::byte> challenge(serial == "SIGN_SHORT" ? 5 : 20, std::byte{'c'});
    auto signature = host::ask_signature(kFd, challenge);
    if (!signature)
        return std::unexpected(signature.error());
    if (serial == "SIGN_TWICE")
        (void)host::ask_signature(kFd, challenge);
    auto key = host::ask_public_key(kFd);
    if (!key)
        return std::unexpected(key.error());
    std::string signed_text(reinterpret_cast<const char*>(signature->data()), signature->size());
    return std::make_unique<GivenDeviceSession>("signature " + signed_text + "; key " + *key);
}

int serve_given_device() {
    return host::serve_device(
        kFd,
        [](const host::HostedDevice&, const drivers::OpenContext&)
            -> Result<std::unique_ptr<drivers::DriverSession>> {
            // Before a byte of the device is read: may a file be opened?
            const int file = ::open("/etc/hostname", O_RDONLY);
            std::string seen = file >= 0 ? "open allowed" : std::string("open ") + ::strerrorname_np(errno);
            char bytes[64] = {};
            const auto n = ::pread(host::kDeviceFd, bytes, sizeof bytes - 1, 0);
            seen += "; device: " + (n >= 0 ? std::string(bytes, static_cast<std::size_t>(n))
                                            : std::string(::strerrorname_np(errno)));
            // Nothing inherited above the device is left open.
            seen += ::fcntl(host::kDeviceFd + 1, F_GETFD) < 0 ? "; fd 5 closed" : "; fd 5 open";
            return std::make_unique<GivenDeviceSession>(std::move(seen));
        },
        /*filter_first=*/true);
}

int main(int argc, char** argv) {
    std::string mode = "honest";
    bool given_device = false;
    std::uint64_t memory = 64u << 20;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string_view arg = argv[i];
        if (arg == "--mode")
            mode = argv[i + 1];
        else if (arg == "--memory-limit")
            memory = std::stoull(argv[i + 1]);
        else if (arg == "--device-fd")
            given_device = std::string_view(argv[i + 1]) == "4";
    }
    if (auto s = host::confine_driver_host(memory, given_device); !s) {
        std::fprintf(stderr, "fake-driver-host: %s\n", s.error().describe().c_str());
        return 1;
    }
    if (given_device)
        return serve_given_device();
    if (mode != "honest")
        return misbehave(mode);
    return host::serve_device(kFd, [](const host::HostedDevice& d, const drivers::OpenContext& c)
                                       -> Result<std::unique_ptr<drivers::DriverSession>> {
        if (d.device.serial == "LOCKED" && c.report)
            c.report(drivers::DeviceCondition::locked, "unlock the fake phone");
        if (d.device.serial == "REFUSE")
            return fail(Errc::unsupported, "this fake phone cannot be read");
        if (d.device.serial.starts_with("SIGN"))
            return ask_for_the_key(d.device.serial);
        return std::make_unique<HonestSession>();
    });
}
