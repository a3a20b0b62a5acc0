#include "daemon/config/config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace exhibit::config {
namespace {

namespace stdfs = std::filesystem;
using ::testing::HasSubstr;

class ConfigTest : public ::testing::Test {
  protected:
    void SetUp() override {
        std::string tmpl = (stdfs::temp_directory_path() / "exhibit-config-XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        dir_ = tmpl;
        file_ = dir_ / "exhibitd.conf";
        env_.hostname = "kiosk-host";
    }
    void TearDown() override {
        std::error_code ec;
        stdfs::remove_all(dir_, ec);
    }

    static void write(const stdfs::path& path, std::string_view text) {
        stdfs::create_directories(path.parent_path());
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out << text;
        ASSERT_TRUE(out.good()) << path;
    }

    // The error message of a load that must fail with Errc::config.
    std::string load_error(bool explicit_file = true) {
        auto r = load_config(file_, explicit_file, env_);
        if (r) {
            ADD_FAILURE() << "expected " << file_ << " to be refused";
            return {};
        }
        EXPECT_EQ(r.error().code, Errc::config) << r.error().describe();
        return r.error().describe();
    }

    stdfs::path dir_;
    stdfs::path file_;
    Environment env_;
};

TEST_F(ConfigTest, GoodFileRoundTripsIntoTheStruct) {
    write(file_, R"(# exhibitd test configuration
[daemon]
kiosk_id = "kiosk-07.north_station"
log_target = "stderr"
log_level = "debug"
watchdog = false

[store]
state_directory = "/srv/evidence/"
verify_on_start = "full"
min_free_mb = 0
)");
    auto r = load_config(file_, true, env_);
    ASSERT_TRUE(r) << r.error().describe();

    Config expected;
    expected.daemon.kiosk_id = "kiosk-07.north_station";
    expected.daemon.log_target = log::Target::stderr_only;
    expected.daemon.log_level = log::Level::debug;
    expected.daemon.watchdog = false;
    expected.store.state_directory = "/srv/evidence";
    expected.store.verify_on_start = VerifyOnStart::full;
    expected.store.min_free_mb = 0;
    expected.monitoring.metrics_directory = stdfs::path();  // not run as a service
    EXPECT_EQ(r->config, expected);
    EXPECT_FALSE(r->main_file_missing);
    EXPECT_EQ(r->files_read, std::vector<stdfs::path>{file_});
    EXPECT_EQ(r->state_directory_source, StateDirectorySource::config_key);
}

TEST_F(ConfigTest, EmptyFileGivesDocumentedDefaults) {
    write(file_, "");
    auto r = load_config(file_, true, env_);
    ASSERT_TRUE(r) << r.error().describe();
    const auto& c = r->config;
    EXPECT_EQ(c.daemon.kiosk_id, "kiosk-host");
    EXPECT_EQ(c.daemon.log_target, log::Target::automatic);
    EXPECT_EQ(c.daemon.log_level, log::Level::info);
    EXPECT_TRUE(c.daemon.watchdog);
    EXPECT_EQ(c.store.state_directory, stdfs::path("/var/lib/exhibit"));
    EXPECT_EQ(c.store.verify_on_start, VerifyOnStart::size);
    EXPECT_EQ(c.store.min_free_mb, 2048u);
    EXPECT_EQ(c.store.min_free_bytes(), 2048ull * 1024 * 1024);
    EXPECT_EQ(r->state_directory_source, StateDirectorySource::builtin_default);
}

TEST_F(ConfigTest, DropInsOverrideInLexicalOrder) {
    write(file_, "[daemon]\nlog_level = \"debug\"\n[store]\nmin_free_mb = 100\n");
    auto d = drop_in_directory(file_);
    EXPECT_EQ(d, dir_ / "exhibitd.conf.d");
    write(d / "10-first.conf", "[store]\nmin_free_mb = 200\n[daemon]\nlog_level = \"warning\"\n");
    write(d / "20-second.conf", "[store]\nmin_free_mb = 300\nverify_on_start = \"none\"\n");
    // Lexical, not numeric: "9-last" sorts after "20-second".
    write(d / "9-last.conf", "[store]\nmin_free_mb = 900\n");
    // Ignored: not *.conf, hidden.
    write(d / "README", "this is not TOML [");
    write(d / "30-disabled.conf.bak", "[nope]\n");
    write(d / ".hidden.conf", "[nope]\n");

    auto r = load_config(file_, true, env_);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->config.store.min_free_mb, 900u);
    EXPECT_EQ(r->config.store.verify_on_start, VerifyOnStart::none);
    EXPECT_EQ(r->config.daemon.log_level, log::Level::warning);
    EXPECT_EQ(r->files_read, (std::vector<stdfs::path>{file_, d / "10-first.conf",
                                                       d / "20-second.conf", d / "9-last.conf"}));
}

TEST_F(ConfigTest, MissingDefaultFileUsesDefaultsAndSaysSo) {
    auto r = load_config(file_, false, env_);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_TRUE(r->main_file_missing);
    EXPECT_TRUE(r->files_read.empty());
    Config expected;
    expected.daemon.kiosk_id = "kiosk-host";
    expected.store.state_directory = "/var/lib/exhibit";
    expected.monitoring.metrics_directory = stdfs::path();
    EXPECT_EQ(r->config, expected);
}

TEST_F(ConfigTest, DropInsApplyEvenWhenTheDefaultFileIsMissing) {
    write(drop_in_directory(file_) / "50-site.conf", "[daemon]\nkiosk_id = \"site-1\"\n");
    auto r = load_config(file_, false, env_);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_TRUE(r->main_file_missing);
    EXPECT_EQ(r->config.daemon.kiosk_id, "site-1");
}

TEST_F(ConfigTest, MissingExplicitFileIsAnError) {
    auto message = load_error(true);
    EXPECT_THAT(message, HasSubstr(file_.string()));
    EXPECT_THAT(message, HasSubstr("does not exist"));
}

TEST_F(ConfigTest, UnknownKeyNamesFileLineAndKey) {
    write(file_, "[store]\nmin_free_mb = 10\nverfy_on_start = \"full\"\n");
    auto message = load_error();
    EXPECT_THAT(message, HasSubstr(file_.string() + ":3: unknown key \"store.verfy_on_start\""));
    EXPECT_THAT(message, HasSubstr("did you mean \"store.verify_on_start\"?"));
}

TEST_F(ConfigTest, KeyAboveEveryTableIsUnknownWithAHint) {
    write(file_, "kiosk_id = \"k1\"\n[daemon]\n");
    auto message = load_error();
    EXPECT_THAT(message, HasSubstr(file_.string() + ":1: unknown key \"kiosk_id\""));
    EXPECT_THAT(message, HasSubstr("[daemon]"));
}

TEST_F(ConfigTest, UnknownTableNamesFileLineAndTable) {
    write(file_, "[daemon]\nwatchdog = true\n\n[adbx]\nport = 5037\n");
    auto message = load_error();
    EXPECT_THAT(message, HasSubstr(file_.string() + ":4: unknown table [adbx]"));
    EXPECT_THAT(message, HasSubstr("known tables: [daemon], [store]"));
}

TEST_F(ConfigTest, NestedUnknownTableIsRefused) {
    write(file_, "[store]\n[store.extra]\nx = 1\n");
    EXPECT_THAT(load_error(), HasSubstr(file_.string() + ":2: unknown table [store.extra]"));
}

TEST_F(ConfigTest, WrongTypeSaysWhatIsAllowed) {
    write(file_, "[daemon]\nwatchdog = \"yes\"\n");
    auto message = load_error();
    EXPECT_THAT(message, HasSubstr(file_.string() + ":2: bad value for \"daemon.watchdog\": "
                                                    "expected a boolean (true or false), got a "
                                                    "string"));
}

TEST_F(ConfigTest, KnownTableGivenAsAValueIsRefused) {
    write(file_, "daemon = 5\n");
    EXPECT_THAT(load_error(), HasSubstr(file_.string() + ":1: bad value for \"daemon\": expected "
                                                         "a table ([daemon]), got an integer"));
}

TEST_F(ConfigTest, OutOfRangeIntegerSaysTheRange) {
    write(file_, "[store]\n\nmin_free_mb = -1\n");
    auto message = load_error();
    EXPECT_THAT(message, HasSubstr(file_.string() + ":3: bad value for \"store.min_free_mb\": "
                                                    "expected an integer from 0 to 16777216 "
                                                    "(megabytes), got -1"));
}

TEST_F(ConfigTest, FloatWhereIntegerExpectedIsAWrongType) {
    write(file_, "[store]\nmin_free_mb = 2048.0\n");
    EXPECT_THAT(load_error(), HasSubstr(":2: bad value for \"store.min_free_mb\": expected an "
                                        "integer from 0 to 16777216 (megabytes), got a "
                                        "floating-point number"));
}

TEST_F(ConfigTest, UnknownChoiceListsTheAllowedOnes) {
    write(file_, "[daemon]\nlog_level = \"verbose\"\n");
    EXPECT_THAT(load_error(),
                HasSubstr(":2: bad value for \"daemon.log_level\": expected one of \"error\", "
                          "\"warning\", \"notice\", \"info\", \"debug\", got \"verbose\""));
    write(file_, "[store]\nverify_on_start = \"quick\"\n");
    EXPECT_THAT(load_error(), HasSubstr(":2: bad value for \"store.verify_on_start\": expected "
                                        "one of \"none\", \"size\", \"full\", got \"quick\""));
    write(file_, "[daemon]\nlog_target = \"syslog\"\n");
    EXPECT_THAT(load_error(), HasSubstr("expected one of \"auto\", \"journal\", \"stderr\""));
}

TEST_F(ConfigTest, KioskIdIsChecked) {
    write(file_, "[daemon]\nkiosk_id = \"kiosk 7\"\n");
    EXPECT_THAT(load_error(), HasSubstr(":2: bad value for \"daemon.kiosk_id\": expected a string "
                                        "of 1 to 64 characters from A-Z a-z 0-9 . _ -, got "
                                        "\"kiosk 7\""));
    write(file_, "[daemon]\nkiosk_id = \"\"\n");
    EXPECT_THAT(load_error(), HasSubstr("\"daemon.kiosk_id\""));
    write(file_, "[daemon]\nkiosk_id = \"" + std::string(65, 'k') + "\"\n");
    EXPECT_THAT(load_error(), HasSubstr("\"daemon.kiosk_id\""));
    write(file_, "[daemon]\nkiosk_id = \"" + std::string(64, 'k') + "\"\n");
    EXPECT_TRUE(load_config(file_, true, env_));
}

TEST_F(ConfigTest, StateDirectoryMustBeAbsolute) {
    write(file_, "[store]\nstate_directory = \"var/lib/exhibit\"\n");
    EXPECT_THAT(load_error(), HasSubstr(":2: bad value for \"store.state_directory\": expected an "
                                        "absolute directory path"));
    write(file_, "[store]\nstate_directory = \"/\"\n");
    EXPECT_THAT(load_error(), HasSubstr("\"store.state_directory\""));
}

TEST_F(ConfigTest, SyntaxErrorGivesLineAndColumn) {
    write(file_, "[daemon]\nlog_level = \"info\nwatchdog = true\n");
    auto message = load_error();
    EXPECT_THAT(message, HasSubstr(file_.string() + ":2:"));
    EXPECT_THAT(message, HasSubstr("TOML syntax error"));
}

TEST_F(ConfigTest, DuplicateKeyIsASyntaxError) {
    write(file_, "[store]\nmin_free_mb = 1\nmin_free_mb = 2\n");
    auto message = load_error();
    EXPECT_THAT(message, HasSubstr(file_.string() + ":3:"));
    EXPECT_THAT(message, HasSubstr("TOML syntax error"));
}

TEST_F(ConfigTest, ErrorInADropInNamesTheDropIn) {
    write(file_, "[store]\nmin_free_mb = 1\n");
    auto bad = drop_in_directory(file_) / "20-bad.conf";
    write(bad, "\n[store]\nmin_free_mb = true\n");
    auto message = load_error();
    EXPECT_THAT(message, HasSubstr(bad.string() + ":3: bad value for \"store.min_free_mb\""));
}

TEST_F(ConfigTest, SeveralProblemsReportTheFirstInTheFile) {
    write(file_, "[store]\nzzz = 1\n[daemon]\naaa = 2\n");
    auto message = load_error();
    EXPECT_THAT(message, HasSubstr(":2: unknown key \"store.zzz\" (and 1 more problem)"));
}

TEST_F(ConfigTest, DirectoryInPlaceOfTheFileIsUnreadable) {
    stdfs::create_directories(file_);
    auto message = load_error(false);  // present but unusable: an error even at the default path
    EXPECT_THAT(message, HasSubstr(file_.string() + ": cannot read configuration file"));
    EXPECT_THAT(message, HasSubstr("directory"));
}

TEST_F(ConfigTest, SymlinkLoopIsUnreadable) {
    // EACCES cannot be provoked as root (tests run as root); ELOOP can, and takes the same path.
    ASSERT_EQ(::symlink(file_.c_str(), file_.c_str()), 0);
    auto message = load_error(false);
    EXPECT_THAT(message, HasSubstr(file_.string() + ": cannot read configuration file"));
    EXPECT_THAT(message, HasSubstr("symbolic links"));
}

TEST_F(ConfigTest, FifoInPlaceOfTheFileIsRefusedWithoutHanging) {
    ASSERT_EQ(::mkfifo(file_.c_str(), 0600), 0);
    EXPECT_THAT(load_error(), HasSubstr("not a regular file"));
}

TEST_F(ConfigTest, PermissionDeniedIsUnreadableWhenNotRoot) {
    write(file_, "[daemon]\n");
    ASSERT_EQ(::chmod(file_.c_str(), 0), 0);
    if (::geteuid() == 0) {
        // Root reads it anyway; the file must then load normally, not be misreported.
        EXPECT_TRUE(load_config(file_, true, env_));
        return;
    }
    EXPECT_THAT(load_error(), HasSubstr("Permission denied"));
}

TEST_F(ConfigTest, DropInPathThatIsNotADirectoryIsAnError) {
    write(file_, "");
    write(drop_in_directory(file_), "not a directory");
    EXPECT_THAT(load_error(), HasSubstr(drop_in_directory(file_).string()));
}

TEST_F(ConfigTest, StateDirectoryComesFromTheEnvironmentWhenTheKeyIsAbsent) {
    write(file_, "[daemon]\n");
    env_.state_directory = "/var/lib/exhibit-test:/var/lib/other";
    auto r = load_config(file_, true, env_);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->config.store.state_directory, stdfs::path("/var/lib/exhibit-test"));
    EXPECT_EQ(r->state_directory_source, StateDirectorySource::environment);

