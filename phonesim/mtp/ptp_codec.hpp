// PTP/MTP wire format, device side: codes, containers, little-endian datasets, PTP strings
// and dates (libmtp src/ptp.h and ptp-pack.c describe the same bytes from the host side).
// Pure functions; reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace exhibit::phonesim::mtp {

enum class ContainerType : std::uint16_t { command = 1, data = 2, response = 3, event = 4 };
inline constexpr std::size_t kHeaderSize = 12;

namespace op {
inline constexpr std::uint16_t kGetDeviceInfo = 0x1001;
inline constexpr std::uint16_t kOpenSession = 0x1002;
inline constexpr std::uint16_t kCloseSession = 0x1003;
inline constexpr std::uint16_t kGetStorageIds = 0x1004;
inline constexpr std::uint16_t kGetStorageInfo = 0x1005;
inline constexpr std::uint16_t kGetNumObjects = 0x1006;
inline constexpr std::uint16_t kGetObjectHandles = 0x1007;
inline constexpr std::uint16_t kGetObjectInfo = 0x1008;
inline constexpr std::uint16_t kGetObject = 0x1009;
inline constexpr std::uint16_t kGetPartialObject = 0x101B;
inline constexpr std::uint16_t kGetObjectPropsSupported = 0x9801;
inline constexpr std::uint16_t kGetObjectPropDesc = 0x9802;
inline constexpr std::uint16_t kGetObjectPropValue = 0x9803;
inline constexpr std::uint16_t kGetObjPropList = 0x9805;      // deliberately not served
inline constexpr std::uint16_t kGetPartialObject64 = 0x95C1;  // Android
}  // namespace op

namespace rc {
inline constexpr std::uint16_t kOk = 0x2001;
inline constexpr std::uint16_t kGeneralError = 0x2002;
inline constexpr std::uint16_t kSessionNotOpen = 0x2003;
inline constexpr std::uint16_t kOperationNotSupported = 0x2005;
inline constexpr std::uint16_t kInvalidStorageId = 0x2008;
inline constexpr std::uint16_t kInvalidObjectHandle = 0x2009;
inline constexpr std::uint16_t kAccessDenied = 0x200F;
inline constexpr std::uint16_t kInvalidParentObject = 0x201A;
inline constexpr std::uint16_t kInvalidParameter = 0x201D;
inline constexpr std::uint16_t kSessionAlreadyOpen = 0x201E;
inline constexpr std::uint16_t kInvalidObjectPropCode = 0xA801;
}  // namespace rc

namespace fmt_code {
inline constexpr std::uint16_t kUndefined = 0x3000;
inline constexpr std::uint16_t kAssociation = 0x3001;
inline constexpr std::uint16_t kText = 0x3004;
inline constexpr std::uint16_t kExifJpeg = 0x3801;
}  // namespace fmt_code

namespace prop {
inline constexpr std::uint16_t kStorageId = 0xDC01;
inline constexpr std::uint16_t kObjectFormat = 0xDC02;
inline constexpr std::uint16_t kObjectSize = 0xDC04;
inline constexpr std::uint16_t kObjectFileName = 0xDC07;
inline constexpr std::uint16_t kDateModified = 0xDC09;
inline constexpr std::uint16_t kParentObject = 0xDC0B;
}  // namespace prop

namespace datatype {
inline constexpr std::uint16_t kUint16 = 0x0004;
inline constexpr std::uint16_t kUint32 = 0x0006;
inline constexpr std::uint16_t kUint64 = 0x0008;
inline constexpr std::uint16_t kString = 0xFFFF;
}  // namespace datatype

// A container as received: header fields and up to 5 parameters (command, response).
struct Container {
    std::uint32_t length = 0;
    ContainerType type = ContainerType::command;
    std::uint16_t code = 0;
    std::uint32_t transaction = 0;
    std::vector<std::uint32_t> params;
};

// nullopt when shorter than a header or its length field disagrees with the bytes.
std::optional<Container> parse_container(std::span<const std::byte> bytes);

// Little-endian dataset builder.
class Writer {
  public:
    Writer& u8(std::uint8_t v);
    Writer& u16(std::uint16_t v);
    Writer& u32(std::uint32_t v);
    Writer& u64(std::uint64_t v);
    // A PTP string: u8 count of UTF-16 units including the NUL (0 = empty), then UTF-16LE.
    // Longer than 254 units: cut there (the count cannot say more).
    Writer& str(std::u16string_view s);
    Writer& str(std::string_view utf8) { return str(to_utf16(utf8)); }
    Writer& array16(std::span<const std::uint16_t> v);
    Writer& array32(std::span<const std::uint32_t> v);
    std::vector<std::byte>& bytes() { return out_; }

    // UTF-8 to UTF-16; a byte that is not valid UTF-8 becomes the lone surrogate
    // U+DC80 + byte (as Python's surrogateescape), so a bad name stays a bad name.
    static std::u16string to_utf16(std::string_view utf8);

  private:
    std::vector<std::byte> out_;
};

// A container with `params` (response) or `payload` (data), length field filled in.
std::vector<std::byte> make_container(ContainerType type, std::uint16_t code,
                                      std::uint32_t transaction,
                                      std::span<const std::uint32_t> params = {});
void put_header(std::vector<std::byte>& out, std::uint32_t length, ContainerType type,
                std::uint16_t code, std::uint32_t transaction);

// "YYYYMMDDThhmmss" in this process's local time zone (as Android formats it; libmtp reads
// it back with mktime(), i.e. in the host's local time zone).
std::string ptp_date(std::time_t t);

// The object format a phone reports for a file name's extension (0x3000 when unknown).
std::uint16_t format_for_name(std::string_view name);

}  // namespace exhibit::phonesim::mtp
