// The test material of the removable-storage tests (tests/support/disk_images, fat_hostile):
// each builder's image, read back by The Sleuth Kit's own tools (the referee), holds exactly
// the tree it was built from; FAT32 also as mtools reads it; the partitioned stick's table
// is what mmls sees; each hostile maker changes what it says it changes, as fsck.vfat or
// TSK shows it.
#include "tests/support/disk_images.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "tests/support/fat_hostile.hpp"
#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

namespace fs = std::filesystem;

std::string run_ok(const std::vector<std::string>& argv, int* status = nullptr) {
    auto [code, out] = run_command(argv, std::chrono::seconds(300));
    if (status)
        *status = code;
    return out;
}

// A witness's stick: a CCTV export, a camera's pictures, documents with long names.
fs::path witness_tree(const TempDir& dir) {
    auto src = dir / "src";
    write_cctv_export(src);
    write_camera_and_documents(src);
    EXPECT_EQ(files_of_tree(src).value().size(), 12u);  // 5 of the export's, 7 others
    return src;
}

FileMap expected_files(const fs::path& src) {
    auto files = files_of_tree(src);
    EXPECT_TRUE(files) << files.error().describe();
    return files ? *files : FileMap{};
}

void print_timing(std::string_view what, std::chrono::milliseconds ms) {
    std::printf("[ timing   ] %s: %lld ms\n", std::string(what).c_str(),
                static_cast<long long>(ms.count()));
}

// The referee hashes icat's stdout as it comes: bytes, not lines, and stderr apart.
TEST(DiskImages, StreamedOutputIsBinaryAndApartFromStderr) {
    std::string out;
    auto run =
        run_streaming({"sh", "-c", "printf 'a\\000b\\nc'; echo complaint >&2; exit 3"},
                      std::chrono::seconds(10), [&out](std::span<const std::byte> bytes) {
                          out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
                      });
    EXPECT_EQ(run.status, 3);
    EXPECT_EQ(out, std::string("a\0b\nc", 5));
    EXPECT_EQ(run.err, "complaint\n");
    EXPECT_EQ(run_streaming({"/nonexistent/tool"}, std::chrono::seconds(10), {}).status, 127);
}

TEST(DiskImages, TreesHoldWhatAWitnessBrings) {
    TempDir dir;
    auto src = dir / "src";
    auto cctv = write_cctv_export(src, "EXPORT_2026-11-30");
    auto camera = write_camera_and_documents(src);
    auto files = expected_files(src);
    ASSERT_EQ(files.size(), cctv.size() + camera.size());
    for (const auto& p : cctv)
        EXPECT_TRUE(p.starts_with("EXPORT_2026-11-30/")) << p;
    EXPECT_TRUE(files.contains("EXPORT_2026-11-30/CH01_20261130_2200.dav"));
    EXPECT_TRUE(files.contains("EXPORT_2026-11-30/CH02_20261130_2200.264"));
    EXPECT_TRUE(files.contains("EXPORT_2026-11-30/Player.exe"));
    EXPECT_EQ(files.at("Documents/empty.txt").size, 0u);
    std::ifstream readme(src / "EXPORT_2026-11-30/readme.txt");
    std::string first;
    std::getline(readme, first);
    EXPECT_TRUE(first.starts_with("Exported 30/11/2026")) << first;
}

TEST(DiskImages, Fat32HoldsTheTreeAsTskAndMtoolsReadIt) {
    TempDir dir;
    auto src = witness_tree(dir);
    auto image = dir / "fat32.img";
    Status built;
    print_timing("FAT32 build, witness tree",
                 time_of([&] { built = build_fat32(image, src, "WITNESS"); }));
    ASSERT_TRUE(built) << built.error().describe();

    auto tsk = referee_files(image);
    ASSERT_TRUE(tsk) << tsk.error().describe();
    EXPECT_EQ(*tsk, expected_files(src));
    auto mtools = referee_files_mtools(image, dir.path());
    ASSERT_TRUE(mtools) << mtools.error().describe();
    EXPECT_EQ(*mtools, expected_files(src));

    // The volume label is the one asked for, and not among the files.
    auto names = referee_names(image);
    ASSERT_TRUE(names);
    EXPECT_FALSE(names->contains("WITNESS     (Volume Label Entry)"));
    EXPECT_NE(run_ok({"fls", image.string()}).find("WITNESS"), std::string::npos);
    // Sized to fit, at least FAT32's minimum: what fsck.vfat finds clean.
    int status = -1;
    auto fsck = run_ok({"fsck.vfat", "-n", image.string()}, &status);
    EXPECT_EQ(status, 0) << fsck;
    EXPECT_GE(fs::file_size(image), 40u * 1024 * 1024);
}

