// The device engine seen from the wire: a test host speaks raw ADB messages to it over a
// socket pair (the same Transport interface the USB work will use).
#include "phonesim/device_engine.hpp"

#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <fstream>
#include <random>
#include <thread>

#include "drivers/adb/android_pubkey.hpp"
#include "drivers/adb/shell_client.hpp"
#include "drivers/adb/sync_protocol.hpp"
#include "phonesim/scenario.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::phonesim {
namespace {

using namespace std::chrono_literals;
using namespace adb;
namespace fsys = std::filesystem;

constexpr std::string_view kBanner =
    "device::ro.product.name=phonesim;ro.product.model=Phonesim;ro.product.device=phonesim;"
    "features=cmd,ls_v2,sendrecv_v2,shell_v2,stat_v2";

std::span<const std::byte> bytes_of(std::string_view s) {
    return as_bytes(s);
}
std::string text_of(std::span<const std::byte> b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

// One engine serving one end of a socket pair; the test is the host on the other end.
class Wire {
  public:
    explicit Wire(const PhoneOptions& options) : options_(options) {
        int sv[2];
        EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
        host_.reset(sv[1]);
        auto transport = std::make_shared<TcpTransport>(UniqueFd(sv[0]), "test host");
        thread_ = std::thread([this, transport] {
            DeviceEngine engine(options_);
            result_ = engine.serve(*transport);
        });
    }
    ~Wire() {
        ::shutdown(host_.get(), SHUT_RDWR);
        thread_.join();
    }

    // Sends a message; data_check is filled for `version` (wrong on purpose with `bad_check`).
    void send(std::uint32_t cmd, std::uint32_t arg0, std::uint32_t arg1,
              std::span<const std::byte> payload = {}, std::uint32_t version = kVersion,
              bool bad_check = false) {
        auto h = encode_header(cmd, arg0, arg1, payload, version);
        if (bad_check)
            h[16] ^= std::byte{1};
        write_all(h);
        write_all(payload);
    }
    void send_text(std::uint32_t cmd, std::uint32_t arg0, std::uint32_t arg1,
                   std::string_view text) {
        send(cmd, arg0, arg1, bytes_of(text));
    }

    // The next message (header fields taken as they are, unvalidated), or nullopt when
    // nothing arrives in time or the device closed the connection.
    std::optional<Message> receive(std::chrono::milliseconds timeout = 5s) {
        std::array<std::byte, kHeaderSize> raw{};
        if (!read_exact(raw, timeout))
            return std::nullopt;
        Message m;
        m.header = {get_u32(raw, 0),  get_u32(raw, 4),  get_u32(raw, 8),
                    get_u32(raw, 12), get_u32(raw, 16), get_u32(raw, 20)};
        if (m.header.data_length > kMaxPayload)
            return m;  // an oversized header: do not try to read what never comes
        m.payload.resize(m.header.data_length);
        if (!read_exact(m.payload, timeout))
            return std::nullopt;
        return m;
    }
    // True when the device closed the connection within `timeout`.
    bool closed(std::chrono::milliseconds timeout = 5s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        std::byte b;
        while (std::chrono::steady_clock::now() < deadline) {
            pollfd p{host_.get(), POLLIN, 0};
            if (::poll(&p, 1, 50) <= 0)
                continue;
            auto n = ::recv(host_.get(), &b, 1, 0);
            if (n <= 0)
                return true;
        }
        return false;
    }
    // Host CNXN and the device's answer (no auth).
    Message connect(std::uint32_t max_payload = kMaxPayload) {
        send_text(kCmdCnxn, kVersion, max_payload, "host::features=shell_v2,stat_v2,ls_v2");
        auto m = receive();
        EXPECT_TRUE(m && m->command() == kCmdCnxn);
        return m ? *m : Message{};
    }
    // OPEN and the device's OKAY; returns the device's id for the stream.
    std::uint32_t open(std::uint32_t local_id, std::string_view service) {
        send_text(kCmdOpen, local_id, 0, std::string(service) + '\0');
        auto m = receive();
        EXPECT_TRUE(m && m->command() == kCmdOkay && m->arg1() == local_id)
            << (m ? command_name(m->command()) : "nothing");
        return m ? m->arg0() : 0;
    }

    const Status& result() const { return result_; }

  private:
    void write_all(std::span<const std::byte> b) {
        while (!b.empty()) {
            auto n = ::send(host_.get(), b.data(), b.size(), MSG_NOSIGNAL);
            if (n <= 0)
                return;
            b = b.subspan(static_cast<std::size_t>(n));
        }
    }
    bool read_exact(std::span<std::byte> out, std::chrono::milliseconds timeout) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        std::size_t got = 0;
        while (got < out.size()) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd p{host_.get(), POLLIN, 0};
            if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
                return false;
            auto n = ::recv(host_.get(), out.data() + got, out.size() - got, 0);
            if (n <= 0)
                return false;
            got += static_cast<std::size_t>(n);
        }
        return true;
    }

