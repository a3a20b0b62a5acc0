// read_value_map on real sd-bus messages: the a{sv} a D-Bus caller sends exhibitd (Preview,
// StartExtraction, Cancel, ...), and the a{sv} exhibitd's clients read from its replies. The
// input builds the message through sd-bus itself, so every message is one sd-bus would hand
// over from the wire: an a{sv} whose variants hold any type D-Bus has (basic types, arrays,
// dictionaries, structs, variants in variants, to a depth), or now and then another type
// where the a{sv} should be. (bus_requests starts one step later, at the typed map.)
// Beyond "no crash", it checks what the readers promise (common/bus_value.hpp): a caller's
// arguments never give a type the API does not take; what they accept reads the same as a
// reply; and a map read as a reply comes back the same through append_value_map.
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/bus_handles.hpp"
#include "common/bus_value.hpp"
#include "tests/fuzz/fuzz_input.hpp"

using namespace exhibit;

namespace {

constexpr int kMaxDepth = 6;
constexpr std::size_t kMaxSignature = 255;  // D-Bus's limit
constexpr std::string_view kBasic = "ybnqiuxtdsog";

// A bus on one end of a socketpair: enough to build and read messages offline.
sd_bus* bus() {
    static sd_bus* b = [] {
        int fds[2];
        sd_bus* raw = nullptr;
        if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0 || sd_bus_new(&raw) < 0 ||
            sd_bus_set_fd(raw, fds[0], fds[0]) < 0 || sd_bus_start(raw) < 0)
            __builtin_trap();
        return raw;
    }();
    return b;
}

// One complete type, from the input.
std::string complete_type(fuzz::Input& in, int depth) {
    const auto pick = in.u8();
    const char basic = kBasic[pick % kBasic.size()];
    if (depth >= kMaxDepth || pick < 128)
        return std::string(1, basic);
    switch (pick % 4) {
    case 0:
        return "a" + complete_type(in, depth + 1);
    case 1: {  // the key first: the operands of + are not read in order
        const char key = kBasic[in.u8() % kBasic.size()];
        return std::string("a{") + key + complete_type(in, depth + 1) + "}";
    }
    case 2: {
        std::string s = "(";
        for (int n = 1 + in.u8() % 3; n > 0; --n)
            s += complete_type(in, depth + 1);
        return s + ")";
    }
    default:
        return "v";
    }
}

// The length of the complete type at the front of `sig`.
std::size_t type_length(std::string_view sig) {
    if (sig.empty())
        return 0;
    if (sig[0] == 'a')
        return 1 + type_length(sig.substr(1));
    if (sig[0] != '(' && sig[0] != '{')
        return 1;
    std::size_t at = 1;
    while (at < sig.size() && sig[at] != ')' && sig[at] != '}')
        at += type_length(sig.substr(at));
    return at + 1;
}

// Text sd-bus accepts as a string (valid UTF-8, no NUL): the input's bytes, ASCII only.
std::string text(fuzz::Input& in) {
    std::string s(in.bytes(in.u8() % 48));
    for (auto& c : s)
        if (c == '\0' || static_cast<unsigned char>(c) >= 0x80)
            c = '?';
    return s;
}

int append(sd_bus_message* m, std::string_view sig, fuzz::Input& in, int depth);

// Appends one value of the basic type `t`.
int append_basic(sd_bus_message* m, char t, fuzz::Input& in, int depth) {
    switch (t) {
    case 'y': {
        std::uint8_t v = in.u8();
        return sd_bus_message_append_basic(m, t, &v);
    }
    case 'b': {
        int v = in.u8() & 1;
        return sd_bus_message_append_basic(m, t, &v);
    }
    case 'n':
    case 'q': {
        auto v = static_cast<std::uint16_t>(in.u32());
        return sd_bus_message_append_basic(m, t, &v);
    }
    case 'i':
    case 'u': {
        std::uint32_t v = in.u32();
        return sd_bus_message_append_basic(m, t, &v);
    }
    case 'x':
    case 't':
    case 'd': {  // a double from any 64 bits: NaNs and infinities included
        std::uint64_t v = in.u64();
        return sd_bus_message_append_basic(m, t, &v);
    }
    case 's':
        return sd_bus_message_append_basic(m, t, text(in).c_str());
    case 'o':
        return sd_bus_message_append_basic(
            m, t, in.u8() % 4 == 0 ? "/" : ("/org/exhibit/Exhibit1/s" + std::to_string(in.u8())).c_str());
    case 'g': {
        auto g = complete_type(in, depth + 1);
        return sd_bus_message_append_basic(m, t, g.c_str());
    }
    default:
        return -EINVAL;
    }
}

