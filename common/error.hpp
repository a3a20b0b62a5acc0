// Errors as values: every fallible function in exhibit returns Result<T>.
// Library codes (errno, SQLITE_*, OpenSSL, sd-bus) are converted once, in the wrapper
// that calls the library, into an Error with a closed code and a human message.
#pragma once

#include <cerrno>
#include <expected>
#include <string>
#include <string_view>

namespace exhibit {

enum class Errc {
    io,                // a system call failed; sys_errno says why
    not_found,         // a file, row or object that was asked for does not exist
    invalid_argument,  // the caller passed something unusable
    corrupt,           // stored data failed an integrity check
    database,          // SQLite reported an error
    crypto,            // OpenSSL reported an error
    config,            // configuration is missing or wrong
    protocol,          // a peer broke its protocol
    unsupported,       // a valid request this build cannot serve
    cancelled,         // the operation was stopped on request
    timeout,           // the operation ran out of time
    exists,            // the thing to create is already there
    no_space,          // the disk or a quota is full
    denied,            // credentials (an officer's PIN) were wrong
    locked,            // refused for a while after repeated failures
    internal,          // a bug: an invariant did not hold
};

std::string_view to_string(Errc code);

struct Error {
    Errc code = Errc::internal;
    std::string message;  // what failed, in words a log reader understands
    int sys_errno = 0;    // errno when code is io; 0 otherwise

    // "message: strerror" when sys_errno is set; the message alone otherwise.
    std::string describe() const;
    // The same error with `context` in front: "context: message", same code and errno, so
    // that describe() names the cause once. Compose with this, never by formatting
    // describe() into a new message that keeps sys_errno (the cause would show twice).
    Error with_context(std::string_view context) const;
};

template <class T>
using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(Errc code, std::string message) {
    return std::unexpected(Error{code, std::move(message), 0});
}

// An io error from errno (read at the call, so call it right after the failing syscall).
std::unexpected<Error> fail_errno(std::string message, int err = errno);

}  // namespace exhibit