    write(file_, "[store]\nstate_directory = \"/srv/exhibit\"\n");
    r = load_config(file_, true, env_);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->config.store.state_directory, stdfs::path("/srv/exhibit"));
    EXPECT_EQ(r->state_directory_source, StateDirectorySource::config_key);

    env_.state_directory = "relative/dir";
    write(file_, "");
    EXPECT_THAT(load_error(), HasSubstr("$STATE_DIRECTORY"));
}

// Metrics go to node_exporter's directory only when exhibitd runs as its service (or the key
// says where): exhibitd run by hand or by a test never writes into the machine's directory.
TEST_F(ConfigTest, MetricsDirectoryDefaultsToNodeExportersOnlyAsAService) {
    write(file_, "[daemon]\n");
    auto r = load_config(file_, true, env_);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->config.monitoring.metrics_directory, stdfs::path());

    env_.state_directory = "/var/lib/exhibit";
    r = load_config(file_, true, env_);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->config.monitoring.metrics_directory,
              stdfs::path("/var/lib/prometheus/node-exporter"));

    write(file_, "[monitoring]\nmetrics_directory = \"\"\n");
    r = load_config(file_, true, env_);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->config.monitoring.metrics_directory, stdfs::path()) << "\"\" turns them off";

    write(file_, "[monitoring]\nmetrics_directory = \"/srv/metrics/\"\n"
                 "metrics_interval_seconds = 5\nevidence_wait_limit_hours = 48\n");
    r = load_config(file_, true, env_);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->config.monitoring.metrics_directory, stdfs::path("/srv/metrics"));
    EXPECT_EQ(r->config.monitoring.metrics_interval_seconds, 5u);
    EXPECT_EQ(r->config.monitoring.evidence_wait_limit_hours, 48u);

    write(file_, "[monitoring]\nmetrics_directory = \"metrics\"\n");
    EXPECT_THAT(load_error(), HasSubstr("monitoring.metrics_directory"));
    write(file_, "[monitoring]\nmetrics_interval_seconds = 0\n");
    EXPECT_THAT(load_error(), HasSubstr("expected an integer from 1 to 3600"));
    write(file_, "[monitoring]\nheartbeat_interval_seconds = 3\n");
    EXPECT_THAT(load_error(), HasSubstr("expected 0 (no heartbeats) or 5 to 86400 seconds"));
    write(file_, "[monitoring]\nheartbeat_interval_seconds = 0\n");
    EXPECT_TRUE(load_config(file_, true, env_));
}

