#include "drivers/host/host_protocol.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/base64.hpp"

namespace exhibit::host {

using nlohmann::json;

std::string_view to_string(FrameType t) {
    switch (t) {
        case FrameType::open: return "open";
        case FrameType::device_info: return "device_info";
        case FrameType::preview: return "preview";
        case FrameType::extract: return "extract";
        case FrameType::signature: return "signature";
        case FrameType::public_key: return "public_key";
        case FrameType::report: return "report";
        case FrameType::ok: return "ok";
        case FrameType::error: return "error";
        case FrameType::planned: return "planned";
        case FrameType::begin: return "begin";
        case FrameType::data: return "data";
        case FrameType::finish: return "finish";
        case FrameType::incomplete: return "incomplete";
        case FrameType::skipped: return "skipped";
        case FrameType::sign: return "sign";
        case FrameType::offer_key: return "offer_key";
        case FrameType::relay: return "relay";
        case FrameType::relayed: return "relayed";
    }
    return "unknown";
}

namespace {

bool known_type(std::uint8_t t) {
    return (t >= 1 && t <= 7) || (t >= 10 && t <= 21);
}

std::unexpected<Error> bad(std::string_view what) {
    return fail(Errc::protocol, fmt::format("the driver host sent {}", what));
}

using Clock = std::chrono::steady_clock;

// Takes the descriptors of a message's SCM_RIGHTS into `passed`: at most one, in all the
// frame; any more are closed and refused.
Status take_passed(msghdr& m, UniqueFd& passed) {
    Status s;
    if ((m.msg_flags & MSG_CTRUNC) != 0)
        s = bad("more descriptors than one");
    for (cmsghdr* c = CMSG_FIRSTHDR(&m); c != nullptr; c = CMSG_NXTHDR(&m, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        const auto count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (std::size_t i = 0; i < count; ++i) {
            int received = -1;
            std::memcpy(&received, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
            UniqueFd fd(received);
            if (s && !passed)
                passed = std::move(fd);
            else if (s)
                s = bad("more descriptors than one");
        }
    }
    if (!s)
        passed.reset();
    return s;
}

// Reads exactly `out.size()` bytes. The first byte may take `first` (nullopt: no bound),
// the rest must follow within kFrameTime of it. With `passed`, a descriptor that comes with
// the bytes is taken there.
Status read_exact(int fd, std::span<std::byte> out,
                  std::optional<std::chrono::milliseconds> first, UniqueFd* passed = nullptr) {
    std::size_t got = 0;
    std::optional<Clock::time_point> deadline;
    if (first)
        deadline = Clock::now() + *first;
    while (got < out.size()) {
        int timeout = -1;
        if (deadline) {
            auto left = std::chrono::ceil<std::chrono::milliseconds>(*deadline - Clock::now());
            timeout = static_cast<int>(std::max<std::int64_t>(0, left.count()));
        }
        pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
        int r = ::poll(&p, 1, timeout);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("cannot wait for the driver host");
        }
        if (r == 0)
            return got == 0 ? fail(Errc::timeout, "the driver host sent nothing in time")
                            : fail(Errc::protocol, "the driver host stopped in the middle of a frame");
        ssize_t n = 0;
        if (passed) {
            iovec v{out.data() + got, out.size() - got};
            alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))];
            msghdr m{};
            m.msg_iov = &v;
            m.msg_iovlen = 1;
            m.msg_control = control;
            m.msg_controllen = sizeof control;
            n = ::recvmsg(fd, &m, MSG_CMSG_CLOEXEC);
            if (n >= 0)
                if (auto s = take_passed(m, *passed); !s)
                    return s;
        } else {
            n = ::read(fd, out.data() + got, out.size() - got);
        }
        if (n < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            return fail_errno("cannot read from the driver host");
        }
        if (n == 0)
            return got == 0 ? fail(Errc::io, "the driver host closed its end")
                            : fail(Errc::protocol, "the driver host ended in the middle of a frame");
        if (got == 0)
            deadline = Clock::now() + kFrameTime;
        got += static_cast<std::size_t>(n);
    }
    return {};
}

template <class T>
Result<T> number(const json& j, std::string_view key, T lo, T hi) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_number_integer())
        return bad(fmt::format("no whole number \"{}\"", key));
    auto in_range = [&](auto v) { return !std::cmp_less(v, lo) && !std::cmp_greater(v, hi); };
    if (it->is_number_unsigned()) {
        auto v = it->get<std::uint64_t>();
        if (!in_range(v))
            return bad(fmt::format("\"{}\" out of range", key));
        return static_cast<T>(v);
    }
    auto v = it->get<std::int64_t>();
    if (!in_range(v))
        return bad(fmt::format("\"{}\" out of range", key));
    return static_cast<T>(v);
}

