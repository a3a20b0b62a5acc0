#include "daemon/store/free_space.hpp"

#include <fmt/format.h>

#include "common/fs.hpp"

namespace exhibit::store {

Status check_free_space(const std::filesystem::path& state_directory, std::uint64_t min_free) {
    auto free = fs::free_bytes(state_directory);
    if (!free)
        return std::unexpected(free.error());
    if (*free >= min_free)
        return {};
    constexpr double kMiBf = 1024.0 * 1024.0;
    return fail(
        Errc::no_space,
        fmt::format("The kiosk's disk is nearly full ({:.0f} MiB free, {:.0f} MiB needed). "
                    "New extractions are paused; uploads continue and free space once "
                    "the DFU store has received the evidence.",
                    static_cast<double>(*free) / kMiBf, static_cast<double>(min_free) / kMiBf));
}

}  // namespace exhibit::store
