#include "services.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <fmt/format.h>

#include "drivers/adb/shell_client.hpp"
#include "drivers/adb/sync_protocol.hpp"

namespace exhibit::phonesim {

using namespace adb::sync;
using adb::get_u32;
using adb::put_u32;

namespace {
void append(std::vector<std::byte>& out, std::string_view s) {
    auto b = std::as_bytes(std::span(s));
    out.insert(out.end(), b.begin(), b.end());
}
}  // namespace

void SyncService::input(std::span<const std::byte> bytes) {
    inbuf_.insert(inbuf_.end(), bytes.begin(), bytes.end());
    parse();
}

void SyncService::parse() {
    std::size_t pos = 0;
    while (!parse_stopped_ && inbuf_.size() - pos >= 8) {
        auto id = get_u32(inbuf_, pos);
        auto len = get_u32(inbuf_, pos + 4);
        if (id == kQuit) {
            requests_.push_back({id, {}});
            parse_stopped_ = true;
            pos += 8;
            break;
        }
        if (len > kMaxPathLength) {
            requests_.push_back({kFail, "path too long"});
            parse_stopped_ = true;
            break;
        }
        std::size_t need = 8 + len + (id == kRcv2 ? 8 : 0);
        if (inbuf_.size() - pos < need)
            break;
        Request r{id, std::string(reinterpret_cast<const char*>(inbuf_.data() + pos + 8), len)};
        if (id == kRcv2)
            r.flags = get_u32(inbuf_, pos + 8 + len + 4);
        requests_.push_back(std::move(r));
        pos += need;
    }
    inbuf_.erase(inbuf_.begin(), inbuf_.begin() + static_cast<std::ptrdiff_t>(pos));
}

void SyncService::fail_with(std::string_view message) {
    encode_fail(backlog_, message);
    finished_ = true;  // adbd stops reading requests after a FAIL
    requests_.clear();
}

std::uint64_t SyncService::declared_size(const std::string& path, std::uint64_t real) const {
    if (!scenario_)
        return real;
    auto it = scenario_->declared_size.find(path);
    return it == scenario_->declared_size.end() ? real : it->second;
}

void SyncService::list(const Request& r) {
    const bool v2 = r.id == kLis2;
    if (scenario_ && scenario_->list_forever.contains(r.path)) {
        listing_forever_ = true;
        listing_v2_ = v2;
        return;
    }
    auto entries = fs_.list(r.path);
    if (scenario_)
        if (auto it = scenario_->injected_names.find(r.path); it != scenario_->injected_names.end())
            for (const auto& name : it->second)
                entries.push_back(
                    {name,
                     FileStat{.mode = kModeRegular | 0644, .size = 1000, .mtime = 1700000000}});
    for (auto& e : entries) {
        e.stat.size = declared_size(r.path + "/" + e.name, e.stat.size);
        if (v2)
            encode_dent_v2(backlog_, e);
        else
            encode_dent_v1(backlog_, e);
    }
    encode_done_listing(backlog_, v2);
}

void SyncService::start(const Request& r) {
    switch (r.id) {
        case kFail:
            fail_with(r.path);
            return;
        case kQuit:
            finished_ = true;
            return;
        case kStat: {
            auto st = fs_.stat(r.path, false);
            if (st.error != 0)
                st = FileStat{};  // v1: all zero for an absent file
            st.size = declared_size(r.path, st.size);
            encode_stat_v1(backlog_, st);
            return;
        }
        case kSta2:
        case kLst2: {
            auto st = fs_.stat(r.path, r.id == kSta2);
            if (st.error == 0)
                st.size = declared_size(r.path, st.size);
            encode_stat_v2(backlog_, r.id, st);
            return;
        }
        case kList:
        case kLis2:
            list(r);
            return;
        case kRecv:
        case kRcv2: {
            if (r.flags != 0)
                return fail_with("compression is not supported by this phone");
            if (scenario_ && scenario_->oversized_message.contains(r.path)) {
                action_ = ConnectionAction::oversized_message;
                return;
            }
            if (scenario_ && scenario_->bad_magic.contains(r.path)) {
                action_ = ConnectionAction::bad_magic;
                return;
            }
            // Nothing outside the root, not even through a symlink (virtual_fs.hpp).
            auto fd = fs_.open_file(r.path);
            if (!fd)
                return fail_with(
                    fmt::format("open failed: {}", std::strerror(fd.error().sys_errno)));
            file_ = std::move(*fd);
            file_path_ = r.path;
            file_sent_ = 0;
            return;
        }
        case kSend:
        case kSnd2:
            fail_with("this phone is read-only");
            return;
        default:
            fail_with(fmt::format("unknown sync command {}", id_name(r.id)));
            return;
    }
}

bool SyncService::produce_file(std::vector<std::byte>& out, std::size_t max) {
    std::uint64_t limit = UINT64_MAX;
    if (scenario_) {
        if (auto it = scenario_->stall_after.find(file_path_); it != scenario_->stall_after.end())
            limit = it->second;
        if (auto it = scenario_->disconnect_after.find(file_path_);
            it != scenario_->disconnect_after.end())
            limit = it->second;
    }
    while (out.size() + 8 < max) {
        if (file_sent_ >= limit) {
            if (scenario_->disconnect_after.contains(file_path_))
                action_ = ConnectionAction::disconnect;
            else
                stalled_ = true;
            return false;
        }
        std::size_t want =
            std::min<std::uint64_t>({kMaxDataChunk, max - out.size() - 8, limit - file_sent_});
        std::size_t at = out.size();
        out.resize(at + 8 + want);
        ssize_t n = ::read(file_.get(), out.data() + at + 8, want);
        if (n < 0) {  // adbd answers FAIL, never a short file that looks whole
            int err = errno;
            out.resize(at);
            file_.reset();
            fail_with(fmt::format("read failed: {}", std::strerror(err)));
            return true;
        }
        if (n == 0) {
            out.resize(at);
            put_u32(out, kDone);
            put_u32(out, 0);
            file_.reset();
            return true;
        }
        out.resize(at + 8 + static_cast<std::size_t>(n));
        std::vector<std::byte> head;
        put_u32(head, kData);
        put_u32(head, static_cast<std::uint32_t>(n));
        std::memcpy(out.data() + at, head.data(), 8);
        file_sent_ += static_cast<std::uint64_t>(n);
    }
    return false;
}

void SyncService::produce_endless_listing(std::vector<std::byte>& out, std::size_t max) {
    while (out.size() + kDentV2Size + 32 < max) {
        DirEntry e{fmt::format("endless_{:010}.jpg", endless_count_++),
                   FileStat{.mode = kModeRegular | 0644, .size = 1, .mtime = 1700000000}};
        if (listing_v2_)
            encode_dent_v2(out, e);
        else
            encode_dent_v1(out, e);
    }
}

void SyncService::produce(std::vector<std::byte>& out, std::size_t max) {
    while (out.size() < max && !stalled_ && action_ == ConnectionAction::none) {
        if (backlog_offset_ < backlog_.size()) {
            std::size_t n = std::min(max - out.size(), backlog_.size() - backlog_offset_);
            out.insert(out.end(), backlog_.begin() + static_cast<std::ptrdiff_t>(backlog_offset_),
                       backlog_.begin() + static_cast<std::ptrdiff_t>(backlog_offset_ + n));
            backlog_offset_ += n;
            if (backlog_offset_ == backlog_.size()) {
                backlog_.clear();
                backlog_offset_ = 0;
            }
            continue;
        }
        if (listing_forever_)
            return produce_endless_listing(out, max);
        if (file_) {
            if (!produce_file(out, max))
                return;
            continue;
        }
        if (requests_.empty() || finished_)
            return;
        auto r = std::move(requests_.front());
        requests_.pop_front();
        start(r);
    }
}

ShellService::ShellService(std::string_view command, bool protocol_v2, const PhoneIdentity& phone,
                           const Records& records) {
    auto result = run_shell_command(command, phone, records);
    if (!protocol_v2) {
        append(output_, result.out);
        append(output_, result.err);
        return;
    }
    auto packet = [&](std::uint8_t id, std::string_view data) {
        output_.push_back(static_cast<std::byte>(id));
        put_u32(output_, static_cast<std::uint32_t>(data.size()));
        append(output_, data);
    };
    if (!result.out.empty())
        packet(adb::shell::kStdout, result.out);
    if (!result.err.empty())
        packet(adb::shell::kStderr, result.err);
    char status = static_cast<char>(result.exit_code);
    packet(adb::shell::kExit, std::string_view(&status, 1));
}

void ShellService::produce(std::vector<std::byte>& out, std::size_t max) {
    std::size_t n = std::min(max - std::min(max, out.size()), output_.size() - offset_);
    out.insert(out.end(), output_.begin() + static_cast<std::ptrdiff_t>(offset_),
               output_.begin() + static_cast<std::ptrdiff_t>(offset_ + n));
    offset_ += n;
}

}  // namespace exhibit::phonesim
