#include "error.hpp"

#include <cstring>

#include <fmt/format.h>

namespace exhibit {

std::string_view to_string(Errc code) {
    switch (code) {
        case Errc::io:
            return "io";
        case Errc::not_found:
            return "not_found";
        case Errc::invalid_argument:
            return "invalid_argument";
        case Errc::corrupt:
            return "corrupt";
        case Errc::database:
            return "database";
        case Errc::crypto:
            return "crypto";
        case Errc::config:
            return "config";
        case Errc::protocol:
            return "protocol";
        case Errc::unsupported:
            return "unsupported";
        case Errc::cancelled:
            return "cancelled";
        case Errc::timeout:
            return "timeout";
        case Errc::exists:
            return "exists";
        case Errc::no_space:
            return "no_space";
        case Errc::denied:
            return "denied";
        case Errc::locked:
            return "locked";
        case Errc::internal:
            return "internal";
    }
    return "unknown";
}

std::string Error::describe() const {
    if (sys_errno == 0)
        return message;
    return fmt::format("{}: {}", message, std::strerror(sys_errno));
}

Error Error::with_context(std::string_view context) const {
    return Error{code, fmt::format("{}: {}", context, message), sys_errno};
}

std::unexpected<Error> fail_errno(std::string message, int err) {
    Errc code = Errc::io;
    if (err == ENOENT)
        code = Errc::not_found;
    else if (err == EEXIST)
        code = Errc::exists;
    else if (err == ENOSPC || err == EDQUOT)
        code = Errc::no_space;
    else if (err == ETIMEDOUT)
        code = Errc::timeout;
    return std::unexpected(Error{code, std::move(message), err});
}

}  // namespace exhibit
