#include "transport.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>

#include <fmt/format.h>

#include "common/c_handle.hpp"

namespace exhibit::adb {

Result<std::unique_ptr<TcpTransport>> TcpTransport::connect(const std::string& host,
                                                            std::uint16_t port,
                                                            std::chrono::milliseconds timeout,
                                                            std::stop_token stop) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    auto service = std::to_string(port);
    if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0)
        return fail(Errc::not_found, fmt::format("cannot resolve {}: {}", host, gai_strerror(rc)));
    CHandle<addrinfo, ::freeaddrinfo> list(res);
    Error last{Errc::io, fmt::format("cannot connect to {}:{}", host, port), 0};
    for (auto* ai = res; ai; ai = ai->ai_next) {
        UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                             ai->ai_protocol));
        if (!fd)
            continue;
        if (::connect(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
            last.sys_errno = errno;
            continue;
        }
        // Waited for in short slices, so that a stop request is noticed at once.
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        int n = 0;
        while (n == 0 && !stop.stop_requested() && std::chrono::steady_clock::now() < deadline) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{fd.get(), POLLOUT, 0};
            n = ::poll(&p, 1, static_cast<int>(std::clamp<std::int64_t>(left.count(), 0, 50)));
            if (n < 0 && errno == EINTR)
                n = 0;
        }
        if (stop.stop_requested())
            return fail(Errc::cancelled,
                        fmt::format("connecting to {}:{} was stopped", host, port));
        int err = 0;
        socklen_t len = sizeof err;
        if (n <= 0) {
            last =
                Error{Errc::timeout, fmt::format("connecting to {}:{} timed out", host, port), 0};
            continue;
        }
        ::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) {
            last.sys_errno = err;
            continue;
        }
        int one = 1;
        ::setsockopt(fd.get(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        return std::make_unique<TcpTransport>(std::move(fd), fmt::format("tcp:{}:{}", host, port));
    }
    return std::unexpected(last);
}

TcpTransport::TcpTransport(UniqueFd fd, std::string peer)
    : fd_(std::move(fd)), peer_(std::move(peer)) {
    int flags = 1;
    ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NODELAY, &flags, sizeof flags);
    int size = 4 << 20;
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    ::setsockopt(fd_.get(), SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

Status TcpTransport::read_exact(std::span<std::byte> buffer) {
    while (!buffer.empty()) {
        if (shut_)
            return fail(Errc::cancelled, "transport was shut down");
        ssize_t n = ::recv(fd_.get(), buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (n > 0) {
            buffer = buffer.subspan(static_cast<std::size_t>(n));
            continue;
        }
        if (n == 0)
            return fail(Errc::protocol, fmt::format("{}: connection closed by the peer", peer_));
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return fail_errno(fmt::format("{}: read failed", peer_));
        pollfd p{fd_.get(), POLLIN, 0};
        int rc = ::poll(&p, 1, static_cast<int>(read_timeout_.count()));
        if (rc == 0)
            return fail(Errc::timeout,
                        fmt::format("{}: no data for {} ms", peer_, read_timeout_.count()));
        if (rc < 0 && errno != EINTR)
            return fail_errno(fmt::format("{}: poll failed", peer_));
    }
    return {};
}

Status TcpTransport::write_message(std::span<const std::byte> header,
                                   std::span<const std::byte> payload) {
    iovec iov[2] = {{const_cast<std::byte*>(header.data()), header.size()},
                    {const_cast<std::byte*>(payload.data()), payload.size()}};
    int count = payload.empty() ? 1 : 2;
    std::size_t total = header.size() + payload.size(), sent = 0;
    while (sent < total) {
        if (shut_)
            return fail(Errc::cancelled, "transport was shut down");
        msghdr msg{};
        msg.msg_iov = iov;
        msg.msg_iovlen = static_cast<std::size_t>(count);
        ssize_t n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK)
                return fail_errno(fmt::format("{}: write failed", peer_));
            pollfd p{fd_.get(), POLLOUT, 0};
            int rc = ::poll(&p, 1, static_cast<int>(read_timeout_.count()));
            if (rc == 0)
                return fail(Errc::timeout, fmt::format("{}: peer not reading for {} ms", peer_,
                                                       read_timeout_.count()));
            continue;
        }
        sent += static_cast<std::size_t>(n);
        // advance the iovecs past what was sent
        std::size_t k = static_cast<std::size_t>(n);
        for (auto& v : iov) {
            std::size_t d = std::min(k, v.iov_len);
            v.iov_base = static_cast<char*>(v.iov_base) + d;
            v.iov_len -= d;
            k -= d;
        }
    }
    return {};
}

Result<bool> TcpTransport::wait_readable(std::chrono::milliseconds timeout) {
    if (shut_)
        return fail(Errc::cancelled, "transport was shut down");
    pollfd p{fd_.get(), POLLIN, 0};
    int rc = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (rc < 0 && errno != EINTR)
        return fail_errno(fmt::format("{}: poll failed", peer_));
    return rc > 0;
}

void TcpTransport::shutdown() {
    shut_ = true;
    ::shutdown(fd_.get(), SHUT_RDWR);
}

}  // namespace exhibit::adb
