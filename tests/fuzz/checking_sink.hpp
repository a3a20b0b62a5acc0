// An artefact sink for the fuzz targets that checks what the store relies on from whatever
// fills it (a family in process, or exhibitd's ExtractionFrames from a driver host's frames):
// one item open at a time, no byte outside an item or after its end, every item ended once,
// an incomplete item always with its reason. Options add what a target's source promises
// besides. A broken rule names itself on stderr and aborts, which the fuzzer reports as a
// crash with that input. Test code only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "drivers/driver.hpp"

namespace exhibit::fuzz {

[[noreturn]] inline void broken(const std::string& rule) {
    std::fputs(("broken rule: " + rule + "\n").c_str(), stderr);
    std::abort();
}

struct SinkRules {
    // Every item states its size and a path; no byte goes past the stated size, and an item
    // called whole has all of it (a family that reads a file system it has checked).
    bool stated_sizes = false;
    // The whole disk's item states exactly this many bytes.
    std::optional<std::uint64_t> disk_size;
    // An item may be dropped unended: an answer ended the request while it was open
    // (exhibitd's frames; the store then keeps it unfinished). Otherwise that is broken.
    bool may_drop_open_item = false;
    // A skip may come while an item is open (exhibitd's frames pass it on as it comes).
    bool may_skip_inside_item = false;
};

class CheckingSink final : public drivers::ArtefactSink {
  public:
    explicit CheckingSink(SinkRules rules = {}) : rules_(rules) {}

    void planned(std::uint64_t, std::uint64_t) override {}
    Result<std::unique_ptr<drivers::ArtefactWriter>> begin(
        const drivers::Artefact& artefact) override {
        if (open_)
            broken("an item was begun while another was open");
        std::optional<std::uint64_t> limit;
        if (rules_.stated_sizes) {
            if (artefact.source_path.empty())
                broken("an item without a path");
            if (!artefact.declared_size)
                broken("an item without the size its file system states");
            limit = artefact.declared_size;
        }
        if (rules_.disk_size && artefact.category == drivers::Category::disk_image &&
            artefact.declared_size != rules_.disk_size)
            broken(fmt::format("the whole disk declared {} bytes of {}",
                               artefact.declared_size.value_or(0), *rules_.disk_size));
        open_ = true;
        return std::make_unique<Writer>(*this, limit);
    }
    void skipped(const drivers::Artefact&, const Error&) override {
        if (open_ && !rules_.may_skip_inside_item)
            broken("a skip while an item was open");
    }
    bool stop_requested() const override { return false; }

    bool open() const { return open_; }

  private:
    class Writer final : public drivers::ArtefactWriter {
      public:
        Writer(CheckingSink& sink, std::optional<std::uint64_t> limit)
            : sink_(sink), limit_(limit) {}
        ~Writer() override {
            if (ended_)
                return;
            if (!sink_.rules_.may_drop_open_item)
                broken("an item was dropped without its end");
            sink_.open_ = false;
        }
        Status append(std::span<const std::byte> bytes) override {
            if (ended_)
                broken("bytes after the item's end");
            written_ += bytes.size();
            if (limit_ && written_ > *limit_)
                broken(fmt::format("{} bytes written to an item that stated {}", written_,
                                   *limit_));
            return {};
        }
        Status finish() override {
            if (limit_ && written_ != *limit_)
                broken(fmt::format("an item called whole after {} of its {} bytes", written_,
                                   *limit_));
            end();
            return {};
        }
        Status finish_incomplete(std::string reason) override {
            if (reason.empty())
                broken("an incomplete item without a reason");
            end();
            return {};
        }

      private:
        void end() {
            if (ended_)
                broken("an item was ended twice");
            ended_ = true;
            sink_.open_ = false;
        }
        CheckingSink& sink_;
        std::optional<std::uint64_t> limit_;
        std::uint64_t written_ = 0;
        bool ended_ = false;
    };

    SinkRules rules_;
    bool open_ = false;
};

}  // namespace exhibit::fuzz
