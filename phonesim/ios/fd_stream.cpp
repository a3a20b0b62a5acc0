#include "phonesim/ios/fd_stream.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace exhibit::phonesim::ios {

Result<std::size_t> FdStream::read_some(std::span<std::byte> buffer) {
    for (;;) {
        auto n = ::recv(fd_, buffer.data(), buffer.size(), 0);
        if (n >= 0)
            return static_cast<std::size_t>(n);
        if (errno == EINTR)
            continue;
        if (errno == ECONNRESET)
            return 0;
        return fail_errno("reading from the host");
    }
}

Status FdStream::write_all(std::span<const std::byte> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
        std::size_t piece = std::min(max_fragment_, bytes.size() - done);
        auto n = ::send(fd_, bytes.data() + done, piece, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return fail_errno("writing to the host");
        done += static_cast<std::size_t>(n);
    }
    return {};
}

}  // namespace exhibit::phonesim::ios