TEST_F(ConfigTest, HostNameThatIsNotAKioskIdNeedsTheKey) {
    env_.hostname = "bad host!";
    write(file_, "");
    auto message = load_error();
    EXPECT_THAT(message, HasSubstr("\"daemon.kiosk_id\" is not set"));
    EXPECT_THAT(message, HasSubstr("bad host!"));
    write(file_, "[daemon]\nkiosk_id = \"k1\"\n");
    EXPECT_TRUE(load_config(file_, true, env_));
}

TEST_F(ConfigTest, EnvironmentFromProcessReadsStateDirectory) {
    ::setenv("STATE_DIRECTORY", "/var/lib/from-env", 1);
    auto env = Environment::from_process();
    ::unsetenv("STATE_DIRECTORY");
    EXPECT_EQ(env.state_directory, "/var/lib/from-env");
    EXPECT_FALSE(env.hostname.empty());
    EXPECT_FALSE(Environment::from_process().state_directory.has_value());
}

// packaging/exhibitd.conf is what operators edit: loaded as shipped it gives the defaults,
// every key is in it as "#key = default", and uncommenting those lines changes nothing.
TEST_F(ConfigTest, ShippedExampleDocumentsEveryKeyWithItsDefault) {
    stdfs::path example = stdfs::path(EXHIBIT_SOURCE_DIR) / "packaging" / "exhibitd.conf";
    std::ifstream in(example);
    ASSERT_TRUE(in) << example;
    std::stringstream shipped;
    shipped << in.rdbuf();

    auto as_shipped = load_config_text(shipped.str(), example.string(), env_);
    ASSERT_TRUE(as_shipped) << as_shipped.error().describe();
    Config defaults;
    defaults.daemon.kiosk_id = env_.hostname;
    defaults.store.state_directory = "/var/lib/exhibit";
    defaults.monitoring.metrics_directory = stdfs::path();  // not a service: no metrics
    EXPECT_EQ(as_shipped->config, defaults);

    std::string uncommented, table;
    std::set<std::string> seen;
    std::istringstream lines(shipped.str());
    for (std::string line; std::getline(lines, line);) {
        if (line.starts_with('['))
            table = line.substr(1, line.find(']') - 1);
        if (line.size() > 1 && line[0] == '#' && line[1] != ' ' && line[1] != '#' &&
            line.find(" = ") != std::string::npos) {
            std::string key = line.substr(1, line.find(" = ") - 1);
            seen.insert(table + "." + key);
            // Keys whose default is computed show a <placeholder>; they stay commented.
            if (line.find("= <") == std::string::npos)
                line = line.substr(1);
        }
        uncommented += line + "\n";
    }
    for (const auto& key : known_keys())
        EXPECT_TRUE(seen.contains(key)) << key << " missing";
    EXPECT_EQ(seen.size(), known_keys().size());

    auto enabled = load_config_text(uncommented, "uncommented example", env_);
    ASSERT_TRUE(enabled) << enabled.error().describe();
    EXPECT_EQ(enabled->config, defaults);
}

