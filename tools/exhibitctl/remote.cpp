#include "remote.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

#include <fmt/format.h>

extern char** environ;

namespace exhibit::ctl {

namespace {

constexpr std::size_t kMaxStderr = 16 * 1024;  // what is kept of ssh's stderr to explain
constexpr const char* kBridge = "systemd-stdio-bridge";

std::unexpected<Failure> bad_host(std::string_view spec, std::string_view why) {
    return failure(Exit::usage,
                   fmt::format("--host: \"{}\" {} (want [USER@]HOST[:PORT])", spec, why));
}

bool plain_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
}

bool ipv6_char(char c) {
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || (c >= '0' && c <= '9') || c == ':' ||
           c == '.';
}

// An IPv6 address, with a zone (%eth0) where given.
bool ipv6_address(std::string_view addr) {
    const auto percent = addr.find('%');
    const auto zone =
        percent == std::string_view::npos ? std::string_view() : addr.substr(percent + 1);
    addr = addr.substr(0, percent);
    return !addr.empty() && std::ranges::all_of(addr, ipv6_char) &&
           (percent == std::string_view::npos ||
            (!zone.empty() && std::ranges::all_of(zone, plain_name_char)));
}

// User names are looked up by ssh on the far side; refuse only what could be an option or
// break the command line.
bool user_char(char c) {
    const auto u = static_cast<unsigned char>(c);
    return u > 0x20 && u != 0x7f && c != '@' && c != ':' && c != '/';
}

// The last line of ssh's stderr that says something, without ssh's own "ssh: " prefix.
std::string last_line(std::string_view text) {
    std::string_view best;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string_view::npos)
            end = text.size();
        auto line = text.substr(start, end - start);
        while (!line.empty() && (line.back() == '\r' || line.back() == ' '))
            line.remove_suffix(1);
        if (!line.empty())
            best = line;
        start = end + 1;
    }
    if (best.starts_with("ssh: "))
        best.remove_prefix(5);
    std::string out;
    for (char c : best)  // a remote shell's words: nothing that moves the cursor
        out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    return out;
}

bool contains(std::string_view text, std::string_view needle) {
    return text.find(needle) != std::string_view::npos;
}

}  // namespace

Outcome<RemoteHost> parse_remote_host(std::string_view spec) {
    RemoteHost out;
    out.spec = std::string(spec);
    std::string_view rest = spec;
    if (auto at = rest.find('@'); at != std::string_view::npos) {
        auto user = rest.substr(0, at);
        if (user.empty())
            return bad_host(spec, "has an empty user name");
        if (user.front() == '-' || !std::ranges::all_of(user, user_char))
            return bad_host(spec, "has a user name ssh could not take");
        out.user = std::string(user);
        rest.remove_prefix(at + 1);
    }
    std::string_view port;
    if (rest.starts_with('[')) {
        auto close = rest.find(']');
        if (close == std::string_view::npos)
            return bad_host(spec, "opens a '[' it does not close");
        auto addr = rest.substr(1, close - 1);
        if (!ipv6_address(addr))
            return bad_host(spec, "has no IPv6 address between [ ]");
        out.host = std::string(addr);
        rest.remove_prefix(close + 1);
        if (!rest.empty()) {
            if (rest.front() != ':')
                return bad_host(spec, "has something after ']' that is not :PORT");
            port = rest.substr(1);
            if (port.empty())
                return bad_host(spec, "has an empty port");
        }
    } else {
        auto colon = rest.find(':');
        auto host = rest.substr(0, colon);
        if (host.empty())
            return bad_host(spec, "has no host name");
        if (host.front() == '-' || !std::ranges::all_of(host, plain_name_char))
            return bad_host(spec, "is not a host name or address");
        out.host = std::string(host);
        if (colon != std::string_view::npos) {
            port = rest.substr(colon + 1);
            if (port.empty())
                return bad_host(spec, "has an empty port");
        }
    }
    if (!port.empty()) {
        unsigned value = 0;
        auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
        if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535)
            return bad_host(spec, "has a port that is not a number from 1 to 65535");
        out.port = static_cast<std::uint16_t>(value);
    }
    return out;
}

std::vector<std::string> ssh_argv(const std::string& ssh, const RemoteHost& host) {
    std::vector<std::string> argv = {ssh, "-xT", "-o", "ConnectTimeout=15"};
    if (host.port) {
        argv.emplace_back("-p");
        argv.push_back(std::to_string(*host.port));
    }
    if (!host.user.empty()) {
        argv.emplace_back("-l");
        argv.push_back(host.user);
    }
    argv.emplace_back("--");
    argv.push_back(host.host);
    argv.emplace_back(kBridge);
    return argv;
}

std::string ssh_program() {
    const char* env = std::getenv("EXHIBIT_SSH");
    return env && *env ? std::string(env) : std::string("ssh");
}

