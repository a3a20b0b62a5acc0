#include "phonesim/ios/usbmuxd_socket.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstring>
#include <vector>

#include "common/fs.hpp"
#include "phonesim/ios/fd_stream.hpp"

namespace exhibit::phonesim::ios {

namespace {

constexpr std::size_t kMuxHeader = 16;
constexpr std::uint32_t kVersionPlist = 1;
constexpr std::uint32_t kMessagePlist = 8;

std::uint32_t get_le32(const std::byte* p) {
    return std::to_integer<std::uint32_t>(p[0]) | (std::to_integer<std::uint32_t>(p[1]) << 8) |
           (std::to_integer<std::uint32_t>(p[2]) << 16) |
           (std::to_integer<std::uint32_t>(p[3]) << 24);
}

void put_le32(std::vector<std::byte>& out, std::uint32_t v) {
    for (int i = 0; i < 4; ++i)
        out.push_back(std::byte(v >> (8 * i)));
}

bool valid_record_id(std::string_view id) {
    if (id.empty() || id.size() > 64)
        return false;
    for (char c : id)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-'))
            return false;
    return true;
}

}  // namespace

Result<std::unique_ptr<UsbmuxdSocket>> UsbmuxdSocket::start(UsbmuxdSocketSettings settings,
                                                            ServiceHost& host) {
    std::error_code ec;
    std::filesystem::create_directories(settings.pair_record_dir, ec);
    if (ec)
        return fail(Errc::io,
                    "creating " + settings.pair_record_dir.string() + ": " + ec.message());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    const std::string& path = settings.socket_path.native();
    if (path.size() >= sizeof addr.sun_path)
        return fail(Errc::invalid_argument, "socket path too long: " + path);
    std::memcpy(addr.sun_path, path.c_str(), path.size() + 1);
    UniqueFd listener(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!listener)
        return fail_errno("socket");
    ::unlink(path.c_str());
    if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
        return fail_errno("binding " + path);
    if (::listen(listener.get(), 16) != 0)
        return fail_errno("listen");
    UniqueFd wake(::eventfd(0, EFD_CLOEXEC));
    if (!wake)
        return fail_errno("eventfd");
    std::unique_ptr<UsbmuxdSocket> mux(
        new UsbmuxdSocket(std::move(settings), host, std::move(listener), std::move(wake)));
    mux->acceptor_ = std::thread([m = mux.get()] { m->accept_loop(); });
    return mux;
}

UsbmuxdSocket::UsbmuxdSocket(UsbmuxdSocketSettings settings, ServiceHost& host, UniqueFd listener,
                             UniqueFd wake)
    : settings_(std::move(settings)),
      host_(host),
      listener_(std::move(listener)),
      wake_(std::move(wake)) {}

UsbmuxdSocket::~UsbmuxdSocket() {
    std::uint64_t one = 1;
    (void)!::write(wake_.get(), &one, sizeof one);
    if (acceptor_.joinable())
        acceptor_.join();
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        for (auto& [fd, thread] : clients_) {
            ::shutdown(fd, SHUT_RDWR);
            threads.push_back(std::move(thread));
        }
        clients_.clear();  // each thread still closes its own socket
        for (auto& thread : finished_)
            threads.push_back(std::move(thread));
        finished_.clear();
    }
    for (auto& t : threads)
        t.join();
    ::unlink(settings_.socket_path.c_str());
}

std::string UsbmuxdSocket::client_environment() const {
    return "USBMUXD_SOCKET_ADDRESS=UNIX:" + settings_.socket_path.string();
}

void UsbmuxdSocket::accept_loop() {
    for (;;) {
        pollfd fds[2] = {{listener_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return;
        }
        if (fds[1].revents)
            return;
        int fd = ::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC);
        std::vector<std::thread> done;
        {
            std::lock_guard lock(mutex_);
            done.swap(finished_);
            if (fd >= 0 && clients_.size() < kMaxClients)
                clients_.emplace(fd, std::thread([this, fd] { serve_client(fd); }));
            else if (fd >= 0)
                ::close(fd);
        }
        for (auto& t : done)
            t.join();
    }
}

void UsbmuxdSocket::serve_client(int fd) {
    FdStream stream(fd);
    for (;;) {
        std::byte head[kMuxHeader];
        auto got = read_exact(stream, head);
        if (!got || !*got)
            break;
        std::uint32_t length = get_le32(head);
        std::uint32_t version = get_le32(head + 4);
        std::uint32_t message = get_le32(head + 8);
        std::uint32_t tag = get_le32(head + 12);
        if (length < kMuxHeader || length > kMaxPlistMessage)
            break;
        std::vector<std::byte> body(length - kMuxHeader);
        if (!read_exact(stream, body).value_or(false) && !body.empty())
            break;
        if (version != kVersionPlist || message != kMessagePlist) {
            (void)send_result(fd, tag, kMuxBadVersion);
            continue;
        }
        auto request = parse_plist_dict(body);
        if (!request) {
            (void)send_result(fd, tag, kMuxBadCommand);
            continue;
        }
        if (!handle(fd, tag, request->get()))
            break;
    }
    std::lock_guard lock(mutex_);
    if (auto it = clients_.find(fd); it != clients_.end()) {
        finished_.push_back(std::move(it->second));
        clients_.erase(it);
    }
    ::close(fd);
}