TEST(ConfigDocs, EveryKeyIsDocumented) {
    stdfs::path doc = stdfs::path(EXHIBIT_SOURCE_DIR) / "docs" / "configuration.md";
    std::ifstream in(doc);
    ASSERT_TRUE(in) << doc;
    std::stringstream text;
    text << in.rdbuf();
    for (const auto& key : known_keys()) {
        auto name = key.substr(key.find('.') + 1);
        EXPECT_THAT(text.str(), HasSubstr("`" + name + "`")) << key;
    }
}

// What a reload compares: exactly the keys whose values differ, named as in the file.
TEST(ConfigChangedKeys, NamesExactlyTheKeysThatDiffer) {
    Environment env{.state_directory = std::nullopt, .hostname = "kiosk"};
    auto a = load_config_text("[store]\nstate_directory = \"/var/lib/a\"\n", "a", env);
    ASSERT_TRUE(a) << a.error().describe();
    EXPECT_TRUE(changed_keys(a->config, a->config).empty());
    auto b = load_config_text(
        "[daemon]\nlog_level = \"debug\"\n[store]\nstate_directory = \"/var/lib/b\"\n"
        "[adb]\nnetwork_devices = [\"10.0.0.5:5555\"]\n[upload]\nwindow_start = \"21:30\"\n",
        "b", env);
    ASSERT_TRUE(b) << b.error().describe();
    EXPECT_EQ(changed_keys(a->config, b->config),
              (std::vector<std::string>{"daemon.log_level", "store.state_directory",
                                        "adb.network_devices", "upload.window_start"}));
}