Failure ssh_failure(const RemoteHost& host, std::optional<int> wait_status,
                    std::string_view ssh_stderr, int bus_errno) {
    const std::string said = last_line(ssh_stderr);
    const std::string& where = host.spec;
    if (!wait_status)
        return {Exit::unreachable,
                fmt::format("cannot reach exhibitd's bus on {} over ssh: {}", where,
                            said.empty() ? std::strerror(-bus_errno) : said)};
    if (WIFSIGNALED(*wait_status))
        return {Exit::unreachable,
                fmt::format("ssh to {} ended by signal {}{}", where, WTERMSIG(*wait_status),
                            said.empty() ? "" : ": " + said)};
    const int code = WEXITSTATUS(*wait_status);
    if (code == 255) {  // ssh's own failure: connecting, the host key, logging in
        if (contains(said, "Permission denied") || contains(said, "Too many authentication"))
            return {Exit::not_authorized,
                    fmt::format("ssh refused the login to {}: {}", where, said)};
        if (contains(said, "Host key verification failed") ||
            contains(said, "REMOTE HOST IDENTIFICATION HAS CHANGED"))
            return {Exit::unreachable,
                    fmt::format("ssh could not verify {}'s host key (check known_hosts): {}", where,
                                said)};
        return {Exit::unreachable, fmt::format("cannot reach {} over ssh: {}", where,
                                               said.empty() ? "ssh failed" : said)};
    }
    if (code == 127)  // the remote shell's "command not found"
        return {Exit::unreachable, fmt::format("{} is missing on {} (package systemd): {}", kBridge,
                                               where, said.empty() ? "command not found" : said)};
    return {Exit::unreachable,
            fmt::format("the D-Bus bridge on {} could not reach its system bus ({} exited with "
                        "status {}{})",
                        where, kBridge, code, said.empty() ? "" : ": " + said)};
}

Outcome<SshTunnel> SshTunnel::start(const RemoteHost& host) {
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
        return failure(Exit::failed, fmt::format("--host: socketpair: {}", std::strerror(errno)));
    UniqueFd ours(pair[0]), theirs(pair[1]);
    int err[2];
    if (::pipe2(err, O_CLOEXEC | O_NONBLOCK) != 0)
        return failure(Exit::failed, fmt::format("--host: pipe: {}", std::strerror(errno)));
    UniqueFd err_r(err[0]), err_w(err[1]);
    // ssh writes its stderr blocking; only exhibitctl's end is non-blocking.
    (void)::fcntl(err_w.get(), F_SETFL, ::fcntl(err_w.get(), F_GETFL) & ~O_NONBLOCK);

    const auto args = ssh_argv(ssh_program(), host);
    std::vector<char*> argv;
    for (const auto& a : args)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, theirs.get(), STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, theirs.get(), STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err_w.get(), STDERR_FILENO);
    pid_t pid = -1;
    const int r = ::posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (r != 0)
        return failure(Exit::failed,
                       fmt::format("--host: cannot run {}: {}", args[0], std::strerror(r)));
    return SshTunnel(host, pid, std::move(ours), std::move(err_r));
}

SshTunnel::SshTunnel(SshTunnel&& other) noexcept
    : host_(std::move(other.host_)),
      pid_(std::exchange(other.pid_, -1)),
      bus_fd_(std::move(other.bus_fd_)),
      err_fd_(std::move(other.err_fd_)),
      stderr_(std::move(other.stderr_)),
      status_(other.status_) {}

SshTunnel& SshTunnel::operator=(SshTunnel&& other) noexcept {
    if (this != &other) {
        end();
        host_ = std::move(other.host_);
        pid_ = std::exchange(other.pid_, -1);
        bus_fd_ = std::move(other.bus_fd_);
        err_fd_ = std::move(other.err_fd_);
        stderr_ = std::move(other.stderr_);
        status_ = other.status_;
    }
    return *this;
}

SshTunnel::~SshTunnel() {
    end();
}

void SshTunnel::drain_stderr() {
    if (!err_fd_)
        return;
    char buf[4096];
    for (;;) {
        const ssize_t n = ::read(err_fd_.get(), buf, sizeof buf);
        if (n > 0) {
            stderr_.append(buf, static_cast<std::size_t>(n));
            if (stderr_.size() > kMaxStderr)
                stderr_.erase(0, stderr_.size() - kMaxStderr);
            continue;
        }
        if (n == 0)
            err_fd_.reset();  // ssh (and everything it started) has closed it
        return;
    }
}

Failure SshTunnel::explain(int bus_errno) {
    using Clock = std::chrono::steady_clock;
    const auto deadline = Clock::now() + std::chrono::seconds(5);
    while (pid_ > 0 && !status_ && Clock::now() < deadline) {
        drain_stderr();
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            status_ = status;
            pid_ = -1;
            break;
        }
        pollfd p{err_fd_ ? err_fd_.get() : -1, POLLIN, 0};
        (void)::poll(&p, 1, 50);
    }
    drain_stderr();
    return ssh_failure(host_, status_, stderr_, bus_errno);
}

void SshTunnel::end() {
    bus_fd_.reset();
    err_fd_.reset();
    if (pid_ <= 0)
        return;
    // The bus is closed: ssh sees the end of its input and leaves; give it a moment.
    int status = 0;
    for (int i = 0; i < 40; ++i) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ::kill(pid_, SIGTERM);
    for (int i = 0; i < 40; ++i) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    ::kill(pid_, SIGKILL);
    (void)::waitpid(pid_, &status, 0);
    pid_ = -1;
}

}  // namespace exhibit::ctl
