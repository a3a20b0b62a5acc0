// Apple File Conduit (AFC), the host side's wire format: the 40-byte packet header, the
// requests a read-only extraction sends, and the answers it reads (status codes, NUL-separated
// name lists, key/value file information). Pure functions over bytes: an iPhone's answers are
// hostile input, so every length is checked against the bytes present and against limits.
//
// A packet: magic "CFA6LPAA", then little-endian u64 entire_length, this_length, packet_num
// and operation; this_length - 40 bytes of header data follow, then entire_length -
// this_length bytes of payload.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"

namespace exhibit::ios::afc {

inline constexpr std::size_t kHeaderSize = 40;
inline constexpr std::string_view kMagic = "CFA6LPAA";

enum class Op : std::uint64_t {
    status = 0x01,
    data = 0x02,
    read_dir = 0x03,
    get_file_info = 0x0a,
    get_device_info = 0x0b,
    file_open = 0x0d,
    file_open_result = 0x0e,
    file_read = 0x0f,
    file_close = 0x14,
};

// File open modes; only reading is ever asked for.
inline constexpr std::uint64_t kOpenReadOnly = 1;

struct Header {
    std::uint64_t entire_length = 0;
    std::uint64_t this_length = 0;
    std::uint64_t packet_num = 0;
    std::uint64_t operation = 0;

    std::uint64_t header_data_size() const { return this_length - kHeaderSize; }
    std::uint64_t payload_size() const { return entire_length - this_length; }
};

// The longest header data an answer may carry (a status code, a file handle: 8 bytes; a
// phone that puts its DATA inside the header part stays under this for what is asked here).
inline constexpr std::uint64_t kMaxHeaderData = 64 * 1024;

// One request packet: header data holds the operation's fixed fields and, for the path
// requests, the path with its NUL.
std::vector<std::byte> encode(std::uint64_t packet_num, Op op, std::span<const std::byte> data);
std::vector<std::byte> path_request(std::uint64_t packet_num, Op op, std::string_view path);
std::vector<std::byte> open_request(std::uint64_t packet_num, std::string_view path);
std::vector<std::byte> read_request(std::uint64_t packet_num, std::uint64_t handle,
                                    std::uint64_t length);
std::vector<std::byte> close_request(std::uint64_t packet_num, std::uint64_t handle);

// The header of an answer: magic right, this_length at least 40 and at most entire_length,
// header data within kMaxHeaderData.
Result<Header> decode_header(std::span<const std::byte, kHeaderSize> bytes);

// A little-endian u64 at the start of `bytes` (a status code, a handle).
Result<std::uint64_t> read_u64(std::span<const std::byte> bytes);

// What an AFC status code means ("object not found"), with the number for unknown ones.
std::string status_text(std::uint64_t code);
inline constexpr std::uint64_t kStatusSuccess = 0;
inline constexpr std::uint64_t kStatusObjectNotFound = 8;
inline constexpr std::uint64_t kStatusPermissionDenied = 10;

// NUL-separated strings (a directory's names, GetFileInfo's keys and values). Every string
// must end with its NUL: an unterminated tail is an error, not a name.
Result<std::vector<std::string>> split_nul_list(std::span<const std::byte> bytes);

enum class FileType { regular, directory, symlink, other };

struct FileInfo {
    std::uint64_t size = 0;
    FileType type = FileType::other;
    std::optional<std::int64_t> mtime_ms;      // st_mtime (nanoseconds on the wire)
    std::optional<std::int64_t> birthtime_ms;  // st_birthtime
    std::string link_target;
};

// GetFileInfo's key/value list: st_size and st_ifmt are required; numbers must be decimal.
Result<FileInfo> parse_file_info(std::span<const std::byte> bytes);

}  // namespace exhibit::ios::afc