    const PhoneOptions& options_;
    UniqueFd host_;
    std::thread thread_;
    Status result_;
};

std::string random_bytes(std::size_t n, unsigned seed) {
    std::string s(n, '\0');
    std::mt19937 rng(seed);
    for (auto& c : s)
        c = static_cast<char>(rng());
    return s;
}

// The file inside a sync answer: DATA records up to DONE.
std::string unwrap(const std::string& stream) {
    std::string data;
    for (std::size_t pos = 0; pos + 8 <= stream.size();) {
        auto id = stream.substr(pos, 4);
        auto len = get_u32(bytes_of(stream), pos + 4);
        if (id == "DONE")
            return data;
        EXPECT_EQ(id, "DATA");
        EXPECT_LE(len, sync::kMaxDataChunk);
        if (id != "DATA")
            return data;
        data += stream.substr(pos + 8, len);
        pos += 8 + len;
    }
    ADD_FAILURE() << "no DONE";
    return data;
}

class PhonesimEngine : public ::testing::Test {
  protected:
    void SetUp() override {
        fsys::create_directories(root_ / "DCIM");
        std::ofstream(root_ / "DCIM/a.jpg", std::ios::binary) << content_;
        std::ofstream(root_ / "DCIM/b.jpg", std::ios::binary) << other_;
        options_.root = root_;
        options_.identity.properties = {{"ro.product.model", "Phonesim"}};
        options_.keys = *AuthKeys::load("", false);
    }

    // Pulls `path` over a fresh sync stream with classic flow control: returns the file's
    // bytes and checks that the device never has two WRTEs unacknowledged.
    std::string pull(Wire& w, std::uint32_t local_id, const std::string& path,
                     std::uint32_t max_payload) {
        auto remote = w.open(local_id, "sync:");
        auto req = sync::encode_request(sync::kRecv, path);
        w.send(kCmdWrte, local_id, remote, req);
        std::string stream;
        bool acked = false;
        for (;;) {
            auto m = w.receive();
            if (!m)
                return "(no answer)";
            if (m->command() == kCmdOkay) {
                acked = true;
                continue;
            }
            EXPECT_EQ(m->command(), kCmdWrte);
            EXPECT_LE(m->payload.size(), max_payload);
            stream += text_of(m->payload);
            // One WRTE in flight: nothing more until we acknowledge it.
            EXPECT_FALSE(w.receive(100ms)) << "a second WRTE before our OKAY";
            if (stream.size() >= 8 && stream.compare(stream.size() - 8, 4, "DONE") == 0)
                break;
            w.send(kCmdOkay, local_id, remote);
        }
        EXPECT_TRUE(acked) << "our WRTE was acknowledged";
        w.send(kCmdOkay, local_id, remote);
        return unwrap(stream);
    }

    testing::TempDir dir_;
    fsys::path root_ = dir_ / "root";
    std::string content_ = random_bytes(700'001, 7);
    std::string other_ = random_bytes(200'000, 8);
    PhoneOptions options_;
};

TEST_F(PhonesimEngine, AnswersCnxnWithItsVersionTheMinimumPayloadAndItsBanner) {
    Wire w(options_);
    w.send_text(kCmdCnxn, kVersion, 4u << 20, "host::features=shell_v2");
    auto m = w.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->command(), kCmdCnxn);
    EXPECT_EQ(m->arg0(), 0x01000001u);
    EXPECT_EQ(m->arg1(), kMaxPayload) << "min(host 4 MiB, 1 MiB)";
    EXPECT_EQ(m->payload_text(), kBanner);
    EXPECT_EQ(m->header.data_check, 0u) << "no checksum for a modern host";
    EXPECT_EQ(m->header.magic, kCmdCnxn ^ 0xffffffffu);

    Wire small(options_);
    EXPECT_EQ(small.connect(65536).arg1(), 65536u);
}

TEST_F(PhonesimEngine, AnOldHostGetsChecksumsAndHasItsOwnChecked) {
    Wire w(options_);
    w.send(kCmdCnxn, kVersionMin, 4096, bytes_of("host::"), kVersionMin);
    auto m = w.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->arg0(), 0x01000001u) << "adbd always states its own version";
    EXPECT_EQ(m->arg1(), 4096u);
    EXPECT_EQ(m->header.data_check, payload_checksum(m->payload));
    w.send(kCmdOpen, 1, 0, bytes_of(std::string_view("shell:echo hi\0", 14)), kVersionMin);
    auto okay = w.receive();
    ASSERT_TRUE(okay);
    EXPECT_EQ(okay->command(), kCmdOkay);
    auto data = w.receive();
    ASSERT_TRUE(data);
    EXPECT_EQ(data->payload_text(), "hi\n");
    EXPECT_EQ(data->header.data_check, payload_checksum(data->payload));
    // A wrong checksum from a host that promised them is a broken link.
    w.send(kCmdOpen, 2, 0, bytes_of(std::string_view("sync:\0", 6)), kVersionMin, true);
    EXPECT_TRUE(w.closed());
}

