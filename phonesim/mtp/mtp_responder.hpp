// The device side of PTP/MTP, as an Android phone answers it: one command container in,
// the data and response containers to send out. The phone's --root tree is one storage
// ("Internal shared storage"), folders are associations, files are read from disk only
// when sent (send_reply streams them). Hostile rules of the phone's scenario apply to the
// objects whose phone paths (/sdcard/...) they name. docs/phonesim.md describes it.
//
// One responder per host connection (its session and handles); thread-bound. The settings
// may be shared by responders on several threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "common/error.hpp"
#include "common/unique_fd.hpp"
#include "phonesim/mtp/ptp_codec.hpp"
#include "phonesim/scenario.hpp"
#include "phonesim/virtual_fs.hpp"

namespace exhibit::phonesim::mtp {

inline constexpr std::uint32_t kStorageId = 0x00010001;
inline constexpr char kStorageDescription[] = "Internal shared storage";
inline constexpr char kVendorExtension[] = "microsoft.com: 1.0; android.com: 1.0;";
// list_forever: how many handles the endless listing claims (a 1 GiB data phase).
inline constexpr std::uint32_t kEndlessCount = 0x0fffffff;

struct MtpSettings {
    std::filesystem::path root;
    std::string manufacturer = "Google";
    std::string model = "Pixel 7";
    std::string device_version = "1.0";
    std::string serial = "EMU0001";
    std::shared_ptr<const Scenario> scenario;   // may be null
    std::shared_ptr<std::atomic<bool>> locked;  // may be null (never locked); true: no storage
    // Called with the operation code of every command container as it arrives, before it is
    // answered (on the responder's thread); may be empty. Tests watch what a host asks.
    std::function<void(std::uint16_t operation)> on_command;
};

// Bytes streamed from a file after a container's in-memory payload.
struct FileRange {
    std::shared_ptr<UniqueFd> fd;
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
};

// One container to send as one USB transfer.
struct Outgoing {
    std::vector<std::byte> head;    // header and in-memory payload
    std::optional<FileRange> file;  // then these bytes
    std::uint32_t run_first = 0;    // then run_count handles run_first, run_first + 1, ...
    std::uint32_t run_count = 0;
    std::optional<std::uint64_t> cut;  // send only this many bytes of the transfer, then end

    std::uint64_t size() const;
};

enum class Ending { none, stall, disconnect };

struct Reply {
    std::vector<Outgoing> containers;
    Ending ending = Ending::none;  // what happens where a container is cut (or after the last)
};

class MtpResponder {
  public:
    explicit MtpResponder(std::shared_ptr<const MtpSettings> settings);

    // Answers one container from the host. Containers that are not commands (a data phase
    // of an operation that was refused) get no answer.
    Reply handle(std::span<const std::byte> container);
    bool session_open() const { return session_ != 0; }

  private:
    struct Object {
        std::string path;  // phone path; synthetic objects: a unique key
        std::uint32_t parent = 0;
        bool folder = false;
        enum class Kind { real, injected, loop } kind = Kind::real;
        std::u16string name;  // synthetic objects
    };
    struct Stat {
        bool folder = false;
        std::uint64_t size = 0;
        std::int64_t mtime = 0;
        std::u16string name;
    };

    Reply dispatch(const Container& c);
    Reply device_info(const Container& c);
    Reply storage_ids(const Container& c);
    Reply storage_info(const Container& c);
    Reply object_handles(const Container& c, bool count_only);
    Reply object_info(const Container& c);
    Reply object(const Container& c, bool partial, bool wide);
    Reply props_supported(const Container& c);
    Reply prop_desc(const Container& c);
    Reply prop_value(const Container& c);

    bool locked() const;
    // Children of a folder (0: the storage root), handles given on first sight.
    std::vector<std::uint32_t> children(std::uint32_t parent);
    std::uint32_t handle_for(const std::string& key, Object o);
    const Object* find(std::uint32_t handle) const;
    std::optional<Stat> stat(std::uint32_t handle) const;
    std::uint32_t stated_parent(std::uint32_t handle);
    std::uint16_t format_of(const Stat& s) const;
    // The scenario rule for an object (its /sdcard and /storage/emulated/0 spellings).
    template <class Map>
    auto rule(const Map& m, const std::string& path) const -> const typename Map::mapped_type*;
    bool in_set(const std::set<std::string>& s, const std::string& path) const;
    static std::uint32_t endless_base(std::uint32_t folder_index) {
        return 0x80000000u | (folder_index << 28);
    }

    Reply response(const Container& c, std::uint16_t code,
                   std::vector<std::uint32_t> params = {}) const;
    Reply data_and_ok(const Container& c, std::vector<std::byte> payload,
                      std::vector<std::uint32_t> params = {}) const;
    void apply_malformed(Reply& r, const Container& c, const std::string& path) const;

    std::shared_ptr<const MtpSettings> settings_;
    VirtualFs fs_;
    std::uint32_t session_ = 0;
    std::vector<Object> objects_;  // handle = index + 1
    std::map<std::string, std::uint32_t> by_key_;
    std::map<std::uint32_t, bool> listed_;        // folders whose children have handles
    std::vector<std::uint32_t> endless_folders_;  // list_forever folders, by index
};

// Sends a reply's containers as USB transfers through `sink`: each container as pieces that
// are whole multiples of `packet_size` except the last, then an empty piece (a zero-length
// packet) when the container's length is a multiple of it. File bytes are read as they go
// (bounded memory). Returns the reply's ending when a container is cut (or after the last
// one), Ending::none otherwise; an error when the sink fails or a file cannot be read.
using Sink = std::function<Status(std::vector<std::byte> piece)>;
Result<Ending> send_reply(Reply& reply, std::size_t packet_size, const Sink& sink);

}  // namespace exhibit::phonesim::mtp
