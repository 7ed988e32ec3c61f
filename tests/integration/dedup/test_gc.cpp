// Deletion in two steps: expire, then gc reclaims space and reports it; --dry-run changes nothing; gc runs
// beside a backup and never takes a chunk that backup relies on.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "dedup_site.hpp"

using namespace sbx::test;

namespace {
uint64_t dir_bytes(const fs::path& root) {
  uint64_t total = 0;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file()) total += e.file_size();
  return total;
}
}  // namespace

TEST(DedupGc, ExpireThenGcFreesSpaceAndTheRestStaysRestorable) {
  DedupSite s;
  s.add_dedup("dd");
  s.expire_everything_possible();
  fs::path data = s.dir() / "data";
  write_file(data / "big", random_text(3 << 20, 1));
  s.backup(data, "dd");
  write_file(data / "big", random_text(3 << 20, 2));
  int64_t second = s.backup(data, "dd");
  auto state = snapshot(data);
  auto expired = s.run_json({"expire"});
  EXPECT_EQ(expired["expired"], 1);
  uint64_t packs_before = dir_bytes(s.dir() / "dd" / "packs");

  auto dry = s.run_json({"gc", "--dry-run"});
  ASSERT_EQ(dry["devices"].size(), 1u);
  EXPECT_GT(dry["devices"][0]["bytes_freed"].get<uint64_t>(), 3000000u) << dry.dump();
  EXPECT_EQ(dir_bytes(s.dir() / "dd" / "packs"), packs_before);

  auto real = s.run_json({"gc"});
  EXPECT_GT(real["devices"][0]["bytes_freed"].get<uint64_t>(), 3000000u) << real.dump();
  EXPECT_EQ(real["devices"][0]["sets_marked"], 1);
  EXPECT_LT(dir_bytes(s.dir() / "dd" / "packs") + 3000000, packs_before);
  EXPECT_EQ(diff_trees(state, s.restored(second, data, "after-gc")), "");
  EXPECT_EQ(s.run({"verify", "--device", "dd", "--read-data"}).exit_code, 0);
  auto text = s.run({"gc"});
  EXPECT_NE(text.out.find("freed 0 B"), std::string::npos) << text.out;
}

