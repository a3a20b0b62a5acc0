// exhibitd: the evidence kiosk daemon. Exit codes: 0 clean stop, 1 runtime or startup failure,
// 64 bad command line (EX_USAGE), 76 a catalog from a newer exhibit (EX_PROTOCOL: a
// downgrade; restarting cannot fix it), 78 bad configuration (EX_CONFIG).
// exhibitd --undelivered: 0 every item has a DFU receipt, 3 some have none, 1 cannot tell.
#include <sys/resource.h>
#include <sysexits.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <exhibit/version.hpp>

#include "common/log.hpp"
#include "daemon/config/config.hpp"
#include "daemon/exhibitd/daemon.hpp"
#include "daemon/exhibitd/message_ids.hpp"
#include "daemon/loop/notify.hpp"
#include "daemon/store/store.hpp"

namespace {

using namespace exhibit;

// Before logging is configured, errors go to stderr as one line (the journal under systemd).
int startup_error(int code, std::string_view message) {
    std::fputs(fmt::format("exhibitd: {}\n", message).c_str(), stderr);
    (void)loop::notify_status(message);
    return code;
}

// Every item waiting for its batch's commit holds its spool file open (a few batches of up
// to 256 per phone: one filling, one flushing, one being catalogued, one waiting for each),
// besides SQLite, libusb, curl and D-Bus: the 1024 descriptors a service gets by default are
// too few for several phones at once. The soft limit goes up to the hard one
// (systemd gives services 524288), capped at 65536; exhibitd never select()s.
void raise_open_file_limit() {
    constexpr rlim_t kWanted = 65536;
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= std::min(r.rlim_max, kWanted))
        return;
    r.rlim_cur = std::min(r.rlim_max, kWanted);
    if (::setrlimit(RLIMIT_NOFILE, &r) != 0)
        log::event(log::Level::warning, exhibitd::message_id::kOpenFileLimit,
                   fmt::format("cannot raise the open file limit to {}: {}", r.rlim_cur,
                               std::strerror(errno)),
                   {log::field::error_class(Errc::io)});
}

// exhibitd --undelivered: what the package's removal scripts ask before a purge may delete
// the store. Runs with the daemon stopped, as the daemon's user.
constexpr int kSomeUndelivered = 3;
int report_undelivered(const config::Config& cfg) {
    const auto& dir = cfg.store.state_directory;
    auto count = store::count_undelivered(dir);
    if (!count) {
        std::fputs(fmt::format("exhibitd: cannot tell what {} holds: {}\n", dir.string(),
                               count.error().describe())
                       .c_str(),
                   stderr);
        return EXIT_FAILURE;
    }
    std::fputs(fmt::format("{}: {} items, {} without a DFU receipt\n", dir.string(),
                           count->items, count->undelivered)
                   .c_str(),
               stdout);
    return count->undelivered == 0 ? EXIT_SUCCESS : kSomeUndelivered;
}

int run(int argc, char** argv) {
    CLI::App app{"exhibitd: evidence kiosk daemon", "exhibitd"};
    std::string config_file(config::kDefaultConfigFile);
    bool show_version = false;
    auto* config_option =
        app.add_option("-c,--config", config_file, "configuration file (drop-ins: FILE.d/*.conf)");
    config_option->default_str(std::string(config::kDefaultConfigFile));
    app.add_flag("--version", show_version, "print the version and exit");
    bool undelivered = false;
    app.add_flag("--undelivered", undelivered,
                 "count the store's items without a DFU receipt and exit (exit code 3 if any)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);  // prints --help output, or the error and a usage hint
        return code == 0 ? EXIT_SUCCESS : EX_USAGE;
    }
    if (show_version) {
        std::fputs(fmt::format("exhibitd {}\n", kVersion).c_str(), stdout);
        return EXIT_SUCCESS;
    }

    bool explicit_file = config_option->count() > 0;
    auto loaded =
        config::load_config(config_file, explicit_file, config::Environment::from_process());
    if (!loaded)
        return startup_error(EX_CONFIG, loaded.error().describe());
    const config::Config& cfg = loaded->config;
    if (undelivered)
        return report_undelivered(cfg);

    log::configure(cfg.daemon.log_target, cfg.daemon.log_level);
    if (loaded->main_file_missing)
        log::event(
            log::Level::notice, exhibitd::message_id::kNoConfigFile,
            fmt::format("no configuration file at {}; using built-in defaults", config_file));
    for (const auto& f : loaded->files_read)
        log::debug("read configuration from {}", f.string());
    log::debug("state directory {} (from {})", cfg.store.state_directory.string(),
               config::to_string(loaded->state_directory_source));

    raise_open_file_limit();
    auto daemon =
        exhibitd::Daemon::start(cfg, {.file = config_file, .explicit_file = explicit_file});
    if (!daemon) {
        auto message = daemon.error().describe();
        log::event(log::Level::error, exhibitd::message_id::kStartupFailed,
                   fmt::format("startup failed: {}", message),
                   {log::field::error_class(daemon.error())});
        (void)loop::notify_status(fmt::format("Startup failed: {}", message));
        // A catalog from a newer exhibit (a downgrade) stays untouched however often
        // exhibitd restarts: the unit's RestartPreventExitStatus= stops the loop.
        return daemon.error().code == Errc::unsupported ? EX_PROTOCOL : EXIT_FAILURE;
    }
    return (*daemon)->run();
}

}  // namespace

int main(int argc, char** argv) {
    try {
        return run(argc, argv);
    } catch (const std::exception& e) {
        std::fputs(fmt::format("exhibitd: fatal: {}\n", e.what()).c_str(), stderr);
    } catch (...) {
        std::fputs("exhibitd: fatal: unknown exception\n", stderr);
    }
    return EXIT_FAILURE;
}
