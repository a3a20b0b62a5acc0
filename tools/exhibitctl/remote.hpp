// exhibitctl --host: reaching exhibitd's bus on another machine through ssh and
// systemd-stdio-bridge, the way `systemctl -H` does (sd_bus_open_system_remote), but with ssh
// run by exhibitctl itself, so that what ssh says when it fails (host unreachable, login
// refused, no bridge over there) becomes one sentence naming the host and an exit code,
// instead of ssh's own lines on the terminal.
//
// The remote caller is whoever ssh logs in as; the kiosk's bus policy and exhibitd decide what
// that user may do by its groups, exactly as for a local caller (docs/monitoring.md).
//
// parse_remote_host(), ssh_argv() and ssh_failure() are pure and reentrant; an SshTunnel is
// thread-bound (one thread starts, explains and ends it).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/unique_fd.hpp"
#include "tools/exhibitctl/failure.hpp"

namespace exhibit::ctl {

// [USER@]HOST[:PORT], HOST a name, an IPv4 address or an IPv6 address in brackets.
struct RemoteHost {
    std::string user;  // empty: ssh's default (its configuration, or the local user name)
    std::string host;
    std::optional<std::uint16_t> port;
    std::string spec;  // as given, for messages
};

// Checks the shape only (a usage error, exit 2, otherwise): nothing that ssh could take for an
// option (a leading '-'), no spaces or control characters, a port from 1 to 65535.
Outcome<RemoteHost> parse_remote_host(std::string_view spec);

// The command exhibitctl runs: `SSH -xT -o ConnectTimeout=15 [-p PORT] [-l USER] -- HOST
// systemd-stdio-bridge` (no X11, no terminal; the bridge on HOST connects to its system bus).
std::vector<std::string> ssh_argv(const std::string& ssh, const RemoteHost& host);

// The ssh program: $EXHIBIT_SSH when set and not empty (e.g. a wrapper adding -F CONFIG),
// otherwise "ssh" from PATH.
std::string ssh_program();

// Why the connection failed, from how ssh ended (a wait status, or nullopt while it still
// runs), what it wrote on stderr, and the errno sd-bus saw (negative): one sentence naming the
// host. A refused login is Exit::not_authorized, everything else Exit::unreachable.
Failure ssh_failure(const RemoteHost& host, std::optional<int> wait_status,
                    std::string_view ssh_stderr, int bus_errno);

// The ssh child: its end of a socket pair is its stdin and stdout, its stderr a pipe that
// exhibitctl reads only to explain a failure. Ending it closes the connection's side first
// (the owner closes the bus before), then waits a moment for ssh to leave, then stops it.
class SshTunnel {
  public:
    // Starts ssh; `bus_fd` is then exhibitctl's end of the socket pair, for sd_bus_set_fd.
    static Outcome<SshTunnel> start(const RemoteHost& host);
    SshTunnel(SshTunnel&& other) noexcept;
    SshTunnel& operator=(SshTunnel&& other) noexcept;
    SshTunnel(const SshTunnel&) = delete;
    SshTunnel& operator=(const SshTunnel&) = delete;
    ~SshTunnel();

    // Hands exhibitctl's end of the socket pair to its new owner (the sd-bus connection).
    int take_bus_fd() { return bus_fd_.release(); }
    // After sd-bus failed with `bus_errno`: waits up to a few seconds for ssh to end, reads
    // what it said, and returns the sentence.
    Failure explain(int bus_errno);

  private:
    SshTunnel(RemoteHost host, pid_t pid, UniqueFd bus_fd, UniqueFd err_fd)
        : host_(std::move(host)),
          pid_(pid),
          bus_fd_(std::move(bus_fd)),
          err_fd_(std::move(err_fd)) {}
    void drain_stderr();
    void end();

    RemoteHost host_;
    pid_t pid_ = -1;
    UniqueFd bus_fd_;
    UniqueFd err_fd_;
    std::string stderr_;
    std::optional<int> status_;  // set once reaped
};

}  // namespace exhibit::ctl
