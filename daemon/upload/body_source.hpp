// Where the bytes of an upload come from: a blob file read with pread() at the offset curl
// asks for (nothing is loaded whole; the kernel is asked to read ahead of it), or a small
// in-memory document (the manifest).
// Thread-compatible.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "common/error.hpp"
#include "common/unique_fd.hpp"

namespace exhibit::upload {

class BodySource {
  public:
    virtual ~BodySource() = default;
    // Reads up to out.size() bytes at `offset`; 0 only at the end.
    virtual Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) = 0;
    virtual std::uint64_t size() const = 0;
};

class FileBody final : public BodySource {
  public:
    // Opens read-only and checks the file has `expected_size` bytes.
    static Result<FileBody> open(const std::filesystem::path& path, std::uint64_t expected_size);
    Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) override;
    std::uint64_t size() const override { return size_; }

  private:
    FileBody(UniqueFd fd, std::uint64_t size, std::filesystem::path path)
        : fd_(std::move(fd)), size_(size), path_(std::move(path)) {}
    UniqueFd fd_;
    std::uint64_t size_;
    std::filesystem::path path_;
    std::uint64_t prefetched_ = 0;  // read-ahead has been asked for up to here
};

class MemoryBody final : public BodySource {
  public:
    explicit MemoryBody(std::string data) : data_(std::move(data)) {}
    Result<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> out) override;
    std::uint64_t size() const override { return data_.size(); }

  private:
    std::string data_;
};

}  // namespace exhibit::upload
