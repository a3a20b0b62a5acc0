#include "phonesim/usb/usb_mode.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "common/unique_fd.hpp"
#include "phonesim/device_engine.hpp"
#include "phonesim/usb/emulated_bus.hpp"
#include "phonesim/ios/ios_device.hpp"
#include "phonesim/usb/mtp_server.hpp"
#include "phonesim/usb/usbmux_server.hpp"
#include "phonesim/usb/usbmuxd_process.hpp"

extern char** environ;

namespace exhibit::usbsim {

namespace {

constexpr const char* kPreload = "libumockdev-preload.so.0";

void say(const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

void complain(const std::string& line) {
    std::fputs(("exhibit-phonesim: " + line + "\n").c_str(), stderr);
}

// An ASan-built program refuses to start when a preload comes before its runtime.
void allow_preload_under_asan() {
    std::string asan = std::getenv("ASAN_OPTIONS") ? std::getenv("ASAN_OPTIONS") : "";
    if (asan.find("verify_asan_link_order") == std::string::npos)
        ::setenv("ASAN_OPTIONS",
                 (asan.empty() ? "" : asan + ":").append("verify_asan_link_order=0").c_str(), 1);
}

struct LivePhone {
    EmulatedPhone phone;
    std::shared_ptr<phonesim::PhoneOptions> options;  // null: no ADB interface
    std::shared_ptr<phonesim::mtp::MtpSettings> mtp;  // null: MTP not served
    std::shared_ptr<std::atomic<bool>> locked = std::make_shared<std::atomic<bool>>(false);
    std::shared_ptr<phonesim::ios::IosDevice> ios;  // null: not an iPhone
    EmulatedDevice* device = nullptr;  // null while unplugged
};

// Requests from server threads, such as "unplug SERIAL", read by the supervising loop as
// control lines.
int g_requests = -1;

AdbServer engine_server(std::shared_ptr<phonesim::PhoneOptions> options, std::string serial) {
    return [options = std::move(options), serial = std::move(serial)](adb::Transport& t) {
        phonesim::DeviceEngine engine(*options);
        if (auto r = engine.serve(t); !r)
            complain(fmt::format("{}: connection ended: {}", serial, r.error().describe()));
    };
}

class Bench {
  public:
    Bench(EmulatedBus& bus, std::vector<LivePhone> phones)
        : bus_(bus), phones_(std::move(phones)) {}

    Status plug(LivePhone& p) {
        if (p.device)
            return {};
        auto server = p.options ? engine_server(p.options, p.phone.spec.serial) : AdbServer{};
        PipeServer mtp;
        if (p.mtp)
            mtp = mtp_server(p.mtp, [serial = p.phone.spec.serial] {
                auto line = "unplug " + serial + "\n";
                [[maybe_unused]] auto n = ::write(g_requests, line.data(), line.size());
            });
        auto d = !p.phone.disk_image.empty()
                     ? bus_.plug_disk(p.phone.spec, p.phone.port, p.phone.disk_image.string())
                 : p.ios ? bus_.plug(p.phone.spec, p.phone.port, {}, {}, usbmux_server(p.ios))
                         : bus_.plug(p.phone.spec, p.phone.port, std::move(server), std::move(mtp));
        if (!d)
            return std::unexpected(d.error());
        p.device = *d;
        say(fmt::format("usb: plugged {} at {}", p.phone.spec.serial, p.device->bus_path()));
        return {};
    }

    void unplug(LivePhone& p) {
        if (!p.device)
            return;
        auto path = p.device->bus_path();
        bus_.unplug(*p.device);
        p.device = nullptr;
        say(fmt::format("usb: unplugged {} from {}", p.phone.spec.serial, path));
    }

    bool has_iphone() const {
        for (const auto& p : phones_)
            if (p.ios)
                return true;
        return false;
    }

    Status plug_all() {
        for (auto& p : phones_)
            if (auto s = plug(p); !s)
                return s;
        return {};
    }

    void control(const std::string& line) {
        std::istringstream words(line);
        std::string verb, serial;
        words >> verb >> serial;
        if (verb.empty())
            return;
        bool matched = false;
        for (auto& p : phones_) {
            if (!serial.empty() && p.phone.spec.serial != serial &&
                !(p.ios && p.ios->settings().identity.unique_device_id == serial))
                continue;
            matched = true;
            if (verb == "unplug") {
                unplug(p);
            } else if (verb == "plug") {
                if (auto s = plug(p); !s)
                    complain(fmt::format("plug {}: {}", p.phone.spec.serial, s.error().describe()));
            } else if (verb == "allow") {
                if (p.options && p.options->keys)
                    say(fmt::format("usb: {} allowed {} key(s)", p.phone.spec.serial,
                                    p.options->keys->allow_pending()));
            } else if (verb == "unlock") {
                if (p.ios) {
                    if (p.ios->trust_state() == phonesim::ios::TrustState::locked) {
                        p.ios->unlock();
                        say(fmt::format("usb: {} unlocked", p.phone.spec.serial));
                    }
                } else if (p.locked->exchange(false)) {
                    say(fmt::format("usb: {} unlocked", p.phone.spec.serial));
                }
            } else if (verb == "trust" || verb == "deny") {
                if (!p.ios)
                    continue;
                if (verb == "trust")
                    p.ios->trust();
                else
                    p.ios->deny();
                say(fmt::format("usb: {} {}", p.phone.spec.serial,
                                verb == "trust" ? "trusted this computer"
                                                : "did not trust this computer"));
            } else {
                complain(fmt::format(
                    "unknown control command \"{}\" (plug, unplug, allow, unlock, trust, deny)",
                    verb));
                return;
            }
        }
        if (!matched)
            complain(fmt::format("no phone with serial \"{}\"", serial));
    }

  private:
    EmulatedBus& bus_;
    std::vector<LivePhone> phones_;
};

Result<std::vector<LivePhone>> prepare(const std::vector<EmulatedPhone>& phones) {
    std::vector<LivePhone> out;
    for (const auto& phone : phones) {
        LivePhone p{.phone = phone};
        if (phone.ios) {
            auto device = phonesim::ios::IosDevice::create(*phone.ios);
            if (!device)
                return std::unexpected(device.error());
            p.ios = std::shared_ptr<phonesim::ios::IosDevice>(std::move(*device));
        }
        if (phone.mtp) {
            auto options = phonesim::make_phone(*phone.mtp);
            if (!options)
                return std::unexpected(options.error());
            const auto& props = options->identity.properties;
            auto prop = [&](const char* k, const std::string& fallback) {
                auto it = props.find(k);
                return it == props.end() ? fallback : it->second;
            };
            p.locked->store(phone.mtp_locked);
            p.mtp = std::make_shared<phonesim::mtp::MtpSettings>(phonesim::mtp::MtpSettings{
                .root = options->root,
                .manufacturer = prop("ro.product.manufacturer", phone.spec.manufacturer),
                .model = prop("ro.product.model", phone.spec.product),
                .device_version = prop("ro.build.version.release", "1.0"),
                .serial = prop("ro.serialno", phone.spec.serial),
                .scenario = options->scenario,
                .locked = p.locked});
            p.phone.spec.serial = p.mtp->serial;
            p.phone.spec.manufacturer = p.mtp->manufacturer;
            p.phone.spec.product = p.mtp->model;
        }
        if (phone.adb) {
            auto options = phonesim::make_phone(*phone.adb);
            if (!options)
                return std::unexpected(options.error());
            p.options = std::make_shared<phonesim::PhoneOptions>(std::move(*options));
            // The USB strings say what getprop says, as on a real phone.
            const auto& props = p.options->identity.properties;
            auto prop = [&](const char* k, const std::string& fallback) {
                auto it = props.find(k);
                return it == props.end() ? fallback : it->second;
            };
            p.phone.spec.serial = prop("ro.serialno", p.phone.spec.serial);
            p.phone.spec.manufacturer = prop("ro.product.manufacturer", p.phone.spec.manufacturer);
            p.phone.spec.product = prop("ro.product.model", p.phone.spec.product);
        }
        out.push_back(std::move(p));
    }
    return out;
}

Result<UniqueFd> open_control(const std::filesystem::path& fifo) {
    if (fifo.empty())
        return UniqueFd();
    if (::mkfifo(fifo.c_str(), 0600) != 0 && errno != EEXIST)
        return fail_errno(fmt::format("cannot create the control FIFO {}", fifo.string()));
    // Read-write: the FIFO never reports end-of-file when a writer goes away.
    UniqueFd fd(::open(fifo.c_str(), O_RDWR | O_NONBLOCK | O_CLOEXEC));
    if (!fd)
        return fail_errno(fmt::format("cannot open the control FIFO {}", fifo.string()));
    return fd;
}

pid_t spawn(const std::vector<std::string>& command, const sigset_t& original_mask) {
    std::vector<char*> argv;
    for (const auto& a : command)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    if (pid == 0) {  // only async-signal-safe calls from here on
        ::pthread_sigmask(SIG_SETMASK, &original_mask, nullptr);
        ::execvp(argv[0], argv.data());
        ::_exit(127);
    }
    return pid;
}

int exit_code(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

// Waits for the command, serving the control FIFO and passing stop signals on.
int supervise(pid_t child, int signal_fd, int control_fd, int requests_fd, Bench& bench) {
    std::string pending, requested;
    for (;;) {
        pollfd fds[3] = {{signal_fd, POLLIN, 0}, {requests_fd, POLLIN, 0}, {control_fd, POLLIN, 0}};
        if (::poll(fds, control_fd >= 0 ? 3 : 2, -1) < 0 && errno != EINTR)
            return 1;
        if (fds[1].revents & POLLIN) {
            char buf[512];
            ssize_t n = ::read(requests_fd, buf, sizeof buf);
            if (n > 0)
                requested.append(buf, static_cast<std::size_t>(n));
            for (auto nl = requested.find('\n'); nl != std::string::npos;
                 nl = requested.find('\n')) {
                bench.control(requested.substr(0, nl));
                requested.erase(0, nl + 1);
            }
        }
        if (fds[0].revents & POLLIN) {
            signalfd_siginfo info{};
            if (::read(signal_fd, &info, sizeof info) != sizeof info)
                continue;
            if (info.ssi_signo != SIGCHLD) {
                ::kill(child, static_cast<int>(info.ssi_signo));
                continue;
            }
            int status = 0;
            if (::waitpid(child, &status, WNOHANG) == child)
                return exit_code(status);
        }
        if (control_fd >= 0 && (fds[2].revents & POLLIN)) {
            char buf[512];
            ssize_t n = ::read(control_fd, buf, sizeof buf);
            if (n > 0)
                pending.append(buf, static_cast<std::size_t>(n));
            for (auto nl = pending.find('\n'); nl != std::string::npos; nl = pending.find('\n')) {
                bench.control(pending.substr(0, nl));
                pending.erase(0, nl + 1);
            }
        }
    }
}

}  // namespace

Status ensure_preload(char** argv) {
    if (EmulatedBus::preload_active()) {
        ::unsetenv("EXHIBIT_USBSIM_REEXEC");
        return {};
    }
    if (std::getenv("EXHIBIT_USBSIM_REEXEC"))
        return fail(Errc::unsupported,
                    fmt::format("{} did not load (is umockdev installed?)", kPreload));
    std::string preload = kPreload;
    if (const char* old = std::getenv("LD_PRELOAD"); old && *old)
        preload += std::string(":") + old;
    ::setenv("LD_PRELOAD", preload.c_str(), 1);
    ::setenv("EXHIBIT_USBSIM_REEXEC", "1", 1);
    allow_preload_under_asan();
    ::execv("/proc/self/exe", argv);
    return fail_errno("cannot re-execute with the umockdev preload");
}

int run_usb_mode(const UsbModeOptions& options) {
    if (options.command.empty()) {
        complain("--usb needs a command to run on the emulated bus, after --");
        return 64;
    }
    // Blocked before any thread starts, so only the signalfd sees them.
    sigset_t stop, original;
    sigemptyset(&stop);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP})
        sigaddset(&stop, s);
    ::pthread_sigmask(SIG_BLOCK, &stop, &original);
    UniqueFd signals(::signalfd(-1, &stop, SFD_CLOEXEC));
    auto phones = prepare(options.phones);
    if (!phones) {
        complain(phones.error().describe());
        return 2;
    }
    if (auto n = EmulatedBus::remove_stale_testbeds(); n > 0)
        say(fmt::format("usb: removed {} emulated bus{} left by a killed phonesim", n,
                        n == 1 ? "" : "es"));
    auto bus = EmulatedBus::create();
    if (!bus) {
        complain(bus.error().describe());
        return 1;
    }
    say(fmt::format("usb: emulated bus in {}", (*bus)->root()));
    int request_pipe[2];
    if (::pipe2(request_pipe, O_CLOEXEC | O_NONBLOCK) != 0) {
        complain("cannot create a pipe");
        return 1;
    }
    UniqueFd requests_in(request_pipe[0]), requests_out(request_pipe[1]);
    g_requests = requests_out.get();
    Bench bench(**bus, std::move(*phones));
    if (auto s = bench.plug_all(); !s) {
        complain(s.error().describe());
        return 1;
    }
    // An iPhone is reached through usbmuxd, as on a kiosk: Debian's, on this bus, its socket
    // given to the command. Declared after the bus: it is stopped first.
    std::unique_ptr<Usbmuxd> usbmuxd;
    if (bench.has_iphone()) {
        auto u = Usbmuxd::start({.umockdev_dir = (*bus)->root()});
        if (!u) {
            complain(fmt::format("an iPhone needs usbmuxd: {}", u.error().describe()));
            return 1;
        }
        usbmuxd = std::move(*u);
        ::setenv("USBMUXD_SOCKET_ADDRESS", usbmuxd->socket_address().c_str(), 1);
        say(fmt::format("usb: usbmuxd (pid {}) at {}", usbmuxd->pid(), usbmuxd->socket_path()));
    }
    auto control = open_control(options.control);
    if (!control) {
        complain(control.error().describe());
        return 1;
    }
    allow_preload_under_asan();
    pid_t child = spawn(options.command, original);
    if (child < 0) {
        complain(fmt::format("cannot start {}: {}", options.command[0], std::strerror(errno)));
        return 1;
    }
    say(fmt::format("usb: running {} (pid {})", options.command[0], child));
    int code = supervise(child, signals.get(), control->get(), requests_in.get(), bench);
    say(fmt::format("usb: {} exited with status {}", options.command[0], code));
    return code;
}

int usb_main(const phonesim::PhoneSettings& settings, const UsbCommandLine& line, char** argv) {
    const auto& [phones_file, control, command, interfaces, mtp_locked, stick, iphone_trust] =
        line;
    UsbModeOptions options{.control = control, .command = command};
    if (!phones_file.empty()) {
        auto list = load_phone_list(phones_file);
        if (!list) {
            complain(list.error().describe());
            return 2;
        }
        options.phones = std::move(*list);
    } else if (!iphone_trust.empty()) {
        auto phone = iphone(settings.root, iphone_trust, settings.serial, settings.scenario);
        if (!phone) {
            complain(phone.error().describe());
            return 2;
        }
        options.phones = {std::move(*phone)};
    } else if (!stick.empty()) {
        options.phones = {stick_from_image(stick, settings.serial.empty() ? "STICK0001"
                                                                          : settings.serial)};
    } else {
        auto phone = phone_from_settings(settings, interfaces, mtp_locked);
        if (!phone) {
            complain(phone.error().describe());
            return 2;
        }
        options.phones = {std::move(*phone)};
    }
    if (auto s = ensure_preload(argv); !s) {
        complain(s.error().describe());
        return 1;
    }
    return run_usb_mode(options);
}

}  // namespace exhibit::usbsim
