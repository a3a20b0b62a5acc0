#include "daemon/config/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <optional>
#include <system_error>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "common/fs.hpp"
#include "common/unique_fd.hpp"
#include "daemon/config/config_keys.hpp"

namespace exhibit::config {

namespace {

std::unexpected<Error> config_error(std::string message, int err = 0) {
    return std::unexpected(Error{Errc::config, std::move(message), err});
}

// The file's contents; nullopt when it does not exist. Anything but a readable regular file
// (a directory, a FIFO, a symlink loop, a permission problem) is an error.
Result<std::optional<std::string>> read_config_file(const std::filesystem::path& path) {
    // O_NONBLOCK: a FIFO put in place of the file must not hang the daemon at open.
    int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (raw < 0) {
        int err = errno;
        if (err == ENOENT)
            return std::optional<std::string>{};
        return config_error(fmt::format("{}: cannot read configuration file", path.string()), err);
    }
    UniqueFd fd(raw);
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0)
        return config_error(fmt::format("{}: cannot read configuration file", path.string()),
                            errno);
    if (S_ISDIR(st.st_mode))
        return config_error(fmt::format(
            "{}: cannot read configuration file: it is a directory, not a file", path.string()));
    if (!S_ISREG(st.st_mode))
        return config_error(fmt::format(
            "{}: cannot read configuration file: it is not a regular file", path.string()));

    std::string text;
    std::byte buf[8192];
    for (;;) {
        auto n = fs::read_some(fd.get(), buf);
        if (!n)
            return config_error(fmt::format("{}: cannot read configuration file", path.string()),
                                n.error().sys_errno);
        if (*n == 0)
            break;
        if (text.size() + *n > kMaxConfigFileBytes)
            return config_error(fmt::format("{}: configuration file is larger than {} bytes",
                                            path.string(), kMaxConfigFileBytes));
        text.append(reinterpret_cast<const char*>(buf), *n);
    }
    return std::optional<std::string>(std::move(text));
}

// Parses `text` and applies it onto `out`; the first problem in document order is the error.
Status apply_text(std::string_view text, std::string_view source_name, Config& out) {
    toml::table doc;
    try {
        doc = toml::parse(text, source_name);
    } catch (const toml::parse_error& e) {
        return config_error(fmt::format("{}:{}:{}: TOML syntax error: {}", source_name,
                                        e.source().begin.line, e.source().begin.column,
                                        e.description()));
    }
    std::vector<detail::Problem> problems;
    Config candidate = out;
    detail::apply_document(doc, candidate, problems);
    if (problems.empty()) {
        out = std::move(candidate);
        return {};
    }
    std::stable_sort(problems.begin(), problems.end(), [](const auto& a, const auto& b) {
        return a.line != b.line ? a.line < b.line : a.column < b.column;
    });
    const auto& first = problems.front();
    std::string more;
    if (problems.size() == 2)
        more = " (and 1 more problem)";
    if (problems.size() > 2)
        more = fmt::format(" (and {} more problems)", problems.size() - 1);
    return config_error(fmt::format("{}:{}: {}{}", source_name, first.line, first.message, more));
}

// `<file>.d/*.conf`, hidden files skipped, sorted by file name.
Result<std::vector<std::filesystem::path>> list_drop_ins(const std::filesystem::path& file) {
    auto dir = drop_in_directory(file);
    std::vector<std::filesystem::path> found;
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec == std::errc::no_such_file_or_directory)
        return found;
    if (ec)
        return config_error(fmt::format("{}: cannot list drop-in directory", dir.string()),
                            ec.value());
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
        auto name = it->path().filename().string();
        if (name.starts_with('.') || !name.ends_with(".conf") || name == ".conf")
            continue;
        found.push_back(it->path());
    }
    if (ec)
        return config_error(fmt::format("{}: cannot list drop-in directory", dir.string()),
                            ec.value());
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) {
        return a.filename().string() < b.filename().string();
    });
    return found;
}

// Fills what no file set: kiosk id from the host name, state directory from the environment.
Status apply_defaults(LoadedConfig& loaded, const Environment& env, std::string_view where) {
    auto& c = loaded.config;
    if (c.daemon.kiosk_id.empty()) {
        if (!detail::is_valid_kiosk_id(env.hostname))
            return config_error(fmt::format(
                "{}: \"daemon.kiosk_id\" is not set and the host name \"{}\" is not a valid "
                "kiosk id (1 to 64 characters from A-Z a-z 0-9 . _ -); set kiosk_id under "
                "[daemon]",
                where, env.hostname));
        c.daemon.kiosk_id = env.hostname;
    }
    if (!c.store.state_directory.empty()) {
        loaded.state_directory_source = StateDirectorySource::config_key;
    } else if (env.state_directory && !env.state_directory->empty()) {
        // systemd lists one directory per StateDirectory= entry, separated by ':'.
        std::string_view first = *env.state_directory;
        first = first.substr(0, first.find(':'));
        std::filesystem::path p = std::filesystem::path(first).lexically_normal();
        if (!p.is_absolute() || p == p.root_path())
            return config_error(
                fmt::format("$STATE_DIRECTORY=\"{}\" is not a usable absolute directory; set "
                            "\"store.state_directory\" in {}",
                            *env.state_directory, where));
        if (!p.has_filename())
            p = p.parent_path();
        c.store.state_directory = std::move(p);
        loaded.state_directory_source = StateDirectorySource::environment;
    } else {
        c.store.state_directory = std::filesystem::path(kDefaultStateDirectory);
        loaded.state_directory_source = StateDirectorySource::builtin_default;
    }
    if (!c.monitoring.metrics_directory) {
        const bool service = env.state_directory && !env.state_directory->empty();
        c.monitoring.metrics_directory =
            service ? std::filesystem::path(kDefaultMetricsDirectory) : std::filesystem::path();
    }
    return {};
}

}  // namespace

