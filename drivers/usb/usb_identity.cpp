#include "drivers/usb/usb_identity.hpp"

#include <array>

#include <fmt/format.h>

#include "drivers/usb/string_descriptor.hpp"
#include "drivers/usb/usb_error.hpp"
#include "drivers/usb/usb_handles.hpp"

namespace exhibit::usb {

namespace {

constexpr std::size_t kMaxInterfaces = 32;  // a hostile descriptor set is cut here

EndpointType endpoint_type(std::uint8_t attributes) {
    switch (attributes & LIBUSB_TRANSFER_TYPE_MASK) {
        case LIBUSB_ENDPOINT_TRANSFER_TYPE_CONTROL:
            return EndpointType::control;
        case LIBUSB_ENDPOINT_TRANSFER_TYPE_ISOCHRONOUS:
            return EndpointType::isochronous;
        case LIBUSB_ENDPOINT_TRANSFER_TYPE_BULK:
            return EndpointType::bulk;
        default:
            return EndpointType::interrupt;
    }
}

// Interfaces of `config` with the iInterface index of each (for reading names later).
void add_interfaces(const libusb_config_descriptor& config, DescriptorSet& set,
                    std::vector<std::uint8_t>& name_index) {
    for (int i = 0; i < config.bNumInterfaces; ++i) {
        const auto& itf = config.interface[i];
        for (int a = 0; a < itf.num_altsetting; ++a) {
            if (set.interfaces.size() >= kMaxInterfaces)
                return;
            const auto& alt = itf.altsetting[a];
            InterfaceInfo info{.number = alt.bInterfaceNumber,
                               .alternate = alt.bAlternateSetting,
                               .class_code = alt.bInterfaceClass,
                               .subclass = alt.bInterfaceSubClass,
                               .protocol = alt.bInterfaceProtocol};
            for (int e = 0; e < alt.bNumEndpoints; ++e) {
                const auto& ep = alt.endpoint[e];
                info.endpoints.push_back(
                    {.address = ep.bEndpointAddress,
                     .type = endpoint_type(ep.bmAttributes),
                     .max_packet_size = static_cast<std::uint16_t>(ep.wMaxPacketSize & 0x7ff)});
            }
            set.interfaces.push_back(std::move(info));
            name_index.push_back(alt.iInterface);
        }
    }
}

Result<DescriptorSet> read_descriptors(libusb_device* device,
                                       std::vector<std::uint8_t>& name_index) {
    libusb_device_descriptor dd{};
    if (int rc = libusb_get_device_descriptor(device, &dd); rc != 0)
        return std::unexpected(usb_error(rc, "device descriptor"));
    DescriptorSet set{.vendor_id = dd.idVendor,
                      .product_id = dd.idProduct,
                      .device_class = dd.bDeviceClass,
                      .device_subclass = dd.bDeviceSubClass,
                      .device_protocol = dd.bDeviceProtocol};
    libusb_config_descriptor* raw = nullptr;
    int rc = libusb_get_active_config_descriptor(device, &raw);
    if (rc == LIBUSB_ERROR_NOT_FOUND && dd.bNumConfigurations > 0)  // not configured yet
        rc = libusb_get_config_descriptor(device, 0, &raw);
    if (rc == LIBUSB_ERROR_NO_DEVICE)
        return std::unexpected(usb_error(rc, "configuration descriptor"));
    if (rc == 0) {
        ConfigPtr config(raw);
        set.configuration = config->bConfigurationValue;
        add_interfaces(*config, set, name_index);
    }
    // An iPhone starts in its first configuration (PTP only); its usbmux interface is in
    // another one (4 on today's iPhones), which usbmuxd selects. So an Apple device's other
    // configurations are read too, for that interface alone: the device is an iPhone whether
    // or not usbmuxd has switched it yet.
    if (dd.idVendor == kAppleVendorId)
        for (std::uint8_t i = 0; i < dd.bNumConfigurations; ++i) {
            libusb_config_descriptor* other = nullptr;
            if (libusb_get_config_descriptor(device, i, &other) != 0)
                continue;
            ConfigPtr config(other);
            if (config->bConfigurationValue == set.configuration)
                continue;
            DescriptorSet extra;
            std::vector<std::uint8_t> extra_names;
            add_interfaces(*config, extra, extra_names);
            for (std::size_t k = 0; k < extra.interfaces.size(); ++k) {
                const auto& itf = extra.interfaces[k];
                if (itf.class_code != 0xff || itf.subclass != 0xfe || itf.protocol != 0x02 ||
                    set.interfaces.size() >= kMaxInterfaces)
                    continue;
                set.interfaces.push_back(itf);
                name_index.push_back(extra_names[k]);
            }
        }
    return set;
}

class StringReader {
  public:
    StringReader(libusb_device_handle* h, std::chrono::milliseconds timeout)
        : handle_(h), timeout_(static_cast<unsigned>(timeout.count())) {
        std::array<std::uint8_t, 255> buf{};
        int n = get(0, 0, buf);
        if (n > 0)
            language_ = first_language(std::span(buf.data(), static_cast<std::size_t>(n)));
    }

    // The string at `index`, or empty (index 0, a stall, a timeout, garbage).
    Result<std::string> read(std::uint8_t index) {
        if (index == 0 || failures_ >= 2)
            return std::string();
        std::array<std::uint8_t, 255> buf{};
        int n = get(index, language_, buf);
        if (n == LIBUSB_ERROR_NO_DEVICE)
            return std::unexpected(usb_error(n, "string descriptor"));
        if (n < 0) {
            ++failures_;  // a device that times out twice gets no more questions
            note_ = fmt::format("string {}: {}", index, libusb_strerror(n));
            return std::string();
        }
        auto s = decode_string_descriptor(std::span(buf.data(), static_cast<std::size_t>(n)));
        if (!s) {
            note_ = fmt::format("string {}: {}", index, s.error().describe());
            return std::string();
        }
        return std::move(*s);
    }
    const std::string& note() const { return note_; }

