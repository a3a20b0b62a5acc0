// exhibit-validate: runs a validation pack end to end and writes its report (docs/validation.md).
#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "common/clock.hpp"
#include "tools/exhibit-validate/case_run.hpp"
#include "tools/exhibit-validate/child.hpp"
#include "tools/exhibit-validate/pack.hpp"
#include "tools/exhibit-validate/report.hpp"

using namespace exhibit;
using namespace exhibit::validate;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

int usage(const std::string& why) {
    std::cerr << "exhibit-validate: " << why << "\n";
    return 2;
}

// The folder of this program: exhibitd and its tools are installed beside it.
fs::path own_folder() {
    std::error_code ec;
    auto self = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path(".") : self.parent_path();
}

std::string first_line(const std::string& text) {
    return text.substr(0, text.find('\n'));
}

std::string host_facts() {
    std::string os = "unknown OS";
    std::ifstream release("/etc/os-release");
    for (std::string line; std::getline(release, line);)
        if (line.starts_with("PRETTY_NAME=")) {
            os = line.substr(12);
            if (os.size() >= 2 && os.front() == '"' && os.back() == '"')
                os = os.substr(1, os.size() - 2);
        }
    struct utsname u {};
    ::uname(&u);
    return fmt::format("{}; {} {} {}; {} processors", os, u.sysname, u.release, u.machine,
                       ::sysconf(_SC_NPROCESSORS_ONLN));
}

std::vector<std::string> words(const std::string& command) {
    std::istringstream in(command);
    std::vector<std::string> out;
    for (std::string w; in >> w;)
        out.push_back(w);
    return out;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{
        "exhibit-validate: run a validation pack against this build of exhibit: known-answer\n"
        "phones made by exhibit-phonesim, extracted by a private exhibitd and delivered to a\n"
        "tus server on 127.0.0.1, compared with the expected results; writes report.html and\n"
        "report.pdf. Never touches the kiosk's own store or bus.\n"
        "Exit codes: 0 every case passed, 1 a case failed, 2 usage, an unreadable pack, or no "
        "report.",
        "exhibit-validate"};
    std::string pack_dir = "/usr/share/exhibit/validation", out_dir, tus_command;
    std::string bin;
    std::string policy = "/usr/share/dbus-1/system.d/org.exhibit.Exhibit1.conf";
    std::string pdf_tool = "weasyprint";
    std::vector<std::string> only;
    app.add_option("--pack", pack_dir, "the pack's folder")->capture_default_str();
    app.add_option("--out", out_dir, "where the report and each case's work folder go")
        ->required();
    app.add_option("--tus-server", tus_command,
                   "the DFU store to deliver to: a tus server's command, run with --port 0 --dir "
                   "DIR --http, that prints \"listening PORT\"")
        ->required();
    app.add_option("--bin", bin,
                   "the folder of exhibitd, exhibitctl, exhibit-phonesim and exhibit-verify "
                   "(default: this program's folder if exhibitd is there, as in a build tree; "
                   "else PATH)");
    app.add_option("--dbus-policy", policy, "exhibit's D-Bus policy file")->capture_default_str();
    app.add_option("--pdf-tool", pdf_tool, "HTML to PDF: weasyprint")->capture_default_str();
    app.add_option("--case", only, "run only these cases (their folder names)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        return usage(std::string(e.what()) + " (see exhibit-validate --help)");
    }
    auto pack = load_pack(fs::absolute(pack_dir));
    if (!pack)
        return usage(pack.error().message);
    // dbus-daemon reads an include relative to its configuration file's folder.
    if (bin.empty() && fs::exists(own_folder() / "exhibitd"))
        bin = own_folder().string();
    Programs programs{.bin = bin.empty() ? fs::path() : fs::absolute(bin),
                      .tus = words(tus_command),
                      .dbus_policy = fs::absolute(policy)};
    if (programs.tus.empty())
        return usage("--tus-server is empty");

    RunFacts facts;
    facts.started_utc = format_utc_ms(Clock::system().now());
    facts.host = host_facts();
    facts.tus_server = tus_command;
    auto version = run({programs.program("exhibitd"), "--version"}, 30s);
    if (version.status != 0)
        return usage(fmt::format("{} --version failed: {}", programs.program("exhibitd"),
                                 version.output));
    facts.exhibit_version = first_line(version.output);

    std::vector<CaseResult> results;
    for (const auto& c : pack->cases) {
        if (!only.empty() && std::ranges::find(only, c.name) == only.end())
            continue;
        std::cout << "== " << c.name << ": " << c.title << std::endl;
        auto ran = run_case(c, programs, fs::path(out_dir) / "cases" / c.name);
        CaseResult r{.c = &c, .problem = ran.problem, .took = ran.took};
        if (ran.problem.empty() || ran.observed.verify.is_object())
            r.checks = compare(c, ran.observed);
        int failed = 0;
        for (const auto& k : r.checks)
            if (!k.pass && failed++ < 5)
                std::cout << "   FAIL " << k.what << ": expected " << k.expected << "; observed "
                          << k.observed << "\n";
        if (!r.problem.empty())
            std::cout << "   the case could not run: " << r.problem << "\n";
        std::cout << (r.pass() ? "PASS " : "FAIL ") << c.name << " (" << r.checks.size()
                  << " checks, " << fmt::format("{:.1f}", static_cast<double>(r.took.count()) / 1000)
                  << " s)" << std::endl;
        results.push_back(std::move(r));
    }
    if (results.empty())
        return usage("no case of the pack matches --case");

    const auto html = fs::path(out_dir) / "report.html";
    std::ofstream(html, std::ios::binary | std::ios::trunc) << render_html(*pack, results, facts);
    if (auto s = write_pdf(pdf_tool, html, fs::path(out_dir) / "report.pdf"); !s)
        return usage(s.error().message);
    const auto passed = std::ranges::count_if(results, [](const CaseResult& r) { return r.pass(); });
    std::cout << fmt::format("{} of {} cases passed; report: {} and report.pdf", passed,
                             results.size(), html.string())
              << std::endl;
    return passed == static_cast<std::ptrdiff_t>(results.size()) ? 0 : 1;
}
