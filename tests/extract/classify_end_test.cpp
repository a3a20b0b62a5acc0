// How a session's end is named from the error that ended it: the phone's side (interrupted,
// with the cause), the officer's (cancelled), the kiosk's (failed), and a full disk said as
// such whichever write met it, with the system's words once.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>

#include "daemon/extract/extraction.hpp"

namespace exhibit::extract {
namespace {

TEST(ClassifyEnd, AFullDiskIsNamedFirstAndItsCauseSaidOnce) {
    auto spool = fail_errno("write failed", ENOSPC).error().with_context("cannot write to the spool");
    auto [state, reason] = classify_end(spool, StopReason::none);
    EXPECT_EQ(state, store::SessionState::failed);
    EXPECT_EQ(reason, std::string("the kiosk's disk is full: cannot write to the spool: write "
                                  "failed: ") +
                          std::strerror(ENOSPC));
    // SQLite's SQLITE_FULL (the catalog) carries no errno: its own words stand.
    Error catalog{Errc::no_space, "SQL failed: database or disk is full", 0};
    EXPECT_EQ(classify_end(catalog, StopReason::none).second,
              "the kiosk's disk is full: SQL failed: database or disk is full");
}

TEST(ClassifyEnd, ThePhonesSideInterruptsTheOfficersCancelsTheKiosksFails) {
    EXPECT_EQ(classify_end({Errc::protocol, "a bad frame", 0}, StopReason::none),
              (std::pair{store::SessionState::interrupted, std::string("interrupted: a bad frame")}));
    EXPECT_EQ(classify_end({Errc::protocol, "x", 0}, StopReason::device_gone).second,
              "interrupted: device disconnected");
    EXPECT_EQ(classify_end({Errc::io, "x", 0}, StopReason::cancelled).first,
              store::SessionState::cancelled);
    EXPECT_EQ(classify_end({Errc::internal, "the catalog is read-only", 0}, StopReason::none),
              (std::pair{store::SessionState::failed, std::string("the catalog is read-only")}));
}

}  // namespace
}  // namespace exhibit::extract