TEST_F(PhonesimEngine, AModernHostsChecksumsAreNotVerified) {
    Wire w(options_);
    w.send(kCmdCnxn, kVersion, kMaxPayload, bytes_of("host::"), kVersion, true);
    ASSERT_TRUE(w.receive());
    w.send(kCmdOpen, 1, 0, bytes_of(std::string_view("shell:echo hi\0", 14)), kVersion, true);
    auto okay = w.receive();
    ASSERT_TRUE(okay);
    EXPECT_EQ(okay->command(), kCmdOkay);
}

TEST_F(PhonesimEngine, UnknownServicesAreRefusedAndBadOpensIgnored) {
    Wire w(options_);
    w.connect();
    w.send_text(kCmdOpen, 9, 0, std::string("jdwp:1234") + '\0');
    auto m = w.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->command(), kCmdClse);
    EXPECT_EQ(m->arg0(), 0u);
    EXPECT_EQ(m->arg1(), 9u);
    w.send_text(kCmdOpen, 0, 0, std::string("sync:") + '\0');
    EXPECT_FALSE(w.receive(200ms)) << "stream id 0 is never valid";
    // WRTE/OKAY/CLSE for streams that do not exist are ignored.
    w.send_text(kCmdWrte, 5, 77, "junk");
    w.send(kCmdOkay, 5, 78);
    w.send(kCmdClse, 5, 79);
    EXPECT_FALSE(w.receive(200ms));
    EXPECT_NE(w.open(3, "sync:"), 0u) << "still serving";
}

TEST_F(PhonesimEngine, ShellV2StreamEndsWithExitThenClse) {
    Wire w(options_);
    w.connect();
    auto remote = w.open(4, "shell,v2,TERM=xterm,raw:getprop ro.product.model");
    auto data = w.receive();
    ASSERT_TRUE(data);
    EXPECT_EQ(data->command(), kCmdWrte);
    EXPECT_EQ(data->arg0(), remote);
    EXPECT_EQ(data->arg1(), 4u);
    auto r = decode_shell_v2(data->payload_text(), 1 << 20);
    ASSERT_TRUE(r) << r.error().describe();
    EXPECT_EQ(r->out, "Phonesim\n");
    EXPECT_EQ(r->exit_code, 0);
    EXPECT_FALSE(w.receive(100ms)) << "CLSE waits for our OKAY";
    w.send(kCmdOkay, 4, remote);
    auto close = w.receive();
    ASSERT_TRUE(close);
    EXPECT_EQ(close->command(), kCmdClse);
    EXPECT_EQ(close->arg0(), remote);
    EXPECT_EQ(close->arg1(), 4u);
}

TEST_F(PhonesimEngine, RecvFollowsClassicFlowControlWithinTheNegotiatedPayload) {
    Wire w(options_);
    w.connect(65536);
    EXPECT_EQ(pull(w, 1, "/sdcard/DCIM/a.jpg", 65536), content_);
    Wire big(options_);
    big.connect();
    EXPECT_EQ(pull(big, 1, "/storage/emulated/0/DCIM/a.jpg", kMaxPayload), content_);
}

