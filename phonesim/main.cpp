// exhibit-phonesim: a simulated Android phone speaking the device side of ADB over TCP, for
// tests, demos, officer training and DFU validation. See docs/phonesim.md.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdio>
#include <thread>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "common/unique_fd.hpp"
#include "phonesim/generator.hpp"
#include "phonesim/phone_setup.hpp"
#include "phonesim/usb/usb_mode.hpp"

using namespace exhibit;
using namespace exhibit::phonesim;

namespace {

Result<UniqueFd> listen_on(const std::string& address, std::uint16_t* bound_port) {
    auto colon = address.rfind(':');
    if (colon == std::string::npos)
        return fail(Errc::invalid_argument, "--listen takes HOST:PORT");
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    if (::inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr) != 1)
        return fail(Errc::invalid_argument, "--listen needs an IPv4 address such as 127.0.0.1");
    std::uint16_t port = 0;
    auto digits = std::string_view(address).substr(colon + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
    if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty())
        return fail(Errc::invalid_argument, fmt::format("--listen {}: bad port", address));
    sa.sin_port = htons(port);
    UniqueFd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(fd.get(), 16) != 0)
        return fail_errno(fmt::format("cannot listen on {}", address));
    socklen_t len = sizeof sa;
    ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len);
    *bound_port = ntohs(sa.sin_port);
    return fd;
}

