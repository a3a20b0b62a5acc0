// AFC, device side, read-only (facts §3): 40-byte header "CFA6LPAA" + LE u64 entire_length,
// this_length, packet_num, operation; header data up to this_length; payload up to
// entire_length. Answers ReadDir, GetFileInfo, GetDeviceInfo, FileRefOpen (read-only),
// FileRefRead/Seek/Tell/Close; opening for writing is PERM_DENIED, every other operation
// NOT_SUPPORTED, and each attempt to write (open for writing, write, remove, rename, mkdir,
// lock, ...) is counted by the device. DATA payloads go outside this_length, as libimobiledevice
// reads this_length with one recv. Paths are confined to the media root like VirtualFs.
// Thread-bound: one per connection.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "phonesim/ios/ios_device.hpp"
#include "phonesim/virtual_fs.hpp"

namespace exhibit::phonesim::ios::afc {

inline constexpr char kMagic[] = "CFA6LPAA";
inline constexpr std::size_t kHeaderSize = 40;
// The largest request the device accepts (a write of 1 MiB with its path).
inline constexpr std::uint64_t kMaxRequest = (1u << 20) + 4096;
inline constexpr std::uint64_t kMaxRead = 1u << 20;
inline constexpr std::size_t kMaxOpenFiles = 256;

namespace op {
inline constexpr std::uint64_t status = 0x01;
inline constexpr std::uint64_t data = 0x02;
inline constexpr std::uint64_t read_dir = 0x03;
inline constexpr std::uint64_t get_file_info = 0x0a;
inline constexpr std::uint64_t get_device_info = 0x0b;
inline constexpr std::uint64_t file_open = 0x0d;
inline constexpr std::uint64_t file_open_result = 0x0e;
inline constexpr std::uint64_t file_read = 0x0f;
inline constexpr std::uint64_t file_write = 0x10;
inline constexpr std::uint64_t file_seek = 0x11;
inline constexpr std::uint64_t file_tell = 0x12;
inline constexpr std::uint64_t file_tell_result = 0x13;
inline constexpr std::uint64_t file_close = 0x14;
}  // namespace op

// The status codes the device answers (op::status, u64 in the header data).
namespace code {
inline constexpr std::uint64_t success = 0;
inline constexpr std::uint64_t no_resources = 3;
inline constexpr std::uint64_t read_error = 4;
inline constexpr std::uint64_t invalid_arg = 7;
inline constexpr std::uint64_t object_not_found = 8;
inline constexpr std::uint64_t object_is_dir = 9;
inline constexpr std::uint64_t perm_denied = 10;
inline constexpr std::uint64_t not_supported = 15;
}  // namespace code

// Operations that would change the phone: write, write part, truncate, remove, mkdir, write
// atom, file write, set size, rename, lock, make link, set mod time, immutable hint, remove
// with contents.
bool is_write_op(std::uint64_t op);

struct Header {
    std::uint64_t entire_length = 0;
    std::uint64_t this_length = 0;
    std::uint64_t packet_num = 0;
    std::uint64_t operation = 0;
};

std::vector<std::byte> encode_header(const Header& h);
// Whether the magic and lengths are sane.
std::optional<Header> decode_header(std::span<const std::byte, kHeaderSize> bytes);

class AfcServer {
  public:
    AfcServer(IosDevice& device, Stream& stream);
    void run();

  private:
    struct Request {
        Header header;
        std::vector<std::byte> header_data;
        std::vector<std::byte> payload;
    };
    Status answer(const Request& r);
    Status reply(const Request& r, std::uint64_t op, std::span<const std::byte> header_data,
                 std::span<const std::byte> payload = {});
    Status reply_status(const Request& r, std::uint64_t code);

    Status read_dir(const Request& r);
    Status file_info(const Request& r);
    Status device_info(const Request& r);
    Status file_open(const Request& r);
    Status file_read(const Request& r);
    Status file_seek(const Request& r);
    Status file_tell(const Request& r);
    Status file_close(const Request& r);

    // The request's path (from `offset` in its header data) as "a/b/c"; nullopt with "..".
    std::optional<std::string> afc_path(const Request& r, std::size_t offset) const;
    // The same path as VirtualFs spells it ("/sdcard/a/b/c").
    static std::string phone_path(const std::string& afc) { return "/sdcard/" + afc; }

    IosDevice& device_;
    Stream& stream_;
    VirtualFs fs_;
    std::map<std::uint64_t, UniqueFd> files_;
    std::uint64_t next_handle_ = 1;
    std::uint64_t endless_calls_ = 0;
    bool corrupt_this_ = false;  // the reply being built is the malformed one
};

}  // namespace exhibit::phonesim::ios::afc