template <class T>
Result<std::optional<T>> optional_number(const json& j, std::string_view key, T lo, T hi) {
    if (!j.contains(key) || j.at(key).is_null())
        return std::optional<T>();
    auto v = number<T>(j, key, lo, hi);
    if (!v)
        return std::unexpected(v.error());
    return std::optional<T>(*v);
}

Result<drivers::Category> category(std::string_view name) {
    auto c = drivers::category_from(name);
    if (!c)
        return bad(fmt::format("an unknown category \"{}\"", name.substr(0, 40)));
    return *c;
}

constexpr std::int64_t kMaxI64 = INT64_MAX;
constexpr std::int64_t kMinI64 = INT64_MIN;

}  // namespace

Result<std::string> text_field(const json& j, std::string_view key, std::size_t max) {
    auto it = j.find(key);
    if (it == j.end() || !it->is_string())
        return bad(fmt::format("no text \"{}\"", key));
    auto s = it->get<std::string>();
    if (s.size() > max)
        return bad(fmt::format("\"{}\" longer than {} bytes", key, max));
    return s;
}

Result<std::uint64_t> whole_number(const json& j, std::string_view key, std::uint64_t max) {
    return number<std::uint64_t>(j, key, 0, max);
}

Result<json> Frame::json() const {
    auto text = std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size());
    auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object())
        return bad(fmt::format("a {} frame that is not a JSON object", to_string(type)));
    return j;
}

Status write_frame(int fd, FrameType type, std::span<const std::byte> payload, int pass) {
    if (payload.size() > kMaxPayload)
        return fail(Errc::internal, "a frame over the protocol's size");
    std::byte head[5];
    const auto length = static_cast<std::uint32_t>(payload.size() + 1);
    for (int i = 0; i < 4; ++i)
        head[i] = static_cast<std::byte>((length >> (8 * i)) & 0xff);
    head[4] = static_cast<std::byte>(type);
    iovec parts[2] = {{head, sizeof head},
                      {const_cast<std::byte*>(payload.data()), payload.size()}};
    std::size_t skip = 0;
    const std::size_t total = sizeof head + payload.size();
    while (skip < total) {
        iovec now[2];
        int count = 0;
        std::size_t offset = skip;
        for (auto& p : parts) {
            if (offset >= p.iov_len) {
                offset -= p.iov_len;
                continue;
            }
            now[count++] = {static_cast<std::byte*>(p.iov_base) + offset, p.iov_len - offset};
            offset = 0;
        }
        msghdr m{};
        m.msg_iov = now;
        m.msg_iovlen = static_cast<std::size_t>(count);
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
        if (pass >= 0 && skip == 0) {  // with the first byte
            m.msg_control = control;
            m.msg_controllen = sizeof control;
            cmsghdr* c = CMSG_FIRSTHDR(&m);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            std::memcpy(CMSG_DATA(c), &pass, sizeof(int));
        }
        auto n = ::sendmsg(fd, &m, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return fail_errno("cannot write to the other end of the driver host's socket");
        }
        skip += static_cast<std::size_t>(n);
    }
    return {};
}

Status write_frame(int fd, FrameType type, const nlohmann::json& payload, int pass) {
    // Strings are UTF-8 by construction (see to_json(Artefact)); replace rather than throw.
    auto text = payload.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return write_frame(fd, type, std::as_bytes(std::span(text)), pass);
}

Result<Frame> read_frame(int fd, std::optional<std::chrono::milliseconds> wait) {
    Frame f;
    if (auto s = read_frame(fd, f, wait); !s)
        return std::unexpected(s.error());
    return f;
}

namespace {

Status read_one_frame(int fd, Frame& f, UniqueFd* passed,
                      std::optional<std::chrono::milliseconds> wait);

}  // namespace

Status read_frame(int fd, Frame& f, std::optional<std::chrono::milliseconds> wait) {
    return read_one_frame(fd, f, nullptr, wait);
}

Status read_frame(int fd, Frame& f, UniqueFd& passed,
                  std::optional<std::chrono::milliseconds> wait) {
    return read_one_frame(fd, f, &passed, wait);
}