// Every key the loader knows is compared: setting each one alone to a value other than its
// default is seen as a change of that key only.
TEST(ConfigChangedKeys, EveryKnownKeyIsCompared) {
    Environment env{.state_directory = std::nullopt, .hostname = "kiosk"};
    const std::map<std::string, std::string> values = {
        {"daemon.kiosk_id", "\"other\""},
        {"daemon.log_target", "\"stderr\""},
        {"daemon.log_level", "\"debug\""},
        {"daemon.watchdog", "false"},
        {"store.state_directory", "\"/srv/exhibit\""},
        {"store.verify_on_start", "\"full\""},
        {"store.min_free_mb", "10"},
        {"dbus.bus", "\"session\""},
        {"dbus.officer_group", "\"officers\""},
        {"dbus.admin_group", "\"admins\""},
        {"adb.network_devices", "[\"10.0.0.5:5555\"]"},
        {"adb.authorisation_wait_seconds", "30"},
        {"ios.keep_pairing", "true"},
        {"upload.endpoint", "\"https://dfu.example/files/\""},
        {"upload.ca_file", "\"/etc/ca.pem\""},
        {"upload.client_cert", "\"/etc/c.pem\""},
        {"upload.client_key", "\"/etc/c.key\""},
        {"upload.pinned_public_key", "\"sha256//AAAA\""},
        {"upload.allow_insecure_loopback", "true"},
        {"upload.chunk_size", "1048576"},
        {"upload.max_chunk_size", "2097152"},
        {"upload.concurrency", "3"},
        {"upload.window_start", "\"21:00\""},
        {"upload.window_end", "\"07:00\""},
        {"upload.max_rate_in_window", "1000000"},
        {"upload.max_rate_outside_window", "1000"},
        {"upload.retention_days", "30"},
        {"upload.retry_initial_ms", "500"},
        {"upload.retry_max_s", "60"},
        {"upload.max_rejections", "7"},
        {"upload.connect_timeout_s", "5"},
        {"upload.stall_timeout_s", "30"},
        {"upload.poll_interval_s", "10"},
        {"kiosk.officers_file", "\"/srv/officers\""},
        {"kiosk.notices_directory", "\"/srv/notices\""},
        {"kiosk.notice_version", "\"DPN-2\""},
        {"monitoring.metrics_directory", "\"/srv/metrics\""},
        {"monitoring.metrics_interval_seconds", "30"},
        {"monitoring.evidence_wait_limit_hours", "12"},
        {"monitoring.heartbeat_interval_seconds", "60"},
    };
    auto base = load_config_text("", "base", env);
    ASSERT_TRUE(base);
    for (const auto& key : known_keys()) {
        auto it = values.find(key);
        ASSERT_NE(it, values.end()) << "give " << key << " a test value";
        const auto dot = key.find('.');
        auto text =
            fmt::format("[{}]\n{} = {}\n", key.substr(0, dot), key.substr(dot + 1), it->second);
        auto changed = load_config_text(text, key, env);
        ASSERT_TRUE(changed) << changed.error().describe();
        EXPECT_EQ(changed_keys(base->config, changed->config), std::vector<std::string>{key});
    }
}

