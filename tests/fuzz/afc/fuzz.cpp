// An iPhone's AFC service, hostile: the input is what the phone answers, byte for byte, to
// the read-only requests an extraction makes (AfcClient: device info, a folder listing, a
// file's info, open, read to the end, close), each answer's header, packet number, lengths
// and operation checked. The same bytes also go straight through the decoders (header,
// status word, NUL-separated names, GetFileInfo's list), past the header checks.
#include <cstdint>
#include <cstring>
#include <span>

#include "drivers/ios/afc_client.hpp"
#include "drivers/ios/afc_protocol.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace exhibit;
using namespace exhibit::ios;

namespace {

class InputLink final : public AfcLink {
  public:
    InputLink(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
    Status send_all(std::span<const std::byte>) override { return {}; }
    Status receive_exact(std::span<std::byte> bytes) override {
        if (size_ - at_ < bytes.size())
            return fail(Errc::io, "the connection closed");
        if (!bytes.empty())
            std::memcpy(bytes.data(), data_ + at_, bytes.size());
        at_ += bytes.size();
        return {};
    }

  private:
    const std::uint8_t* data_;
    std::size_t size_, at_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    InputLink link(data, size);
    AfcClient client(link, {.max_listing_bytes = 64 << 10, .read_chunk = 16 << 10});
    if (client.device_info() && client.read_dir("/DCIM") && client.file_info("/DCIM/a.jpg")) {
        if (auto handle = client.open("/DCIM/a.jpg")) {
            std::uint64_t seen = 0;
            (void)client.read_all(*handle, [&](std::span<const std::byte> piece) -> Status {
                seen += piece.size();
                return {};
            });
            (void)client.close(*handle);
        }
    }

    const auto all = std::span(reinterpret_cast<const std::byte*>(data), size);
    if (all.size() < afc::kHeaderSize)
        return 0;
    (void)afc::decode_header(all.first<afc::kHeaderSize>());
    const auto rest = all.subspan(afc::kHeaderSize);
    if (auto code = afc::read_u64(rest))
        (void)afc::status_text(*code);
    (void)afc::split_nul_list(rest);
    (void)afc::parse_file_info(rest);
    return 0;
}
