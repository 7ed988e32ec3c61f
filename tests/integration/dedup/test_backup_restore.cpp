// Backups on a dedup device as on disk: full, incrementals with adds, changes, deletes and renames, and
// true image restore by set; a second identical tree under another name costs almost nothing.
#include <fstream>

#include "dedup_site.hpp"

using namespace sbx::test;

TEST(DedupBackup, IncrementalsAndTrueImageRestoreWorkAsOnDisk) {
  DedupSite s;
  s.add_dedup("dd");
  fs::path data = s.dir() / "data";
  write_file(data / "keep.txt", "unchanged");
  write_file(data / "change.bin", random_text(300000, 1));
  write_file(data / "delete.me", "soon gone");
  write_file(data / "old-name", random_text(70000, 2));
  fs::create_directories(data / "empty-dir");
  int64_t full = s.backup(data, "dd");
  auto state_full = snapshot(data);

  write_file(data / "change.bin", random_text(300000, 3));
  fs::remove(data / "delete.me");
  fs::rename(data / "old-name", data / "new-name");
  write_file(data / "added", "new file");
  int64_t inc1 = s.backup(data, "dd", "incremental");
  auto state_inc1 = snapshot(data);

  write_file(data / "added", "changed again, longer");
  int64_t inc2 = s.backup(data, "dd", "incremental");
  auto state_inc2 = snapshot(data);

  EXPECT_EQ(diff_trees(state_full, s.restored(full, data, "full")), "");
  EXPECT_EQ(diff_trees(state_inc1, s.restored(inc1, data, "inc1")), "");
  EXPECT_EQ(diff_trees(state_inc2, s.restored(inc2, data, "inc2")), "");
  EXPECT_EQ(s.run({"verify"}).exit_code, 0);
  EXPECT_EQ(s.run({"verify", "--device", "dd", "--read-data"}).exit_code, 0);
}

TEST(DedupBackup, ASecondIdenticalTreeCostsOnlyMetadata) {
  DedupSite s;
  s.add_dedup("dd");
  fs::path a = s.dir() / "tree-a";
  for (int i = 0; i < 20; ++i) write_file(a / ("f" + std::to_string(i)), random_text(100000, 10 + i));
  auto first = s.run_json({"backup", a.string(), "--device", "dd"});
  fs::copy(a, s.dir() / "tree-b", fs::copy_options::recursive);
  auto second = s.run_json({"backup", (s.dir() / "tree-b").string(), "--device", "dd"});
  EXPECT_GT(first["stored_bytes"].get<uint64_t>(), 2000000u);
  EXPECT_LT(second["stored_bytes"].get<uint64_t>(), 40000u) << second.dump();
}

TEST(DedupBackup, AddingADeviceWithTheWrongKeyChangesNothing) {
  DedupSite s;
  s.add_dedup("dd");
  write_file(s.dir() / "other.key", std::string(64, 'f') + "\n");
  auto r = s.run({"devices", "add", "again", "--type", "dedup", "--path", (s.dir() / "dd").string(),
                  "--key-file", (s.dir() / "other.key").string()});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("does not open the keys"), std::string::npos) << r.err;
  auto list = s.run({"devices", "list"});
  EXPECT_EQ(list.out.find("again"), std::string::npos);
}

namespace {

// After an index of device "dd" was found damaged: it was kept for a post-mortem, and gc, restores of every
// set and a full verify work from the rebuilt one.
void expect_rebuilt_losing_nothing(const DedupSite& s, const fs::path& data,
                                   const std::vector<std::pair<int64_t, TreeState>>& sets) {
  bool set_aside = false;
  for (const auto& file : fs::directory_iterator(s.dir() / "dd"))
    set_aside = set_aside || file.path().filename().string().rfind("index.db.damaged-", 0) == 0;
  EXPECT_TRUE(set_aside) << "the damaged index was not kept for a post-mortem";
  EXPECT_EQ(s.run({"gc", "--device", "dd"}).exit_code, 0);
  for (const auto& [set, state] : sets)
    EXPECT_EQ(diff_trees(state, s.restored(set, data, "set-" + std::to_string(set))), "");
  EXPECT_EQ(s.run({"verify", "--device", "dd", "--read-data"}).exit_code, 0);
}

}  // namespace

