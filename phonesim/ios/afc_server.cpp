#include "phonesim/ios/afc_server.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "phonesim/ios/plist_codec.hpp"

namespace exhibit::phonesim::ios::afc {

namespace {

void put_u64(std::vector<std::byte>& out, std::uint64_t v) {
    for (int i = 0; i < 8; ++i)
        out.push_back(std::byte(v >> (8 * i)));
}

std::uint64_t get_u64(std::span<const std::byte> in, std::size_t offset) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 8; ++i)
        v |= std::to_integer<std::uint64_t>(in[offset + i]) << (8 * i);
    return v;
}

void put_text(std::vector<std::byte>& out, std::string_view s) {
    for (char c : s)
        out.push_back(std::byte(static_cast<unsigned char>(c)));
    out.push_back(std::byte{0});
}

void put_pair(std::vector<std::byte>& out, std::string_view key, std::string_view value) {
    put_text(out, key);
    put_text(out, value);
}

// "a/b/c" for an AFC path: empty and "." components dropped; nullopt with a "..".
std::optional<std::string> normalize(std::string_view path) {
    std::string out;
    std::size_t pos = 0;
    while (pos <= path.size()) {
        auto next = path.find('/', pos);
        if (next == std::string_view::npos)
            next = path.size();
        auto part = path.substr(pos, next - pos);
        if (part == "..")
            return std::nullopt;
        if (!part.empty() && part != ".") {
            if (!out.empty())
                out += '/';
            out += part;
        }
        pos = next + 1;
    }
    return out;
}

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

constexpr char kEndlessPrefix[] = "endless_";

std::int64_t ns(const struct statx_timestamp& t) {
    return t.tv_sec * 1000000000LL + t.tv_nsec;
}

}  // namespace

bool is_write_op(std::uint64_t op) {
    switch (op) {
        case 0x05:
        case 0x06:
        case 0x07:
        case 0x08:
        case 0x09:
        case 0x0c:
        case 0x10:
        case 0x15:
        case 0x18:
        case 0x1b:
        case 0x1c:
        case 0x1e:
        case 0x20:
        case 0x22:
            return true;
        default:
            return false;
    }
}

std::vector<std::byte> encode_header(const Header& h) {
    std::vector<std::byte> out;
    out.reserve(kHeaderSize);
    for (std::size_t i = 0; i < 8; ++i)
        out.push_back(std::byte(static_cast<unsigned char>(kMagic[i])));
    put_u64(out, h.entire_length);
    put_u64(out, h.this_length);
    put_u64(out, h.packet_num);
    put_u64(out, h.operation);
    return out;
}

std::optional<Header> decode_header(std::span<const std::byte, kHeaderSize> bytes) {
    if (std::memcmp(bytes.data(), kMagic, 8) != 0)
        return std::nullopt;
    Header h{get_u64(bytes, 8), get_u64(bytes, 16), get_u64(bytes, 24), get_u64(bytes, 32)};
    if (h.this_length < kHeaderSize || h.this_length > h.entire_length)
        return std::nullopt;
    return h;
}

AfcServer::AfcServer(IosDevice& device, Stream& stream)
    : device_(device), stream_(stream), fs_(device.settings().media_root) {}

void AfcServer::run() {
    const auto& hostile = device_.settings().hostile;
    for (;;) {
        std::byte head[kHeaderSize];
        auto got = read_exact(stream_, head);
        if (!got || !*got)
            return;
        auto header = decode_header(std::span<const std::byte, kHeaderSize>(head));
        if (!header || header->entire_length > kMaxRequest)
            return;  // a real device drops a connection that breaks the framing
        Request r{*header, {}, {}};
        r.header_data.resize(header->this_length - kHeaderSize);
        r.payload.resize(header->entire_length - header->this_length);
        if (!read_exact(stream_, r.header_data).value_or(false) && !r.header_data.empty())
            return;
        if (!read_exact(stream_, r.payload).value_or(false) && !r.payload.empty())
            return;
        std::uint64_t number = device_.next_afc_request();
        if (hostile.stall_after && number > *hostile.stall_after)
            continue;  // stalled: reads on, answers nothing
        corrupt_this_ =
            hostile.malformed_afc != MalformedAfc::none && number == hostile.malformed_afc_at;
        if (!answer(r))
            return;
    }
}

Status AfcServer::answer(const Request& r) {
    if (is_write_op(r.header.operation)) {
        device_.count_refused_write();
        return reply_status(r, code::not_supported);
    }
    switch (r.header.operation) {
        case op::read_dir:
            return read_dir(r);
        case op::get_file_info:
            return file_info(r);
        case op::get_device_info:
            return device_info(r);
        case op::file_open:
            return file_open(r);
        case op::file_read:
            return file_read(r);
        case op::file_seek:
            return file_seek(r);
        case op::file_tell:
            return file_tell(r);
        case op::file_close:
            return file_close(r);
        default:
            return reply_status(r, code::not_supported);
    }
}

