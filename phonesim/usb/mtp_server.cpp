#include "phonesim/usb/mtp_server.hpp"

#include <cstdio>
#include <cstring>

namespace exhibit::usbsim {

namespace {

constexpr std::size_t kMaxCommand = 1u << 20;

// Waits for the connection to end, taking and ignoring whatever the host sends.
void go_silent(EmulatedDevice& device, std::uint64_t connection) {
    while (device.receive(connection)) {
    }
}

}  // namespace

PipeServer mtp_server(std::shared_ptr<const phonesim::mtp::MtpSettings> settings,
                      std::function<void()> unplug) {
    return [settings = std::move(settings), unplug = std::move(unplug)](EmulatedDevice& device,
                                                                        std::uint64_t connection) {
        phonesim::mtp::MtpResponder responder(settings);
        std::vector<std::byte> buffer;
        for (;;) {
            auto transfer = device.receive(connection);
            if (!transfer)
                return;  // the host closed the connection or the device went away
            buffer.insert(buffer.end(), transfer->begin(), transfer->end());
            while (buffer.size() >= phonesim::mtp::kHeaderSize) {
                std::uint32_t length = 0;
                std::memcpy(&length, buffer.data(), 4);  // little-endian host
                if (length < phonesim::mtp::kHeaderSize || length > kMaxCommand) {
                    buffer.clear();  // not a container: resynchronise on the next transfer
                    break;
                }
                if (buffer.size() < length)
                    break;
                std::vector<std::byte> container(buffer.begin(), buffer.begin() + length);
                buffer.erase(buffer.begin(), buffer.begin() + length);
                auto reply = responder.handle(container);
                auto ending = phonesim::mtp::send_reply(
                    reply, device.bulk_packet_size(), [&](std::vector<std::byte> piece) {
                        return device.send(connection, std::move(piece));
                    });
                if (!ending)
                    return;
                if (*ending == phonesim::mtp::Ending::disconnect && unplug)
                    unplug();
                if (*ending != phonesim::mtp::Ending::none) {
                    go_silent(device, connection);
                    return;
                }
            }
        }
    };
}

}  // namespace exhibit::usbsim
