#include "phonesim/mtp/mtp_responder.hpp"

#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <deque>

#include <fmt/format.h>

namespace exhibit::phonesim::mtp {

namespace {

constexpr std::uint32_t kAll = 0xffffffffu;
constexpr std::int64_t kSyntheticTime = 1'700'000'000;  // 2023-11-14, as the ADB side's
constexpr std::uint64_t kSyntheticSize = 1000;
constexpr std::string_view kRoot = "/sdcard";

constexpr std::uint16_t kOperations[] = {
    op::kGetDeviceInfo,
    op::kOpenSession,
    op::kCloseSession,
    op::kGetStorageIds,
    op::kGetStorageInfo,
    op::kGetNumObjects,
    op::kGetObjectHandles,
    op::kGetObjectInfo,
    op::kGetObject,
    op::kGetPartialObject,
    op::kGetObjectPropsSupported,
    op::kGetObjectPropDesc,
    op::kGetObjectPropValue,
    op::kGetPartialObject64,
};
constexpr std::uint16_t kPlaybackFormats[] = {
    0x3000, 0x3001, 0x3004, 0x3005, 0x3008, 0x3009, 0x300A, 0x300B, 0x3801, 0x3804,
    0x3807, 0x380B, 0x380D, 0xB901, 0xB902, 0xB903, 0xB906, 0xB981, 0xB982, 0xB984,
};
constexpr std::uint16_t kProps[] = {prop::kStorageId,    prop::kObjectFormat,
                                    prop::kObjectSize,   prop::kObjectFileName,
                                    prop::kDateModified, prop::kParentObject};

std::uint16_t prop_type(std::uint16_t p) {
    switch (p) {
        case prop::kObjectFormat:
            return datatype::kUint16;
        case prop::kStorageId:
        case prop::kParentObject:
            return datatype::kUint32;
        case prop::kObjectSize:
            return datatype::kUint64;
        case prop::kObjectFileName:
        case prop::kDateModified:
            return datatype::kString;
        default:
            return 0;
    }
}

std::string base_name(const std::string& path) {
    auto slash = path.rfind('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::u16string endless_name(std::uint32_t i) {
    return Writer::to_utf16(fmt::format("endless_{:010}.jpg", i));
}

}  // namespace

std::uint64_t Outgoing::size() const {
    return head.size() + (file ? file->length : 0) + 4ull * run_count;
}

MtpResponder::MtpResponder(std::shared_ptr<const MtpSettings> settings)
    : settings_(std::move(settings)), fs_(settings_->root) {}

Reply MtpResponder::handle(std::span<const std::byte> bytes) {
    auto c = parse_container(bytes);
    if (!c || c->type != ContainerType::command)
        return {};
    if (settings_->on_command)
        settings_->on_command(c->code);
    return dispatch(*c);
}

Reply MtpResponder::response(const Container& c, std::uint16_t code,
                             std::vector<std::uint32_t> params) const {
    Reply r;
    r.containers.push_back(
        {.head = make_container(ContainerType::response, code, c.transaction, params)});
    return r;
}

Reply MtpResponder::data_and_ok(const Container& c, std::vector<std::byte> payload,
                                std::vector<std::uint32_t> params) const {
    put_header(payload, static_cast<std::uint32_t>(kHeaderSize + payload.size()),
               ContainerType::data, c.code, c.transaction);
    Reply r = response(c, rc::kOk, std::move(params));
    r.containers.insert(r.containers.begin(), Outgoing{.head = std::move(payload)});
    return r;
}

Reply MtpResponder::dispatch(const Container& c) {
    auto param = [&](std::size_t i) { return i < c.params.size() ? c.params[i] : 0u; };
    switch (c.code) {
        case op::kGetDeviceInfo:
            return device_info(c);
        case op::kOpenSession:
            if (session_ != 0)
                return response(c, rc::kSessionAlreadyOpen, {session_});
            if (param(0) == 0)
                return response(c, rc::kInvalidParameter);
            session_ = param(0);
            return response(c, rc::kOk);
        default:
            break;
    }
    if (std::find(std::begin(kOperations), std::end(kOperations), c.code) == std::end(kOperations))
        return response(c, rc::kOperationNotSupported);
    if (session_ == 0)
        return response(c, rc::kSessionNotOpen);
    switch (c.code) {
        case op::kCloseSession:
            session_ = 0;
            objects_.clear();
            by_key_.clear();
            listed_.clear();
            endless_folders_.clear();
            return response(c, rc::kOk);
        case op::kGetStorageIds:
            return storage_ids(c);
        case op::kGetStorageInfo:
            return storage_info(c);
        case op::kGetNumObjects:
            return object_handles(c, true);
        case op::kGetObjectHandles:
            return object_handles(c, false);
        case op::kGetObjectInfo:
            return object_info(c);
        case op::kGetObject:
            return object(c, false, false);
        case op::kGetPartialObject:
            return object(c, true, false);
        case op::kGetPartialObject64:
            return object(c, true, true);
        case op::kGetObjectPropsSupported:
            return props_supported(c);
        case op::kGetObjectPropDesc:
            return prop_desc(c);
        case op::kGetObjectPropValue:
            return prop_value(c);
        default:
            return response(c, rc::kOperationNotSupported);
    }
}

Reply MtpResponder::device_info(const Container& c) {
    const auto& s = *settings_;
    Writer w;
    w.u16(100).u32(6).u16(100).str(std::string_view(kVendorExtension)).u16(0);
    w.array16(kOperations);
    w.array16({});  // events: none are sent
    w.array16({});  // device properties
    w.array16({});  // capture formats
    w.array16(kPlaybackFormats);
    w.str(std::string_view(s.manufacturer))
        .str(std::string_view(s.model))
        .str(std::string_view(s.device_version))
        .str(std::string_view(s.serial));
    return data_and_ok(c, std::move(w.bytes()));
}

bool MtpResponder::locked() const {
    return settings_->locked && settings_->locked->load();
}

Reply MtpResponder::storage_ids(const Container& c) {
    Writer w;
    if (locked())
        w.array32({});
    else
        w.array32(std::vector<std::uint32_t>{kStorageId});
    return data_and_ok(c, std::move(w.bytes()));
}

Reply MtpResponder::storage_info(const Container& c) {
    if (c.params.empty() || c.params[0] != kStorageId || locked())
        return response(c, rc::kInvalidStorageId);
    struct statvfs vfs {};
    std::uint64_t capacity = 0, free = 0;
    if (::statvfs(settings_->root.c_str(), &vfs) == 0) {
        capacity = static_cast<std::uint64_t>(vfs.f_blocks) * vfs.f_frsize;
        free = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    }
    Writer w;
    w.u16(3).u16(2).u16(0).u64(capacity).u64(free).u32(kAll);
    w.str(std::string_view(kStorageDescription)).str(std::u16string_view());
    return data_and_ok(c, std::move(w.bytes()));
}

// ------------------------------------------------------------------ objects

std::uint32_t MtpResponder::handle_for(const std::string& key, Object o) {
    if (auto it = by_key_.find(key); it != by_key_.end())
        return it->second;
    objects_.push_back(std::move(o));
    auto h = static_cast<std::uint32_t>(objects_.size());
    by_key_[key] = h;
    return h;
}

const MtpResponder::Object* MtpResponder::find(std::uint32_t handle) const {
    if (handle == 0 || handle > objects_.size())
        return nullptr;
    return &objects_[handle - 1];
}

template <class Map>
auto MtpResponder::rule(const Map& m, const std::string& path) const -> const
    typename Map::mapped_type* {
    if (!settings_->scenario || !path.starts_with(kRoot))
        return nullptr;
    auto rest = path.substr(kRoot.size());
    for (std::string_view mount : {"/sdcard", "/storage/emulated/0", "/storage/self/primary"}) {
        auto it = m.find(std::string(mount) + rest);
        if (it != m.end())
            return &it->second;
    }
    return nullptr;
}

bool MtpResponder::in_set(const std::set<std::string>& s, const std::string& path) const {
    if (!settings_->scenario || !path.starts_with(kRoot))
        return false;
    auto rest = path.substr(kRoot.size());
    for (std::string_view mount : {"/sdcard", "/storage/emulated/0", "/storage/self/primary"})
        if (s.contains(std::string(mount) + rest))
            return true;
    return false;
}

std::vector<std::uint32_t> MtpResponder::children(std::uint32_t parent) {
    std::vector<std::uint32_t> out;
    std::string path(kRoot);
    if (parent != 0) {
        const Object& p = objects_[parent - 1];
        if (p.kind == Object::Kind::loop) {  // its only child is the folder it hangs under
            out.push_back(p.parent);
            return out;
        }
        path = p.path;
    }
    auto entries = fs_.list(path);
    std::sort(entries.begin(), entries.end(),
              [](const auto& a, const auto& b) { return a.name < b.name; });
    for (const auto& e : entries) {
        if (e.name == "." || e.name == "..")
            continue;
        auto child = path + "/" + e.name;
        auto st = fs_.stat(child, true);
        if (st.error != 0 || (!st.is_regular() && !st.is_directory()))
            continue;  // a dangling or escaping symlink, a socket: not an object
        out.push_back(
            handle_for(child, {.path = child, .parent = parent, .folder = st.is_directory()}));
    }
    if (settings_->scenario) {
        std::vector<std::u16string> names;
        if (const auto* raw = rule(settings_->scenario->injected_names, path))
            for (const auto& n : *raw)
                names.push_back(Writer::to_utf16(n));
        if (const auto* utf16 = rule(settings_->scenario->injected_utf16_names, path))
            names.insert(names.end(), utf16->begin(), utf16->end());
        for (std::size_t i = 0; i < names.size(); ++i) {
            auto key = fmt::format("\x01inject:{}:{}", path, i);
            out.push_back(handle_for(
                key,
                {.path = key, .parent = parent, .kind = Object::Kind::injected, .name = names[i]}));
        }
        if (parent != 0 && in_set(settings_->scenario->parent_loop, path)) {
            auto key = "\x01loop:" + path;
            out.push_back(handle_for(key, {.path = key,
                                           .parent = parent,
                                           .folder = true,
                                           .kind = Object::Kind::loop,
                                           .name = u"loop"}));
        }
    }
    listed_[parent] = true;
    return out;
}

std::optional<MtpResponder::Stat> MtpResponder::stat(std::uint32_t handle) const {
    if (handle & 0x80000000u) {  // an endless listing's entry
        auto folder = (handle >> 28) & 7u, i = handle & 0x0fffffffu;
        if (folder >= endless_folders_.size() || i >= kEndlessCount)
            return std::nullopt;
        return Stat{false, kSyntheticSize, kSyntheticTime, endless_name(i)};
    }
    const Object* o = find(handle);
    if (!o)
        return std::nullopt;
    if (o->kind != Object::Kind::real)
        return Stat{o->folder, o->folder ? 0 : kSyntheticSize, kSyntheticTime, o->name};
    auto st = fs_.stat(o->path, true);
    if (st.error != 0)
        return std::nullopt;  // gone since it was listed
    Stat s{st.is_directory(), st.is_directory() ? 0 : st.size, st.mtime,
           Writer::to_utf16(base_name(o->path))};
    if (settings_->scenario)
        if (const auto* declared = rule(settings_->scenario->declared_size, o->path))
            s.size = *declared;
    return s;
}

std::uint32_t MtpResponder::stated_parent(std::uint32_t handle) {
    if (handle & 0x80000000u)
        return endless_folders_[(handle >> 28) & 7u];
    const Object& o = objects_[handle - 1];
    if (o.kind == Object::Kind::real && o.folder && settings_->scenario &&
        in_set(settings_->scenario->parent_loop, o.path)) {
        children(handle);  // makes the loop object
        return by_key_.at("\x01loop:" + o.path);
    }
    return o.parent;
}

std::uint16_t MtpResponder::format_of(const Stat& s) const {
    if (s.folder)
        return fmt_code::kAssociation;
    std::string ascii;
    for (char16_t ch : s.name)
        ascii.push_back(ch < 0x80 ? static_cast<char>(ch) : '_');
    return format_for_name(ascii);
}

Reply MtpResponder::object_handles(const Container& c, bool count_only) {
    auto param = [&](std::size_t i) { return i < c.params.size() ? c.params[i] : 0u; };
    const std::uint32_t storage = param(0), format = param(1), parent = param(2);
    if (storage != kAll && (storage != kStorageId || locked()))
        return response(c, rc::kInvalidStorageId);
    std::vector<std::uint32_t> handles;
    std::optional<std::uint32_t> endless;  // the folder's index, for list_forever
    if (locked()) {
        // no storage: nothing to list
    } else if (parent == 0) {  // every object of the storage
        std::deque<std::uint32_t> folders{0};
        while (!folders.empty()) {
            auto f = folders.front();
            folders.pop_front();
            for (auto h : children(f)) {
                handles.push_back(h);
                const Object& o = objects_[h - 1];
                if (o.folder && o.kind == Object::Kind::real)
                    folders.push_back(h);
            }
        }
    } else {
        const std::uint32_t folder = parent == kAll ? 0 : parent;
        if (folder != 0) {
            const Object* o = find(folder);
            if (!o)
                return response(c, rc::kInvalidObjectHandle);
            if (!o->folder)
                return response(c, rc::kInvalidParentObject);
        }
        handles = children(folder);
        const std::string path = folder == 0 ? std::string(kRoot) : objects_[folder - 1].path;
        if (settings_->scenario && in_set(settings_->scenario->list_forever, path)) {
            auto it = std::find(endless_folders_.begin(), endless_folders_.end(), folder);
            if (it == endless_folders_.end() && endless_folders_.size() < 8) {
                endless_folders_.push_back(folder);
                it = endless_folders_.end() - 1;
            }
            if (it != endless_folders_.end())
                endless = static_cast<std::uint32_t>(it - endless_folders_.begin());
        }
    }
    if (format != 0)
        std::erase_if(handles, [&](std::uint32_t h) {
            auto s = stat(h);
            return !s || format_of(*s) != format;
        });
    const std::uint64_t count = handles.size() + (endless ? kEndlessCount : 0);
    if (count_only)
        return response(c, rc::kOk, {static_cast<std::uint32_t>(count)});
    Writer w;
    w.u32(static_cast<std::uint32_t>(count));
    for (auto h : handles)
        w.u32(h);
    Outgoing data{.head = std::move(w.bytes())};
    if (endless) {
        data.run_first = endless_base(*endless);
        data.run_count = kEndlessCount;
    }
    put_header(data.head, static_cast<std::uint32_t>(kHeaderSize + data.size()),
               ContainerType::data, c.code, c.transaction);
    Reply r = response(c, rc::kOk);
    r.containers.insert(r.containers.begin(), std::move(data));
    return r;
}

Reply MtpResponder::object_info(const Container& c) {
    const std::uint32_t handle = c.params.empty() ? 0 : c.params[0];
    auto s = locked() ? std::nullopt : stat(handle);
    if (!s)
        return response(c, rc::kInvalidObjectHandle);
    auto date = ptp_date(static_cast<std::time_t>(s->mtime));
    Writer w;
    w.u32(kStorageId).u16(format_of(*s)).u16(0);
    w.u32(s->size >= 0xffffffffu ? 0xffffffffu : static_cast<std::uint32_t>(s->size));
    w.u16(0);
    for (int i = 0; i < 6; ++i)
        w.u32(0);
    w.u32(stated_parent(handle)).u16(s->folder ? 1 : 0).u32(0).u32(0);
    w.str(std::u16string_view(s->name)).str(std::string_view(date)).str(std::string_view(date));
    w.str(std::u16string_view());
    Reply r = data_and_ok(c, std::move(w.bytes()));
    if (const Object* o = find(handle))
        apply_malformed(r, c, o->path);
    return r;
}

Reply MtpResponder::object(const Container& c, bool partial, bool wide) {
    auto param = [&](std::size_t i) { return i < c.params.size() ? c.params[i] : 0u; };
    const std::uint32_t handle = param(0);
    auto s = locked() ? std::nullopt : stat(handle);
    if (!s || s->folder)
        return response(c, rc::kInvalidObjectHandle);
    const Object* o = find(handle);
    if (!o || o->kind != Object::Kind::real)
        return response(c, rc::kGeneralError);  // injected and endless names cannot be read
    auto fd = fs_.open_file(o->path);
    if (!fd)
        return response(c, rc::kAccessDenied);
    struct stat st {};
    if (::fstat(fd->get(), &st) != 0)
        return response(c, rc::kGeneralError);
    const auto size = static_cast<std::uint64_t>(st.st_size);
    std::uint64_t offset = 0, length = size;
    if (partial) {
        offset = wide ? (param(1) | (static_cast<std::uint64_t>(param(2)) << 32)) : param(1);
        const std::uint32_t max = wide ? param(3) : param(2);
        length = offset >= size ? 0 : std::min<std::uint64_t>(max, size - offset);
    }
    Outgoing data{.file = FileRange{std::make_shared<UniqueFd>(std::move(*fd)), offset, length}};
    const std::uint64_t total = kHeaderSize + length;
    put_header(data.head, total > 0xffffffffu ? 0xffffffffu : static_cast<std::uint32_t>(total),
               ContainerType::data, c.code, c.transaction);
    Reply r;
    if (settings_->scenario) {
        for (auto [rules, ending] :
             {std::pair{&settings_->scenario->stall_after, Ending::stall},
              {&settings_->scenario->disconnect_after, Ending::disconnect}}) {
            const auto* after = rule(*rules, o->path);
            if (!after || offset + length <= *after)
                continue;
            data.cut = kHeaderSize + (*after > offset ? *after - offset : 0);
            r.ending = ending;
        }
    }
    r.containers.push_back(std::move(data));
    std::vector<std::uint32_t> params;
    if (partial)
        params.push_back(static_cast<std::uint32_t>(length));
    r.containers.push_back(
        {.head = make_container(ContainerType::response, rc::kOk, c.transaction, params)});
    apply_malformed(r, c, o->path);
    return r;
}

Reply MtpResponder::props_supported(const Container& c) {
    Writer w;
    w.array16(kProps);
    return data_and_ok(c, std::move(w.bytes()));
}

Reply MtpResponder::prop_desc(const Container& c) {
    const std::uint16_t p = c.params.empty() ? 0 : static_cast<std::uint16_t>(c.params[0]);
    const std::uint16_t type = prop_type(p);
    if (type == 0)
        return response(c, rc::kInvalidObjectPropCode);
    Writer w;
    w.u16(p).u16(type).u8(0);  // read-only
    switch (type) {
        case datatype::kUint16:
            w.u16(0);
            break;
        case datatype::kUint32:
            w.u32(0);
            break;
        case datatype::kUint64:
            w.u64(0);
            break;
        default:
            w.str(std::u16string_view());
            break;
    }
    w.u32(0).u8(0);  // group code, no form
    return data_and_ok(c, std::move(w.bytes()));
}

Reply MtpResponder::prop_value(const Container& c) {
    const std::uint32_t handle = c.params.empty() ? 0 : c.params[0];
    const std::uint16_t p = c.params.size() < 2 ? 0 : static_cast<std::uint16_t>(c.params[1]);
    auto s = locked() ? std::nullopt : stat(handle);
    if (!s)
        return response(c, rc::kInvalidObjectHandle);
    Writer w;
    switch (p) {
        case prop::kStorageId:
            w.u32(kStorageId);
            break;
        case prop::kObjectFormat:
            w.u16(format_of(*s));
            break;
        case prop::kObjectSize:
            w.u64(s->size);
            break;
        case prop::kObjectFileName:
            w.str(std::u16string_view(s->name));
            break;
        case prop::kDateModified:
            w.str(std::string_view(ptp_date(static_cast<std::time_t>(s->mtime))));
            break;
        case prop::kParentObject:
            w.u32(stated_parent(handle));
            break;
        default:
            return response(c, rc::kInvalidObjectPropCode);
    }
    Reply r = data_and_ok(c, std::move(w.bytes()));
    if (const Object* o = find(handle))
        apply_malformed(r, c, o->path);
    return r;
}

void MtpResponder::apply_malformed(Reply& r, const Container& c, const std::string& path) const {
    const auto* m =
        settings_->scenario ? rule(settings_->scenario->malformed_container, path) : nullptr;
    if (!m || r.containers.empty())
        return;
    // The data container when there is one, else the response.
    auto& target = r.containers.size() > 1 && m->kind != MalformedContainer::Kind::transaction
                       ? r.containers.front()
                       : r.containers.back();
    auto patch = [&](std::size_t at, std::uint32_t value, std::size_t width) {
        for (std::size_t i = 0; i < width; ++i)
            target.head[at + i] = static_cast<std::byte>(value >> (8 * i));
    };
    switch (m->kind) {
        case MalformedContainer::Kind::length:
            patch(0, m->length, 4);
            break;
        case MalformedContainer::Kind::type:
            patch(4, r.containers.size() > 1 ? 3u : 2u, 2);
            break;
        case MalformedContainer::Kind::transaction:
            patch(8, c.transaction + 1, 4);
            break;
    }
}

// ------------------------------------------------------------------ framing

Result<Ending> send_reply(Reply& reply, std::size_t packet_size, const Sink& sink) {
    const std::size_t packet = std::max<std::size_t>(packet_size, 1);
    const std::size_t chunk = std::max<std::size_t>((256u << 10) / packet, 1) * packet;
    for (auto& o : reply.containers) {
        const std::uint64_t total = o.size();
        std::uint64_t limit = total;
        const bool cut = o.cut && *o.cut < total;
        if (cut)
            limit = *o.cut / packet * packet;  // whole packets: the device just stops
        std::uint64_t at = 0;                  // bytes of this container sent
        while (at < limit) {
            std::vector<std::byte> piece(
                static_cast<std::size_t>(std::min<std::uint64_t>(chunk, limit - at)));
            std::size_t filled = 0;
            while (filled < piece.size()) {
                const std::uint64_t pos = at + filled;
                const std::size_t room = piece.size() - filled;
                if (pos < o.head.size()) {
                    auto n = static_cast<std::size_t>(
                        std::min<std::uint64_t>(room, o.head.size() - pos));
                    std::memcpy(piece.data() + filled, o.head.data() + pos, n);
                    filled += n;
                    continue;
                }
                const std::uint64_t file_len = o.file ? o.file->length : 0;
                if (pos < o.head.size() + file_len) {
                    const std::uint64_t in_file = pos - o.head.size();
                    auto n =
                        static_cast<std::size_t>(std::min<std::uint64_t>(room, file_len - in_file));
                    ssize_t got = ::pread(o.file->fd->get(), piece.data() + filled, n,
                                          static_cast<off_t>(o.file->offset + in_file));
                    if (got < 0)
                        return fail_errno("cannot read a file being sent");
                    if (got == 0)  // shrunk since it was opened: zeros, as stated
                        got = static_cast<ssize_t>(n);
                    filled += static_cast<std::size_t>(got);
                    continue;
                }
                const std::uint64_t in_run = pos - o.head.size() - file_len;
                const std::uint32_t value = o.run_first + static_cast<std::uint32_t>(in_run / 4);
                piece[filled++] = static_cast<std::byte>(value >> (8 * (in_run % 4)));
            }
            at += piece.size();
            if (auto s = sink(std::move(piece)); !s)
                return std::unexpected(s.error());
        }
        if (cut)
            return reply.ending;
        if (total % packet == 0)
            if (auto s = sink({}); !s)
                return std::unexpected(s.error());
    }
    return Ending::none;
}

}  // namespace exhibit::phonesim::mtp
