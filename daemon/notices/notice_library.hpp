// The force's Digital Processing Notices (kiosk.notices_directory): one Markdown file per
// version, "<version>.md". The kiosk shows the current one (kiosk.notice_version, or the
// greatest version name); a consent records the version the person read and the SHA-256 of
// its text, so the manifest ties the agreement to the exact words shown.
//
// The directory is read on every call, so a notice published by the force (and a reload that
// changes the current version) takes effect for the next person without a restart.
// Thread-bound to the loop thread (configure() and reads are not synchronised).
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "common/error.hpp"

namespace exhibit::notices {

inline constexpr std::size_t kMaxNoticeBytes = 256 * 1024;

struct Notice {
    std::string version;
    std::string text;    // Markdown, valid UTF-8
    std::string sha256;  // of text, lowercase hex
};

class NoticeLibrary {
  public:
    NoticeLibrary(std::filesystem::path directory, std::string current_version);
    void configure(std::filesystem::path directory, std::string current_version);

    // Errc::not_found when no notice is installed, or the configured one is missing.
    Result<Notice> current() const;
    // Errc::not_found for a version that is not installed; Errc::corrupt for a file that is
    // not valid UTF-8 or too large.
    Result<Notice> find(std::string_view version) const;

    // What a consent records about the notice shown: {"notice_version": v,
    // "notice_sha256": hash} for an installed notice; a version not installed here (a paper
    // notice, named by exhibitctl) is recorded as given, without a hash.
    Result<nlohmann::json> consent_record(std::string_view version) const;

  private:
    std::filesystem::path directory_;
    std::string current_;
};

}  // namespace exhibit::notices
