// The host side of AFC over one connection to the phone's com.apple.afc service: the
// read-only operations an extraction needs, each answer checked (packet number echoed,
// lengths bounded, the operation expected) before it is believed. File contents stream
// through a callback in bounded pieces: nothing holds a whole file.
//
// Used by one thread; the link's interrupt (AfcLink) is what another thread may call.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "drivers/ios/afc_protocol.hpp"

namespace exhibit::ios {

// The byte stream to the service (a usbmux connection through usbmuxd).
class AfcLink {
  public:
    virtual ~AfcLink() = default;
    virtual Status send_all(std::span<const std::byte> bytes) = 0;
    // Exactly bytes.size() bytes, or an error (closed, timed out, interrupted).
    virtual Status receive_exact(std::span<std::byte> bytes) = 0;
};

struct AfcLimits {
    std::uint64_t max_listing_bytes = 16u << 20;  // one directory's answer
    std::uint64_t read_chunk = 1u << 20;          // asked for per FileRefRead
};

class AfcClient {
  public:
    using Chunk = std::function<Status(std::span<const std::byte>)>;

    explicit AfcClient(AfcLink& link, AfcLimits limits = {}) : link_(link), limits_(limits) {}

    // The names in a folder, "." and ".." left out (empty names are kept for the caller to
    // skip by name rules).
    Result<std::vector<std::string>> read_dir(std::string_view path);
    // Errc::not_found when the phone says there is no such object.
    Result<afc::FileInfo> file_info(std::string_view path);
    Result<std::map<std::string, std::string>> device_info();
    Result<std::uint64_t> open(std::string_view path);  // read-only
    // Reads the open file to its end in read_chunk requests, each answer's bytes handed to
    // `chunk` as they arrive (a callback error ends the read with it). Returns the bytes.
    Result<std::uint64_t> read_all(std::uint64_t handle, const Chunk& chunk);
    Status close(std::uint64_t handle);

    // Whether the last request failed because the phone answered it with an error status
    // (the link is then still in step): that status, else nullopt.
    std::optional<std::uint64_t> refused() const { return refused_; }

  private:
    struct Answer {
        afc::Header header;
        std::vector<std::byte> header_data;
    };
    // Sends `request` (built with the next packet number) and reads the answer's header and
    // header data; the payload (header.payload_size()) is left to the caller.
    Result<Answer> exchange(const std::vector<std::byte>& request);
    Result<std::vector<std::byte>> read_payload(const Answer& a, std::uint64_t limit);
    // A STATUS answer as a Status (with `what` for the message), or an error for any other.
    Status expect_status(const Answer& a, std::string_view what);
    Result<std::vector<std::byte>> data_answer(const std::vector<std::byte>& request,
                                               std::string_view what, std::uint64_t limit);
    Status drain(std::uint64_t bytes);

    AfcLink& link_;
    AfcLimits limits_;
    std::uint64_t packet_num_ = 0;
    std::optional<std::uint64_t> refused_;
};

}  // namespace exhibit::ios
