// Helpers for the fuzz targets: reading structure out of the fuzzer's bytes, and a scratch
// folder for the targets whose parser reads files. Test code only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>

#include "tests/support/temp_dir.hpp"

namespace exhibit::fuzz {

// Consumes the input from the front. Running out is not an error: the getters then give
// zeros and empty strings, so that every input, however short, is a valid run.
class Input {
  public:
    Input(const std::uint8_t* data, std::size_t size)
        : rest_(reinterpret_cast<const char*>(data), size) {}

    bool empty() const { return rest_.empty(); }
    std::size_t size() const { return rest_.size(); }

    std::uint8_t u8() {
        if (rest_.empty())
            return 0;
        auto v = static_cast<std::uint8_t>(rest_.front());
        rest_.remove_prefix(1);
        return v;
    }
    std::uint32_t u32() {
        std::uint32_t v = 0;
        for (int i = 0; i < 4; ++i)
            v |= static_cast<std::uint32_t>(u8()) << (8 * i);
        return v;
    }
    std::uint64_t u64() {
        return static_cast<std::uint64_t>(u32()) | static_cast<std::uint64_t>(u32()) << 32;
    }
    // Up to `n` bytes.
    std::string_view bytes(std::size_t n) {
        auto v = rest_.substr(0, n);
        rest_.remove_prefix(v.size());
        return v;
    }
    // The bytes up to the next `separator` (which is consumed), or all that is left.
    std::string_view until(std::string_view separator) {
        auto at = rest_.find(separator);
        auto v = rest_.substr(0, at);
        rest_.remove_prefix(at == std::string_view::npos ? rest_.size() : at + separator.size());
        return v;
    }
    std::string_view rest() {
        auto v = rest_;
        rest_ = {};
        return v;
    }

  private:
    std::string_view rest_;
};

inline std::span<const std::byte> as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}

// A folder of this process's own under $TMPDIR (the tests' TempDir), emptied for each input
// and removed at exit.
class ScratchDir {
  public:
    // Empties the folder and returns it.
    const std::filesystem::path& fresh() {
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(dir_.path(), ec))
            std::filesystem::remove_all(e.path(), ec);
        return dir_.path();
    }
    void write(const std::filesystem::path& name, std::string_view content) const {
        std::ofstream(dir_.path() / name, std::ios::binary)
            .write(content.data(), static_cast<std::streamsize>(content.size()));
    }
    const std::filesystem::path& path() const { return dir_.path(); }

  private:
    testing::TempDir dir_;
};

}  // namespace exhibit::fuzz
