// Trees of files for tests: files of random bytes (seeded, so a run can be repeated) written
// below a root, and the SHA-256 of a file as lowercase hex. Shared by the phone tests (USB,
// MTP), whose trees stand for a phone's storage, and the disk-image tests.
#pragma once

#include <cstddef>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/sha256.hpp"

namespace exhibit::testing {

namespace fsys = std::filesystem;

// Writes `size` random bytes (seeded with `seed`) to `p`, creating its folders.
inline void write_random_file(const fsys::path& p, std::size_t size, unsigned seed) {
    fsys::create_directories(p.parent_path());
    std::string data(size, '\0');
    std::mt19937 rng(seed);
    for (auto& c : data)
        c = static_cast<char>(rng());
    std::ofstream(p, std::ios::binary).write(data.data(), static_cast<std::streamsize>(size));
}

// A file of a generated tree: its path below the tree's root, and its size.
struct TreeFile {
    std::string path;
    std::size_t size;
};
// The phone tests' name for it: a path below the phone's root.
using PhoneFile = TreeFile;

// Writes each file with random bytes, seeded from `seed` onwards.
inline void write_tree(const fsys::path& root, const std::vector<TreeFile>& files, unsigned seed) {
    for (const auto& f : files)
        write_random_file(root / f.path, f.size, seed++);
}

inline std::string sha256_of(const fsys::path& p) {
    return to_hex(Sha256::of_file(p).value());
}

}  // namespace exhibit::testing