// Lines on the control FIFO: "allow" accepts the key waiting on the phone's screen.
void watch_control(const std::filesystem::path& fifo, std::shared_ptr<AuthKeys> keys) {
    ::mkfifo(fifo.c_str(), 0600);
    int fd = ::open(fifo.c_str(), O_RDWR | O_CLOEXEC);  // RDWR: never sees end-of-file
    if (fd < 0)
        return;
    std::string line;
    char c;
    while (::read(fd, &c, 1) == 1) {
        if (c != '\n') {
            line.push_back(c);
            continue;
        }
        if (line == "allow") {
            auto n = keys->allow_pending();
            std::fprintf(stdout, "control: allowed %zu key(s)\n", n);
            std::fflush(stdout);
        }
        line.clear();
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"exhibit-phonesim: a simulated Android phone (device side of ADB)"};
    PhoneSettings s;
    std::string listen = "127.0.0.1:5555";
    std::string control, generate;
    unsigned seed = 1;
    bool large = false, sparse_4g = false;
    app.add_option("--root", s.root, "directory served as /sdcard and /storage/emulated/0");
    app.add_option("--records", s.records,
                   "JSON records: SMS, call log, contacts, packages, properties");
    app.add_option("--listen", listen, "IPv4 HOST:PORT to listen on (port 0 picks one)");
    app.add_option("--serial", s.serial, "ro.serialno (default: records, else PHONESIM0001)");
    app.add_option("--model", s.model, "ro.product.model (default: records, else Phonesim)");
    app.add_option("--manufacturer", s.manufacturer,
                   "ro.product.manufacturer and brand (default: records, else exhibit)");
    app.add_option("--auth", s.auth, "none | require")->check(CLI::IsMember({"none", "require"}));
    app.add_option("--adb-keys", s.adb_keys, "authorised host keys file (adb_keys format)");
    app.add_flag("--accept-new-keys", s.accept_new_keys, "authorise any key the host offers");
    app.add_option("--control", control, "FIFO accepting commands: allow");
    app.add_option("--clock-offset", s.clock_offset_seconds,
                   "phone clock minus real time, in seconds");
    app.add_option("--scenario", s.scenario, "JSON hostile behaviours (docs/phonesim.md)");
    app.add_option("--generate", generate, "write a realistic test phone into DIR and exit");
    app.add_option("--seed", seed, "seed for --generate");
    app.add_flag("--large", large, "--generate: include a large video");
    app.add_flag("--sparse-4g", sparse_4g, "--generate: add a sparse video just over 4 GiB");
    bool iphone = false;
    app.add_flag("--iphone", iphone,
                 "--generate: an iPhone's media folder (AFC) instead; --usb: plug in an iPhone "
                 "serving --root as its media folder (--serial: its UDID), through usbmuxd");
    // Emulated USB mode: phonesim/usb/usb_mode.hpp, docs/usb.md.
    bool usb = false;
    std::string phones;
    std::vector<std::string> command;
    app.add_flag("--usb", usb, "plug the phone(s) into an emulated USB bus and run COMMAND on it");
    app.add_option("--phones", phones, "--usb: JSON list of phones to plug in (docs/usb.md)");
    app.add_option("command", command, "--usb: the command to run on the bus, after --");
    std::vector<std::string> interfaces;
    bool mtp_locked = false;
    app.add_option("--interfaces", interfaces,
                   "--usb: the phone's interfaces (default mtp adb; mtp alone: MTP-only)")
        ->delimiter(',');
    app.add_flag("--mtp-locked", mtp_locked,
                 "--usb: MTP shows no storage until \"unlock\" on the control FIFO");
    std::string trust = "waiting";
    app.add_option("--trust", trust,
                   "--usb --iphone: at plug the iPhone is locked, waiting (asks \"Trust This "
                   "Computer?\") or trusted")
        ->check(CLI::IsMember({"locked", "waiting", "trusted"}));
    std::string stick;
    app.add_option("--stick", stick,
                   "--usb: plug in a USB stick whose disk holds IMAGE (a file-system image), "
                   "instead of a phone");
    CLI11_PARSE(app, argc, argv);
    if (usb || !phones.empty() || !command.empty())
        return usbsim::usb_main(s,
                                {.phones_file = phones,
                                 .control = control,
                                 .command = command,
                                 .interfaces = interfaces,
                                 .mtp_locked = mtp_locked,
                                 .stick = stick,
                                 .iphone_trust = iphone ? trust : std::string()},
                                argv);

    if (!generate.empty()) {
        const GenerateOptions g{.seed = seed, .large = large, .sparse_4g = sparse_4g};
        auto r = iphone ? generate_iphone(generate, g) : generate_phone(generate, g);
        if (!r)
            return std::fprintf(stderr, "exhibit-phonesim: %s\n", r.error().describe().c_str()), 1;
        if (iphone)
            std::printf("generated a test iPhone's media folder in %s\n", generate.c_str());
        else
            std::printf("generated a test phone in %s (records: %s/records.json)\n",
                        generate.c_str(), generate.c_str());
        return 0;
    }
    auto phone = make_phone(s);
    if (!phone)
        return std::fprintf(stderr, "exhibit-phonesim: %s\n", phone.error().describe().c_str()), 2;
    ::signal(SIGPIPE, SIG_IGN);
    std::uint16_t port = 0;
    auto server = listen_on(listen, &port);
    if (!server)
        return std::fprintf(stderr, "exhibit-phonesim: %s\n", server.error().describe().c_str()), 1;
    if (!control.empty())
        std::thread(watch_control, control, phone->keys).detach();
    std::printf("listening on %s:%u\n", listen.substr(0, listen.rfind(':')).c_str(), port);
    std::fflush(stdout);
    const PhoneOptions options = std::move(*phone);
    for (;;) {
        sockaddr_in peer{};
        socklen_t len = sizeof peer;
        int fd = ::accept4(server->get(), reinterpret_cast<sockaddr*>(&peer), &len, SOCK_CLOEXEC);
        if (fd < 0)
            continue;
        std::thread([fd, &options] {
            adb::TcpTransport transport(UniqueFd(fd), "host");
            transport.set_read_timeout(std::chrono::hours(24));
            DeviceEngine engine(options);
            if (auto r = engine.serve(transport); !r)
                std::fprintf(stderr, "exhibit-phonesim: connection ended: %s\n",
                             r.error().describe().c_str());
        }).detach();
    }
}
