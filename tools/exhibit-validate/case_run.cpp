#include "tools/exhibit-validate/case_run.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <functional>
#include <optional>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/bus_config.hpp"
#include "common/fs.hpp"
#include "tools/exhibit-validate/child.hpp"
#include "tools/exhibit-verify/json_fields.hpp"

namespace exhibit::validate {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

void write_file(const fs::path& file, const std::string& text) {
    std::ofstream(file, std::ios::binary | std::ios::trunc) << text;
}

// The port after the last ':' of a line such as "listening on 127.0.0.1:40123" or after
// "listening " ("listening 40123").
std::string port_of(const std::string& line) {
    auto at = line.find_last_of(": ");
    std::string port;
    for (auto i = at == std::string::npos ? 0 : at + 1; i < line.size() && std::isdigit(
                                                           static_cast<unsigned char>(line[i]));
         ++i)
        port += line[i];
    return port;
}

// `phone_port`: the ADB/TCP phone's port, or "" for a phone on the emulated USB bus.
std::string exhibitd_config(const fs::path& work, const std::string& bus,
                            const std::string& phone_port, const std::string& tus_port) {
    const auto devices =
        phone_port.empty() ? std::string("[]") : fmt::format(R"(["127.0.0.1:{}"])", phone_port);
    return fmt::format(R"([daemon]
kiosk_id = "validation"
log_target = "stderr"
watchdog = false
[store]
state_directory = "{}"
min_free_mb = 0
[dbus]
bus = "{}"
[adb]
network_devices = {}
[upload]
endpoint = "http://127.0.0.1:{}/files/"
allow_insecure_loopback = true
retry_initial_ms = 100
retry_max_s = 1
)",
                       (work / "state").string(), bus, devices, tus_port);
}

// The bytes of each record item the case expects, as the DFU store holds them: exhibit-verify
// names an upload "upload ID", the file ID in the tus server's folder. Records are small; a
// file larger than the bound is left out and its rows fail to compare.
void read_delivered_records(const Case& c, const fs::path& dfu, Observed& observed) {
    constexpr std::size_t kMaxRecords = 64u << 20;
    const auto& sessions = verify::json_member(observed.verify, "sessions");
    if (!sessions.is_array() || sessions.size() != 1)
        return;
    const auto& items = verify::json_member(sessions[0], "items");
    for (const auto& i : items.is_array() ? items : json::array()) {
        const auto source = verify::json_string(i, "source_path");
        const auto location = verify::json_string(i, "location");
        const bool expected = std::ranges::any_of(
            c.records, [&](const ExpectedRecords& r) { return r.source_path == source; });
        if (!expected || !location.starts_with("upload ") ||
            location.find('/') != std::string::npos)
            continue;
        if (auto bytes = exhibit::fs::read_file(dfu / location.substr(7), kMaxRecords))
            observed.delivered[source] = std::move(*bytes);
    }
}

// Runs `argv` every 100 ms until `done` holds for its result, or `timeout`.
std::optional<Ran> poll(const std::vector<std::string>& argv, std::chrono::seconds timeout,
                        const std::function<bool(const Ran&)>& done) {
    const auto end = std::chrono::steady_clock::now() + timeout;
    std::optional<Ran> last;
    while (std::chrono::steady_clock::now() < end) {
        last = run(argv, 30s);
        if (done(*last))
            return last;
        std::this_thread::sleep_for(100ms);
    }
    return std::nullopt;
}

// The case's USB stick: FAT32 on the whole image (mkfs.vfat), the chosen folders of the
// generated phone copied to its top with their modification times (mcopy -s -m). FAT keeps
// local times without a zone: the tools run with TZ=UTC, and so does the exhibitd that reads
// the stick, so that the times on the stick are the phone's in UTC.
Status make_stick(const Case& c, const fs::path& phone, const fs::path& image) {
    constexpr const char* kSizeKiB = "65536";  // 64 MiB: FAT32 needs 65,525 clusters or more
    auto made = run({"env", "TZ=UTC", "mkfs.vfat", "-C", "-F", "32", "-n", c.stick.label,
                     image.string(), kSizeKiB},
                    60s);
    if (made.status != 0)
        return fail(Errc::io, "mkfs.vfat could not make the stick: " + made.output);
    std::vector<std::string> copy = {"env", "TZ=UTC", "mcopy", "-s", "-m", "-Q",
                                     "-D",  "o",      "-i",    image.string()};
    for (const auto& folder : c.stick.folders) {
        if (!fs::is_directory(phone / folder))
            return fail(Errc::not_found,
                        fmt::format("the generated phone has no folder {} for the stick", folder));
        copy.push_back((phone / folder).string());
    }
    copy.push_back("::/");
    auto copied = run(copy, 120s);
    if (copied.status != 0)
        return fail(Errc::io, "mcopy could not fill the stick: " + copied.output);
    return {};
}

