#include "sync_client.hpp"

#include <fmt/format.h>

namespace exhibit::adb {

using namespace sync;

SyncClient::SyncClient(Connection& c, Stream s, SyncLimits limits)
    : conn_(&c), stream_(std::move(s)), limits_(limits) {
    stat_v2_ = c.has_feature("stat_v2");
    ls_v2_ = c.has_feature("ls_v2");
    recv_v2_ = c.has_feature("sendrecv_v2");
}

Result<SyncClient> SyncClient::open(Connection& connection, SyncLimits limits) {
    auto s = connection.open_stream("sync:");
    if (!s)
        return std::unexpected(s.error());
    return SyncClient(connection, std::move(*s), limits);
}

Status SyncClient::reopen() {
    stream_.close();
    auto s = conn_->open_stream("sync:");
    if (!s)
        return std::unexpected(s.error());
    stream_ = std::move(*s);
    return {};
}

Result<std::uint32_t> SyncClient::read_u32() {
    std::array<std::byte, 4> b{};
    if (auto s = stream_.read_exact(b); !s)
        return std::unexpected(s.error());
    return get_u32(b);
}

Result<std::string> SyncClient::read_fail_message() {
    auto len = read_u32();
    if (!len)
        return std::unexpected(len.error());
    if (*len > kMaxFailMessage)
        return fail(Errc::protocol, fmt::format("FAIL message of {} bytes", *len));
    std::string msg(*len, '\0');
    if (auto s = stream_.read_exact(std::as_writable_bytes(std::span(msg))); !s)
        return std::unexpected(s.error());
    return msg;
}

namespace {
Status check_path(std::string_view path) {
    if (path.size() > kMaxPathLength)
        return fail(Errc::invalid_argument,
                    fmt::format("path longer than {} bytes", kMaxPathLength));
    return {};
}
}  // namespace

Result<FileStat> SyncClient::stat(std::string_view path) {
    if (auto s = check_path(path); !s)
        return std::unexpected(s.error());
    if (auto s = stream_.write(encode_request(stat_v2_ ? kSta2 : kStat, path)); !s)
        return std::unexpected(s.error());
    if (stat_v2_) {
        std::array<std::byte, kStatV2Size> rec{};
        if (auto s = stream_.read_exact(rec); !s)
            return std::unexpected(s.error());
        if (get_u32(rec) != kSta2)
            return fail(Errc::protocol,
                        fmt::format("expected STA2, got {}", id_name(get_u32(rec))));
        return decode_stat_v2(rec);
    }
    std::array<std::byte, kStatV1Size> rec{};
    if (auto s = stream_.read_exact(rec); !s)
        return std::unexpected(s.error());
    if (get_u32(rec) != kStat)
        return fail(Errc::protocol, fmt::format("expected STAT, got {}", id_name(get_u32(rec))));
    return decode_stat_v1(rec);
}

Result<FileStat> SyncClient::lstat(std::string_view path) {
    if (!stat_v2_)
        return stat(path);  // v1 STAT is an lstat already
    if (auto s = check_path(path); !s)
        return std::unexpected(s.error());
    if (auto s = stream_.write(encode_request(kLst2, path)); !s)
        return std::unexpected(s.error());
    std::array<std::byte, kStatV2Size> rec{};
    if (auto s = stream_.read_exact(rec); !s)
        return std::unexpected(s.error());
    if (get_u32(rec) != kLst2)
        return fail(Errc::protocol, fmt::format("expected LST2, got {}", id_name(get_u32(rec))));
    return decode_stat_v2(rec);
}

Status SyncClient::list(std::string_view path, const std::function<Status(DirEntry&&)>& on_entry) {
    if (auto s = check_path(path); !s)
        return s;
    if (auto s = stream_.write(encode_request(ls_v2_ ? kLis2 : kList, path)); !s)
        return s;
    std::size_t count = 0;
    for (;;) {
        DirEntry e;
        std::uint32_t name_len = 0;
        std::uint32_t id = 0;
        if (ls_v2_) {
            std::array<std::byte, kDentV2Size> rec{};
            if (auto s = stream_.read_exact(rec); !s)
                return s;
            id = get_u32(rec);
            e.stat = decode_dent_v2(rec, &name_len);
        } else {
            std::array<std::byte, kDentV1Size> rec{};
            if (auto s = stream_.read_exact(rec); !s)
                return s;
            id = get_u32(rec);
            e.stat = decode_dent_v1(rec, &name_len);
        }
        if (id == kDone)
            return {};
        if (id != (ls_v2_ ? kDnt2 : kDent))
            return fail(Errc::protocol,
                        fmt::format("listing {}: unexpected record {}", path, id_name(id)));
        // The name is read whole (bounded) so the stream stays in step, then judged by the caller.
        if (name_len > 4096)
            return fail(Errc::protocol,
                        fmt::format("listing {}: entry name of {} bytes", path, name_len));
        e.name.resize(name_len);
        if (auto s = stream_.read_exact(std::as_writable_bytes(std::span(e.name))); !s)
            return s;
        if (e.name == "." || e.name == "..")
            continue;
        if (++count > limits_.max_entries_per_directory)
            return fail(Errc::protocol,
                        fmt::format("listing {}: more than {} entries; the phone may be listing "
                                    "forever",
                                    path, limits_.max_entries_per_directory));
        if (auto s = on_entry(std::move(e)); !s)
            return s;
    }
}

Status SyncClient::write_requests(std::span<const std::string> paths, std::size_t from,
                                  std::size_t to) {
    std::vector<std::byte> batch;
    for (std::size_t i = from; i < to; ++i) {
        auto req = recv_v2_ ? encode_rcv2_request(paths[i], 0) : encode_request(kRecv, paths[i]);
        batch.insert(batch.end(), req.begin(), req.end());
    }
    return stream_.write(batch);
}

Status SyncClient::receive_file(std::size_t index, PullHandler& handler, bool* stream_lost) {
    bool begun = false;
    for (;;) {
        auto id = read_u32();
        if (!id)
            return std::unexpected(id.error());
        if (*id == kFail) {
            auto msg = read_fail_message();
            if (!msg)
                return std::unexpected(msg.error());
            *stream_lost = true;  // adbd ends its request loop after a FAIL
            return handler.failed(
                index,
                Error{Errc::not_found, fmt::format("the phone could not send it: {}", *msg), 0});
        }
        auto len = read_u32();
        if (!len)
            return std::unexpected(len.error());
        if (*id == kDone)
            return handler.done(index);
        if (*id != kData)
            return fail(Errc::protocol, fmt::format("unexpected sync record {}", id_name(*id)));
        if (*len > kMaxDataChunk)
            return fail(Errc::protocol,
                        fmt::format("DATA chunk of {} bytes (limit {})", *len, kMaxDataChunk));
        if (!begun) {
            begun = true;
            if (auto s = handler.begin(index); !s)
                return s;
        }
        // The chunk goes to the handler where it was received, without a copy.
        for (std::size_t left = *len; left > 0;) {
            auto view = stream_.peek(left);
            if (!view)
                return std::unexpected(view.error());
            if (view->empty())
                return fail(Errc::protocol, "the phone closed the stream in the middle of a file");
            if (auto s = handler.data(*view); !s)
                return s;
            if (auto s = stream_.consume(view->size()); !s)
                return s;
            left -= view->size();
        }
    }
}

Status SyncClient::pull(std::span<const std::string> paths, std::span<const std::uint64_t> sizes,
                        PullHandler& handler) {
    for (const auto& p : paths)
        if (auto s = check_path(p); !s)
            return s;
    std::size_t next = 0;  // next file to receive
    while (next < paths.size()) {
        // Queue requests ahead: up to pipeline_depth files or pipeline_bytes declared bytes.
        std::size_t end = next;
        std::uint64_t bytes = 0;
        while (end < paths.size() && end - next < limits_.pipeline_depth &&
               (end == next || bytes < limits_.pipeline_bytes)) {
            bytes += sizes.empty() ? 0 : sizes[end];
            ++end;
        }
        if (auto s = write_requests(paths, next, end); !s)
            return s;
        bool lost = false;
        // Receive the batch; top up the pipeline after each file to keep the phone busy.
        std::size_t queued_end = end;
        while (next < queued_end) {
            auto s = receive_file(next, handler, &lost);
            if (!s) {
                // The connection broke in the middle of this file.
                (void)handler.failed(next, s.error());
                return s;
            }
            ++next;
            if (lost)
                break;
            if (queued_end < paths.size() && queued_end - next < limits_.pipeline_depth / 2) {
                std::size_t more = std::min(paths.size(), queued_end + limits_.pipeline_depth / 2);
                if (auto w = write_requests(paths, queued_end, more); !w)
                    return w;
                queued_end = more;
            }
        }
        if (lost) {
            if (auto s = reopen(); !s)
                return s;
        }
    }
    return {};
}

}  // namespace exhibit::adb