namespace {

Status read_one_frame(int fd, Frame& f, UniqueFd* passed,
                      std::optional<std::chrono::milliseconds> wait) {
    std::byte head[5];
    // The descriptor comes with the frame's first byte, so with its head.
    if (auto s = read_exact(fd, head, wait, passed); !s)
        return std::unexpected(s.error());
    std::uint32_t length = 0;
    for (int i = 0; i < 4; ++i)
        length |= std::to_integer<std::uint32_t>(head[i]) << (8 * i);
    const auto type = std::to_integer<std::uint8_t>(head[4]);
    if (length == 0 || length - 1 > kMaxPayload)
        return bad(fmt::format("a frame of {} bytes (at most {})", length, kMaxPayload + 1));
    if (!known_type(type))
        return bad(fmt::format("a frame of unknown type {}", type));
    f.type = static_cast<FrameType>(type);
    f.payload.resize(length - 1);  // within the capacity of the frames before: no allocation
    return read_exact(fd, f.payload, kFrameTime, passed);
}

}  // namespace

Result<std::vector<std::byte>> challenge_from_json(const json& j, std::size_t size) {
    auto encoded = text_field(j, "challenge", 1024);
    auto challenge = encoded ? base64_decode(*encoded) : std::unexpected(encoded.error());
    if (!challenge || challenge->size() != size)
        return bad(fmt::format("a challenge to sign that is not {} bytes of base64", size));
    return challenge;
}

json to_json(const drivers::Scope& scope) {
    json categories = json::array();
    for (auto c : scope.categories)
        categories.push_back(drivers::to_string(c));
    json j = {{"categories", categories}, {"numbers", scope.numbers}};
    if (scope.from_ms)
        j["from_ms"] = *scope.from_ms;
    if (scope.until_ms)
        j["until_ms"] = *scope.until_ms;
    return j;
}

Result<drivers::Scope> scope_from_json(const json& j) {
    drivers::Scope scope;
    auto categories = j.find("categories");
    auto numbers = j.find("numbers");
    if (categories == j.end() || !categories->is_array() || numbers == j.end() ||
        !numbers->is_array() || numbers->size() > drivers::kMaxScopeNumbers)
        return bad("a scope without its categories and numbers");
    for (const auto& c : *categories) {
        if (!c.is_string())
            return bad("a category that is not text");
        auto cat = category(c.get<std::string>());
        if (!cat)
            return std::unexpected(cat.error());
        scope.categories.insert(*cat);
    }
    for (const auto& n : *numbers) {
        if (!n.is_string() || n.get<std::string>().size() > 64)
            return bad("a number that is not short text");
        scope.numbers.push_back(n.get<std::string>());
    }
    auto from = optional_number<std::int64_t>(j, "from_ms", kMinI64, kMaxI64);
    auto until = optional_number<std::int64_t>(j, "until_ms", kMinI64, kMaxI64);
    if (!from || !until)
        return std::unexpected(!from ? from.error() : until.error());
    scope.from_ms = *from;
    scope.until_ms = *until;
    return scope;
}

// The source path is the phone's bytes, which need not be UTF-8: it crosses as base64.
json to_json(const drivers::Artefact& a) {
    json j = {{"category", drivers::to_string(a.category)},
              {"source_path_b64", base64_encode(a.source_path)}};
    if (a.declared_size)
        j["declared_size"] = *a.declared_size;
    if (a.mtime_ms)
        j["mtime_ms"] = *a.mtime_ms;
    return j;
}

Result<drivers::Artefact> artefact_from_json(const json& j) {
    drivers::Artefact a;
    auto name = text_field(j, "category", 64);
    if (!name)
        return std::unexpected(name.error());
    auto cat = category(*name);
    if (!cat)
        return std::unexpected(cat.error());
    a.category = *cat;
    auto encoded = text_field(j, "source_path_b64", 64 * 1024);
    if (!encoded)
        return std::unexpected(encoded.error());
    auto path = base64_decode(*encoded);
    if (!path || path->empty())
        return bad("an artefact whose path is not base64 or is empty");
    a.source_path.assign(reinterpret_cast<const char*>(path->data()), path->size());
    auto size = optional_number<std::uint64_t>(j, "declared_size", 0, UINT64_MAX);
    auto mtime = optional_number<std::int64_t>(j, "mtime_ms", kMinI64, kMaxI64);
    if (!size || !mtime)
        return std::unexpected(!size ? size.error() : mtime.error());
    a.declared_size = *size;
    a.mtime_ms = *mtime;
    return a;
}

json to_json(const drivers::DeviceInfo& d) {
    json j = {{"manufacturer", d.manufacturer},
              {"model", d.model},
              {"serial", d.serial},
              {"os_version", d.os_version},
              {"build_fingerprint", d.build_fingerprint},
              {"properties", d.properties}};
    if (d.clock_offset_ms)
        j["clock_offset_ms"] = *d.clock_offset_ms;
    return j;
}

