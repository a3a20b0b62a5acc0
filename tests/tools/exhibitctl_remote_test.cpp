// exhibitctl --host: the shape of [USER@]HOST[:PORT], the ssh command it becomes, and the
// sentence and exit code for each way ssh can fail. The real ssh path is exhibitctl_host_test.
#include "tools/exhibitctl/remote.hpp"

#include <sys/wait.h>

#include <gtest/gtest.h>

namespace exhibit::ctl {
namespace {

int exited(int code) {
    return code << 8;  // a wait status as waitpid reports a normal exit (W_EXITCODE)
}

TEST(ExhibitctlRemote, ParsesUserHostAndPort) {
    auto h = parse_remote_host("dfu@kiosk-12.station.police.example:2222");
    ASSERT_TRUE(h.has_value()) << h.error().message;
    EXPECT_EQ(h->user, "dfu");
    EXPECT_EQ(h->host, "kiosk-12.station.police.example");
    ASSERT_TRUE(h->port.has_value());
    EXPECT_EQ(*h->port, 2222);
    EXPECT_EQ(h->spec, "dfu@kiosk-12.station.police.example:2222");

    auto bare = parse_remote_host("10.0.0.7");
    ASSERT_TRUE(bare.has_value());
    EXPECT_EQ(bare->user, "");
    EXPECT_EQ(bare->host, "10.0.0.7");
    EXPECT_FALSE(bare->port.has_value());

    auto v6 = parse_remote_host("dfu@[fe80::1%eth0]:22");
    ASSERT_TRUE(v6.has_value()) << v6.error().message;
    EXPECT_EQ(v6->host, "fe80::1%eth0");
    EXPECT_EQ(*v6->port, 22);
}

TEST(ExhibitctlRemote, RefusesWhatSshCouldTakeForAnOption) {
    for (const char* spec :
         {"", "@host", "-oProxyCommand=sh", "dfu@-oProxyCommand=sh", "-l@host", "host:", "host:0",
          "host:65536", "host:22x", "host:-1", "a@b@c", "host name", "dfu@", "[fe80::1", "[]:22",
          "[::1]x", "ho\x1bst", "us\ter@host", "host/machine"}) {
        auto h = parse_remote_host(spec);
        ASSERT_FALSE(h.has_value()) << spec;
        EXPECT_EQ(h.error().exit, Exit::usage) << spec;
        EXPECT_TRUE(h.error().message.starts_with("--host:")) << h.error().message;
    }
}

TEST(ExhibitctlRemote, TheSshCommandIsTheBridgeAfterDoubleDash) {
    auto h = parse_remote_host("dfu@kiosk:2222").value();
    EXPECT_EQ(ssh_argv("ssh", h),
              (std::vector<std::string>{"ssh", "-xT", "-o", "ConnectTimeout=15", "-p", "2222", "-l",
                                        "dfu", "--", "kiosk", "systemd-stdio-bridge"}));
    auto bare = parse_remote_host("kiosk").value();
    EXPECT_EQ(ssh_argv("/opt/ssh", bare),
              (std::vector<std::string>{"/opt/ssh", "-xT", "-o", "ConnectTimeout=15", "--", "kiosk",
                                        "systemd-stdio-bridge"}));
}

TEST(ExhibitctlRemote, EachSshFailureIsOneSentenceNamingTheHost) {
    auto h = parse_remote_host("dfu@kiosk:2222").value();
    struct Case {
        std::optional<int> status;
        const char* said;
        Exit exit;
        const char* expected;
    };
    const Case cases[] = {
        {exited(255), "dfu@kiosk: Permission denied (publickey).\r\n", Exit::not_authorized,
         "ssh refused the login to dfu@kiosk:2222: dfu@kiosk: Permission denied (publickey)."},
        {exited(255), "ssh: connect to host kiosk port 2222: Connection refused\n",
         Exit::unreachable,
         "cannot reach dfu@kiosk:2222 over ssh: connect to host kiosk port 2222: Connection "
         "refused"},
        {exited(255), "ssh: Could not resolve hostname kiosk: Name or service not known\n",
         Exit::unreachable,
         "cannot reach dfu@kiosk:2222 over ssh: Could not resolve hostname kiosk: Name or "
         "service not known"},
        {exited(255),
         "No ED25519 host key is known for [kiosk]:2222 and you have requested "
         "strict checking.\nHost key verification failed.\n",
         Exit::unreachable,
         "ssh could not verify dfu@kiosk:2222's host key (check known_hosts): Host key "
         "verification failed."},
        {exited(127), "sh: 1: systemd-stdio-bridge: not found\n", Exit::unreachable,
         "systemd-stdio-bridge is missing on dfu@kiosk:2222 (package systemd): sh: 1: "
         "systemd-stdio-bridge: not found"},
        {exited(1), "Failed to start bus client: No such file or directory\n", Exit::unreachable,
         "the D-Bus bridge on dfu@kiosk:2222 could not reach its system bus "
         "(systemd-stdio-bridge exited with status 1: Failed to start bus client: No such file "
         "or directory)"},
        {exited(255), "", Exit::unreachable, "cannot reach dfu@kiosk:2222 over ssh: ssh failed"},
        {std::nullopt, "", Exit::unreachable,
         "cannot reach exhibitd's bus on dfu@kiosk:2222 over ssh: Connection reset by peer"},
    };
    for (const auto& c : cases) {
        auto f = ssh_failure(h, c.status, c.said, -ECONNRESET);
        EXPECT_EQ(f.exit, c.exit) << c.said;
        EXPECT_EQ(f.message, c.expected);
        EXPECT_EQ(f.message.find('\n'), std::string::npos);
    }
}

TEST(ExhibitctlRemote, WhatTheFarSideSaysCannotMoveTheCursor) {
    auto h = parse_remote_host("kiosk").value();
    auto f = ssh_failure(h, exited(1), "bad\x1b]0;title\x07 news\n\n", -ECONNRESET);
    EXPECT_EQ(f.message.find('\x1b'), std::string::npos);
    EXPECT_NE(f.message.find("bad?]0;title? news"), std::string::npos) << f.message;
}

}  // namespace
}  // namespace exhibit::ctl