TEST(DedupGc, GcBesideARunningBackupKeepsWhatTheBackupUses) {
  DedupSite s;
  s.add_dedup("dd", "", {"chunk_avg_kib=16"});
  s.expire_everything_possible();
  fs::path data = s.dir() / "data";
  std::string shared = random_text(8 << 20, 3);
  write_file(data / "shared", shared);
  s.backup(data, "dd");
  write_file(data / "other", "x");
  s.backup(data, "dd");  // second chain: the first can expire
  // A third tree shares the first set's data; its backup runs while the first set expires and gc runs.
  fs::path more = s.dir() / "more";
  for (int i = 0; i < 8; ++i) write_file(more / ("copy" + std::to_string(i)), shared);
  pid_t child = fork();
  if (child == 0) {
    auto r = s.run({"backup", more.string(), "--device", "dd", "--quiet"});
    _exit(r.exit_code);
  }
  for (int i = 0; i < 5; ++i) {
    s.run({"expire"});
    auto gc = s.run({"gc"});
    EXPECT_EQ(gc.exit_code, 0) << gc.err;
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  s.run({"gc"});
  EXPECT_EQ(s.run({"verify"}).exit_code, 0);
  EXPECT_EQ(s.run({"verify", "--device", "dd", "--read-data"}).exit_code, 0);
  auto sets = s.run({"--json", "sets", "list"}).json_lines();
  int64_t last = sets.back()["id"].get<int64_t>();
  EXPECT_EQ(diff_trees(snapshot(more), s.restored(last, more, "more")), "");
}

TEST(DedupGc, ADiskDeviceHasNoGarbageToCollect) {
  DedupSite s;
  auto r = s.run({"gc", "--device", "disk1"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("does not deduplicate"), std::string::npos) << r.err;
  auto none = s.run({"gc"});
  EXPECT_EQ(none.exit_code, 0);
  EXPECT_NE(none.out.find("no dedup devices"), std::string::npos) << none.out;
}

TEST(DedupGc, ASetAnotherSiteWroteIsKeptByExpireAndGc) {
  // Two sites share one dedup path (or a catalog was restored from an older copy): what this catalog never
  // recorded is not its to delete. expire keeps such a set's manifest, and gc keeps its chunks, warns and
  // succeeds.
  DedupSite s;
  s.add_dedup("dd");
  s.expire_everything_possible();
  fs::path data = s.dir() / "data";
  write_file(data / "mine", random_text(200000, 5));
  s.backup(data, "dd");
  s.backup(data, "dd");

  fs::path other = s.other_site_sharing("dd", "shared");
  fs::path theirs = s.dir() / "theirs";
  write_file(theirs / "f", random_text(300000, 6));
  auto state = snapshot(theirs);
  auto backup =
      run_strongbox({"--site", other.string(), "--json", "backup", theirs.string(), "--device", "shared"});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;

  EXPECT_EQ(s.run({"expire"}).exit_code, 0);
  auto gc = s.run({"--json", "gc"});
  EXPECT_EQ(gc.exit_code, 0) << gc.err;
  auto lines = gc.json_lines();
  ASSERT_FALSE(lines.empty()) << gc.out;
  EXPECT_EQ(lines.back()["devices"][0]["sets_unknown"], 1) << gc.out;
  fs::path restored = s.dir() / "restore-theirs";
  auto restore =
      run_strongbox({"--site", other.string(), "restore", "--set", "1", "--to", restored.string()});
  EXPECT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(diff_trees(state, snapshot(restored / theirs.relative_path())), "");
}

TEST(DedupGc, ADryRunRebuildsALostIndexInsteadOfFailing) {
  // The index is a cache of the pack trailers. A gc marking finds the groups it needs missing from it and
  // takes the packs in again, while its marks are pending; the dry run did this inside its marking
  // transaction and failed ("cannot start a transaction within a transaction"). A backup indexing a pack
  // while gc marks takes the same path.
  DedupSite s;
  s.add_dedup("dd");
  s.expire_everything_possible();
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(1 << 20, 13));
  s.backup(data, "dd");
  write_file(data / "f", random_text(1 << 20, 14));
  int64_t second = s.backup(data, "dd");
  auto state = snapshot(data);
  EXPECT_EQ(s.run_json({"expire"})["expired"], 1);
  s.lose_index("dd");
  auto dry = s.run_json({"gc", "--dry-run"});
  ASSERT_EQ(dry["devices"].size(), 1u) << dry.dump();
  EXPECT_FALSE(dry["devices"][0].contains("error")) << dry.dump();
  EXPECT_GT(dry["devices"][0]["bytes_freed"].get<uint64_t>(), 1000000u) << dry.dump();
  auto real = s.run_json({"gc"});
  EXPECT_GT(real["devices"][0]["bytes_freed"].get<uint64_t>(), 1000000u) << real.dump();
  EXPECT_EQ(diff_trees(state, s.restored(second, data, "after-gc")), "");
  EXPECT_EQ(s.run({"verify", "--device", "dd", "--read-data"}).exit_code, 0);
}

TEST(DedupGc, AnIndexThatLostGcsLastCommitLosesNoData) {
  // gc rewrote a half-dead pack and deleted the old one, and then the index lost that commit (a power cut
  // before it reached the disk, or an older index.db put back): its rows name the deleted pack while the
  // blobs live in the new one, which it does not list. Restore must find them there, and the next gc must
  // not delete that pack as unused.
  DedupSite s;
  s.add_dedup("dd");
  s.expire_everything_possible();
  fs::path data = s.dir() / "data";
  for (int i = 1; i <= 6; ++i) write_file(data / ("f" + std::to_string(i)), random_text(100000, 20 + i));
  s.backup(data, "dd");
  for (int i = 1; i <= 3; ++i) write_file(data / ("f" + std::to_string(i)), random_text(100000, 30 + i));
  int64_t second = s.backup(data, "dd");
  auto state = snapshot(data);
  EXPECT_EQ(s.run_json({"expire"})["expired"], 1);
  const fs::path index = s.dir() / "dd" / "index.db";
  ASSERT_FALSE(fs::exists(s.dir() / "dd" / "index.db-wal")) << "the index was not checkpointed at close";
  fs::copy_file(index, s.dir() / "index-before-gc.db");
  auto gc = s.run_json({"gc"});
  ASSERT_EQ(gc["devices"][0]["packs_rewritten"], 1) << gc.dump();
  fs::copy_file(s.dir() / "index-before-gc.db", index, fs::copy_options::overwrite_existing);
  for (const char* file : {"index.db-wal", "index.db-shm"}) fs::remove(s.dir() / "dd" / file);

  EXPECT_EQ(diff_trees(state, s.restored(second, data, "before-second-gc")), "");
  EXPECT_EQ(s.run({"gc"}).exit_code, 0);
  EXPECT_EQ(diff_trees(state, s.restored(second, data, "after-second-gc")), "");
  EXPECT_EQ(s.run({"verify", "--device", "dd", "--read-data"}).exit_code, 0);
}

TEST(DedupGc, ADryRunPromisesWhatTheRealRunFrees) {
  // A dead blob in a pack that stays as it is (less than a fifth of it is dead) frees nothing; the dry run
  // counted it anyway.
  DedupSite s;
  s.add_dedup("dd", "", {"pack_mib=16"});
  s.expire_everything_possible();
  fs::path data = s.dir() / "data";
  write_file(data / "big", random_text(3 << 20, 40));
  write_file(data / "small", random_text(400000, 41));
  s.backup(data, "dd");
  write_file(data / "small", random_text(400000, 42));
  s.backup(data, "dd");
  EXPECT_EQ(s.run_json({"expire"})["expired"], 1);
  auto dry = s.run_json({"gc", "--dry-run"});
  auto real = s.run_json({"gc"});
  EXPECT_EQ(dry["devices"][0]["bytes_freed"], real["devices"][0]["bytes_freed"]) << dry.dump() << real.dump();
  EXPECT_EQ(dry["devices"][0]["bytes_after"], real["devices"][0]["bytes_after"]) << dry.dump() << real.dump();
}

// A rotated drive that is not plugged in is skipped with a warning, and every other device still gets its
// gc; asked for by name, it is an error. Before, the missing store was made anew, empty, on the mount point.
TEST(DedupGc, AnOfflineDriveIsSkippedAndTheOthersAreCollected) {
  DedupSite s;
  s.add_dedup("dd");
  s.add_dedup("usb");
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(100000, 21));
  s.backup(data, "dd");
  s.backup(data, "usb");
  fs::rename(s.dir() / "usb", s.dir() / "usb-unplugged");
  fs::create_directories(s.dir() / "usb");
  auto all = s.run({"--json", "gc"});
  EXPECT_EQ(all.exit_code, 0) << all.err;
  const auto lines = all.json_lines();
  ASSERT_FALSE(lines.empty()) << all.out;
  std::map<std::string, nlohmann::json> by_device;
  for (const auto& d : lines.back()["devices"]) by_device[d["device"].get<std::string>()] = d;
  EXPECT_FALSE(by_device["dd"].contains("offline")) << by_device["dd"].dump();
  EXPECT_EQ(by_device["dd"]["sets_marked"], 1);
  EXPECT_NE(by_device["usb"].value("offline", "").find("is its drive mounted?"), std::string::npos)
      << by_device["usb"].dump();
  auto named = s.run({"gc", "--device", "usb"});
  EXPECT_NE(named.exit_code, 0);
  EXPECT_NE(named.err.find("is its drive mounted?"), std::string::npos) << named.err;
  EXPECT_TRUE(fs::is_empty(s.dir() / "usb"));
  fs::remove(s.dir() / "usb");
  fs::rename(s.dir() / "usb-unplugged", s.dir() / "usb");
  EXPECT_EQ(s.run({"gc", "--device", "usb"}).exit_code, 0);
}
