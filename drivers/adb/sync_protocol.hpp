// The sync: sub-protocol's records (reference/adb-protocol.md §5). Pure encoders and
// decoders shared by the host client and the simulated device.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.hpp"
#include "drivers/adb/adb_protocol.hpp"

namespace exhibit::adb::sync {

constexpr std::uint32_t make_id(const char (&s)[5]) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(s[0])) |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[1])) << 8 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[2])) << 16 |
           static_cast<std::uint32_t>(static_cast<unsigned char>(s[3])) << 24;
}

inline constexpr std::uint32_t kStat = make_id("STAT");
inline constexpr std::uint32_t kSta2 = make_id("STA2");
inline constexpr std::uint32_t kLst2 = make_id("LST2");
inline constexpr std::uint32_t kList = make_id("LIST");
inline constexpr std::uint32_t kLis2 = make_id("LIS2");
inline constexpr std::uint32_t kDent = make_id("DENT");
inline constexpr std::uint32_t kDnt2 = make_id("DNT2");
inline constexpr std::uint32_t kRecv = make_id("RECV");
inline constexpr std::uint32_t kRcv2 = make_id("RCV2");
inline constexpr std::uint32_t kSend = make_id("SEND");
inline constexpr std::uint32_t kSnd2 = make_id("SND2");
inline constexpr std::uint32_t kData = make_id("DATA");
inline constexpr std::uint32_t kDone = make_id("DONE");
inline constexpr std::uint32_t kOkay = make_id("OKAY");
inline constexpr std::uint32_t kFail = make_id("FAIL");
inline constexpr std::uint32_t kQuit = make_id("QUIT");

inline constexpr std::size_t kMaxPathLength = 1024;
inline constexpr std::size_t kMaxDataChunk = 64 * 1024;
inline constexpr std::size_t kMaxNameLength = 255;  // longer directory entry names are refused
inline constexpr std::size_t kMaxFailMessage = 4096;
inline constexpr std::size_t kStatV1Size = 16;  // id, mode, size, mtime
inline constexpr std::size_t kStatV2Size = 72;
inline constexpr std::size_t kDentV1Size = 20;  // id, mode, size, mtime, namelen
inline constexpr std::size_t kDentV2Size = 76;  // id + 17 stat fields (68) + namelen

// Linux st_mode file-type bits (the device reports its own values).
inline constexpr std::uint32_t kModeTypeMask = 0170000;
inline constexpr std::uint32_t kModeRegular = 0100000;
inline constexpr std::uint32_t kModeDirectory = 0040000;
inline constexpr std::uint32_t kModeSymlink = 0120000;

struct FileStat {
    std::uint32_t error = 0;  // errno on the device (v2 only), 0 = ok
    std::uint64_t dev = 0, ino = 0;
    std::uint32_t mode = 0, nlink = 0, uid = 0, gid = 0;
    std::uint64_t size = 0;
    std::int64_t atime = 0, mtime = 0, ctime = 0;  // seconds since the epoch

    bool is_regular() const { return (mode & kModeTypeMask) == kModeRegular; }
    bool is_directory() const { return (mode & kModeTypeMask) == kModeDirectory; }
    bool is_symlink() const { return (mode & kModeTypeMask) == kModeSymlink; }
};

struct DirEntry {
    std::string name;  // exact bytes from the device
    FileStat stat;
};

// A request: id + path length + path (+ for RCV2 the 8-byte RCV2 + flags record).
std::vector<std::byte> encode_request(std::uint32_t id, std::string_view path);
std::vector<std::byte> encode_rcv2_request(std::string_view path, std::uint32_t flags);

// Responses (device side writes them, host side parses them).
void encode_stat_v1(std::vector<std::byte>& out, const FileStat& st);
void encode_stat_v2(std::vector<std::byte>& out, std::uint32_t id, const FileStat& st);
void encode_dent_v1(std::vector<std::byte>& out, const DirEntry& e);
void encode_dent_v2(std::vector<std::byte>& out, const DirEntry& e);
void encode_done_listing(std::vector<std::byte>& out, bool v2);
void encode_fail(std::vector<std::byte>& out, std::string_view message);

// Decoders take exactly the fixed-size record (without the variable name).
FileStat decode_stat_v1(std::span<const std::byte, kStatV1Size> rec);
FileStat decode_stat_v2(std::span<const std::byte, kStatV2Size> rec);  // includes the id word
FileStat decode_dent_v1(std::span<const std::byte, kDentV1Size> rec, std::uint32_t* name_length);
FileStat decode_dent_v2(std::span<const std::byte, kDentV2Size> rec, std::uint32_t* name_length);

std::string id_name(std::uint32_t id);

}  // namespace exhibit::adb::sync
