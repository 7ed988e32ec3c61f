// Backups on a dedup device as on disk: full, incrementals with adds, changes, deletes and renames, and
// true image restore by set; a second identical tree under another name costs almost nothing.
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