// Sets up the world and runs the case; an error says which part of the world failed.
Status run_in_world(const Case& c, const Programs& p, const fs::path& work, Observed& observed) {
    const auto program = [&](const char* name) { return p.program(name); };
    const auto log = [&](const char* name) { return work / fmt::format("{}.log", name); };

    // The phone, generated from the case's seed.
    const auto phone_dir = work / "phone";
    const bool iphone = c.transport == "iphone-usb";
    std::vector<std::string> generate = {program("exhibit-phonesim"), "--generate",
                                         phone_dir.string(), "--seed", std::to_string(c.seed)};
    if (iphone)
        generate.push_back("--iphone");
    auto generated = run(generate, 120s);
    if (generated.status != 0)
        return fail(Errc::io, "exhibit-phonesim could not generate the phone: " + generated.output);
    // An iPhone serves its media folder and has no records file; it has trusted the kiosk.
    std::vector<std::string> phone_args = {program("exhibit-phonesim"), "--root",
                                           phone_dir.string()};
    if (iphone)
        phone_args.insert(phone_args.end(), {"--iphone", "--trust", "trusted"});
    else
        phone_args.insert(phone_args.end(),
                          {"--records", (phone_dir / "records.json").string()});
    if (!c.scenario.is_null()) {
        write_file(work / "scenario.json", c.scenario.dump());
        phone_args.insert(phone_args.end(), {"--scenario", (work / "scenario.json").string()});
    }
    // Over TCP the phone listens on its own; over USB exhibit-phonesim makes the emulated bus,
    // plugs the phone in and runs exhibitd on it (below), a phone that allows any kiosk's key.
    const bool usb = c.transport != "adb-tcp";
    Child phone;
    std::string phone_port = "0";
    if (!usb) {
        phone_args.insert(phone_args.end(), {"--listen", "127.0.0.1:0"});
        auto started = Child::start(phone_args, log("phonesim"));
        if (!started)
            return std::unexpected(started.error());
        phone = std::move(*started);
        auto line = wait_for_line(phone, log("phonesim"), "listening on", 30s, "exhibit-phonesim");
        if (!line)
            return std::unexpected(line.error());
        phone_port = port_of(*line);
    }

    // The DFU store.
    auto tus_args = p.tus;
    tus_args.insert(tus_args.end(), {"--port", "0", "--dir", (work / "dfu").string(), "--http"});
    auto tus = Child::start(tus_args, log("tus"));
    if (!tus)
        return std::unexpected(tus.error());
    auto tus_line = wait_for_line(*tus, log("tus"), "listening", 30s, "the tus server");
    if (!tus_line)
        return std::unexpected(tus_line.error());

    // The bus.
    const auto socket = work / "bus";
    write_file(work / "bus.conf", private_system_bus_config(socket, p.dbus_policy));
    auto bus = Child::start({"dbus-daemon", "--config-file=" + (work / "bus.conf").string(),
                             "--nofork"},
                            log("dbus"));
    if (!bus)
        return std::unexpected(bus.error());
    for (int i = 0; i < 200 && !fs::exists(socket) && bus->running(); ++i)
        std::this_thread::sleep_for(50ms);
    if (!fs::exists(socket))
        return fail(Errc::io, "dbus-daemon did not start (see dbus.log)");
    const std::string address = "unix:path=" + socket.string();

    // exhibitd, with a store of its own.
    write_file(work / "exhibitd.conf",
               exhibitd_config(work, address, usb ? "" : phone_port, port_of(*tus_line)));
    std::vector<std::string> daemon_args = {program("exhibitd"), "--config",
                                            (work / "exhibitd.conf").string()};
    if (usb) {
        // --interfaces takes several values: it goes before the other options, not before "--".
        std::vector<std::string> plug = {"--usb"};
        if (!iphone)
            plug.push_back("--accept-new-keys");
        if (c.transport == "mtp-usb")
            plug.insert(plug.end(), {"--interfaces", "mtp"});
        if (c.transport == "stick-usb") {
            if (auto made = make_stick(c, phone_dir, work / "stick.img"); !made)
                return made;
            plug.insert(plug.end(), {"--stick", (work / "stick.img").string()});
            phone_args.insert(phone_args.begin(), {"env", "TZ=UTC"});
        }
        phone_args.insert(std::ranges::find(phone_args, program("exhibit-phonesim")) + 1,
                          plug.begin(), plug.end());
        phone_args.push_back("--");
        daemon_args.insert(daemon_args.begin(), phone_args.begin(), phone_args.end());
    }
    auto daemon = Child::start(daemon_args, log("exhibitd"));
    if (!daemon)
        return std::unexpected(daemon.error());
    const std::vector<std::string> ctl = {program("exhibitctl"), "--bus", address};
    auto with = [&](std::vector<std::string> args) {
        auto all = ctl;
        all.insert(all.end(), args.begin(), args.end());
        return all;
    };
    if (!poll(with({"status"}), 30s, [](const Ran& r) { return r.status == 0; }))
        return fail(Errc::io, "exhibitd did not answer on its bus (see exhibitd.log)");
    if (!poll(with({"devices"}), 30s,
              [](const Ran& r) { return r.output.find("d1") != std::string::npos; }))
        return fail(Errc::io, "exhibitd did not find the phone (see exhibitd.log)");

    // The extraction, as the case's scope says, urgent so that it is delivered at once.
    std::string categories;
    for (const auto& cat : c.categories)
        categories += (categories.empty() ? "" : ",") + cat;
    std::vector<std::string> extract = {"extract",  "d1",         "--case",     "VALIDATION/" + c.name,
                                        "--exhibit", c.name,       "--officer",  "VALIDATION",
                                        "--basis",  "other",      "--categories", categories,
                                        "--urgent", "--wait",     "--timeout",  "300"};
    if (!c.from.empty())
        extract.insert(extract.end(), {"--from", c.from});
    if (!c.to.empty())
        extract.insert(extract.end(), {"--to", c.to});
    if (!c.numbers.empty())
        extract.insert(extract.end(), {"--numbers", fmt::format("{}", fmt::join(c.numbers, ","))});
    auto extracted = run(with(extract), 330s);
    write_file(work / "extract.txt", extracted.output);
    observed.extract_status = extracted.status;

    // What the DFU store holds, once the queue is empty and the manifest is there.
    auto status = run(with({"--json", "status"}), 30s);
    auto doc = json::parse(status.output, nullptr, false);
    const auto fingerprint =
        verify::json_string(verify::json_member(doc, "health"), "key_fingerprint");
    if (fingerprint.empty())
        return fail(Errc::io, "exhibitctl status gave no key fingerprint: " + status.output);
    const std::vector<std::string> verify_args = {program("exhibit-verify"), "--json",
                                                  "--fingerprint", fingerprint,
                                                  (work / "dfu").string()};
    auto delivered = [&](const Ran& r) {
        auto queue = json::parse(run(with({"--json", "status"}), 30s).output, nullptr, false);
        const auto& q = verify::json_member(queue, "queue");
        if (verify::json_int(q, "items_queued").value_or(1) +
                verify::json_int(q, "items_uploading").value_or(1) !=
            0)
            return false;
        auto report = json::parse(r.output, nullptr, false);
        const auto& sessions = verify::json_member(report, "sessions");
        return sessions.is_array() && !sessions.empty() &&
               !verify::json_string(sessions[0], "manifest").empty();
    };
    auto verified = poll(verify_args, 180s, delivered);
    auto last = verified ? *verified : run(verify_args, 60s);
    observed.verify_text = last.output;
    observed.verify = json::parse(last.output, nullptr, false);
    write_file(work / "exhibit-verify.json", last.output);
    if (!verified)
        return fail(Errc::timeout, "the session did not reach the DFU store within 180 s");
    read_delivered_records(c, work / "dfu", observed);
    return {};
}

}  // namespace

CaseRun run_case(const Case& c, const Programs& programs, const fs::path& work) {
    CaseRun out;
    const auto started = std::chrono::steady_clock::now();
    std::error_code ec;
    fs::remove_all(work, ec);
    fs::create_directories(work, ec);
    if (ec)
        out.problem = fmt::format("cannot make {}: {}", work.string(), ec.message());
    else if (auto s = run_in_world(c, programs, work, out.observed); !s)
        out.problem = s.error().message;
    out.took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
    return out;
}

}  // namespace exhibit::validate