TEST(DiskImages, Fat32SizeCanBeChosen) {
    TempDir dir;
    auto src = witness_tree(dir);
    auto image = dir / "fat32.img";
    ASSERT_TRUE(build_fat32(image, src, "BIG", {.size = 300ull * 1024 * 1024}));
    EXPECT_EQ(fs::file_size(image), 300ull * 1024 * 1024);
    auto tsk = referee_files(image);
    ASSERT_TRUE(tsk) << tsk.error().describe();
    EXPECT_EQ(*tsk, expected_files(src));
}

TEST(DiskImages, Fat32RefusesNamesMtoolsWouldChange) {
    TempDir dir;
    write_random_file(dir / "src/Fotos 📷/a.jpg", 10, 1);
    auto built = build_fat32(dir / "fat.img", dir / "src", "X");
    ASSERT_FALSE(built);
    EXPECT_EQ(built.error().code, Errc::unsupported);
    EXPECT_TRUE(built.error().message.starts_with(kTreeNotRepresentable)) << built.error().message;
    EXPECT_NE(built.error().message.find("Fotos"), std::string::npos);
    EXPECT_FALSE(fs::exists(dir / "fat.img"));

    TempDir twins;
    write_random_file(twins / "src/photo.jpg", 10, 1);
    write_random_file(twins / "src/PHOTO.JPG", 10, 2);
    built = build_fat32(twins / "fat.img", twins / "src", "X");
    ASSERT_FALSE(built);
    EXPECT_NE(built.error().message.find("differs only in case"), std::string::npos);
}

TEST(DiskImages, AFailingToolIsNamedWithWhatItSaid) {
    TempDir dir;
    auto src = witness_tree(dir);
    auto built = build_fat32(dir / "no/such/folder/fat.img", src, "X");
    ASSERT_FALSE(built);
    EXPECT_EQ(built.error().code, Errc::io);
    const auto& m = built.error().message;
    EXPECT_TRUE(m.starts_with(kImageToolFailed)) << m;
    EXPECT_NE(m.find("mkfs.vfat"), std::string::npos) << m;
    EXPECT_NE(m.find("exited 1"), std::string::npos) << m;
    EXPECT_NE(m.find("no/such/folder/fat.img"), std::string::npos) << m;  // the tool's own words

    auto listed = referee_files(dir / "nothing.img");
    ASSERT_FALSE(listed);
    EXPECT_TRUE(listed.error().message.starts_with(kImageToolFailed)) << listed.error().message;
}

TEST(DiskImages, Ext4HoldsTheTree) {
    TempDir dir;
    auto src = witness_tree(dir);
    write_random_file(src / "Fotos 📷 Urlaub/Strand.jpg", 5000, 7);  // ext4 names are bytes
    auto image = dir / "ext4.img";
    Status built;
    print_timing("ext4 build, witness tree",
                 time_of([&] { built = build_ext4(image, src, "WITNESS"); }));
    ASSERT_TRUE(built) << built.error().describe();
    auto tsk = referee_files(image);
    ASSERT_TRUE(tsk) << tsk.error().describe();
    EXPECT_EQ(*tsk, expected_files(src));
    int status = -1;
    auto fsck = run_ok({"e2fsck", "-f", "-n", image.string()}, &status);
    EXPECT_EQ(status, 0) << fsck;
}

