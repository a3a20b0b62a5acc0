#include "drivers/usb/usb_error.hpp"

#include <fmt/format.h>

namespace exhibit::usb {

Error usb_error(int code, std::string_view what) {
    if (code == LIBUSB_ERROR_NO_DEVICE)
        return Error{Errc::io, std::string(kDisconnected), 0};
    Errc errc = Errc::io;
    switch (code) {
        case LIBUSB_ERROR_TIMEOUT:
            errc = Errc::timeout;
            break;
        case LIBUSB_ERROR_NOT_FOUND:
            errc = Errc::not_found;
            break;
        case LIBUSB_ERROR_INVALID_PARAM:
            errc = Errc::invalid_argument;
            break;
        case LIBUSB_ERROR_NOT_SUPPORTED:
            errc = Errc::unsupported;
            break;
        case LIBUSB_ERROR_INTERRUPTED:
            errc = Errc::cancelled;
            break;
        case LIBUSB_ERROR_PIPE:
        case LIBUSB_ERROR_OVERFLOW:
            errc = Errc::protocol;
            break;
        default:
            break;
    }
    return Error{errc, fmt::format("{}: {}", what, libusb_strerror(code)), 0};
}

Error transfer_error(libusb_transfer_status status, std::string_view what) {
    switch (status) {
        case LIBUSB_TRANSFER_NO_DEVICE:
            return Error{Errc::io, std::string(kDisconnected), 0};
        case LIBUSB_TRANSFER_STALL:
            return Error{Errc::protocol, fmt::format("{}: the phone stalled the endpoint", what),
                         0};
        case LIBUSB_TRANSFER_TIMED_OUT:
            return Error{Errc::timeout, fmt::format("{}: the phone did not respond in time", what),
                         0};
        case LIBUSB_TRANSFER_CANCELLED:
            return Error{Errc::cancelled, fmt::format("{}: transfer cancelled", what), 0};
        case LIBUSB_TRANSFER_OVERFLOW:
            return Error{Errc::protocol,
                         fmt::format("{}: the phone sent more data than was asked for", what), 0};
        case LIBUSB_TRANSFER_COMPLETED:
            return Error{Errc::internal, fmt::format("{}: completed transfer as error", what), 0};
        case LIBUSB_TRANSFER_ERROR:
            break;
    }
    return Error{Errc::io, fmt::format("{}: transfer failed", what), 0};
}

}  // namespace exhibit::usb