  private:
    int get(std::uint8_t index, std::uint16_t language, std::span<std::uint8_t> buf) {
        return libusb_control_transfer(handle_, LIBUSB_ENDPOINT_IN, LIBUSB_REQUEST_GET_DESCRIPTOR,
                                       static_cast<std::uint16_t>((LIBUSB_DT_STRING << 8) | index),
                                       language, buf.data(), static_cast<std::uint16_t>(buf.size()),
                                       timeout_);
    }

    libusb_device_handle* handle_;
    unsigned timeout_;
    std::uint16_t language_ = 0x0409;
    int failures_ = 0;
    std::string note_;
};

}  // namespace

std::string bus_path_of(libusb_device* device) {
    std::array<std::uint8_t, 8> ports{};
    int n = libusb_get_port_numbers(device, ports.data(), static_cast<int>(ports.size()));
    std::string path = fmt::format("{}-", libusb_get_bus_number(device));
    if (n <= 0)
        return path + "0";
    for (int i = 0; i < n; ++i)
        path += fmt::format("{}{}", i ? "." : "", ports[static_cast<std::size_t>(i)]);
    return path;
}

std::string_view speed_name(int libusb_speed) {
    switch (libusb_speed) {
        case LIBUSB_SPEED_LOW:
            return "low";
        case LIBUSB_SPEED_FULL:
            return "full";
        case LIBUSB_SPEED_HIGH:
            return "high";
        case LIBUSB_SPEED_SUPER:
            return "super";
        case LIBUSB_SPEED_SUPER_PLUS:
            return "super_plus";
        default:
            return "unknown";
    }
}

Result<DescriptorSet> cached_descriptors(libusb_device* device) {
    std::vector<std::uint8_t> unused;
    return read_descriptors(device, unused);
}

Result<UsbInspection> inspect_device(libusb_device* device, std::chrono::milliseconds timeout) {
    std::vector<std::uint8_t> name_index;
    auto set = read_descriptors(device, name_index);
    if (!set)
        return std::unexpected(set.error());
    UsbInspection out{.descriptors = std::move(*set)};
    auto& id = out.identity;
    id.vendor_id = out.descriptors.vendor_id;
    id.product_id = out.descriptors.product_id;
    id.bus_path = bus_path_of(device);
    id.speed = std::string(speed_name(libusb_get_device_speed(device)));
    id.bus_number = libusb_get_bus_number(device);
    id.address = libusb_get_device_address(device);

    libusb_device_descriptor dd{};
    (void)libusb_get_device_descriptor(device, &dd);
    libusb_device_handle* raw = nullptr;
    if (int rc = libusb_open(device, &raw); rc != 0) {
        if (rc == LIBUSB_ERROR_NO_DEVICE)
            return std::unexpected(usb_error(rc, "open"));
        out.note = fmt::format("strings not read: {}", libusb_strerror(rc));
        return out;
    }
    HandlePtr handle(raw);
    StringReader strings(handle.get(), timeout);
    for (auto [index, field] :
         {std::pair{dd.iManufacturer, &id.manufacturer}, std::pair{dd.iProduct, &id.product},
          std::pair{dd.iSerialNumber, &id.serial}}) {
        auto s = strings.read(index);
        if (!s)
            return std::unexpected(s.error());
        *field = std::move(*s);
    }
    for (std::size_t i = 0; i < out.descriptors.interfaces.size(); ++i) {
        auto s = strings.read(name_index[i]);
        if (!s)
            return std::unexpected(s.error());
        out.descriptors.interfaces[i].name = std::move(*s);
    }
    out.note = strings.note();
    return out;
}

namespace {

// The first present device `matches` accepts; Errc::not_found saying `none` when there is none.
template <class Match>
Result<DeviceRef> find_first(UsbContext& context, Match matches, std::string none) {
    libusb_device** raw = nullptr;
    ssize_t n = libusb_get_device_list(context.get(), &raw);
    if (n < 0)
        return std::unexpected(usb_error(static_cast<int>(n), "list USB devices"));
    DeviceListPtr list(raw);
    for (ssize_t i = 0; i < n; ++i)
        if (matches(raw[i]))
            return ref_device(raw[i]);
    return fail(Errc::not_found, std::move(none));
}

}  // namespace

Result<DeviceRef> find_device(UsbContext& context, std::string_view bus_path) {
    return find_first(
        context, [&](libusb_device* d) { return bus_path_of(d) == bus_path; },
        fmt::format("no USB device at {}", bus_path));
}

Result<DeviceRef> find_device(UsbContext& context, std::uint8_t bus, std::uint8_t address,
                              std::uint16_t vendor_id, std::uint16_t product_id) {
    return find_first(
        context,
        [&](libusb_device* d) {
            libusb_device_descriptor desc{};
            return libusb_get_bus_number(d) == bus && libusb_get_device_address(d) == address &&
                   libusb_get_device_descriptor(d, &desc) == 0 && desc.idVendor == vendor_id &&
                   desc.idProduct == product_id;
        },
        fmt::format("no USB device {:04x}:{:04x} at bus {} address {}: it has left", vendor_id,
                    product_id, bus, address));
}

}  // namespace exhibit::usb
