#include "common/c_handle.hpp"

#include <gtest/gtest.h>

#include <utility>

namespace exhibit {
namespace {

// A C-style release function that counts its calls and returns something (as BIO_free and
// sd_bus_unref do).
int g_released = 0;
int release_int(int* p) {
    ++g_released;
    delete p;
    return 0;
}
using IntHandle = CHandle<int, release_int>;

static_assert(sizeof(IntHandle) == sizeof(int*), "the deleter is stateless");

class CHandleTest : public ::testing::Test {
  protected:
    void SetUp() override { g_released = 0; }
};

TEST_F(CHandleTest, ReleasesOnceWhenTheLastOwnerGoes) {
    {
        IntHandle a(new int(7));
        IntHandle b = std::move(a);
        EXPECT_EQ(a, nullptr);
        EXPECT_EQ(*b, 7);
        EXPECT_EQ(g_released, 0);
    }
    EXPECT_EQ(g_released, 1);
}

TEST_F(CHandleTest, NeverReleasesNull) {
    {
        IntHandle empty;
        IntHandle null(nullptr);
        empty.reset();
    }
    EXPECT_EQ(g_released, 0);
}

TEST_F(CHandleTest, ResetReleasesTheOldHandleAndReleaseGivesItUp) {
    IntHandle h(new int(1));
    h.reset(new int(2));
    EXPECT_EQ(g_released, 1);
    int* raw = h.release();
    EXPECT_EQ(g_released, 1);
    IntHandle again(raw);
    again.reset();
    EXPECT_EQ(g_released, 2);
}

}  // namespace
}  // namespace exhibit