Status AfcServer::reply(const Request& r, std::uint64_t op, std::span<const std::byte> header_data,
                        std::span<const std::byte> payload) {
    Header h;
    h.this_length = kHeaderSize + header_data.size();
    h.entire_length = h.this_length + payload.size();
    h.packet_num = r.header.packet_num;
    h.operation = op;
    if (corrupt_this_ &&
        device_.settings().hostile.malformed_afc == MalformedAfc::this_beyond_entire)
        h.this_length = h.entire_length + 64;
    auto out = encode_header(h);
    if (corrupt_this_ && device_.settings().hostile.malformed_afc == MalformedAfc::bad_magic)
        std::memcpy(out.data(), "CFA6LPXX", 8);
    out.insert(out.end(), header_data.begin(), header_data.end());
    out.insert(out.end(), payload.begin(), payload.end());
    return stream_.write_all(out);
}

Status AfcServer::reply_status(const Request& r, std::uint64_t code) {
    std::vector<std::byte> body;
    put_u64(body, code);
    return reply(r, op::status, body);
}

std::optional<std::string> AfcServer::afc_path(const Request& r, std::size_t offset) const {
    const auto& in = r.header.operation == op::file_open || r.header_data.size() > offset
                         ? r.header_data
                         : r.payload;
    if (in.size() < offset)
        return std::nullopt;
    auto rest = std::span(in).subspan(offset);
    std::string path;
    for (std::byte b : rest) {
        if (b == std::byte{0})
            return normalize(path);
        path += static_cast<char>(b);
    }
    return normalize(path);  // tolerate a path without its NUL
}

Status AfcServer::read_dir(const Request& r) {
    auto path = afc_path(r, 0);
    if (!path)
        return reply_status(r, code::object_not_found);
    const auto& hostile = device_.settings().hostile;
    std::vector<std::byte> names;
    if (hostile.endless_dir && normalize(*hostile.endless_dir) == *path) {
        put_text(names, ".");
        put_text(names, "..");
        std::uint64_t count = ++endless_calls_ * hostile.endless_step;
        for (std::uint64_t i = 1; i <= count; ++i)
            put_text(names, kEndlessPrefix + std::to_string(i));
        return reply(r, op::data, {}, names);
    }
    auto entries = fs_.list(phone_path(*path));
    if (entries.empty())
        return reply_status(r, code::object_not_found);
    put_text(names, ".");
    put_text(names, "..");
    for (const auto& e : entries)
        if (e.name != "." && e.name != "..")
            put_text(names, e.name);
    if (hostile.evil_names_dir && normalize(*hostile.evil_names_dir) == *path) {
        put_text(names, "a/b");
        put_text(names, "..");
        put_text(names, std::string_view("nul\0inside", 10));
        put_text(names, "bad\xff\xfe.jpg");
    }
    return reply(r, op::data, {}, names);
}

Status AfcServer::file_info(const Request& r) {
    auto path = afc_path(r, 0);
    if (!path)
        return reply_status(r, code::object_not_found);
    const auto& hostile = device_.settings().hostile;
    std::vector<std::byte> out;
    if (hostile.endless_dir && normalize(*hostile.endless_dir) == parent_of(*path) &&
        base_name(*path).starts_with(kEndlessPrefix)) {
        put_pair(out, "st_size", "0");
        put_pair(out, "st_blocks", "0");
        put_pair(out, "st_nlink", "1");
        put_pair(out, "st_ifmt", "S_IFREG");
        put_pair(out, "st_mtime", "1700000000000000000");
        put_pair(out, "st_birthtime", "1700000000000000000");
        return reply(r, op::data, {}, out);
    }
    auto host = fs_.resolve(phone_path(*path));
    struct statx st {};
    if (!host || ::statx(AT_FDCWD, host->c_str(), AT_SYMLINK_NOFOLLOW,
                         STATX_BASIC_STATS | STATX_BTIME, &st) != 0)
        return reply_status(r, code::object_not_found);
    std::int64_t size = static_cast<std::int64_t>(st.stx_size);
    if (hostile.lying_size && normalize(hostile.lying_size->path) == *path)
        size = std::max<std::int64_t>(0, size + hostile.lying_size->delta);
    const char* ifmt = S_ISDIR(st.stx_mode)   ? "S_IFDIR"
                       : S_ISLNK(st.stx_mode) ? "S_IFLNK"
                       : S_ISREG(st.stx_mode) ? "S_IFREG"
                                              : "S_IFIFO";
    auto birth = (st.stx_mask & STATX_BTIME) ? st.stx_btime : st.stx_mtime;
    put_pair(out, "st_size", std::to_string(size));
    put_pair(out, "st_blocks", std::to_string(st.stx_blocks));
    put_pair(out, "st_nlink", std::to_string(st.stx_nlink));
    put_pair(out, "st_ifmt", ifmt);
    put_pair(out, "st_mtime", std::to_string(ns(st.stx_mtime)));
    put_pair(out, "st_birthtime", std::to_string(ns(birth)));
    if (S_ISLNK(st.stx_mode)) {
        char target[4096];
        auto n = ::readlink(host->c_str(), target, sizeof target - 1);
        if (n >= 0)
            put_pair(out, "LinkTarget", std::string_view(target, static_cast<std::size_t>(n)));
    }
    return reply(r, op::data, {}, out);
}

