#include "drivers/ios/afc_client.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace exhibit::ios {

using afc::Op;

Result<AfcClient::Answer> AfcClient::exchange(const std::vector<std::byte>& request) {
    refused_.reset();
    if (auto s = link_.send_all(request); !s)
        return std::unexpected(s.error());
    std::array<std::byte, afc::kHeaderSize> raw{};
    if (auto s = link_.receive_exact(raw); !s)
        return std::unexpected(s.error());
    auto header = afc::decode_header(raw);
    if (!header)
        return std::unexpected(header.error());
    if (header->packet_num != packet_num_)
        return fail(Errc::protocol,
                    fmt::format("the phone answered AFC request {} with the answer to {}",
                                packet_num_, header->packet_num));
    Answer a{.header = *header, .header_data = {}};
    a.header_data.resize(header->header_data_size());
    if (auto s = link_.receive_exact(a.header_data); !s)
        return std::unexpected(s.error());
    return a;
}

Result<std::vector<std::byte>> AfcClient::read_payload(const Answer& a, std::uint64_t limit) {
    const std::uint64_t size = a.header.payload_size();
    if (a.header_data.size() + size > limit)
        return fail(Errc::protocol,
                    fmt::format("the phone's AFC answer is {} bytes long (at most {} are "
                                "accepted here)",
                                a.header_data.size() + size, limit));
    std::vector<std::byte> out = a.header_data;
    const std::size_t at = out.size();
    out.resize(at + size);
    if (auto s = link_.receive_exact(std::span(out).subspan(at)); !s)
        return std::unexpected(s.error());
    return out;
}

Status AfcClient::drain(std::uint64_t bytes) {
    std::array<std::byte, 4096> sink{};
    while (bytes > 0) {
        const auto n = std::min<std::uint64_t>(bytes, sink.size());
        if (auto s = link_.receive_exact(std::span(sink).first(n)); !s)
            return s;
        bytes -= n;
    }
    return {};
}

Status AfcClient::expect_status(const Answer& a, std::string_view what) {
    if (a.header.operation != static_cast<std::uint64_t>(Op::status))
        return fail(Errc::protocol,
                    fmt::format("the phone answered {} with AFC operation {:#x}", what,
                                a.header.operation));
    auto payload = read_payload(a, 4096);
    if (!payload)
        return std::unexpected(payload.error());
    auto code = afc::read_u64(*payload);
    if (!code)
        return std::unexpected(code.error());
    if (*code == afc::kStatusSuccess)
        return {};
    refused_ = *code;
    return fail(*code == afc::kStatusObjectNotFound ? Errc::not_found : Errc::protocol,
                fmt::format("the phone refused {}: {}", what, afc::status_text(*code)));
}

Result<std::vector<std::byte>> AfcClient::data_answer(const std::vector<std::byte>& request,
                                                      std::string_view what,
                                                      std::uint64_t limit) {
    auto a = exchange(request);
    if (!a)
        return std::unexpected(a.error());
    if (a->header.operation == static_cast<std::uint64_t>(Op::data))
        return read_payload(*a, limit);
    if (auto s = expect_status(*a, what); !s)
        return std::unexpected(s.error());
    return fail(Errc::protocol, fmt::format("the phone answered {} with no data", what));
}

Result<std::vector<std::string>> AfcClient::read_dir(std::string_view path) {
    ++packet_num_;
    auto data = data_answer(afc::path_request(packet_num_, Op::read_dir, path),
                            fmt::format("listing {}", path), limits_.max_listing_bytes);
    if (!data)
        return std::unexpected(data.error());
    auto names = afc::split_nul_list(*data);
    if (!names)
        return std::unexpected(names.error().with_context(fmt::format("listing {}", path)));
    std::erase_if(*names, [](const std::string& n) { return n == "." || n == ".."; });
    return names;
}

Result<afc::FileInfo> AfcClient::file_info(std::string_view path) {
    ++packet_num_;
    auto data = data_answer(afc::path_request(packet_num_, Op::get_file_info, path),
                            fmt::format("the information of {}", path), 64 * 1024);
    if (!data)
        return std::unexpected(data.error());
    auto info = afc::parse_file_info(*data);
    if (!info)
        return std::unexpected(info.error().with_context(path));
    return info;
}

Result<std::map<std::string, std::string>> AfcClient::device_info() {
    ++packet_num_;
    auto data = data_answer(afc::encode(packet_num_, Op::get_device_info, {}),
                            "the storage information", 64 * 1024);
    if (!data)
        return std::unexpected(data.error());
    auto items = afc::split_nul_list(*data);
    if (!items)
        return std::unexpected(items.error());
    std::map<std::string, std::string> out;
    for (std::size_t i = 0; i + 1 < items->size(); i += 2)
        out[(*items)[i]] = (*items)[i + 1];
    return out;
}

Result<std::uint64_t> AfcClient::open(std::string_view path) {
    ++packet_num_;
    const std::string what = fmt::format("opening {}", path);
    auto a = exchange(afc::open_request(packet_num_, path));
    if (!a)
        return std::unexpected(a.error());
    if (a->header.operation != static_cast<std::uint64_t>(Op::file_open_result)) {
        if (auto s = expect_status(*a, what); !s)
            return std::unexpected(s.error());
        return fail(Errc::protocol, fmt::format("the phone answered {} with no handle", what));
    }
    auto payload = read_payload(*a, 4096);
    if (!payload)
        return std::unexpected(payload.error());
    auto handle = afc::read_u64(*payload);
    if (!handle)
        return std::unexpected(handle.error());
    if (*handle == 0)
        return fail(Errc::protocol, fmt::format("the phone answered {} with handle 0", what));
    return *handle;
}

Result<std::uint64_t> AfcClient::read_all(std::uint64_t handle, const Chunk& chunk) {
    std::vector<std::byte> buffer(std::min<std::uint64_t>(limits_.read_chunk, 256 * 1024));
    std::uint64_t total = 0;
    for (;;) {
        ++packet_num_;
        auto a = exchange(afc::read_request(packet_num_, handle, limits_.read_chunk));
        if (!a)
            return std::unexpected(a.error());
        if (a->header.operation != static_cast<std::uint64_t>(Op::data)) {
            if (auto s = expect_status(*a, "a file read"); !s)
                return std::unexpected(s.error());
            return fail(Errc::protocol, "the phone answered a file read with no data");
        }
        const std::uint64_t size = a->header_data.size() + a->header.payload_size();
        if (size > limits_.read_chunk)
            return fail(Errc::protocol,
                        fmt::format("the phone sent {} bytes for a read of at most {}", size,
                                    limits_.read_chunk));
        if (size == 0)
            return total;
        if (!a->header_data.empty()) {
            if (auto s = chunk(a->header_data); !s)
                return std::unexpected(s.error());
        }
        for (std::uint64_t left = a->header.payload_size(); left > 0;) {
            const auto n = std::min<std::uint64_t>(left, buffer.size());
            auto piece = std::span(buffer).first(n);
            if (auto s = link_.receive_exact(piece); !s)
                return std::unexpected(s.error());
            if (auto s = chunk(piece); !s) {
                // The rest of this answer is read so the link stays in step for the close.
                if (auto d = drain(left - n); !d)
                    return std::unexpected(d.error());
                return std::unexpected(s.error());
            }
            left -= n;
        }
        total += size;
    }
}

Status AfcClient::close(std::uint64_t handle) {
    ++packet_num_;
    auto a = exchange(afc::close_request(packet_num_, handle));
    if (!a)
        return std::unexpected(a.error());
    return expect_status(*a, "closing a file");
}

}  // namespace exhibit::ios
