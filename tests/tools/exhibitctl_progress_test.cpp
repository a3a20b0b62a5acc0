// The progress exhibitctl shows while it waits: a bar on a terminal, lines otherwise.
#include "tools/exhibitctl/progress.hpp"

#include <gtest/gtest.h>

#include "tools/exhibitctl/format.hpp"

namespace exhibit::ctl {
namespace {

ValueMap running(double progress, const std::string& current) {
    return {{"Id", std::uint64_t{3}},
            {"State", std::string("running")},
            {"Progress", progress},
            {"BytesDone", std::uint64_t{1288490188}},
            {"BytesTotal", std::uint64_t{3113851289}},
            {"Rate", 35.1 * 1024 * 1024},
            {"ItemsDone", std::uint64_t{12}},
            {"ItemsTotal", std::uint64_t{40}},
            {"CurrentItem", current}};
}

TEST(ExhibitctlProgress, BarShowsBytesRateItemsAndTheCurrentItem) {
    auto bar = progress_bar(running(0.42, "/sdcard/DCIM/Camera/IMG_0001.jpg"), 240);
    EXPECT_EQ(bar,
              "[############------------------]   42.0%  1.2 GiB/2.9 GiB  35.1 MiB/s  12/40 items  "
              "/sdcard/DCIM/Camera/IMG_0001.jpg");
}

TEST(ExhibitctlProgress, BarFitsTheTerminal) {
    const std::string current = "/sdcard/Android/media/com.whatsapp/WhatsApp/Media/VID-1.mp4";
    for (std::size_t width : {200u, 100u, 80u, 60u, 30u, 5u}) {
        auto bar = progress_bar(running(0.5, current), width);
        EXPECT_LE(display_width(bar), width) << bar;
    }
    auto narrow = progress_bar(running(0.5, current), 80);
    EXPECT_NE(narrow.find("…"), std::string::npos) << "the path is cut at its start: " << narrow;
    EXPECT_TRUE(narrow.ends_with("VID-1.mp4")) << narrow;
}

TEST(ExhibitctlProgress, BarIsEmptyAtZeroFullAtOneAndSaneOnNonsense) {
    EXPECT_TRUE(progress_bar(running(0, ""), 80).starts_with("[----------]    0.0%"));
    EXPECT_TRUE(progress_bar(running(1, ""), 80).starts_with("[##########]  100.0%"));
    EXPECT_TRUE(progress_bar(running(7.5, ""), 80).starts_with("[##########]  100.0%"));
    EXPECT_TRUE(progress_bar(running(std::nan(""), ""), 80).starts_with("[-"));
}

TEST(ExhibitctlProgress, LinesForLogsAndPipes) {
    EXPECT_EQ(progress_line(running(0.42, "/sdcard/IMG_1.jpg")),
              "session 3 running 42.0% 1.2 GiB/2.9 GiB 35.1 MiB/s items 12/40 current "
              "/sdcard/IMG_1.jpg");
    auto s = running(1, "evil\x1b]0;title\x07");
    s["ItemsIncomplete"] = std::uint64_t{1};
    s["ItemsSkipped"] = std::uint64_t{2};
    EXPECT_EQ(progress_line(s),
              "session 3 running 100.0% 1.2 GiB/2.9 GiB 35.1 MiB/s items 12/40 incomplete 1 "
              "skipped 2 current evil?]0;title?");
}

TEST(ExhibitctlProgress, QueueLine) {
    ValueMap q = {{"ItemsQueued", std::uint64_t{3}},
                  {"ItemsUploading", std::uint64_t{1}},
                  {"ItemsReceived", std::uint64_t{40}},
                  {"BytesPending", std::uint64_t{1288490188}}};
    EXPECT_EQ(queue_line(q),
              "queue: 3 queued, 1 uploading, 40 received, 0 failed, 1.2 GiB pending");
    q["CurrentError"] = std::string("the DFU store refused the connection");
    EXPECT_TRUE(queue_line(q).ends_with("(last error: the DFU store refused the connection)"));
}

}  // namespace
}  // namespace exhibit::ctl
