// The validation report: the requirements, each case with its expected and observed results
// and its verdict, the software and host that ran it, and the method's known limits. Written
// as HTML; the PDF is made from it by WeasyPrint (Debian's weasyprint), not drawn here.
#pragma once

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tools/exhibit-validate/pack.hpp"

namespace exhibit::validate {

struct CaseResult {
    const Case* c = nullptr;
    std::vector<Check> checks;
    std::string problem;  // the world could not be set up
    std::chrono::milliseconds took{0};
    bool pass() const;
};

struct RunFacts {
    std::string exhibit_version;  // exhibitd --version
    std::string host;             // uname and the OS release
    std::string started_utc;      // "2026-12-07T06:10:00.000Z"
    std::string tus_server;       // the DFU store's command line
};

std::string render_html(const Pack& pack, const std::vector<CaseResult>& results,
                        const RunFacts& facts);

// Runs `tool` (weasyprint) on `html`, writing `pdf`; an error with the tool's words.
Status write_pdf(const std::string& tool, const std::filesystem::path& html,
                 const std::filesystem::path& pdf);

}  // namespace exhibit::validate