Status UsbmuxdSocket::send_plist(int fd, std::uint32_t tag, plist_t dict) {
    auto body = plist_to_xml_bytes(dict);
    std::vector<std::byte> out;
    put_le32(out, static_cast<std::uint32_t>(kMuxHeader + body.size()));
    put_le32(out, kVersionPlist);
    put_le32(out, kMessagePlist);
    put_le32(out, tag);
    out.insert(out.end(), body.begin(), body.end());
    FdStream stream(fd);
    return stream.write_all(out);
}

Status UsbmuxdSocket::send_result(int fd, std::uint32_t tag, std::uint64_t number) {
    PlistPtr dict(plist_new_dict());
    set_string(dict.get(), "MessageType", "Result");
    set_uint(dict.get(), "Number", number);
    return send_plist(fd, tag, dict.get());
}

PlistPtr UsbmuxdSocket::attached_event() const {
    PlistPtr event(plist_new_dict());
    set_uint(event.get(), "DeviceID", settings_.device_id);
    set_string(event.get(), "MessageType", "Attached");
    plist_t props = plist_new_dict();
    set_uint(props, "ConnectionSpeed", 480000000);
    set_string(props, "ConnectionType", "USB");
    set_uint(props, "DeviceID", settings_.device_id);
    set_uint(props, "LocationID", 0x01100000);
    set_uint(props, "ProductID", settings_.product_id);
    set_string(props, "SerialNumber", settings_.udid);
    plist_dict_set_item(event.get(), "Properties", props);
    return event;
}

std::optional<std::filesystem::path> UsbmuxdSocket::record_path(plist_t request) const {
    auto id = dict_string(request, "PairRecordID");
    if (!id || !valid_record_id(*id))
        return std::nullopt;
    return settings_.pair_record_dir / (*id + ".plist");
}

bool UsbmuxdSocket::handle(int fd, std::uint32_t tag, plist_t request) {
    auto type = dict_string(request, "MessageType").value_or("");
    if (type == "ListDevices") {
        PlistPtr reply(plist_new_dict());
        plist_t list = plist_new_array();
        plist_array_append_item(list, attached_event().release());
        plist_dict_set_item(reply.get(), "DeviceList", list);
        return send_plist(fd, tag, reply.get()).has_value();
    }
    if (type == "Listen") {
        if (!send_result(fd, tag, kMuxOk) || !send_plist(fd, 0, attached_event().get()))
            return false;
        // Events only from here; the client closes when it is done listening.
        std::byte sink[256];
        FdStream stream(fd);
        while (stream.read_some(sink).value_or(0) > 0) {
        }
        return false;
    }
    if (type == "Connect") {
        auto device = dict_uint(request, "DeviceID");
        auto raw_port = dict_uint(request, "PortNumber");
        if (device != settings_.device_id || !raw_port)
            return send_result(fd, tag, kMuxBadDevice).has_value();
        auto port =
            static_cast<std::uint16_t>(((*raw_port & 0xff) << 8) | ((*raw_port >> 8) & 0xff));
        if (!host_.listens(port))
            return send_result(fd, tag, kMuxConnRefused).has_value();
        if (!send_result(fd, tag, kMuxOk))
            return false;
        FdStream stream(fd);
        host_.serve(port, stream);
        return false;
    }
    if (type == "ReadBUID") {
        PlistPtr reply(plist_new_dict());
        set_string(reply.get(), "BUID", settings_.system_buid);
        return send_plist(fd, tag, reply.get()).has_value();
    }
    if (type == "ReadPairRecord") {
        auto path = record_path(request);
        auto bytes = path ? fs::read_file(*path, kMaxPlistMessage)
                          : Result<std::string>(fail(Errc::not_found, "no record"));
        if (!bytes)
            return send_result(fd, tag, kMuxBadDevice).has_value();  // ENOENT (2)
        PlistPtr reply(plist_new_dict());
        set_data(reply.get(), "PairRecordData", as_bytes(*bytes));
        return send_plist(fd, tag, reply.get()).has_value();
    }
    if (type == "SavePairRecord") {
        auto path = record_path(request);
        auto data = dict_data(request, "PairRecordData");
        if (!path || !data)
            return send_result(fd, tag, kMuxBadCommand).has_value();
        std::string_view contents(reinterpret_cast<const char*>(data->data()), data->size());
        bool saved = fs::write_file_atomic(*path, contents).has_value();
        return send_result(fd, tag, saved ? kMuxOk : kMuxBadCommand).has_value();
    }
    if (type == "DeletePairRecord") {
        auto path = record_path(request);
        std::error_code ec;
        bool removed = path && std::filesystem::remove(*path, ec);
        return send_result(fd, tag, removed ? kMuxOk : kMuxBadDevice).has_value();
    }
    return send_result(fd, tag, kMuxBadCommand).has_value();
}

}  // namespace exhibit::phonesim::ios