Result<drivers::DeviceInfo> device_info_from_json(const json& j) {
    drivers::DeviceInfo d;
    for (auto [key, field] : {std::pair{"manufacturer", &d.manufacturer},
                              std::pair{"model", &d.model}, std::pair{"serial", &d.serial},
                              std::pair{"os_version", &d.os_version},
                              std::pair{"build_fingerprint", &d.build_fingerprint}}) {
        auto v = text_field(j, key, 1024);
        if (!v)
            return std::unexpected(v.error());
        *field = std::move(*v);
    }
    auto props = j.find("properties");
    if (props == j.end() || !props->is_object() || props->size() > 10'000)
        return bad("device properties that are not an object of at most 10,000 entries");
    for (const auto& [key, value] : props->items()) {
        if (!value.is_string() || key.size() > 1024 || value.get<std::string>().size() > 4096)
            return bad("a device property that is not short text");
        d.properties.emplace(key, value.get<std::string>());
    }
    auto offset = optional_number<std::int64_t>(j, "clock_offset_ms", kMinI64, kMaxI64);
    if (!offset)
        return std::unexpected(offset.error());
    d.clock_offset_ms = *offset;
    return d;
}

json to_json(const drivers::Preview& preview) {
    json j = json::object();
    for (const auto& [c, n] : preview)
        j[std::string(drivers::to_string(c))] = {{"count", n.count}, {"bytes", n.bytes}};
    return j;
}

Result<drivers::Preview> preview_from_json(const json& j) {
    drivers::Preview preview;
    for (const auto& [name, counts] : j.items()) {
        auto cat = category(name);
        if (!cat)
            return std::unexpected(cat.error());
        if (!counts.is_object())
            return bad("a preview entry that is not an object");
        auto count = number<std::uint64_t>(counts, "count", 0, UINT64_MAX);
        auto bytes = number<std::uint64_t>(counts, "bytes", 0, UINT64_MAX);
        if (!count || !bytes)
            return std::unexpected(!count ? count.error() : bytes.error());
        preview[*cat] = {.count = *count, .bytes = *bytes};
    }
    return preview;
}

json to_json(const Error& e) {
    return {{"code", static_cast<int>(e.code)}, {"message", e.message}, {"errno", e.sys_errno}};
}

Result<Error> error_from_json(const json& j) {
    auto code = number<int>(j, "code", 0, static_cast<int>(Errc::internal));
    auto sys = number<int>(j, "errno", 0, 4095);
    auto message = text_field(j, "message", 64 * 1024);
    if (!code || !sys || !message)
        return std::unexpected(!code ? code.error() : !sys ? sys.error() : message.error());
    if (message->size() > 1000)
        message->resize(1000);
    return Error{static_cast<Errc>(*code), std::move(*message), *sys};
}

json to_json(const HostedDevice& h) {
    json functions = json::array();
    for (const auto& f : h.device.functions)
        functions.push_back(f.name);
    json j = {{"id", h.device.id},
              {"functions", functions},
              {"address", h.device.address},
              {"vendor_id", h.device.vendor_id},
              {"product_id", h.device.product_id},
              {"manufacturer", h.device.manufacturer},
              {"product", h.device.product},
              {"serial", h.device.serial}};
    if (h.usb_bus && h.usb_address) {
        j["usb_bus"] = *h.usb_bus;
        j["usb_address"] = *h.usb_address;
    }
    return j;
}

Result<HostedDevice> hosted_device_from_json(const json& j) {
    HostedDevice h;
    for (auto [key, field] :
         {std::pair{"id", &h.device.id}, std::pair{"address", &h.device.address},
          std::pair{"manufacturer", &h.device.manufacturer},
          std::pair{"product", &h.device.product}, std::pair{"serial", &h.device.serial}}) {
        auto v = text_field(j, key, 1024);
        if (!v)
            return std::unexpected(v.error());
        *field = std::move(*v);
    }
    auto functions = j.find("functions");
    if (functions == j.end() || !functions->is_array())
        return bad("a device without its functions");
    for (const auto& f : *functions) {
        if (!f.is_string())
            return bad("a function that is not text");
        h.device.functions.push_back({f.get<std::string>()});
    }
    auto vid = number<std::uint16_t>(j, "vendor_id", 0, 0xffff);
    auto pid = number<std::uint16_t>(j, "product_id", 0, 0xffff);
    auto bus = optional_number<std::uint8_t>(j, "usb_bus", 0, 255);
    auto address = optional_number<std::uint8_t>(j, "usb_address", 0, 255);
    if (!vid || !pid || !bus || !address)
        return bad("a device whose USB numbers are out of range");
    h.device.vendor_id = *vid;
    h.device.product_id = *pid;
    h.usb_bus = *bus;
    h.usb_address = *address;
    return h;
}

}  // namespace exhibit::host
