// The services a simulated phone offers on a stream: sync: (files) and shell: (commands).
// A service consumes the host's bytes and produces its answer in pieces no larger than
// the stream's payload size. Thread-compatible: owned by one engine.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "common/unique_fd.hpp"
#include "phonesim/scenario.hpp"
#include "phonesim/shell_commands.hpp"
#include "phonesim/virtual_fs.hpp"

namespace exhibit::phonesim {

// What a hostile scenario asks the engine to do to the whole connection.
enum class ConnectionAction { none, disconnect, oversized_message, bad_magic };

class Service {
  public:
    virtual ~Service() = default;
    virtual void input(std::span<const std::byte> bytes) = 0;
    // Appends at most `max` bytes of answer to `out` (nothing when it has nothing now).
    virtual void produce(std::vector<std::byte>& out, std::size_t max) = 0;
    // True once the service has said everything: the stream is closed after its output.
    virtual bool done() const = 0;
    virtual ConnectionAction action() const { return ConnectionAction::none; }
};

// sync: STAT, STA2, LST2, LIST, LIS2, RECV, RCV2 (flags 0) and QUIT; requests may arrive
// split or pipelined. FAIL ends the request loop, as adbd does.
class SyncService final : public Service {
  public:
    SyncService(const VirtualFs& fs, const Scenario* scenario) : fs_(fs), scenario_(scenario) {}
    void input(std::span<const std::byte> bytes) override;
    void produce(std::vector<std::byte>& out, std::size_t max) override;
    bool done() const override { return finished_ && backlog_.empty(); }
    ConnectionAction action() const override { return action_; }

  private:
    struct Request {
        std::uint32_t id;
        std::string path;
        std::uint32_t flags = 0;
    };
    void parse();
    void start(const Request& r);
    void fail_with(std::string_view message);
    std::uint64_t declared_size(const std::string& path, std::uint64_t real) const;
    void list(const Request& r);
    bool produce_file(std::vector<std::byte>& out, std::size_t max);
    void produce_endless_listing(std::vector<std::byte>& out, std::size_t max);

    const VirtualFs& fs_;
    const Scenario* scenario_;
    std::vector<std::byte> inbuf_;
    std::deque<Request> requests_;
    std::vector<std::byte> backlog_;  // encoded answers waiting to go out
    std::size_t backlog_offset_ = 0;
    bool parse_stopped_ = false;  // after QUIT or a malformed request
    bool finished_ = false;
    bool stalled_ = false;
    ConnectionAction action_ = ConnectionAction::none;
    // the file being sent
    UniqueFd file_;
    std::string file_path_;
    std::uint64_t file_sent_ = 0;
    // an endless listing in progress
    bool listing_forever_ = false;
    bool listing_v2_ = false;
    std::uint64_t endless_count_ = 0;
};

// shell: and shell,v2,...: — runs the command at once and answers its output.
class ShellService final : public Service {
  public:
    ShellService(std::string_view command, bool protocol_v2, const PhoneIdentity& phone,
                 const Records& records);
    void input(std::span<const std::byte>) override {}
    void produce(std::vector<std::byte>& out, std::size_t max) override;
    bool done() const override { return offset_ == output_.size(); }

  private:
    std::vector<std::byte> output_;
    std::size_t offset_ = 0;
};

}  // namespace exhibit::phonesim
