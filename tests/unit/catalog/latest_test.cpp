// for_each_latest: the tree a chain of sets shows (a full and three incrementals with adds, changes, renames
// and deletion markers), chain order, refused chains, and its speed on a large tree.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using testing::CatalogTest;
using testing::deletion_marker;
using testing::regular_file;

using CatalogLatest = CatalogTest;

FileVersion directory(const std::string& path) {
  FileVersion file;
  file.path = path;
  file.type = 2;
  return file;
}

struct Seen {
  int64_t set_id;
  bool deleted;
  std::string locator;
  bool operator==(const Seen&) const = default;
};

std::vector<std::pair<std::string, Seen>> tree(Catalog& catalog, const std::vector<int64_t>& chain) {
  std::vector<std::pair<std::string, Seen>> rows;
  catalog.for_each_latest(chain, [&](const FileVersion& file) {
    rows.push_back({file.path, Seen{file.set_id, file.deleted, file.locator}});
  });
  return rows;
}

class CatalogLatestChain : public CatalogLatest {
 protected:
  int64_t full = 0, inc1 = 0, inc2 = 0, inc3 = 0;

  void SetUp() override {
    full = begin("full");
    catalog->add_file_versions(
        full, {regular_file("a", 1, "full:a"), regular_file("b", 1, "full:b"), regular_file("c", 1, "full:c"),
               directory("dir"), regular_file("dir/x", 1, "full:dir/x"),
               regular_file(std::string("odd\n\xff", 5), 1, "full:odd")});
    catalog->complete_set(full, 6, 5, 5, 0);
    // inc1: a changes, b is deleted, d appears.
    inc1 = begin("incremental", full);
    catalog->add_file_versions(
        inc1, {regular_file("a", 2, "inc1:a"), deletion_marker("b"), regular_file("d", 1, "inc1:d")});
    catalog->complete_set(inc1, 3, 3, 3, 0);
    // inc2: b comes back, c is deleted, dir/x is renamed to dir/y.
    inc2 = begin("incremental", inc1);
    catalog->add_file_versions(inc2, {regular_file("b", 3, "inc2:b"), deletion_marker("c"),
                                      deletion_marker("dir/x"), regular_file("dir/y", 1, "inc2:dir/y")});
    catalog->complete_set(inc2, 4, 4, 4, 0);
    // inc3: a is deleted, e appears.
    inc3 = begin("incremental", inc2);
    catalog->add_file_versions(inc3, {deletion_marker("a"), regular_file("e", 1, "inc3:e")});
    catalog->complete_set(inc3, 2, 1, 1, 0);
  }
};

TEST_F(CatalogLatestChain, FullAndThreeIncrementals) {
  std::vector<std::pair<std::string, Seen>> expected = {
      {"a", {inc3, true, ""}},
      {"b", {inc2, false, "inc2:b"}},
      {"c", {inc2, true, ""}},
      {"d", {inc1, false, "inc1:d"}},
      {"dir", {full, false, ""}},
      {"dir/x", {inc2, true, ""}},
      {"dir/y", {inc2, false, "inc2:dir/y"}},
      {"e", {inc3, false, "inc3:e"}},
      {std::string("odd\n\xff", 5), {full, false, "full:odd"}},
  };
  EXPECT_EQ(tree(*catalog, {full, inc1, inc2, inc3}), expected);
}

TEST_F(CatalogLatestChain, EachPointInTimeShowsItsOwnTree) {
  std::vector<std::pair<std::string, Seen>> after_inc1 = {
      {"a", {inc1, false, "inc1:a"}},
      {"b", {inc1, true, ""}},
      {"c", {full, false, "full:c"}},
      {"d", {inc1, false, "inc1:d"}},
      {"dir", {full, false, ""}},
      {"dir/x", {full, false, "full:dir/x"}},
      {std::string("odd\n\xff", 5), {full, false, "full:odd"}},
  };
  EXPECT_EQ(tree(*catalog, {full, inc1}), after_inc1);
  EXPECT_EQ(tree(*catalog, {full}).size(), 6u);
}

