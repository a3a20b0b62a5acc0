#include "sync_protocol.hpp"

#include <fmt/format.h>

namespace exhibit::adb::sync {

std::vector<std::byte> encode_request(std::uint32_t id, std::string_view path) {
    std::vector<std::byte> out;
    out.reserve(8 + path.size());
    put_u32(out, id);
    put_u32(out, static_cast<std::uint32_t>(path.size()));
    auto bytes = as_bytes(path);
    out.insert(out.end(), bytes.begin(), bytes.end());
    return out;
}

std::vector<std::byte> encode_rcv2_request(std::string_view path, std::uint32_t flags) {
    auto out = encode_request(kRcv2, path);
    put_u32(out, kRcv2);
    put_u32(out, flags);
    return out;
}

void encode_stat_v1(std::vector<std::byte>& out, const FileStat& st) {
    put_u32(out, kStat);
    put_u32(out, st.mode);
    put_u32(out, static_cast<std::uint32_t>(st.size));
    put_u32(out, static_cast<std::uint32_t>(st.mtime));
}

namespace {
void put_stat_fields(std::vector<std::byte>& out, const FileStat& st) {
    put_u32(out, st.error);
    put_u64(out, st.dev);
    put_u64(out, st.ino);
    put_u32(out, st.mode);
    put_u32(out, st.nlink);
    put_u32(out, st.uid);
    put_u32(out, st.gid);
    put_u64(out, st.size);
    put_u64(out, static_cast<std::uint64_t>(st.atime));
    put_u64(out, static_cast<std::uint64_t>(st.mtime));
    put_u64(out, static_cast<std::uint64_t>(st.ctime));
}

FileStat get_stat_fields(std::span<const std::byte> r) {
    FileStat st;
    st.error = get_u32(r, 0);
    st.dev = get_u64(r, 4);
    st.ino = get_u64(r, 12);
    st.mode = get_u32(r, 20);
    st.nlink = get_u32(r, 24);
    st.uid = get_u32(r, 28);
    st.gid = get_u32(r, 32);
    st.size = get_u64(r, 36);
    st.atime = static_cast<std::int64_t>(get_u64(r, 44));
    st.mtime = static_cast<std::int64_t>(get_u64(r, 52));
    st.ctime = static_cast<std::int64_t>(get_u64(r, 60));
    return st;
}
}  // namespace

void encode_stat_v2(std::vector<std::byte>& out, std::uint32_t id, const FileStat& st) {
    put_u32(out, id);
    put_stat_fields(out, st);
}

void encode_dent_v1(std::vector<std::byte>& out, const DirEntry& e) {
    put_u32(out, kDent);
    put_u32(out, e.stat.mode);
    put_u32(out, static_cast<std::uint32_t>(e.stat.size));
    put_u32(out, static_cast<std::uint32_t>(e.stat.mtime));
    put_u32(out, static_cast<std::uint32_t>(e.name.size()));
    auto b = as_bytes(e.name);
    out.insert(out.end(), b.begin(), b.end());
}

void encode_dent_v2(std::vector<std::byte>& out, const DirEntry& e) {
    put_u32(out, kDnt2);
    put_stat_fields(out, e.stat);
    put_u32(out, static_cast<std::uint32_t>(e.name.size()));
    auto b = as_bytes(e.name);
    out.insert(out.end(), b.begin(), b.end());
}

void encode_done_listing(std::vector<std::byte>& out, bool v2) {
    put_u32(out, kDone);
    out.resize(out.size() + (v2 ? kDentV2Size : kDentV1Size) - 4, std::byte{0});
}

void encode_fail(std::vector<std::byte>& out, std::string_view message) {
    put_u32(out, kFail);
    put_u32(out, static_cast<std::uint32_t>(message.size()));
    auto b = as_bytes(message);
    out.insert(out.end(), b.begin(), b.end());
}

FileStat decode_stat_v1(std::span<const std::byte, kStatV1Size> r) {
    FileStat st;
    st.mode = get_u32(r, 4);
    st.size = get_u32(r, 8);
    st.mtime = get_u32(r, 12);
    if (st.mode == 0 && st.size == 0 && st.mtime == 0)
        st.error = 2;  // ENOENT: all-zero record
    return st;
}

FileStat decode_stat_v2(std::span<const std::byte, kStatV2Size> r) {
    return get_stat_fields(r.subspan(4));
}

FileStat decode_dent_v1(std::span<const std::byte, kDentV1Size> r, std::uint32_t* name_length) {
    FileStat st;
    st.mode = get_u32(r, 4);
    st.size = get_u32(r, 8);
    st.mtime = get_u32(r, 12);
    *name_length = get_u32(r, 16);
    return st;
}

FileStat decode_dent_v2(std::span<const std::byte, kDentV2Size> r, std::uint32_t* name_length) {
    auto st = get_stat_fields(r.subspan(4));
    *name_length = get_u32(r, 72);
    return st;
}

std::string id_name(std::uint32_t id) {
    std::string s;
    for (int i = 0; i < 4; ++i) {
        char c = static_cast<char>(id >> (8 * i));
        if (c < 0x20 || c > 0x7e)
            return fmt::format("{:#010x}", id);
        s.push_back(c);
    }
    return s;
}

}  // namespace exhibit::adb::sync