TEST_F(PhonesimEngine, SeveralStreamsRunAtOnce) {
    Wire w(options_);
    w.connect(16384);
    auto ra = w.open(1, "sync:");
    auto rb = w.open(2, "sync:");
    ASSERT_NE(ra, rb);
    w.send(kCmdWrte, 1, ra, sync::encode_request(sync::kRecv, "/sdcard/DCIM/a.jpg"));
    w.send(kCmdWrte, 2, rb, sync::encode_request(sync::kRecv, "/sdcard/DCIM/b.jpg"));
    std::map<std::uint32_t, std::string> streams;  // by our id
    std::set<std::uint32_t> finished;
    int interleavings = 0;
    std::uint32_t last = 0;
    while (finished.size() < 2) {
        auto m = w.receive();
        ASSERT_TRUE(m) << "stalled with " << finished.size() << " streams done";
        if (m->command() == kCmdOkay)
            continue;
        ASSERT_EQ(m->command(), kCmdWrte);
        ASSERT_LE(m->payload.size(), 16384u);
        auto& s = streams[m->arg1()];
        s += m->payload_text();
        if (last != 0 && last != m->arg1())
            ++interleavings;
        last = m->arg1();
        if (s.size() >= 8 && s.compare(s.size() - 8, 4, "DONE") == 0)
            finished.insert(m->arg1());
        w.send(kCmdOkay, m->arg1(), m->arg0());
    }
    EXPECT_GT(interleavings, 2) << "the streams shared the connection";
    EXPECT_EQ(unwrap(streams[1]), content_);
    EXPECT_EQ(unwrap(streams[2]), other_);
}

TEST_F(PhonesimEngine, ScenarioStallKeepsTheLinkAndOtherStreamsAlive) {
    auto scenario = parse_scenario(R"({"rules": [
      {"path": "/sdcard/DCIM/a.jpg", "action": "stall_after", "bytes": 1000}]})");
    ASSERT_TRUE(scenario);
    options_.scenario = std::make_shared<Scenario>(*scenario);
    Wire w(options_);
    w.connect();
    auto remote = w.open(1, "sync:");
    w.send(kCmdWrte, 1, remote, sync::encode_request(sync::kRecv, "/sdcard/DCIM/a.jpg"));
    std::size_t got = 0;
    while (auto m = w.receive(300ms)) {
        if (m->command() == kCmdWrte) {
            got += m->payload.size();
            w.send(kCmdOkay, 1, remote);
        }
    }
    EXPECT_EQ(got, 1008u) << "one DATA record of 1000 bytes, then silence";
    EXPECT_FALSE(w.closed(200ms));
    EXPECT_NE(w.open(2, "shell:echo alive"), 0u);
    auto m = w.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->payload_text(), "alive\n");
}

TEST_F(PhonesimEngine, ScenarioFramingFaultsThenHangUp) {
    auto scenario = parse_scenario(R"({"rules": [
      {"path": "/sdcard/DCIM/a.jpg", "action": "oversized_message"},
      {"path": "/sdcard/DCIM/b.jpg", "action": "bad_magic"},
      {"path": "/sdcard/DCIM/c.jpg", "action": "disconnect_after", "bytes": 70000}]})");
    ASSERT_TRUE(scenario);
    std::ofstream(root_ / "DCIM/c.jpg") << random_bytes(100'000, 9);
    options_.scenario = std::make_shared<Scenario>(*scenario);
    auto first_wrte = [](Wire& w) -> std::optional<Message> {
        while (auto m = w.receive())
            if (m->command() != kCmdOkay)
                return m;
        return std::nullopt;
    };
    {
        Wire w(options_);
        w.connect(65536);
        auto remote = w.open(1, "sync:");
        w.send(kCmdWrte, 1, remote, sync::encode_request(sync::kRecv, "/sdcard/DCIM/a.jpg"));
        auto m = first_wrte(w);
        ASSERT_TRUE(m);
        EXPECT_GT(m->header.data_length, 65536u);
        EXPECT_TRUE(w.closed());
    }
    {
        Wire w(options_);
        w.connect();
        auto remote = w.open(1, "sync:");
        w.send(kCmdWrte, 1, remote, sync::encode_request(sync::kRecv, "/sdcard/DCIM/b.jpg"));
        auto m = first_wrte(w);
        ASSERT_TRUE(m);
        EXPECT_NE(m->header.magic, m->header.command ^ 0xffffffffu);
        EXPECT_TRUE(w.closed());
    }
    {
        Wire w(options_);
        w.connect(65536);
        auto remote = w.open(1, "sync:");
        w.send(kCmdWrte, 1, remote, sync::encode_request(sync::kRecv, "/sdcard/DCIM/c.jpg"));
        std::size_t got = 0;
        while (auto m = w.receive()) {
            if (m->command() == kCmdWrte) {
                got += m->payload.size();
                w.send(kCmdOkay, 1, remote);
            }
        }
        EXPECT_GT(got, 0u);
        EXPECT_LE(got, 70000u + 16);
        EXPECT_TRUE(w.closed(100ms));
    }
}