TEST_F(CatalogLatestChain, TheLastSetOfTheChainWinsWhateverItsId) {
  // The same sets given newest first: the full's versions now win wherever it mentions a path.
  auto rows = tree(*catalog, {inc1, full});
  std::map<std::string, Seen> by_path(rows.begin(), rows.end());
  EXPECT_EQ(by_path["a"], (Seen{full, false, "full:a"}));
  EXPECT_EQ(by_path["b"], (Seen{full, false, "full:b"}));
  EXPECT_EQ(by_path["d"], (Seen{inc1, false, "inc1:d"}));
}

TEST_F(CatalogLatestChain, AllFieldsOfTheWinningVersionComeBack) {
  catalog->for_each_latest({full, inc1}, [&](const FileVersion& file) {
    if (file.path == "a") {
      EXPECT_EQ(file.size, 2u);
      EXPECT_EQ(file.type, 1);
      EXPECT_EQ(file.mode, 0644u);
    }
  });
}

TEST_F(CatalogLatestChain, UnknownAndExpiredSetsAreRefused) {
  EXPECT_CATALOG_ERROR(catalog->for_each_latest({full, 9999}, [](const FileVersion&) {}),
                       "no backup set with id 9999");
  catalog->expire_set(inc3);
  EXPECT_CATALOG_ERROR(catalog->for_each_latest({full, inc1, inc2, inc3}, [](const FileVersion&) {}),
                       "set " + std::to_string(inc3) + " is expired");
  EXPECT_TRUE(tree(*catalog, {}).empty());
}

TEST_F(CatalogLatest, LargeTreeWithOtherSetsAround) {
  constexpr size_t kFiles = 100'000;
  auto make = [](const std::string& prefix, size_t count, size_t step, const std::string& tag) {
    std::vector<FileVersion> files;
    for (size_t i = 0; i < count; i += step) {
      char path[64];
      std::snprintf(path, sizeof path, "%s/dir%03zu/file-%06zu", prefix.c_str(), i % 500, i);
      files.push_back(regular_file(path, i, tag));
    }
    return files;
  };
  // Another series' full of the same size must not slow the chain down: the query reads only the chain's
  // sets.
  int64_t other = begin("full", std::nullopt, "/other");
  catalog->add_file_versions(other, make("srv", kFiles, 1, "other"));
  catalog->complete_set(other, kFiles, 0, 0, 0);

  std::vector<int64_t> chain;
  chain.push_back(begin("full"));
  catalog->add_file_versions(chain.back(), make("home", kFiles, 1, "full"));
  catalog->complete_set(chain.back(), kFiles, 0, 0, 0);
  for (int i = 1; i <= 3; ++i) {
    chain.push_back(begin("incremental", chain.back()));
    catalog->add_file_versions(chain.back(), make("home", kFiles, 100, "inc" + std::to_string(i)));
    catalog->complete_set(chain.back(), kFiles / 100, 0, 0, 0);
  }

  size_t count = 0, from_last = 0;
  auto start = std::chrono::steady_clock::now();
  timespec cpu_start{}, cpu_end{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_start);
  catalog->for_each_latest(chain, [&](const FileVersion& file) {
    ++count;
    if (file.locator == "inc3") ++from_last;
  });
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu_end);
  double cpu_ms = static_cast<double>(cpu_end.tv_sec - cpu_start.tv_sec) * 1e3 +
                  static_cast<double>(cpu_end.tv_nsec - cpu_start.tv_nsec) / 1e6;
  std::printf(
      "[ timing   ] for_each_latest over a full of %zu files and 3 incrementals: %.0f ms (%.0f ms CPU)\n",
      kFiles, ms, cpu_ms);
  EXPECT_EQ(count, kFiles);
  EXPECT_EQ(from_last, kFiles / 100);
}

}  // namespace
}  // namespace sbx::catalog
