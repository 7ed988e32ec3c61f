// File versions: every field round-trips byte for byte (paths with newlines, 0xff, NUL), path-byte order,
// one transaction per batch, validation, and the insert rate of a large batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <limits>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using testing::CatalogTest;
using testing::deletion_marker;
using testing::regular_file;

using CatalogFileVersions = CatalogTest;

double thread_cpu_ms() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) * 1e3 + static_cast<double>(now.tv_nsec) / 1e6;
}

std::vector<FileVersion> read_set(Catalog& catalog, int64_t set_id) {
  std::vector<FileVersion> files;
  catalog.for_each_file(set_id, [&](const FileVersion& file) { files.push_back(file); });
  return files;
}

FileVersion every_field_set(const std::string& path) {
  FileVersion file;
  file.path = path;
  file.type = 1;
  file.size = 9ull << 30;  // over 8 GiB
  file.mode = 04755;
  file.uid = std::numeric_limits<uint32_t>::max();
  file.gid = 65534;
  file.user_name = "j\xc3\xb6rg";
  file.group_name = std::string("gr\xff\0p", 5);
  file.mtime_ns = -1'000'000'001;  // before the epoch
  file.ctime_ns = 1'700'000'000'123'456'789;
  file.device = std::numeric_limits<uint64_t>::max();
  file.inode = (1ull << 63) + 5;
  file.nlink = 3;
  file.rdev = 0x0801;
  file.link_target = std::string("../t\0arget\n", 11);
  file.xattrs = std::string("user.a\0\x01\x02", 9);
  file.extents = std::string("\0\0\0\x10", 4);
  file.content_hash = std::string(32, '\xab');
  file.locator = std::string("frame:7\0offset:\xff", 16);
  return file;
}

TEST_F(CatalogFileVersions, EveryFieldRoundTripsWithRawBytePaths) {
  int64_t set = begin("full");
  std::vector<std::string> paths = {"home/alice/notes.txt",
                                    "home/new\nline",
                                    std::string("bad\xff\xfe", 5),
                                    "with space/ and tab\t",
                                    "caf\xc3\xa9",
                                    std::string("nul\0inside", 10),
                                    "a\x01"
                                    "b",
                                    std::string(4000, 'p'),
                                    "z"};
  std::vector<FileVersion> batch;
  for (const auto& path : paths) {
    batch.push_back(every_field_set(path));
    batch.back().set_id = set;
  }
  catalog->add_file_versions(set, batch);

  std::vector<FileVersion> expected = batch;
  std::sort(expected.begin(), expected.end(), [](const FileVersion& a, const FileVersion& b) {
    return a.path < b.path;
  });  // unsigned byte order
  EXPECT_EQ(read_set(*catalog, set), expected);
}

TEST_F(CatalogFileVersions, EmptyFieldsStayEmptyAndMarkersKeepTheirFlag) {
  int64_t set = begin("full");
  FileVersion directory;
  directory.path = "dir";
  directory.type = 2;
  catalog->add_file_versions(set, {directory, deletion_marker("gone")});
  auto files = read_set(*catalog, set);
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "dir");
  EXPECT_FALSE(files[0].deleted);
  EXPECT_TRUE(files[0].locator.empty());
  EXPECT_TRUE(files[0].content_hash.empty());
  EXPECT_EQ(files[1].path, "gone");
  EXPECT_TRUE(files[1].deleted);
}

TEST_F(CatalogFileVersions, PathsComeOutInByteOrder) {
  int64_t set = begin("full");
  catalog->add_file_versions(set, {regular_file("\xff"), regular_file("b"), regular_file("a/b"),
                                   regular_file("a"), regular_file("a.b"), regular_file("\x7f")});
  std::vector<std::string> order;
  for (const auto& file : read_set(*catalog, set)) order.push_back(file.path);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "a.b", "a/b", "b", "\x7f", "\xff"}));
}

