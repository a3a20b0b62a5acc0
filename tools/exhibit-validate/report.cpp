#include "tools/exhibit-validate/report.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "tools/exhibit-validate/child.hpp"

namespace exhibit::validate {

using namespace std::chrono_literals;

bool CaseResult::pass() const {
    return problem.empty() && !checks.empty() &&
           std::ranges::all_of(checks, [](const Check& k) { return k.pass; });
}

namespace {

std::string esc(std::string_view text) {
    std::string out;
    for (char ch : text) {
        switch (ch) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&quot;"; break;
        default:
            out += static_cast<unsigned char>(ch) < 0x20 && ch != '\n' ? '?' : ch;
        }
    }
    return out;
}

const char* verdict(bool pass) {
    return pass ? R"(<span class="pass">PASS</span>)" : R"(<span class="fail">FAIL</span>)";
}

constexpr const char* kStyle = R"(
@page { size: A4; margin: 16mm 14mm; @bottom-right { content: "page " counter(page) " of " counter(pages); font-size: 8pt; } }
body { font-family: "DejaVu Sans", sans-serif; font-size: 9.5pt; color: #111; }
h1 { font-size: 17pt; margin-bottom: 2pt; } h2 { font-size: 13pt; margin-top: 18pt; border-bottom: 1px solid #999; }
h3 { font-size: 11pt; margin: 14pt 0 4pt; }
table { border-collapse: collapse; width: 100%; margin: 4pt 0 8pt; }
th, td { border: 1px solid #bbb; padding: 3pt 5pt; text-align: left; vertical-align: top; }
th { background: #eef1f6; }
td { overflow-wrap: anywhere; }
table.checks, table.reqs { table-layout: fixed; }
table.checks th:nth-child(1) { width: 27%; }
table.checks th:nth-child(2), table.checks th:nth-child(3) { width: 26%; }
table.checks th:nth-child(4) { width: 8%; }
table.reqs th:nth-child(1) { width: 5%; } table.reqs th:nth-child(2) { width: 51%; }
table.reqs th:nth-child(3) { width: 22%; } table.reqs th:nth-child(4) { width: 9%; }
td.hash, code { font-family: "DejaVu Sans Mono", monospace; font-size: 7pt; word-break: break-all; }
.pass { color: #0b6b2b; font-weight: bold; } .fail { color: #b00020; font-weight: bold; }
.summary { font-size: 12pt; margin: 8pt 0; } .small { color: #444; font-size: 8.5pt; }
section.case { page-break-inside: auto; } tr { page-break-inside: avoid; }
)";

}  // namespace

std::string render_html(const Pack& pack, const std::vector<CaseResult>& results,
                        const RunFacts& facts) {
    const auto passed = std::ranges::count_if(results, [](const CaseResult& r) { return r.pass(); });
    const bool all = passed == static_cast<std::ptrdiff_t>(results.size());
    std::string h = fmt::format(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<title>exhibit validation report: {}</title><style>{}</style></head><body>\n",
        esc(pack.name), kStyle);
    h += fmt::format("<h1>exhibit validation report</h1><p class=\"small\">pack “{}”, run {}</p>\n",
                     esc(pack.name), esc(facts.started_utc));
    h += fmt::format("<p class=\"summary\">{}: {} of {} cases passed.</p>\n", verdict(all), passed,
                     results.size());

    h += "<h2>What ran</h2><table>";
    h += fmt::format("<tr><th>software under test</th><td>{}</td></tr>",
                     esc(facts.exhibit_version));
    h += fmt::format("<tr><th>host</th><td>{}</td></tr>", esc(facts.host));
    h += fmt::format("<tr><th>DFU store (tus server)</th><td><code>{}</code></td></tr>",
                     esc(facts.tus_server));
    h += fmt::format("<tr><th>pack</th><td><code>{}</code></td></tr></table>\n",
                     esc(pack.dir.string()));

    h += "<h2>Requirements</h2><table class=\"reqs\"><tr><th>id</th><th>requirement</th><th>cases</th>"
         "<th>result</th></tr>";
    for (const auto& req : pack.requirements) {
        std::string cases;
        bool ok = true, any = false;
        for (const auto& r : results)
            if (std::ranges::find(r.c->requirements, req.id) != r.c->requirements.end()) {
                cases += (cases.empty() ? "" : ", ") + esc(r.c->name);
                ok = ok && r.pass();
                any = true;
            }
        h += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", esc(req.id),
                         esc(req.text), any ? cases : "none in this run",
                         any ? verdict(ok) : "not tested");
    }
    h += "</table>\n<h2>Cases</h2>\n";

    for (const auto& r : results) {
        const auto& c = *r.c;
        h += fmt::format("<section class=\"case\"><h3>{} {}: {}</h3>", verdict(r.pass()),
                         esc(c.name), esc(c.title));
        std::string scope;
        for (const auto& cat : c.categories)
            scope += (scope.empty() ? "" : ", ") + cat;
        if (!c.from.empty() || !c.to.empty())
            scope += fmt::format("; from {} to {}", c.from.empty() ? "the first day" : c.from,
                                 c.to.empty() ? "today" : c.to);
        if (!c.numbers.empty())
            scope += fmt::format("; messages and calls only with {}", fmt::join(c.numbers, ", "));
        std::string reqs;
        for (const auto& id : c.requirements)
            reqs += (reqs.empty() ? "" : ", ") + id;
        std::string source = fmt::format("phone: exhibit-phonesim --generate --seed {}{}, reached by ",
                                         c.seed, c.scenario.is_null() ? "" : " with a hostile scenario");
        if (c.transport == "adb-tcp")
            source += "ADB over TCP";
        else if (c.transport == "adb-usb")
            source += "ADB over USB (emulated bus)";
        else if (c.transport == "mtp-usb")
            source += "MTP over USB (emulated bus; USB debugging off)";
        else if (c.transport == "iphone-usb")
            source = fmt::format("iPhone: exhibit-phonesim --generate --iphone --seed {}{}, "
                                 "trusting the kiosk, reached by AFC through usbmuxd over USB "
                                 "(emulated bus)",
                                 c.seed, c.scenario.is_null() ? "" : " with a hostile scenario");
        else
            source = fmt::format("USB stick (emulated bus): FAT32, made with mkfs.vfat and mcopy "
                                 "from the folders {} of exhibit-phonesim --generate --seed {}",
                                 fmt::join(c.stick.folders, ", "), c.seed);
        std::string expected = fmt::format("{} expected items", c.items.size());
        if (!c.records.empty())
            expected += fmt::format(", {} expected record items", c.records.size());
        if (!c.skipped.empty())
            expected += fmt::format(", {} expected skipped", c.skipped.size());
        h += fmt::format("<p class=\"small\">requirements {}; {}; scope: {}; {}; took {:.1f} s</p>",
                         esc(reqs), esc(source), esc(scope), expected,
                         static_cast<double>(r.took.count()) / 1000.0);
        if (!r.problem.empty())
            h += fmt::format("<p class=\"fail\">The case could not run: {}</p>", esc(r.problem));
        h += "<table class=\"checks\"><tr><th>check</th><th>expected</th><th>observed</th>"
             "<th></th></tr>";
        for (const auto& k : r.checks)
            h += fmt::format("<tr><td>{}</td><td class=\"hash\">{}</td><td class=\"hash\">{}</td>"
                             "<td>{}</td></tr>",
                             esc(k.what), esc(k.expected), esc(k.observed), verdict(k.pass));
        h += "</table></section>\n";
    }

    h += "<h2>Known limits of the method and of this pack</h2><ul>";
    for (const auto& l : pack.limits)
        h += fmt::format("<li>{}</li>", esc(l));
    h += "</ul>\n</body></html>\n";
    return h;
}

Status write_pdf(const std::string& tool, const std::filesystem::path& html,
                 const std::filesystem::path& pdf) {
    auto ran = run({tool, html.string(), pdf.string()}, 300s);
    if (ran.status != 0)
        return fail(Errc::io, fmt::format("{} could not make the PDF (exit {}): {}", tool,
                                          ran.status, ran.output));
    return {};
}

}  // namespace exhibit::validate