// Appends one value of the complete type at the front of `sig`.
int append(sd_bus_message* m, std::string_view sig, fuzz::Input& in, int depth) {
    const auto length = type_length(sig);
    if (length == 0 || length > sig.size())
        return -EINVAL;
    const std::string contents(sig.substr(1, length - (sig[0] == 'a' ? 1 : 2)));
    int r = 0;
    switch (sig[0]) {
    case 'a': {
        if ((r = sd_bus_message_open_container(m, 'a', contents.c_str())) < 0)
            return r;
        for (int n = in.u8() % 6; n > 0 && r >= 0; --n)
            r = append(m, contents, in, depth + 1);
        return r < 0 ? r : sd_bus_message_close_container(m);
    }
    case '(':
    case '{': {
        if ((r = sd_bus_message_open_container(m, sig[0] == '(' ? 'r' : 'e', contents.c_str())) < 0)
            return r;
        for (std::string_view rest = contents; !rest.empty() && r >= 0;) {
            const auto one = type_length(rest);
            r = append(m, rest.substr(0, one), in, depth + 1);
            rest.remove_prefix(one);
        }
        return r < 0 ? r : sd_bus_message_close_container(m);
    }
    case 'v': {
        const auto inner = complete_type(in, depth + 1);
        if ((r = sd_bus_message_open_container(m, 'v', inner.c_str())) < 0)
            return r;
        r = append(m, inner, in, depth + 1);
        return r < 0 ? r : sd_bus_message_close_container(m);
    }
    default:
        return append_basic(m, sig[0], in, depth);
    }
}

MessagePtr new_message() {
    sd_bus_message* m = nullptr;
    if (sd_bus_message_new_method_call(bus(), &m, "org.exhibit.Exhibit1", "/org/exhibit/Exhibit1",
                                       "org.exhibit.Exhibit1.Manager", "Preview") < 0)
        __builtin_trap();
    return MessagePtr(m);
}

bool seal(sd_bus_message* m) {
    return sd_bus_message_seal(m, 1, 0) >= 0 && sd_bus_message_rewind(m, 1) >= 0;
}

// The same map, doubles compared by their bits (a NaN is itself).
bool same(const ValueMap& a, const ValueMap& b) {
    if (a.size() != b.size())
        return false;
    for (auto i = a.begin(), j = b.begin(); i != a.end(); ++i, ++j) {
        if (i->first != j->first || i->second.index() != j->second.index())
            return false;
        const auto* x = std::get_if<double>(&i->second);
        const auto* y = std::get_if<double>(&j->second);
        if (x ? std::memcmp(x, y, sizeof *x) != 0 : i->second != j->second)
            return false;
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    fuzz::Input in(data, size);
    auto m = new_message();
    if (in.u8() % 8 == 0) {  // another type where the a{sv} should be
        const auto sig = complete_type(in, 0);
        if (sig.size() > kMaxSignature || append(m.get(), sig, in, 0) < 0)
            return 0;
    } else {
        if (sd_bus_message_open_container(m.get(), 'a', "{sv}") < 0)
            __builtin_trap();
        while (!in.empty()) {
            const auto key = text(in);
            const auto inner = complete_type(in, 1);
            if (inner.size() > kMaxSignature)
                return 0;
            if (sd_bus_message_open_container(m.get(), 'e', "sv") < 0 ||
                sd_bus_message_append_basic(m.get(), 's', key.c_str()) < 0 ||
                sd_bus_message_open_container(m.get(), 'v', inner.c_str()) < 0 ||
                append(m.get(), inner, in, 1) < 0 || sd_bus_message_close_container(m.get()) < 0 ||
                sd_bus_message_close_container(m.get()) < 0)
                return 0;  // a value sd-bus would not build: no message
        }
        if (sd_bus_message_close_container(m.get()) < 0)
            __builtin_trap();
    }
    if (!seal(m.get()))
        return 0;

    auto arguments = read_value_map(m.get(), Reading::arguments);
    if (sd_bus_message_rewind(m.get(), 1) < 0)
        __builtin_trap();
    auto replies = read_value_map(m.get(), Reading::replies);
    if (arguments) {
        for (const auto& [key, value] : *arguments)
            if (std::holds_alternative<double>(value))
                __builtin_trap();  // a caller's argument of a type the API does not take
        if (!replies || !same(*arguments, *replies))
            __builtin_trap();  // what a caller may send reads the same as a reply
    }
    if (replies) {
        auto again = new_message();
        if (append_value_map(again.get(), *replies) < 0 || !seal(again.get()))
            __builtin_trap();  // what was read can be written
        auto reread = read_value_map(again.get(), Reading::replies);
        if (!reread || !same(*replies, *reread))
            __builtin_trap();  // and reads back the same
    }
    return 0;
}
