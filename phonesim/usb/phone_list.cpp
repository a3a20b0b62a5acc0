#include "phonesim/usb/phone_list.hpp"

#include <fstream>
#include <set>

#include <fmt/format.h>

#include "phonesim/ios/ios_scenario.hpp"
#include "phonesim/usb/usbmux_server.hpp"

namespace exhibit::usbsim {

namespace {

using nlohmann::json;

const std::set<std::string> kKeys = {
    "serial",    "model",      "manufacturer", "product",         "root",         "records",
    "scenario",  "auth",       "adb_keys",     "accept_new_keys", "clock_offset", "port",
    "vendor_id", "product_id", "speed",        "max_packet",      "interfaces",   "mtp_locked",
    "disk_image", "iphone",    "trust",        "udid"};

bool is_mtp(const InterfaceSpec& i) {
    return i.bulk && ((i.class_code == 0x06 && i.subclass == 0x01 && i.protocol == 0x01) ||
                      (i.class_code == 0xff && i.name == "MTP"));
}

Result<std::uint16_t> id16(const json& v, const std::string& where) {
    if (v.is_number_unsigned() && v.get<std::uint64_t>() <= 0xffff)
        return static_cast<std::uint16_t>(v.get<std::uint64_t>());
    if (v.is_string()) {
        auto s = v.get<std::string>();
        if (!s.empty() && s.size() <= 4 &&
            s.find_first_not_of("0123456789abcdefABCDEF") == std::string::npos)
            return static_cast<std::uint16_t>(std::stoul(s, nullptr, 16));
    }
    return fail(Errc::invalid_argument,
                fmt::format("{}: expected a 16-bit id such as \"18d1\"", where));
}

Result<InterfaceSpec> interface_of(const json& v, const std::string& where) {
    if (v.is_string())
        return interface_preset(v.get<std::string>());
    if (!v.is_object())
        return fail(Errc::invalid_argument, fmt::format("{}: expected a name or an object", where));
    InterfaceSpec i;
    i.name.clear();
    for (auto [key, field] : {std::pair{"class", &i.class_code},
                              {"subclass", &i.subclass},
                              {"protocol", &i.protocol}}) {
        if (!v.contains(key) || !v[key].is_number_unsigned() || v[key].get<std::uint64_t>() > 255)
            return fail(Errc::invalid_argument,
                        fmt::format("{}: \"{}\" must be a number from 0 to 255", where, key));
        *field = static_cast<std::uint8_t>(v[key].get<std::uint64_t>());
    }
    if (v.contains("name"))
        i.name = v["name"].get<std::string>();
    i.bulk = v.value("bulk", true);
    i.interrupt_in = v.value("interrupt", false);
    return i;
}

std::filesystem::path path_in(const json& p, const std::filesystem::path& base) {
    std::filesystem::path out(p.get<std::string>());
    return out.is_absolute() ? out : base / out;
}

Status apply_settings(const json& p, const std::filesystem::path& base,
                      phonesim::PhoneSettings& s) {
    if (!p.contains("root"))
        return fail(Errc::invalid_argument, "an ADB phone needs \"root\"");
    s.root = path_in(p["root"], base);
    if (p.contains("records"))
        s.records = path_in(p["records"], base);
    if (p.contains("scenario"))
        s.scenario = path_in(p["scenario"], base);
    if (p.contains("adb_keys"))
        s.adb_keys = path_in(p["adb_keys"], base);
    s.serial = p.value("serial", "");
    s.model = p.value("model", "");
    s.manufacturer = p.value("manufacturer", "");
    s.auth = p.value("auth", "none");
    s.accept_new_keys = p.value("accept_new_keys", false);
    s.clock_offset_seconds = p.value("clock_offset", std::int64_t{0});
    return {};
}

// The root-hub port of the list's phone number `index`: "port", else index + 1.
Result<std::uint8_t> port_of(const json& p, std::size_t index, const std::string& where) {
    auto port = p.value("port", static_cast<unsigned>(index + 1));
    if (port < 1 || port > 15)
        return fail(Errc::invalid_argument, fmt::format("{}: port must be 1 to 15", where));
    return static_cast<std::uint8_t>(port);
}

Result<EmulatedPhone> parse_phone(const json& p, std::size_t index,
                                  const std::filesystem::path& base) {
    auto where = fmt::format("phone {}", index);
    if (!p.is_object())
        return fail(Errc::invalid_argument, where + ": expected an object");
    for (const auto& [key, value] : p.items())
        if (!kKeys.contains(key))
            return fail(Errc::invalid_argument, fmt::format("{}: unknown key \"{}\"", where, key));
    EmulatedPhone phone;
    auto& spec = phone.spec;
    spec.interfaces.clear();
    if (p.value("iphone", false)) {
        // An iPhone: its media folder, trust state, UDID and port; the rest is Apple's.
        for (const auto& [key, value] : p.items())
            if (key != "iphone" && key != "root" && key != "trust" && key != "udid" &&
                key != "scenario" && key != "port")
                return fail(Errc::invalid_argument,
                            fmt::format("{}: \"{}\" is not for an iPhone", where, key));
        if (!p.contains("root"))
            return fail(Errc::invalid_argument, where + ": an iPhone needs \"root\"");
        auto made = iphone(path_in(p["root"], base), p.value("trust", "waiting"),
                           p.value("udid", ""),
                           p.contains("scenario") ? path_in(p["scenario"], base)
                                                  : std::filesystem::path());
        if (!made)
            return std::unexpected(made.error().with_context(where));
        phone = std::move(*made);
        auto port = port_of(p, index, where);
        if (!port)
            return std::unexpected(port.error());
        phone.port = *port;
        return phone;
    }
    for (const auto& key : {"trust", "udid"})
        if (p.contains(key))
            return fail(Errc::invalid_argument,
                        fmt::format("{}: \"{}\" is for an iPhone (\"iphone\": true)", where, key));
    if (p.contains("disk_image")) {
        // A stick: its identity, its port and its disk; nothing of a phone.
        for (const auto& key : {"interfaces", "root", "records", "scenario", "auth", "adb_keys",
                                "accept_new_keys", "clock_offset", "mtp_locked", "model"})
            if (p.contains(key))
                return fail(Errc::invalid_argument,
                            fmt::format("{}: \"{}\" is not for a stick (disk_image)", where, key));
        phone = stick_from_image(path_in(p["disk_image"], base),
                                 p.value("serial", fmt::format("STICK{:04}", index + 1)));
    }
    const json names = p.value("interfaces", json::array({"mtp", "adb"}));
    if (!names.is_array() || names.empty())
        return fail(Errc::invalid_argument, where + ": \"interfaces\" must be a non-empty list");
    for (const auto& n : phone.disk_image.empty() ? names : json::array()) {
        auto i = interface_of(n, where + ": interfaces");
        if (!i)
            return std::unexpected(Error{i.error().code, where + ": " + i.error().message, 0});
        spec.interfaces.push_back(*i);
        if (i->class_code == 0xff && i->subclass == 0x42 && i->protocol == 0x01 && !phone.adb)
            phone.adb.emplace();
        if (is_mtp(*i) && p.contains("root") && !phone.mtp)
            phone.mtp.emplace();
    }
    if (phone.adb)
        if (auto s = apply_settings(p, base, *phone.adb); !s)
            return std::unexpected(Error{s.error().code, where + ": " + s.error().message, 0});
    if (phone.mtp)
        if (auto s = apply_settings(p, base, *phone.mtp); !s)
            return std::unexpected(Error{s.error().code, where + ": " + s.error().message, 0});
    phone.mtp_locked = p.value("mtp_locked", false);
    for (auto [key, field] :
         {std::pair{"vendor_id", &spec.vendor_id}, {"product_id", &spec.product_id}})
        if (p.contains(key)) {
            auto v = id16(p[key], fmt::format("{}: {}", where, key));
            if (!v)
                return std::unexpected(v.error());
            *field = *v;
        }
    if (phone.disk_image.empty())
        spec.serial = p.value("serial", fmt::format("EMU{:04}", index + 1));
    spec.manufacturer = p.value("manufacturer", spec.manufacturer);
    spec.product = p.value("product", p.value("model", spec.product));
    if (p.contains("speed")) {
        auto s = speed_from(p["speed"].get<std::string>());
        if (!s)
            return std::unexpected(Error{s.error().code, where + ": " + s.error().message, 0});
        spec.speed = *s;
    }
    spec.max_packet = p.value("max_packet", std::uint16_t{0});
    auto port = port_of(p, index, where);
    if (!port)
        return std::unexpected(port.error());
    phone.port = *port;
    return phone;
}

}  // namespace

Result<std::vector<EmulatedPhone>> parse_phone_list(const json& list,
                                                    const std::filesystem::path& base_dir) {
    if (!list.is_array() || list.empty() || list.size() > 15)
        return fail(Errc::invalid_argument, "the phone list must be a JSON list of 1 to 15 phones");
    std::vector<EmulatedPhone> out;
    std::set<unsigned> ports;
    for (std::size_t i = 0; i < list.size(); ++i) {
        Result<EmulatedPhone> p = fail(Errc::internal, "");
        try {
            p = parse_phone(list[i], i, base_dir);
        } catch (const json::exception& e) {  // a value of the wrong type
            return fail(Errc::invalid_argument, fmt::format("phone {}: {}", i, e.what()));
        }
        if (!p)
            return std::unexpected(p.error());
        if (!ports.insert(p->port).second)
            return fail(Errc::invalid_argument,
                        fmt::format("phone {}: port {} is taken", i, p->port));
        out.push_back(std::move(*p));
    }
    return out;
}

Result<std::vector<EmulatedPhone>> load_phone_list(const std::filesystem::path& file) {
    std::ifstream in(file);
    if (!in)
        return fail(Errc::not_found, fmt::format("{}: cannot read the phone list", file.string()));
    json list = json::parse(in, nullptr, false);
    if (list.is_discarded())
        return fail(Errc::invalid_argument, fmt::format("{}: not valid JSON", file.string()));
    auto phones = parse_phone_list(list, file.parent_path());
    if (!phones)
        return std::unexpected(
            Error{phones.error().code, file.string() + ": " + phones.error().message, 0});
    return phones;
}

EmulatedPhone stick_from_image(const std::filesystem::path& image, const std::string& serial) {
    EmulatedPhone stick;
    stick.spec.vendor_id = 0x0781;  // SanDisk
    stick.spec.product_id = 0x5567;  // Cruzer Blade
    stick.spec.bcd_device = 0x0100;
    stick.spec.manufacturer = "SanDisk";
    stick.spec.product = "Cruzer Blade";
    stick.spec.serial = serial;
    stick.spec.interfaces = {interface_preset("mass_storage").value()};
    stick.disk_image = image;
    return stick;
}

Result<EmulatedPhone> iphone(const std::filesystem::path& media_root, const std::string& trust,
                             const std::string& udid, const std::filesystem::path& scenario) {
    namespace ios = phonesim::ios;
    ios::IosSettings settings;
    settings.media_root = media_root;
    if (trust == "locked")
        settings.trust = ios::TrustState::locked;
    else if (trust == "waiting")
        settings.trust = ios::TrustState::waiting;
    else if (trust == "trusted")
        settings.trust = ios::TrustState::trusted;
    else
        return fail(Errc::invalid_argument,
                    fmt::format("trust \"{}\": expected locked, waiting or trusted", trust));
    if (!udid.empty()) {
        // usbmuxd makes the UDID from the USB serial: only the two forms it knows round-trip.
        const bool modern = udid.size() == 25 && udid.find('-') == 8 &&
                            udid.rfind('-') == 8 &&
                            udid.find_first_not_of("0123456789ABCDEF-") == std::string::npos;
        const bool classic = udid.size() == 40 &&
                             udid.find_first_not_of("0123456789abcdef") == std::string::npos;
        if (!modern && !classic)
            return fail(Errc::invalid_argument,
                        fmt::format("udid \"{}\": expected 8 + 16 upper-case hex digits with a "
                                    "hyphen between, or 40 lower-case hex digits",
                                    udid));
        settings.identity.unique_device_id = udid;
    }
    if (!scenario.empty()) {
        auto hostile = ios::load_ios_scenario(scenario);
        if (!hostile)
            return std::unexpected(hostile.error());
        settings.hostile = std::move(*hostile);
    }
    EmulatedPhone phone;
    phone.spec = iphone_spec(ios::usb_serial_for_udid(settings.identity.unique_device_id));
    phone.ios = std::move(settings);
    return phone;
}

Result<EmulatedPhone> phone_from_settings(const phonesim::PhoneSettings& settings,
                                          const std::vector<std::string>& interfaces,
                                          bool mtp_locked) {
    EmulatedPhone phone;
    phone.spec.interfaces.clear();
    for (const auto& name :
         interfaces.empty() ? std::vector<std::string>{"mtp", "adb"} : interfaces) {
        auto i = interface_preset(name);
        if (!i)
            return std::unexpected(i.error());
        phone.spec.interfaces.push_back(*i);
        if (i->class_code == 0xff && i->subclass == 0x42 && i->protocol == 0x01)
            phone.adb = settings;
        if (is_mtp(*i))
            phone.mtp = settings;
    }
    phone.mtp_locked = mtp_locked;
    return phone;
}

}  // namespace exhibit::usbsim