TEST_F(CatalogFileVersions, ABadBatchIsRefusedWhole) {
  int64_t set = begin("full");
  catalog->add_file_versions(set, {regular_file("first")});
  EXPECT_CATALOG_ERROR(catalog->add_file_versions(set, {regular_file("second"), regular_file("dup\nname"),
                                                        regular_file("dup\nname")}),
                       "set " + std::to_string(set) + " already has a version of 'dup\\x0aname'");
  EXPECT_CATALOG_ERROR(catalog->add_file_versions(set, {regular_file("first")}),
                       "already has a version of 'first'");

  FileVersion bad_type = regular_file("t");
  bad_type.type = 8;
  EXPECT_CATALOG_ERROR(catalog->add_file_versions(set, {regular_file("ok"), bad_type}),
                       "unknown entry type 8");
  FileVersion bad_hash = regular_file("h");
  bad_hash.content_hash = std::string(31, 'x');
  EXPECT_CATALOG_ERROR(catalog->add_file_versions(set, {bad_hash}), "content hash of 31 bytes, not 32");
  EXPECT_CATALOG_ERROR(catalog->add_file_versions(set, {regular_file("")}), "has an empty path");
  EXPECT_CATALOG_ERROR(catalog->add_file_versions(424242, {regular_file("x")}),
                       "no backup set with id 424242");
  EXPECT_CATALOG_ERROR(catalog->for_each_file(424242, [](const FileVersion&) {}),
                       "no backup set with id 424242");

  auto files = read_set(*catalog, set);
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(files[0].path, "first");
}

TEST_F(CatalogFileVersions, PathHistorySpansSets) {
  int64_t full = begin("full");
  catalog->add_file_versions(full, {regular_file("etc/hosts", 10)});
  catalog->complete_set(full, 1, 10, 10, 0);
  int64_t incremental = begin("incremental", full);
  catalog->add_file_versions(incremental, {regular_file("etc/hosts", 20), regular_file("etc/other")});
  auto history = catalog->path_history("etc/hosts");
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].set_id, full);
  EXPECT_EQ(history[0].size, 10u);
  EXPECT_EQ(history[1].set_id, incremental);
  EXPECT_EQ(history[1].size, 20u);
  EXPECT_TRUE(catalog->path_history("etc/none").empty());
}

TEST_F(CatalogFileVersions, HundredThousandVersionsInsertQuickly) {
  constexpr size_t kCount = 100'000;
  std::vector<FileVersion> batch;
  batch.reserve(kCount);
  for (size_t i = 0; i < kCount; ++i) {
    // As a tree walk delivers them: directory by directory, names within a directory in no particular order.
    char path[64];
    std::snprintf(path, sizeof path, "usr/share/dir%04zu/file-%06zu.dat", i / 100, (i * 7919) % kCount);
    FileVersion file = regular_file(path, i * 37, "frame:" + std::to_string(i));
    file.content_hash = std::string(32, static_cast<char>(i));
    file.inode = i + 1000;
    file.mtime_ns = static_cast<int64_t>(i) * 1'000'000'000;
    batch.push_back(std::move(file));
  }
  int64_t set = begin("full");
  auto start = std::chrono::steady_clock::now();
  double cpu_start = thread_cpu_ms();
  catalog->add_file_versions(set, batch);
  auto inserted = std::chrono::steady_clock::now();
  double cpu_inserted = thread_cpu_ms();
  size_t count = 0;
  std::string previous;
  bool ordered = true;
  catalog->for_each_file(set, [&](const FileVersion& file) {
    ordered = ordered && previous < file.path;
    previous = file.path;
    ++count;
  });
  auto read = std::chrono::steady_clock::now();
  double cpu_read = thread_cpu_ms();
  auto ms = [](auto duration) { return std::chrono::duration<double, std::milli>(duration).count(); };
  // CPU time next to wall time: on a shared machine the wall clock mostly measures the neighbours.
  std::printf(
      "[ timing   ] inserted %zu file versions in %.0f ms (%.0f ms CPU), read in %.0f ms (%.0f ms CPU)\n",
      kCount, ms(inserted - start), cpu_inserted - cpu_start, ms(read - inserted), cpu_read - cpu_inserted);
  EXPECT_EQ(count, kCount);
  EXPECT_TRUE(ordered);
}

}  // namespace
}  // namespace sbx::catalog
