// exhibitctl: the command line of exhibitd for DFU staff, scripts and tests. Talks to
// exhibitd over D-Bus only (interface/org.exhibit.Exhibit1.xml); docs/exhibitctl.md has the
// commands, the JSON keys and the exit codes.
#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <iostream>

#include <CLI/CLI.hpp>

#include "tools/exhibitctl/commands.hpp"

namespace {

using namespace exhibit::ctl;

std::size_t terminal_columns() {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    if (const char* c = std::getenv("COLUMNS"); c && std::atoi(c) > 0)
        return static_cast<std::size_t>(std::atoi(c));
    return 80;
}

struct Args {
    Globals g;
    int timeout_s = 0;
    std::string device, session, item, lane, address, officer, name;
    ScopeArgs scope;
    ExtractArgs extract;
    bool sync_now = false;
    bool sync_wait = false;
};

void add_scope(CLI::App* cmd, ScopeArgs& scope) {
    cmd->add_option("--categories", scope.categories,
                    "what to take, comma-separated: photos, videos, audio, documents, messages, "
                    "call_log, contacts, apps, device_info; from a USB stick or memory card also "
                    "cctv_export, disk_image")
        ->required()
        ->allow_extra_args(false);  // one value per --categories; build_scope() splits commas
    cmd->add_option("--from", scope.from, "first day, YYYY-MM-DD (UTC, inclusive)");
    cmd->add_option("--to", scope.to, "last day, YYYY-MM-DD (UTC, inclusive)");
    cmd->add_option("--numbers", scope.numbers,
                    "messages and calls only with these phone numbers, comma-separated (at "
                    "most 20)")
        ->allow_extra_args(false);
}

void add_extract(CLI::App& app, Args& a, std::function<Done()>& run) {
    auto* cmd = app.add_subcommand("extract", "start a consented extraction from a device");
    auto& e = a.extract;
    cmd->add_option("DEVICE", e.device, "device id (d1) or object path")->required();
    cmd->add_option("--case", e.kase.case_reference, "case reference")->required();
    cmd->add_option("--exhibit", e.kase.exhibit_reference, "exhibit reference")->required();
    cmd->add_option("--officer", e.kase.officer_id, "officer id")->required();
    add_scope(cmd, e.scope);
    cmd->add_option("--basis", e.kase.basis, "lawful basis: consent or other")
        ->check(CLI::IsMember({"consent", "other"}));
    cmd->add_option("--notice", e.kase.notice_version, "version of the notice shown (consent)");
    cmd->add_option("--agreed-by", e.kase.agreed_by, "who agreed (consent)");
    cmd->add_flag("--urgent", e.urgent, "upload at once, at any hour");
    cmd->add_flag("--wait", e.wait, "follow the session until it completes");
    cmd->add_option("--timeout", a.timeout_s, "with --wait: give up after SECONDS (0: never)");
    cmd->callback([&] { run = [&] { return cmd_extract(a.g, a.extract); }; });
}

void add_commands(CLI::App& app, Args& a, std::function<Done()>& run) {
    app.add_subcommand("status", "the kiosk's health and upload queue")->callback([&] {
        run = [&] { return cmd_status(a.g); };
    });
    app.add_subcommand("devices", "the phones the kiosk sees")->callback([&] {
        run = [&] { return cmd_devices(a.g); };
    });
    auto* preview = app.add_subcommand("preview", "count what an extraction would take");
    preview->add_option("DEVICE", a.device, "device id (d1) or object path")->required();
    add_scope(preview, a.scope);
    preview->callback([&] { run = [&] { return cmd_preview(a.g, a.device, a.scope); }; });
    add_extract(app, a, run);
    app.add_subcommand("sessions", "the extraction sessions of this exhibitd run")->callback([&] {
        run = [&] { return cmd_sessions(a.g); };
    });
    auto* session = app.add_subcommand("session", "one session's state and progress");
    session->add_option("ID", a.session, "session id (3) or object path")->required();
    session->callback([&] { run = [&] { return cmd_session(a.g, a.session); }; });
    auto* receipt = app.add_subcommand("receipt", "a session's receipt for the case file");
    receipt->add_option("ID", a.session, "session id (3) or object path")->required();
    receipt->callback([&] { run = [&] { return cmd_receipt(a.g, a.session); }; });
    app.add_subcommand("queue", "the upload queue to the DFU store")->callback([&] {
        run = [&] { return cmd_queue(a.g); };
    });
    auto* sync = app.add_subcommand("sync", "upload the normal lane now (admin)");
    sync->add_flag("--now", a.sync_now, "upload now, outside the sync window")->required();
    sync->add_flag("--wait", a.sync_wait, "follow the queue until nothing is pending");
    sync->add_option("--timeout", a.timeout_s, "with --wait: give up after SECONDS (0: never)");
    sync->callback([&] { run = [&] { return cmd_sync(a.g, a.sync_wait); }; });
    auto* priority = app.add_subcommand("priority", "move an item's upload to a lane (admin)");
    priority->add_option("ITEM", a.item, "item id")->required();
    priority->add_option("LANE", a.lane, "urgent or normal")->required();
    priority->callback([&] { run = [&] { return cmd_priority(a.g, a.item, a.lane); }; });

    auto* cancel = app.add_subcommand("cancel", "cancel a session or an upload");
    cancel->require_subcommand(1);
    auto* cancel_session = cancel->add_subcommand("session", "stop an extraction (officer)");
    cancel_session->add_option("ID", a.session, "session id (3) or object path")->required();
    cancel_session->callback([&] { run = [&] { return cmd_cancel_session(a.g, a.session); }; });
    auto* cancel_upload = cancel->add_subcommand("upload", "stop uploading an item (admin)");
    cancel_upload->add_option("ITEM", a.item, "item id")->required();
    cancel_upload->callback([&] { run = [&] { return cmd_cancel_upload(a.g, a.item); }; });

    auto* retry = app.add_subcommand("retry", "queue failed uploads again (admin)");
    retry->require_subcommand(1);
    auto* retry_upload = retry->add_subcommand("upload", "queue one failed item again (admin)");
    retry_upload->add_option("ITEM", a.item, "item id")->required();
    retry_upload->callback([&] { run = [&] { return cmd_retry_upload(a.g, a.item); }; });
    auto* retry_manifest =
        retry->add_subcommand("manifest", "queue a session's failed manifest again (admin)");
    retry_manifest->add_option("SESSION", a.session, "session id (3) or object path")->required();
    retry_manifest->callback([&] { run = [&] { return cmd_retry_manifest(a.g, a.session); }; });
    retry->add_subcommand("failed", "queue every failed item and manifest again (admin)")
        ->callback([&] { run = [&] { return cmd_retry_failed(a.g); }; });

    auto* device = app.add_subcommand("device", "manage devices");
    device->require_subcommand(1);
    auto* add = device->add_subcommand("add", "add a phone reachable over ADB on TCP (admin)");
    add->add_option("ADDRESS", a.address, "tcp:HOST:PORT")->required();
    add->callback([&] { run = [&] { return cmd_device_add(a.g, a.address); }; });

    auto* officer = app.add_subcommand("officer", "who may sign in at the kiosk (admin)");
    officer->require_subcommand(1);
    auto* officer_add = officer->add_subcommand(
        "add", "add an officer, or change one's name and PIN; the PIN is read from the terminal "
               "(twice, hidden) or from the first line of standard input");
    officer_add->add_option("ID", a.officer, "officer id: 1 to 32 of A-Z a-z 0-9 . _ -")
        ->required();
    officer_add->add_option("--name", a.name, "the name shown on the kiosk and receipts")
        ->required();
    officer_add->callback([&] { run = [&] { return cmd_officer_add(a.g, a.officer, a.name); }; });
    auto* officer_remove = officer->add_subcommand("remove", "remove an officer");
    officer_remove->add_option("ID", a.officer, "officer id")->required();
    officer_remove->callback([&] { run = [&] { return cmd_officer_remove(a.g, a.officer); }; });
    auto* officer_unlock =
        officer->add_subcommand("unlock", "lift the lock after wrong PINs from an officer id");
    officer_unlock->add_option("ID", a.officer, "officer id")->required();
    officer_unlock->callback([&] { run = [&] { return cmd_officer_unlock(a.g, a.officer); }; });
    officer->add_subcommand("list", "the officers, and which ids are locked")->callback([&] {
        run = [&] { return cmd_officer_list(a.g); };
    });

    app.add_subcommand("reload",
                       "read exhibitd's configuration again; print what was applied and what "
                       "needs a restart (admin)")
        ->callback([&] { run = [&] { return cmd_reload(a.g); }; });

    auto* audit = app.add_subcommand("audit", "the store's audit chain");
    audit->require_subcommand(1);
    audit->add_subcommand("verify", "recompute the audit chain (admin)")->callback([&] {
        run = [&] { return cmd_audit_verify(a.g); };
    });
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "exhibitctl: command line of the exhibit evidence kiosk daemon (exhibitd), over D-Bus.\n"
        "Exit codes: 0 ok, 1 failed, 2 usage, 3 not found or invalid argument, 4 not "
        "authorized,\n5 exhibitd unreachable, 6 session ended not completed, 7 busy or low "
        "disk,\n8 audit chain broken, 9 --timeout ran out, 130 interrupted.",
        "exhibitctl"};
    app.require_subcommand(1);
    app.fallthrough();  // global options may follow the command
    Args a;
    auto* bus = app.add_option("--bus", a.g.bus, "system (default), session, or a D-Bus address")
                    ->envname("EXHIBIT_BUS");
    app.add_option("-H,--host", a.g.host,
                   "[USER@]HOST[:PORT]: exhibitd on that machine, through ssh and "
                   "systemd-stdio-bridge (the ssh program: $EXHIBIT_SSH, default ssh)");
    app.add_flag("--json", a.g.json, "print JSON (stable keys; see docs/exhibitctl.md)");
    std::function<Done()> run;
    add_commands(app, a, run);
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::cerr << "exhibitctl: " << e.what() << " (see exhibitctl --help)\n";
        return to_int(Exit::usage);
    }
    // --host reaches the remote system bus; a --bus on the command line contradicts it (one
    // from $EXHIBIT_BUS is for local use and yields).
    const char* env_bus = std::getenv("EXHIBIT_BUS");
    if (!a.g.host.empty() && bus->count() > 0 && !(env_bus && a.g.bus == env_bus)) {
        std::cerr << "exhibitctl: --host and --bus exclude each other (see exhibitctl --help)\n";
        return to_int(Exit::usage);
    }
    a.g.tty = ::isatty(STDOUT_FILENO) == 1;
    a.g.columns = terminal_columns();
    if (a.timeout_s < 0) {
        std::cerr << "exhibitctl: --timeout must be 0 or more seconds\n";
        return to_int(Exit::usage);
    }
    if (a.timeout_s > 0)
        a.g.wait_timeout = std::chrono::seconds(a.timeout_s);
    if (!run)  // a command group without its command is refused by the parser
        return to_int(Exit::usage);
    auto done = run();
    if (!done) {
        std::cerr << "exhibitctl: " << done.error().message << "\n";
        return to_int(done.error().exit);
    }
    return to_int(Exit::ok);
}
