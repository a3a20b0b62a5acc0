// The low-disk rule, in one place: a new extraction may start only while the store's file
// system has at least the configured free space. Evidence already stored is never deleted to
// make room; uploads (and then retention) free space.
#pragma once

#include <cstdint>
#include <filesystem>

#include "common/error.hpp"

namespace exhibit::store {

// Ok when `state_directory` has at least `min_free` bytes available; otherwise Errc::no_space
// with the sentence the kiosk shows when it refuses a new extraction.
Status check_free_space(const std::filesystem::path& state_directory, std::uint64_t min_free);

}  // namespace exhibit::store
