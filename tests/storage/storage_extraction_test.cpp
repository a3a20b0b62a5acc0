// The removable-storage family (drivers/storage) reading disk images built with Debian's own
// tools, into a real evidence store, as an extraction session does. What it took is refereed
// by The Sleuth Kit's command-line tools (fls, icat: not the libtsk code under test) and, for
// FAT, by mtools. Hostile images (tests/support/fat_hostile.hpp) end in named states, in
// bounded time, with the image unchanged. Every test runs twice: with the family in
// exhibitd's process, and as exhibitd runs it, in exhibit-driver-host (drivers/host/), the
// child given only the disk opened read-only, its system call filter loaded before it reads.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <chrono>
#include <functional>
#include <filesystem>
#include <map>
#include <string>

#include <fmt/format.h>

#include "common/sha256.hpp"
#include "drivers/shared_storage.hpp"
#include "daemon/extract/extraction.hpp"
#include "drivers/host/hosted_driver.hpp"
#include "drivers/storage/storage_driver.hpp"
#include "tests/support/disk_images.hpp"
#include "tests/support/fat_hostile.hpp"
#include "tests/support/temp_dir.hpp"

namespace exhibit::testing {
namespace {

namespace fsys = std::filesystem;
using drivers::Category;
using namespace std::chrono_literals;

const drivers::Scope kFiles{.categories = {Category::photos, Category::videos, Category::audio,
                                           Category::documents}};

std::string sha256_file(const fsys::path& p) {
    return to_hex(Sha256::of_file(p).value());
}

// Whether a path's extension puts it in one of the file categories (what kFiles takes).
bool taken_by_files(const std::string& path) {
    return drivers::classify_file(fsys::path(path).filename().string()).has_value();
}

struct Extraction {
    extract::SessionOutcome outcome;
    std::map<std::string, store::ItemRecord> items;  // by source path
    std::vector<std::string> skipped;                // the audit's reasons
    std::map<std::string, std::string> device;       // the session's device properties
    std::chrono::milliseconds took{};
};

class StorageExtraction : public ::testing::TestWithParam<bool> {
  protected:
    // Opens `image` as the storage family opens /dev/sdX and runs one extraction session of
    // `scope` into a fresh store. `on_progress` sees the session's progress, on its thread.
    Extraction extract(const fsys::path& image, const drivers::Scope& scope,
                       extract::StoreSink::ProgressFn on_progress = {}) {
        Extraction x;
        const auto state = dir_ / fmt::format("state{}", ++stores_);
        auto store = store::Store::open({.state_directory = state, .kiosk_id = "stick-test"});
        EXPECT_TRUE(store) << store.error().describe();
        if (!store)
            return x;
        std::unique_ptr<drivers::Driver> driver = std::make_unique<storage::StorageDriver>();
        if (GetParam())  // as exhibitd registers it
            driver = std::make_unique<host::HostedDriver>(
                std::move(driver),
                host::HostedDriverOptions{
                    .program = fsys::path(EXHIBIT_BINARY_DIR) / "bin" / "exhibit-driver-host",
                    .open_device = &storage::StorageDriver::open_node});
        drivers::Device device{.id = "d1",
                               .functions = {storage::block_function()},
                               .address = std::string(storage::kAddressPrefix) + image.string()};
        const auto start = std::chrono::steady_clock::now();
        auto opened = driver->open(device, {});
        EXPECT_TRUE(opened) << opened.error().describe();
        if (!opened)
            return x;
        auto case_id = (*store)->catalog().create_case({.case_reference = "CR-STICK",
                                                        .exhibit_reference = "EX-1",
                                                        .officer_id = "PC1",
                                                        .scope = extract::scope_to_json(scope)},
                                                       "test");
        auto session = (*store)->catalog().create_session(*case_id, {}, std::nullopt,
                                                          store::Priority::normal, "test");
        std::stop_source stop;
        x.outcome = extract::run_extraction(**store, **opened, *session, scope, stop.get_token(),
                                            std::move(on_progress));
        x.took = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - start);
        auto items = (*store)->catalog().items_of_session(*session);
        EXPECT_TRUE(items);
        if (items)
            for (auto& i : *items)
                x.items[i.source_path] = i;
        auto stmt = (*store)->database().prepare(
            "SELECT details FROM audit WHERE event = 'extract.artefact_skipped'");
        while (stmt && stmt->step().value_or(false))
            x.skipped.push_back(stmt->column_text(0));
        for (const auto& [k, v] : x.outcome.device.properties)
            x.device[k] = v;
        return x;
    }