Status AfcServer::device_info(const Request& r) {
    struct statvfs vfs {};
    std::uint64_t total = 128ull << 30, free_bytes = 60ull << 30, block = 4096;
    if (::statvfs(device_.settings().media_root.c_str(), &vfs) == 0) {
        total = vfs.f_blocks * vfs.f_frsize;
        free_bytes = vfs.f_bavail * vfs.f_frsize;
        block = vfs.f_bsize;
    }
    std::vector<std::byte> out;
    put_pair(out, "Model", device_.settings().identity.product_type);
    put_pair(out, "FSTotalBytes", std::to_string(total));
    put_pair(out, "FSFreeBytes", std::to_string(free_bytes));
    put_pair(out, "FSBlockSize", std::to_string(block));
    return reply(r, op::data, {}, out);
}

Status AfcServer::file_open(const Request& r) {
    std::span<const std::byte> in = r.header_data;
    if (in.size() < 8)
        return reply_status(r, code::invalid_arg);
    std::uint64_t mode = get_u64(in, 0);
    if (mode != 1) {  // AFC_FOPEN_RDONLY; every other mode may write
        device_.count_refused_write();
        return reply_status(r, code::perm_denied);
    }
    auto path = afc_path(r, 8);
    if (!path)
        return reply_status(r, code::object_not_found);
    if (files_.size() >= kMaxOpenFiles)
        return reply_status(r, code::no_resources);
    auto fd = fs_.open_file(phone_path(*path));
    if (!fd)
        return reply_status(
            r, fd.error().sys_errno == EISDIR ? code::object_is_dir : code::object_not_found);
    std::uint64_t handle = next_handle_++;
    files_.emplace(handle, std::move(*fd));
    std::vector<std::byte> out;
    put_u64(out, handle);
    return reply(r, op::file_open_result, out);
}

Status AfcServer::file_read(const Request& r) {
    if (r.header_data.size() < 16)
        return reply_status(r, code::invalid_arg);
    auto it = files_.find(get_u64(r.header_data, 0));
    if (it == files_.end())
        return reply_status(r, code::invalid_arg);
    std::uint64_t want = std::min(get_u64(r.header_data, 8), kMaxRead);
    std::vector<std::byte> bytes(want);
    std::size_t done = 0;
    while (done < want) {
        auto n = ::read(it->second.get(), bytes.data() + done, want - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return reply_status(r, code::read_error);
        if (n == 0)
            break;
        done += static_cast<std::size_t>(n);
    }
    bytes.resize(done);
    return reply(r, op::data, {}, bytes);
}

Status AfcServer::file_seek(const Request& r) {
    if (r.header_data.size() < 24)
        return reply_status(r, code::invalid_arg);
    auto it = files_.find(get_u64(r.header_data, 0));
    std::uint64_t whence = get_u64(r.header_data, 8);
    auto offset = static_cast<std::int64_t>(get_u64(r.header_data, 16));
    if (it == files_.end() || whence > 2)
        return reply_status(r, code::invalid_arg);
    int how = whence == 0 ? SEEK_SET : whence == 1 ? SEEK_CUR : SEEK_END;
    if (::lseek(it->second.get(), offset, how) < 0)
        return reply_status(r, code::invalid_arg);
    return reply_status(r, code::success);
}

Status AfcServer::file_tell(const Request& r) {
    if (r.header_data.size() < 8)
        return reply_status(r, code::invalid_arg);
    auto it = files_.find(get_u64(r.header_data, 0));
    if (it == files_.end())
        return reply_status(r, code::invalid_arg);
    auto pos = ::lseek(it->second.get(), 0, SEEK_CUR);
    if (pos < 0)
        return reply_status(r, code::invalid_arg);
    std::vector<std::byte> out;
    put_u64(out, static_cast<std::uint64_t>(pos));
    return reply(r, op::file_tell_result, out);
}

Status AfcServer::file_close(const Request& r) {
    if (r.header_data.size() < 8)
        return reply_status(r, code::invalid_arg);
    if (files_.erase(get_u64(r.header_data, 0)) == 0)
        return reply_status(r, code::invalid_arg);
    return reply_status(r, code::success);
}

}  // namespace exhibit::phonesim::ios::afc