// docs/configuration.md says for every key whether a reload applies it ("on reload": applied
// or restart), and says what the daemon does.
TEST(ConfigDocs, SayForEveryKeyWhetherAReloadAppliesIt) {
    std::ifstream in(stdfs::path(EXHIBIT_SOURCE_DIR) / "docs" / "configuration.md");
    ASSERT_TRUE(in);
    std::map<std::string, std::string> documented;  // "table.key" -> "applied" / "restart"
    std::string table, line;
    while (std::getline(in, line)) {
        if (line.starts_with("### `[")) {
            table = line.substr(6, line.find(']') - 6);
            continue;
        }
        if (line.starts_with("## "))
            table.clear();
        if (table.empty() || !line.starts_with("| `"))
            continue;
        // "| `a`, `b` | type | default | meaning | applied |": the first and the last cell.
        const auto first = line.substr(2, line.find(" | ") - 2);
        const auto last_start = line.rfind(" | ") + 3;
        const auto value = line.substr(last_start, line.size() - 2 - last_start);
        for (std::size_t at = first.find('`'); at != std::string::npos;) {
            const auto end = first.find('`', at + 1);
            documented[table + "." + first.substr(at + 1, end - at - 1)] = value;
            at = first.find('`', end + 1);
        }
    }
    int live = 0;
    for (const auto& key : known_keys()) {
        ASSERT_TRUE(documented.contains(key)) << key << " has no row with an \"on reload\" cell";
        EXPECT_EQ(documented[key], applied_on_reload(key) ? "applied" : "restart") << key;
        live += applied_on_reload(key);
    }
    EXPECT_EQ(live, 10);
    EXPECT_FALSE(applied_on_reload("store.state_directory"));
    EXPECT_FALSE(applied_on_reload("no.such_key"));
}

}  // namespace
}  // namespace exhibit::config