    // Every file of `expected` in the categories of kFiles is an item at /fs1/PATH, complete,
    // with the referee's size and SHA-256, and nothing else was taken.
    void expect_same_files(const FileMap& expected, const Extraction& x) {
        std::size_t wanted = 0;
        for (const auto& [path, facts] : expected) {
            if (!taken_by_files(path))
                continue;
            ++wanted;
            auto it = x.items.find("/fs1/" + path);
            ASSERT_NE(it, x.items.end()) << "not taken: " << path;
            EXPECT_EQ(it->second.state, store::ItemState::complete) << path;
            EXPECT_EQ(static_cast<std::uint64_t>(it->second.size), facts.size) << path;
            EXPECT_EQ(it->second.sha256, facts.sha256) << path;
        }
        EXPECT_EQ(x.items.size(), wanted) << "taken beyond the referee's files";
    }

    TempDir dir_;
    int stores_ = 0;
};

TEST_P(StorageExtraction, EveryKindOfStickAgreesWithTheSleuthKitsOwnTools) {
    struct Kind {
        std::string name;
        std::function<Status(const fsys::path&, const fsys::path&)> build;
        bool flat = false;  // NTFS: ntfscp writes files at the top only
        std::string type;   // libtsk's name, in the session's device record
    };
    const std::vector<Kind> kinds = {
        {"fat32", [](auto& i, auto& s) { return build_fat32(i, s, "WITNESS"); }, false, "fat32"},
        {"ext4", [](auto& i, auto& s) { return build_ext4(i, s, "WITNESS"); }, false, "ext4"},
        {"ntfs", [](auto& i, auto& s) { return build_ntfs(i, s, "WITNESS"); }, true, "ntfs"},
        {"iso9660", [](auto& i, auto& s) { return build_iso9660(i, s, "WITNESS"); }, false,
         "iso9660"},
    };
    for (const auto& kind : kinds) {
        SCOPED_TRACE(kind.name);
        const auto tree = dir_ / (kind.name + "-tree");
        if (kind.flat) {  // the same files, all at the top
            const auto deep = dir_ / (kind.name + "-deep");
            fsys::create_directories(tree);
            for (const auto& f : write_camera_and_documents(deep))
                fsys::copy_file(deep / f, tree / fsys::path(f).filename());
        } else {
            write_camera_and_documents(tree);
        }
        const auto image = dir_ / (kind.name + ".img");
        auto built = kind.build(image, tree);
        ASSERT_TRUE(built) << built.error().describe();
        const auto before = sha256_file(image);
        auto referee = referee_files(image);
        ASSERT_TRUE(referee) << referee.error().describe();
        EXPECT_EQ(*referee, files_of_tree(tree).value()) << "the image holds the tree";
        auto x = extract(image, kFiles);
        EXPECT_EQ(x.outcome.state, store::SessionState::completed) << x.outcome.reason.value_or("");
        expect_same_files(*referee, x);
        EXPECT_TRUE(x.skipped.empty()) << x.skipped.front();
        EXPECT_EQ(x.device["storage.fs1.type"], kind.type);
        EXPECT_EQ(x.device["storage.partition_table"], "none");
        EXPECT_EQ(sha256_file(image), before) << "nothing was written to the stick";
    }
}

TEST_P(StorageExtraction, FatAgreesWithMtoolsAndKeepsItsLabel) {
    const auto tree = dir_ / "tree";
    write_camera_and_documents(tree);
    const auto image = dir_ / "fat.img";
    ASSERT_TRUE(build_fat32(image, tree, "WITNESS"));
    auto mtools = referee_files_mtools(image, dir_ / "mtools");
    ASSERT_TRUE(mtools) << mtools.error().describe();
    auto x = extract(image, kFiles);
    EXPECT_EQ(x.outcome.state, store::SessionState::completed);
    expect_same_files(*mtools, x);
    EXPECT_EQ(x.device["storage.fs1.label"], "WITNESS");
    EXPECT_EQ(x.device["storage.fs1.serial"].size(), 8u) << "FAT's 32-bit volume serial";
    EXPECT_EQ(x.device["storage.write_block"], "not a block device (an image file)");
}

TEST_P(StorageExtraction, APartitionedStickAndAnExfatCard) {
    const auto tree = dir_ / "tree";
    write_camera_and_documents(tree);
    const auto partitioned = dir_ / "partitioned.img";
    ASSERT_TRUE(build_partitioned_fat32(partitioned, tree, "WITNESS"));
    auto referee = referee_files(partitioned, kPartitionStartLba);
    ASSERT_TRUE(referee) << referee.error().describe();
    auto x = extract(partitioned, kFiles);
    EXPECT_EQ(x.outcome.state, store::SessionState::completed);
    expect_same_files(*referee, x);
    EXPECT_EQ(x.device["storage.partition_table"], "dos");
    EXPECT_EQ(x.device["storage.fs1.offset"], std::to_string(kPartitionStartLba * 512));
    EXPECT_FALSE(x.device["storage.fs1.partition"].empty());

    fsys::create_directories(dir_ / "exfat");
    auto exfat = unpack_exfat_fixture(dir_ / "exfat");
    ASSERT_TRUE(exfat) << exfat.error().describe();
    auto exfat_referee = referee_files(*exfat);
    ASSERT_TRUE(exfat_referee) << exfat_referee.error().describe();
    EXPECT_EQ(*exfat_referee, read_manifest(exfat_fixture_manifest()).value());
    // Every file of the card, whatever its name: CCTV exports and the rest taken too.
    auto all = extract(*exfat, {.categories = {Category::photos, Category::videos, Category::audio,
                                               Category::documents, Category::cctv_export}});
    EXPECT_EQ(all.outcome.state, store::SessionState::completed);
    EXPECT_EQ(all.device["storage.fs1.type"], "exfat");
    EXPECT_EQ(all.device["storage.fs1.label"], kExfatFixtureLabel);
    auto files = extract(*exfat, kFiles);
    expect_same_files(*exfat_referee, files);
}

TEST_P(StorageExtraction, ACctvExportIsTakenWholeAndTheDiskAsOneImage) {
    const auto tree = dir_ / "tree";
    const auto exported = write_cctv_export(tree, "EXPORT_2026-11-30");
    write_camera_and_documents(tree);
    const auto image = dir_ / "cctv.img";
    ASSERT_TRUE(build_fat32(image, tree, "CCTV"));
    // The dates exclude every file: a CCTV export is taken whole whatever its dates; the
    // camera's pictures follow the dates as on a phone.
    auto from = drivers::parse_day_utc("2040-01-01").value();
    auto x = extract(image, {.categories = {Category::photos, Category::cctv_export,
                                            Category::disk_image},
                             .from_ms = from});
    EXPECT_EQ(x.outcome.state, store::SessionState::completed) << x.outcome.reason.value_or("");
    ASSERT_EQ(x.items.size(), exported.size() + 1) << "the export's files and the disk";
    for (const auto& f : exported) {
        auto it = x.items.find("/fs1/" + f);
        ASSERT_NE(it, x.items.end()) << f;
        EXPECT_EQ(it->second.category, "cctv_export") << f;
        EXPECT_EQ(it->second.sha256, sha256_file(tree / f)) << f;
    }
    auto disk = x.items.find(std::string(storage::kDiskImagePath));
    ASSERT_NE(disk, x.items.end());
    EXPECT_EQ(disk->second.category, "disk_image");
    EXPECT_EQ(static_cast<std::uint64_t>(disk->second.size), fsys::file_size(image));
    EXPECT_EQ(disk->second.sha256, sha256_file(image)) << "every byte of the disk";

    // Without cctv_export, the export's own containers are no one's category: not taken.
    auto files = extract(image, kFiles);
    for (const auto& [path, item] : files.items)
        EXPECT_EQ(path.find("EXPORT_2026-11-30/CH01"), std::string::npos) << path;
}

TEST_P(StorageExtraction, HostileFatImagesEndInNamedStatesWithTheImageUnchanged) {
    const auto tree = dir_ / "tree";
    write_camera_and_documents(tree);
    const auto pristine = dir_ / "pristine.img";
    ASSERT_TRUE(build_fat32(pristine, tree, "HOSTILE"));
    auto copy = [&](const std::string& name) {
        auto p = dir_ / (name + ".img");
        fsys::copy_file(pristine, p, fsys::copy_options::overwrite_existing);
        return p;
    };
    auto run = [&](const fsys::path& image) {
        const auto before = sha256_file(image);
        auto x = extract(image, kFiles);
        EXPECT_LT(x.took, 30s) << image;
        EXPECT_EQ(sha256_file(image), before) << "nothing was written to " << image;
        return x;
    };
    auto joined = [](const std::vector<std::string>& v) {
        std::string s;
        for (const auto& r : v)
            s += r + "\n";
        return s;
    };

    {  // A folder containing its parent.
        auto image = copy("dirloop");
        ASSERT_TRUE(make_directory_loop(image, "DCIM/100MEDIA"));
        auto x = run(image);
        EXPECT_EQ(x.outcome.state, store::SessionState::completed) << x.outcome.reason.value_or("");
        EXPECT_NE(joined(x.skipped).find("a loop in the file system"), std::string::npos)
            << joined(x.skipped);
    }
    {  // A folder whose cluster chain loops on itself.
        auto image = copy("clusterloop");
        ASSERT_TRUE(make_cluster_loop(image, "Documents"));
        auto x = run(image);
        EXPECT_NE(x.outcome.state, store::SessionState::running);
        for (const auto& [path, item] : x.items) {
            if (item.state == store::ItemState::complete) {
                EXPECT_EQ(item.sha256, sha256_file(tree / path.substr(5))) << path;
            }
        }
    }
    std::string victim;  // the largest document: it has clusters behind it
    std::uintmax_t largest = 0;
    for (const auto& e : fsys::directory_iterator(tree / "Documents"))
        if (e.file_size() > largest)
            largest = e.file_size(), victim = "Documents/" + e.path().filename().string();
    {  // A file stating a size larger than its volume.
        auto image = copy("oversized");
        ASSERT_TRUE(make_oversized_file(image, victim));
        auto x = run(image);
        EXPECT_EQ(x.outcome.state, store::SessionState::completed) << x.outcome.reason.value_or("");
        // libtsk judges an entry stating more than its volume not to be an entry at all and
        // does not list it: the file is not taken, and nothing says so (a known gap, in
        // drivers/storage/README.md). Everything else arrives intact.
        EXPECT_FALSE(x.items.contains("/fs1/" + victim));
        EXPECT_EQ(x.items.size(), files_of_tree(tree).value().size() - 1);
        for (const auto& [path, item] : x.items) {
            EXPECT_EQ(item.state, store::ItemState::complete) << path;
            EXPECT_EQ(item.sha256, sha256_file(tree / path.substr(5))) << path;
        }
    }
    {  // A file stating three times its size, within the volume: its clusters end first.
        auto image = copy("lying");
        const auto real = fsys::file_size(tree / victim);
        ASSERT_TRUE(make_lying_size(image, victim, static_cast<std::uint32_t>(3 * real)));
        auto x = run(image);
        EXPECT_EQ(x.outcome.state, store::SessionState::completed) << x.outcome.reason.value_or("");
        auto it = x.items.find("/fs1/" + victim);
        ASSERT_NE(it, x.items.end()) << victim << " not taken; skipped: " << joined(x.skipped);
        EXPECT_EQ(it->second.state, store::ItemState::incomplete);
        EXPECT_EQ(it->second.declared_size.value_or(0), static_cast<std::int64_t>(3 * real));
        EXPECT_LT(it->second.size, static_cast<std::int64_t>(3 * real));
        EXPECT_NE(it->second.incomplete_reason.value_or("").find("file system"), std::string::npos)
            << it->second.incomplete_reason.value_or("");
    }
    {  // Names no file may have.
        auto image = copy("names");
        std::vector<std::string> files;
        for (const auto& e : fsys::recursive_directory_iterator(tree))
            if (e.is_regular_file() && e.path().filename().string().size() > 13)
                files.push_back(fsys::relative(e.path(), tree).string());
        ASSERT_GE(files.size(), 2u) << "the tree needs two long names";
        auto slash = make_name_with_slash(image, files[0]);
        ASSERT_TRUE(slash) << slash.error().describe();
        auto dots = make_name_dot_dot(image, files[1]);
        ASSERT_TRUE(dots) << dots.error().describe();
        auto x = run(image);
        EXPECT_EQ(x.outcome.state, store::SessionState::completed);
        const auto reasons = joined(x.skipped);
        EXPECT_NE(reasons.find("'/'"), std::string::npos) << reasons;
        EXPECT_NE(reasons.find("'.' or '..'"), std::string::npos) << reasons;
        for (const auto& [path, item] : x.items)
            EXPECT_EQ(path.find("/../"), std::string::npos) << path;
        // An unpaired surrogate has no UTF-8: libtsk writes '^' in its place, so the file
        // is taken, whole, under the name libtsk gives it (never as bytes that are not UTF-8).
        auto other = copy("surrogate");
        ASSERT_TRUE(make_name_with_lone_surrogate(other, files[0]));
        auto y = run(other);
        EXPECT_EQ(y.outcome.state, store::SessionState::completed);
        const auto dir = fsys::path(files[0]).parent_path().string();
        bool found = false;
        for (const auto& [path, item] : y.items) {
            if (path.starts_with("/fs1/" + dir + "/^")) {
                found = true;
                EXPECT_EQ(item.state, store::ItemState::complete) << path;
                EXPECT_EQ(item.sha256, sha256_file(tree / files[0])) << path;
            }
        }
        EXPECT_TRUE(found) << "the file with an unpaired surrogate in its name";
    }
    {  // Cut in half.
        auto image = copy("truncated");
        ASSERT_TRUE(truncate_image(image));
        auto x = run(image);
        EXPECT_NE(x.outcome.state, store::SessionState::running);
        for (const auto& [path, item] : x.items) {
            if (item.state == store::ItemState::complete) {
                EXPECT_EQ(item.sha256, sha256_file(tree / path.substr(5))) << path;
            }
        }
    }
}

// ext4 records that state more bytes than the whole file system holds (set with debugfs, as
// a damaged or crafted card would carry them): libtsk would map such a record block by block
// for minutes, so the file, or the folder and what is in it, is skipped with the reason and
// never read; everything else arrives whole, and the image is unchanged.
TEST_P(StorageExtraction, Ext4RecordsLargerThanTheirVolumeAreSkippedWithTheReason) {
    const auto tree = dir_ / "tree";
    write_camera_and_documents(tree);
    const auto image = dir_ / "oversized.img";
    ASSERT_TRUE(build_ext4(image, tree, "WITNESS"));
    std::string victim;  // a document
    for (const auto& e : fsys::directory_iterator(tree / "Documents"))
        if (taken_by_files(e.path().string()))
            victim = "Documents/" + e.path().filename().string();
    ASSERT_FALSE(victim.empty());
    auto set_size = [&](const std::string& path, std::string_view size) {
        const auto command = fmt::format("debugfs -w -R 'sif \"/{}\" size {}' '{}' "
                                         ">/dev/null 2>&1",
                                         path, size, image.string());
        return std::system(command.c_str()) == 0;
    };
    // 8 GiB for the file; a folder's size is read from its low 32 bits only: 3.75 GiB.
    ASSERT_TRUE(set_size(victim, "0x200000000"));
    ASSERT_TRUE(set_size("DCIM", "0xF0000000"));
    const auto before = sha256_file(image);
    auto x = extract(image, kFiles);
    EXPECT_EQ(x.outcome.state, store::SessionState::completed) << x.outcome.reason.value_or("");
    EXPECT_LT(x.took, 30s);
    EXPECT_EQ(sha256_file(image), before) << "nothing was written to the image";
    std::string reasons;
    for (const auto& r : x.skipped)
        reasons += r + "\n";
    EXPECT_NE(reasons.find(fmt::format("/fs1/{} states 8589934592 bytes, more than its file "
                                       "system holds",
                                       victim)),
              std::string::npos)
        << reasons;
    EXPECT_NE(reasons.find("folder /fs1/DCIM states 4026531840 bytes"), std::string::npos)
        << reasons;
    EXPECT_FALSE(x.items.contains("/fs1/" + victim));
    std::size_t expected = 0;
    const auto files = files_of_tree(tree);
    ASSERT_TRUE(files);
    for (const auto& [path, facts] : *files) {
        if (!taken_by_files(path) || path == victim || path.starts_with("DCIM/"))
            continue;
        ++expected;
        auto it = x.items.find("/fs1/" + path);
        ASSERT_NE(it, x.items.end()) << "not taken: " << path;
        EXPECT_EQ(it->second.state, store::ItemState::complete) << path;
        EXPECT_EQ(it->second.sha256, sha256_file(tree / path)) << path;
    }
    EXPECT_EQ(x.items.size(), expected);
}

TEST_P(StorageExtraction, TenThousandFilesInOneFolder) {
    const auto tree = dir_ / "tree";
    const auto files = write_many_files(tree, "DCIM", 10'000, 64);
    const auto image = dir_ / "many.img";
    ASSERT_TRUE(build_fat32(image, tree, "MANY"));
    auto x = extract(image, kFiles);
    EXPECT_EQ(x.outcome.state, store::SessionState::completed);
    EXPECT_EQ(x.items.size(), files.size());
    EXPECT_LT(x.took, 120s);
    for (const auto& f : {files.front(), files.back()})
        EXPECT_EQ(x.items["/fs1/" + f].sha256, sha256_file(tree / f)) << f;
}

TEST_P(StorageExtraction, AStickPulledOutMidReadEndsInterrupted) {
    const auto tree = dir_ / "tree";
    write_camera_and_documents(tree);
    // Large enough to be announced as it begins, before any of its bytes are read.
    write_random_file(tree / "ZZ/last.mp4", 4 << 20, 9);
    const auto image = dir_ / "pulled.img";
    ASSERT_TRUE(build_fat32(image, tree, "PULLED"));
    // The disk ends under the reader as the last file begins: reads come back short of the
    // size the disk stated, as from a stick pulled out.
    std::atomic<bool> pulled = false;
    auto x = extract(image, kFiles, [&](const extract::ExtractionProgress& p) {
        if (p.current.ends_with("last.mp4") && !pulled.exchange(true))
            fsys::resize_file(image, 0);
    });
    ASSERT_TRUE(pulled);
    EXPECT_EQ(x.outcome.state, store::SessionState::interrupted);
    EXPECT_EQ(x.outcome.reason.value_or(""), "interrupted: device disconnected");
    std::size_t complete = 0;
    for (const auto& [path, item] : x.items) {
        if (item.state == store::ItemState::complete) {
            ++complete;
            EXPECT_EQ(item.sha256, sha256_file(tree / path.substr(5))) << path;
        }
    }
    EXPECT_EQ(complete, x.items.size() - 1) << "what arrived whole before the pull is kept";
    auto last = x.items.find("/fs1/ZZ/last.mp4");
    ASSERT_NE(last, x.items.end());
    EXPECT_EQ(last->second.state, store::ItemState::incomplete);
    EXPECT_NE(last->second.incomplete_reason.value_or("").find("device disconnected"),
              std::string::npos)
        << last->second.incomplete_reason.value_or("");
}

INSTANTIATE_TEST_SUITE_P(InProcessAndInItsDriverHost, StorageExtraction, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) {
                             return p.param ? "DriverHost" : "InProcess";
                         });

}  // namespace
}  // namespace exhibit::testing