std::filesystem::path officers_path(const Config& config) {
    return config.kiosk.officers_file.empty() ? config.store.state_directory / "officers"
                                              : config.kiosk.officers_file;
}

Environment Environment::from_process() {
    Environment env;
    if (const char* s = std::getenv("STATE_DIRECTORY"))
        env.state_directory = s;
    char host[HOST_NAME_MAX + 1] = {};
    if (::gethostname(host, sizeof host - 1) == 0)
        env.hostname = host;
    return env;
}

std::filesystem::path drop_in_directory(const std::filesystem::path& file) {
    auto dir = file;
    dir += ".d";
    return dir;
}

Result<LoadedConfig> load_config(const std::filesystem::path& file, bool file_was_explicit,
                                 const Environment& env) {
    LoadedConfig loaded;
    auto main_text = read_config_file(file);
    if (!main_text)
        return std::unexpected(main_text.error());
    if (!*main_text) {
        if (file_was_explicit)
            return config_error(
                fmt::format("{}: configuration file does not exist", file.string()));
        loaded.main_file_missing = true;
    } else {
        if (auto s = apply_text(**main_text, file.string(), loaded.config); !s)
            return std::unexpected(s.error());
        loaded.files_read.push_back(file);
    }

    auto drop_ins = list_drop_ins(file);
    if (!drop_ins)
        return std::unexpected(drop_ins.error());
    for (const auto& path : *drop_ins) {
        auto text = read_config_file(path);
        if (!text)
            return std::unexpected(text.error());
        if (!*text)
            continue;  // removed since the listing
        if (auto s = apply_text(**text, path.string(), loaded.config); !s)
            return std::unexpected(s.error());
        loaded.files_read.push_back(path);
    }

    if (auto s = apply_defaults(loaded, env, file.string()); !s)
        return std::unexpected(s.error());
    return loaded;
}

Result<LoadedConfig> load_config_text(std::string_view text, std::string_view source_name,
                                      const Environment& env) {
    LoadedConfig loaded;
    if (auto s = apply_text(text, source_name, loaded.config); !s)
        return std::unexpected(s.error());
    if (auto s = apply_defaults(loaded, env, source_name); !s)
        return std::unexpected(s.error());
    return loaded;
}

std::vector<std::string> changed_keys(const Config& a, const Config& b) {
    return detail::changed_keys(a, b);
}

bool applied_on_reload(std::string_view key) {
    // What the daemon can change under a running loop without touching the store, the bus
    // name, the credentials or a transfer under way (docs/configuration.md, "on reload").
    constexpr std::string_view kLive[] = {
        "daemon.log_level",
        "adb.network_devices",
        "upload.concurrency",
        "upload.window_start",
        "upload.window_end",
        "upload.max_rate_in_window",
        "upload.max_rate_outside_window",
        "kiosk.notices_directory",
        "kiosk.notice_version",
        "monitoring.evidence_wait_limit_hours",
    };
    return std::ranges::find(kLive, key) != std::end(kLive);
}

std::vector<std::string> known_keys() {
    return detail::key_names();
}

std::string_view to_string(VerifyOnStart v) {
    switch (v) {
        case VerifyOnStart::none:
            return "none";
        case VerifyOnStart::size:
            return "size";
        case VerifyOnStart::full:
            return "full";
    }
    return "?";
}

std::string_view to_string(log::Target t) {
    switch (t) {
        case log::Target::automatic:
            return "auto";
        case log::Target::journal:
            return "journal";
        case log::Target::stderr_only:
            return "stderr";
    }
    return "?";
}

std::string_view to_string(log::Level l) {
    switch (l) {
        case log::Level::error:
            return "error";
        case log::Level::warning:
            return "warning";
        case log::Level::notice:
            return "notice";
        case log::Level::info:
            return "info";
        case log::Level::debug:
            return "debug";
    }
    return "?";
}

std::string_view to_string(StateDirectorySource s) {
    switch (s) {
        case StateDirectorySource::config_key:
            return "store.state_directory";
        case StateDirectorySource::environment:
            return "$STATE_DIRECTORY";
        case StateDirectorySource::builtin_default:
            return "built-in default";
    }
    return "?";
}

}  // namespace exhibit::config