// The index is a cache of the pack trailers. One whose file is damaged is set aside and rebuilt from the
// packs, so backups, restores and gc go on and lose nothing; before, every job failed with "file is not a
// database" until the admin deleted it by hand.
TEST(DedupBackup, ADamagedIndexIsSetAsideAndRebuiltFromThePacks) {
  DedupSite s;
  s.add_dedup("dd");
  fs::path data = s.dir() / "data";
  for (int i = 0; i < 6; ++i) write_file(data / ("f" + std::to_string(i)), random_text(200000, 40 + i));
  int64_t full = s.backup(data, "dd");
  auto state_full = snapshot(data);
  {
    std::fstream index(s.dir() / "dd" / "index.db", std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(index.good());
    index.write("this is no longer an SQLite header, a disk ate it", 50);
  }
  write_file(data / "f0", random_text(200000, 99));
  int64_t inc = s.backup(data, "dd", "incremental");
  ASSERT_GT(inc, 0);
  auto state_inc = snapshot(data);
  expect_rebuilt_losing_nothing(s, data, {{full, state_full}, {inc, state_inc}});
}

// Damage inside the file (a b-tree page SQLite calls malformed) lets the index open and shows up only when a
// job reads that page. The job that meets it fails with one line, and the next one sets the index aside and
// rebuilds it; before, every job on the device failed until the admin deleted index.db by hand.
TEST(DedupBackup, AnIndexDamagedInsideIsRebuiltByTheNextJob) {
  DedupSite s;
  s.add_dedup("dd");
  fs::path data = s.dir() / "data";
  for (int i = 0; i < 6; ++i) write_file(data / ("f" + std::to_string(i)), random_text(200000, 60 + i));
  int64_t full = s.backup(data, "dd");
  auto state_full = snapshot(data);
  const fs::path index = s.dir() / "dd" / "index.db";
  const uintmax_t size = fs::file_size(index);
  ASSERT_GT(size, 4096u) << "the index should have pages past the schema";
  {
    // Every page but the first (the schema), so the index opens and its tables do not read.
    std::fstream file(index, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(4096);
    file.write(std::string(size - 4096, '\x5a').data(), std::streamsize(size - 4096));
  }
  write_file(data / "f0", random_text(200000, 99));
  // Stored already: a rebuilt index must find its chunks.
  write_file(data / "f1-copy", random_text(200000, 61));
  RunResult failed = s.run({"backup", data.string(), "--device", "dd", "--level", "incremental"});
  EXPECT_NE(failed.exit_code, 0);
  EXPECT_NE(failed.err.find("malformed"), std::string::npos) << failed.err;
  EXPECT_NE(failed.err.find("rebuilt from the packs"), std::string::npos) << failed.err;
  EXPECT_TRUE(fs::exists(s.dir() / "dd" / "index.db.needs-rebuild"));

  auto second = s.run_json({"backup", data.string(), "--device", "dd", "--level", "incremental"});
  const int64_t inc = second.value("set_id", int64_t{0});
  ASSERT_GT(inc, 0) << second.dump();
  // The rebuilt index knows every chunk already stored: f1-copy costs nothing, f0 its 200 kB.
  EXPECT_LT(second["stored_bytes"].get<uint64_t>(), 260000u) << second.dump();
  auto state_inc = snapshot(data);
  EXPECT_FALSE(fs::exists(s.dir() / "dd" / "index.db.needs-rebuild"));
  expect_rebuilt_losing_nothing(s, data, {{full, state_full}, {inc, state_inc}});
}
