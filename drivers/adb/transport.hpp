// A byte pipe to one ADB peer. The protocol code (connection, sync, shell) is written against
// this interface only: TCP here, libusb bulk endpoints later, an in-memory pipe in tests.
//
// Reads and writes block the calling thread (one session worker per device). shutdown() may
// be called from any other thread and makes blocked and later calls fail with
// Errc::cancelled.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <stop_token>
#include <string>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace exhibit::adb {

class Transport {
  public:
    virtual ~Transport() = default;

    // Fills `buffer` completely, or fails: Errc::timeout when nothing arrives within the read
    // timeout, Errc::protocol ("connection closed") at end of stream.
    virtual Status read_exact(std::span<std::byte> buffer) = 0;
    // Sends one ADB message: header then payload (a USB transport sends them as separate
    // transfers and adds a zero-length packet where needed).
    virtual Status write_message(std::span<const std::byte> header,
                                 std::span<const std::byte> payload) = 0;
    virtual void shutdown() = 0;
    virtual std::string describe() const = 0;
    // Waits up to `timeout` for data to read; true when a read would not block. Transports
    // that cannot tell return true (the next read blocks as usual).
    virtual Result<bool> wait_readable(std::chrono::milliseconds timeout) {
        (void)timeout;
        return true;
    }
};

// ADB over TCP (adb connect HOST:PORT; phonesim listens this way).
class TcpTransport final : public Transport {
  public:
    // Errc::cancelled as soon as `stop` is requested while connecting.
    static Result<std::unique_ptr<TcpTransport>> connect(const std::string& host,
                                                         std::uint16_t port,
                                                         std::chrono::milliseconds timeout,
                                                         std::stop_token stop = {});
    // Takes a connected socket (the device side accepts these).
    TcpTransport(UniqueFd fd, std::string peer);

    Status read_exact(std::span<std::byte> buffer) override;
    Status write_message(std::span<const std::byte> header,
                         std::span<const std::byte> payload) override;
    void shutdown() override;
    std::string describe() const override { return peer_; }
    Result<bool> wait_readable(std::chrono::milliseconds timeout) override;

    void set_read_timeout(std::chrono::milliseconds t) { read_timeout_ = t; }
    // The connected socket, given up (exhibitd hands it to a driver host's child).
    UniqueFd release() && { return std::move(fd_); }

  private:
    UniqueFd fd_;
    std::string peer_;
    std::chrono::milliseconds read_timeout_{30'000};
    std::atomic<bool> shut_{false};
};

}  // namespace exhibit::adb