TEST(DiskImages, NtfsHoldsFilesAtItsTop) {
    TempDir dir;
    auto src = dir / "src";
    write_random_file(src / "IMG_0001.JPG", 150'000, 1);
    write_random_file(src / "Ärztliche Bescheinigung für die Krankenkasse ✓ 📷.pdf", 9'000, 2);
    write_random_file(src / "tiny.txt", 100, 3);  // small enough to live in its MFT record
    write_random_file(src / "empty.txt", 0, 4);
    auto image = dir / "ntfs.img";
    Status built;
    print_timing("NTFS build, 4 files",
                 time_of([&] { built = build_ntfs(image, src, "WITNESS"); }));
    ASSERT_TRUE(built) << built.error().describe();
    auto tsk = referee_files(image);
    ASSERT_TRUE(tsk) << tsk.error().describe();
    EXPECT_EQ(*tsk, expected_files(src));  // no $MFT, $Extend/..., only the files
    // The system files are there, and left out on purpose.
    EXPECT_NE(run_ok({"fls", "-r", "-p", image.string()}).find("$MFT"), std::string::npos);
}

TEST(DiskImages, NtfsRefusesFolders) {
    TempDir dir;
    auto src = witness_tree(dir);
    auto built = build_ntfs(dir / "ntfs.img", src, "X");
    ASSERT_FALSE(built);
    EXPECT_EQ(built.error().code, Errc::unsupported);
    EXPECT_NE(built.error().message.find("ntfscp cannot create directories"), std::string::npos)
        << built.error().message;
}

TEST(DiskImages, Iso9660HoldsTheTree) {
    TempDir dir;
    auto src = witness_tree(dir);
    auto image = dir / "disc.iso";
    Status built;
    print_timing("ISO 9660 build, witness tree",
                 time_of([&] { built = build_iso9660(image, src, "WITNESS"); }));
    ASSERT_TRUE(built) << built.error().describe();
    auto tsk = referee_files(image);
    ASSERT_TRUE(tsk) << tsk.error().describe();
    EXPECT_EQ(*tsk, expected_files(src));
    // Rock Ridge is there too (isoinfo reads it where TSK reads Joliet).
    auto rr = run_ok({"isoinfo", "-R", "-f", "-i", image.string()});
    EXPECT_NE(rr.find("/EXPORT_2026-11-30/CH02_20261130_2200.264"), std::string::npos) << rr;
}

TEST(DiskImages, PartitionedStickHasOneFat32PartitionAt2048) {
    TempDir dir;
    auto src = witness_tree(dir);
    auto image = dir / "stick.img";
    Status built;
    print_timing("partitioned FAT32 build, witness tree",
                 time_of([&] { built = build_partitioned_fat32(image, src, "STICK"); }));
    ASSERT_TRUE(built) << built.error().describe();

    int status = -1;
    auto mmls = run_ok({"mmls", image.string()}, &status);
    ASSERT_EQ(status, 0) << mmls;
    EXPECT_NE(mmls.find("DOS Partition Table"), std::string::npos) << mmls;
    const auto sectors = (fs::file_size(image) / 512) - kPartitionStartLba;
    char row[128];
    std::snprintf(row, sizeof row, "%010llu   %010llu   %010llu   Win95 FAT32 (0x0c)",
                  static_cast<unsigned long long>(kPartitionStartLba),
                  static_cast<unsigned long long>(kPartitionStartLba + sectors - 1),
                  static_cast<unsigned long long>(sectors));
    EXPECT_NE(mmls.find(row), std::string::npos) << row << "\n" << mmls;

    // Nothing at sector 0 but the table; the files in the partition.
    EXPECT_FALSE(referee_files(image));
    auto tsk = referee_files(image, kPartitionStartLba);
    ASSERT_TRUE(tsk) << tsk.error().describe();
    EXPECT_EQ(*tsk, expected_files(src));
    auto mtools = referee_files_mtools(image, dir.path(), kPartitionStartLba * 512);
    ASSERT_TRUE(mtools) << mtools.error().describe();
    EXPECT_EQ(*mtools, expected_files(src));
}

TEST(DiskImages, ExfatFixtureHoldsItsManifest) {
    TempDir dir;
    auto image = unpack_exfat_fixture(dir.path());
    ASSERT_TRUE(image) << image.error().describe();
    int status = -1;
    auto fsck = run_ok({"fsck.exfat", "-n", image->string()}, &status);
    EXPECT_EQ(status, 0) << fsck;
    auto manifest = read_manifest(exfat_fixture_manifest());
    ASSERT_TRUE(manifest) << manifest.error().describe();
    ASSERT_EQ(manifest->size(), 9u);
    auto tsk = referee_files(*image);
    ASSERT_TRUE(tsk) << tsk.error().describe();
    EXPECT_EQ(*tsk, *manifest);  // no $ALLOC_BITMAP, $UPCASE_TABLE or label among them
    EXPECT_NE(run_ok({"fls", image->string()})
                  .find(std::string(kExfatFixtureLabel) + " (Volume Label Entry)"),
              std::string::npos);
}

// Hostile FAT32 images: a witness's stick patched by one maker each.
class HostileFat : public ::testing::Test {
  protected:
    void SetUp() override {
        src_ = dir_ / "src";
        write_camera_and_documents(src_);
        write_random_file(src_ / "Documents/report-2026.pdf", 3000, 11);
        write_random_file(src_ / "Documents/notes for the court.txt", 300, 12);
        write_random_file(src_ / "Documents/letter to the witness.docx", 400, 13);
        image_ = dir_ / "fat.img";
        auto built = build_fat32(image_, src_, "HOSTILE");
        ASSERT_TRUE(built) << built.error().describe();
        auto names = referee_names(image_);
        ASSERT_TRUE(names) << names.error().describe();
        before_ = *names;
        ASSERT_EQ(fsck(), "");  // clean before the patch
    }

    // fsck.vfat -n's complaints: its output less the lines it prints on a clean volume.
    std::string fsck() {
        auto out = run_ok({"fsck.vfat", "-n", image_.string()});
        std::string complaints, line;
        std::istringstream lines(out);
        while (std::getline(lines, line))
            if (!line.starts_with("fsck.fat ") && !line.starts_with(image_.string() + ":") &&
                !line.empty())
                complaints += line + "\n";
        return complaints;
    }

    std::map<std::string, std::string> names() {
        auto n = referee_names(image_);
        EXPECT_TRUE(n) << n.error().describe();
        return n ? *n : std::map<std::string, std::string>{};
    }

    TempDir dir_;
    fs::path src_, image_;
    std::map<std::string, std::string> before_;
};

TEST_F(HostileFat, GeometryComesFromTheBootSector) {
    auto g = read_fat_geometry(image_);
    ASSERT_TRUE(g) << g.error().describe();
    auto stat = run_ok({"fsstat", image_.string()});
    EXPECT_EQ(g->volume_bytes(), fs::file_size(image_));
    EXPECT_NE(stat.find("Sector Size: " + std::to_string(g->bytes_per_sector)), std::string::npos);
    EXPECT_NE(stat.find("Cluster Size: " + std::to_string(g->cluster_bytes())), std::string::npos);
    // fsstat: "* FAT 0: 32 - 1247" (first and last sector of the first FAT).
    EXPECT_NE(stat.find("* FAT 0: " + std::to_string(g->fat_offset(0) / g->bytes_per_sector) +
                        " - " + std::to_string(g->fat_offset(1) / g->bytes_per_sector - 1)),
              std::string::npos)
        << stat;
    EXPECT_NE(
        stat.find("* Data Area: " + std::to_string(g->cluster_offset(2) / g->bytes_per_sector)),
        std::string::npos)
        << stat;

    auto not_fat = dir_ / "zeros.img";
    std::ofstream(not_fat, std::ios::binary) << std::string(4096, '\0');
    auto refused = read_fat_geometry(not_fat);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, Errc::unsupported);
}

TEST_F(HostileFat, ClusterChainLoopingOnItself) {
    ASSERT_TRUE(make_cluster_loop(image_, "Documents"));
    auto complaints = fsck();
    EXPECT_NE(complaints.find("/Documents\n  Circular cluster chain"), std::string::npos)
        << complaints;
    EXPECT_FALSE(make_cluster_loop(image_, "Documents/notes.docx"));  // a file, not a folder
    EXPECT_EQ(make_cluster_loop(image_, "Nowhere").error().code, Errc::not_found);
}

TEST_F(HostileFat, FolderHoldingItsParent) {
    ASSERT_TRUE(make_directory_loop(image_, "DCIM/100MEDIA"));
    auto complaints = fsck();
    EXPECT_NE(complaints.find("/DCIM/100MEDIA\n Start does point to containing directory"),
              std::string::npos)
        << complaints;
    // TSK: DCIM/100MEDIA now lists DCIM's entries, 100MEDIA again among them; its files are gone.
    auto listing = run_ok({"fls", "-r", "-p", image_.string()});
    EXPECT_NE(listing.find("DCIM/100MEDIA/100MEDIA"), std::string::npos) << listing;
    auto after = names();
    EXPECT_TRUE(before_.contains("DCIM/100MEDIA/IMG_0001.JPG"));
    EXPECT_FALSE(after.contains("DCIM/100MEDIA/IMG_0001.JPG"));
}

TEST_F(HostileFat, FileLargerThanItsVolume) {
    auto inode = before_.at("DCIM/100MEDIA/IMG_0001.JPG");
    ASSERT_TRUE(make_oversized_file(image_, "DCIM/100MEDIA/IMG_0001.JPG"));
    auto complaints = fsck();
    EXPECT_NE(complaints.find("/DCIM/100MEDIA/IMG_0001.JPG\n  File size is 4294967295 bytes"),
              std::string::npos)
        << complaints;
    EXPECT_GT(4294967295u, fs::file_size(image_));
    // TSK's sanity check of a FAT entry rejects a size past the volume: the entry is no
    // longer a file to it, and drops out of the listing.
    auto stat = run_ok({"istat", image_.string(), inode});
    EXPECT_NE(stat.find(inode + " is not an inode"), std::string::npos) << stat;
    EXPECT_FALSE(names().contains("DCIM/100MEDIA/IMG_0001.JPG"));
    EXPECT_EQ(names().size(), before_.size() - 1);
}

TEST_F(HostileFat, NamesNoFileMayHave) {
    auto slash = make_name_with_slash(image_, "Documents/report-2026.pdf");
    ASSERT_TRUE(slash) << slash.error().describe();
    EXPECT_EQ(*slash, "report-/026.pdf");
    auto surrogate = make_name_with_lone_surrogate(image_, "Documents/notes for the court.txt");
    ASSERT_TRUE(surrogate) << surrogate.error().describe();
    EXPECT_EQ(*surrogate, "\uFFFDotes for the court.txt");
    auto dots = make_name_dot_dot(image_, "Documents/letter to the witness.docx");
    ASSERT_TRUE(dots) << dots.error().describe();
    EXPECT_EQ(*dots, "..");

    // fsck.vfat does not look at long names; TSK takes them as they are.
    auto after = names();
    EXPECT_TRUE(after.contains("Documents/report-/026.pdf"));  // one name, read as a path
    EXPECT_FALSE(after.contains("Documents/report-2026.pdf"));
    EXPECT_FALSE(after.contains("Documents/notes for the court.txt"));
    EXPECT_EQ(after.at("Documents/report-/026.pdf"), before_.at("Documents/report-2026.pdf"));
    // The surrogate's file is still there, under a name TSK made of what it could not convert.
    std::string surrogate_path;
    for (const auto& [path, inode] : after)
        if (inode == before_.at("Documents/notes for the court.txt"))
            surrogate_path = path;
    EXPECT_TRUE(surrogate_path.starts_with("Documents/") &&
                surrogate_path.ends_with("tes for the court.txt"))
        << surrogate_path;
    // A file named ".." is taken for the parent's entry and drops out of TSK's listing.
    EXPECT_FALSE(after.contains("Documents/letter to the witness.docx"));
    EXPECT_EQ(after.size(), before_.size() - 1);

    // The 8.3 name is left alone: a file without a long name cannot be renamed so.
    EXPECT_EQ(make_name_dot_dot(image_, "DCIM/100MEDIA/IMG_0001.JPG").error().code,
              Errc::invalid_argument);
}

TEST_F(HostileFat, ImageCutInHalf) {
    // A file reaching into the second half of the volume.
    TempDir big;
    write_random_file(big / "VIDEO/long.mp4", 30'000'000, 5);
    ASSERT_TRUE(build_fat32(image_, big.path(), "CUT", {.size = 40ull * 1024 * 1024}));
    auto whole = referee_files(image_);
    ASSERT_TRUE(whole) << whole.error().describe();
    auto size = fs::file_size(image_);

    ASSERT_TRUE(truncate_image(image_));
    EXPECT_EQ(fs::file_size(image_), size / 2);
    EXPECT_NE(fsck().find("Failed to read sector"), std::string::npos);
    // The file is still listed, its bytes are not all there.
    auto cut = referee_files(image_);
    EXPECT_TRUE(!cut || cut->at("VIDEO/long.mp4") != whole->at("VIDEO/long.mp4"));
    if (!cut)
        std::printf("referee on the cut image: %s\n", cut.error().describe().c_str());
    EXPECT_TRUE(names().contains("VIDEO/long.mp4"));
}

TEST_F(HostileFat, TenThousandFilesInOneFolder) {
    TempDir many;
    write_many_files(many.path(), "DCIM/100MEDIA", 10'000, 600);
    Status built;
    print_timing("FAT32 build, 10,000 files in one folder",
                 time_of([&] { built = build_fat32(image_, many.path(), "MANY"); }));
    ASSERT_TRUE(built) << built.error().describe();
    EXPECT_EQ(fsck(), "");
    std::map<std::string, std::string> listed;
    print_timing("fls of 10,000 files", time_of([&] { listed = names(); }));
    ASSERT_EQ(listed.size(), 10'000u);
    EXPECT_TRUE(listed.contains("DCIM/100MEDIA/DSC00001.JPG"));
    EXPECT_TRUE(listed.contains("DCIM/100MEDIA/DSC10000.JPG"));
    // Every byte, through mtools (icat is a process a file: ~70 ms each on this image).
    auto mtools = referee_files_mtools(image_, dir_.path());
    ASSERT_TRUE(mtools) << mtools.error().describe();
    EXPECT_EQ(*mtools, expected_files(many.path()));
}

}  // namespace
}  // namespace exhibit::testing
