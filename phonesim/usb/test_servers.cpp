#include "phonesim/usb/test_servers.hpp"

#include <endian.h>

#include <array>
#include <cstring>
#include <vector>

namespace exhibit::usbsim {

namespace {

std::uint32_t field(std::span<const std::byte> header, std::size_t offset) {
    std::uint32_t v;
    std::memcpy(&v, header.data() + offset, 4);
    return le32toh(v);
}

void set_field(std::span<std::byte> header, std::size_t offset, std::uint32_t value) {
    value = htole32(value);
    std::memcpy(header.data() + offset, &value, 4);
}

// Reads one message; false when the connection ended.
bool read_message(adb::Transport& t, std::array<std::byte, 24>& header,
                  std::vector<std::byte>& payload) {
    if (!t.read_exact(header))
        return false;
    payload.resize(field(header, 12));
    return static_cast<bool>(t.read_exact(payload));
}

bool stream(adb::Transport& t, std::uint32_t chunk, std::uint64_t total) {
    std::array<std::byte, 24> header{};
    set_field(header, 0, kStreamData);
    std::vector<std::byte> payload(chunk);
    for (std::uint64_t sent = 0; sent < total;) {
        auto n = static_cast<std::uint32_t>(std::min<std::uint64_t>(chunk, total - sent));
        payload.resize(n);
        stream_pattern(sent, payload);
        set_field(header, 12, n);
        if (!t.write_message(header, payload))
            return false;
        sent += n;
    }
    return true;
}

}  // namespace

void stream_pattern(std::uint64_t offset, std::span<std::byte> out) {
    for (std::size_t i = 0; i < out.size(); ++i) {
        std::uint64_t at = offset + i;
        std::uint64_t word = htole64(at & ~std::uint64_t{7});
        out[i] = reinterpret_cast<const std::byte*>(&word)[at & 7];
    }
}

AdbServer echo_server() {
    return [](adb::Transport& t) {
        std::array<std::byte, 24> header{};
        std::vector<std::byte> payload;
        while (read_message(t, header, payload))
            if (!t.write_message(header, payload))
                return;
    };
}

AdbServer stream_server() {
    return [](adb::Transport& t) {
        std::array<std::byte, 24> header{};
        std::vector<std::byte> payload;
        while (read_message(t, header, payload)) {
            bool ok = field(header, 0) == kStreamRequest
                          ? stream(t, std::max<std::uint32_t>(field(header, 4), 1),
                                   std::uint64_t{field(header, 8)} << 20)
                          : static_cast<bool>(t.write_message(header, payload));
            if (!ok)
                return;
        }
    };
}

}  // namespace exhibit::usbsim