TEST_F(PhonesimEngine, OversizedHostMessageDropsTheLink) {
    Wire w(options_);
    w.connect(4096);
    std::vector<std::byte> big(8192);
    w.send(kCmdWrte, 1, 1, big);
    EXPECT_TRUE(w.closed());
}

class PhonesimEngineAuth : public PhonesimEngine {
  protected:
    void SetUp() override {
        PhonesimEngine::SetUp();
        auto known = AdbHostKey::load_or_create(dir_ / "known", "known@host");
        auto stranger = AdbHostKey::load_or_create(dir_ / "stranger", "stranger@host");
        ASSERT_TRUE(known && stranger);
        known_ = std::move(*known);
        stranger_ = std::move(*stranger);
        std::ofstream(dir_ / "adb_keys") << known_->public_key_line() << "\n";
        options_.require_auth = true;
    }
    void use_keys(bool accept_new) {
        auto keys = AuthKeys::load(dir_ / "adb_keys", accept_new);
        ASSERT_TRUE(keys) << keys.error().describe();
        options_.keys = *keys;
    }
    std::vector<std::byte> token(Wire& w) {
        auto m = w.receive();
        EXPECT_TRUE(m && m->command() == kCmdAuth && m->arg0() == kAuthToken);
        EXPECT_EQ(m ? m->payload.size() : 0, kAuthTokenSize);
        return m ? m->payload : std::vector<std::byte>{};
    }
    void sign(Wire& w, const AdbHostKey& key, std::span<const std::byte> t) {
        auto sig = key.sign_token(t);
        ASSERT_TRUE(sig);
        w.send(kCmdAuth, kAuthSignature, 0, *sig);
    }
    void offer(Wire& w, const AdbHostKey& key) {
        w.send_text(kCmdAuth, kAuthRsaPublicKey, 0, key.public_key_line() + '\0');
    }
    std::unique_ptr<AdbHostKey> known_, stranger_;
};

TEST_F(PhonesimEngineAuth, EveryKnownKeyIsTriedAndAWrongSignatureGetsANewToken) {
    use_keys(false);
    Wire w(options_);
    w.send_text(kCmdCnxn, kVersion, kMaxPayload, "host::");
    auto t1 = token(w);
    w.send_text(kCmdOpen, 1, 0, std::string("sync:") + '\0');  // not served before auth
    sign(w, *stranger_, t1);
    auto t2 = token(w);
    EXPECT_NE(t1, t2) << "a fresh token after a failed signature";
    sign(w, *known_, t1);  // an old token is worthless
    auto t3 = token(w);
    sign(w, *known_, t3);
    auto m = w.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->command(), kCmdCnxn);
    EXPECT_EQ(m->payload_text(), kBanner);
    EXPECT_NE(w.open(2, "sync:"), 0u);
}

TEST_F(PhonesimEngineAuth, AnUnknownKeyWaitsSilentlyUntilThePersonAllowsIt) {
    use_keys(false);
    Wire w(options_);
    w.send_text(kCmdCnxn, kVersion, kMaxPayload, "host::");
    sign(w, *stranger_, token(w));
    auto t = token(w);
    offer(w, *stranger_);
    EXPECT_FALSE(w.receive(500ms)) << "the phone shows its dialog and says nothing";
    EXPECT_FALSE(options_.keys->is_authorised(stranger_->public_key_line()));
    EXPECT_EQ(options_.keys->allow_pending(), 1u);
    auto m = w.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->command(), kCmdCnxn);
    std::ifstream in(dir_ / "adb_keys");
    std::string first, second;
    std::getline(in, first);
    std::getline(in, second);
    EXPECT_EQ(second, stranger_->public_key_line()) << "remembered in adb_keys";
    (void)t;
}

TEST_F(PhonesimEngineAuth, AcceptNewKeysAllowsAtOnce) {
    use_keys(true);
    Wire w(options_);
    w.send_text(kCmdCnxn, kVersion, kMaxPayload, "host::");
    sign(w, *stranger_, token(w));
    token(w);
    offer(w, *stranger_);
    auto m = w.receive();
    ASSERT_TRUE(m);
    EXPECT_EQ(m->command(), kCmdCnxn);
}

}  // namespace
}  // namespace exhibit::phonesim
