// kill -9 at 50 random moments across backups, optimized duplications and gc runs on dedup devices: after
// each, both devices verify (structure and data), the catalog's sets verify, and every set the catalog holds
// as complete restores byte-identical to the tree it was taken from.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <set>
#include <thread>

#include "dedup_site.hpp"

using namespace sbx::test;

TEST(DedupCrash, KillNineAnywhereLosesNoAcknowledgedSet) {
  DedupSite s;
  s.add_dedup("local", "", {"chunk_avg_kib=16", "pack_mib=2"});
  s.add_dedup("offsite", "local");
  s.expire_everything_possible();
  fs::path data = s.dir() / "data";
  for (int i = 0; i < 24; ++i)
    write_file(data / ("d" + std::to_string(i % 4)) / ("f" + std::to_string(i)), random_text(700000, i));
  std::mt19937 rng(20261202);
  std::map<int64_t, TreeState> taken_from;  // set id -> the tree its backup read
  TreeState current = snapshot(data);
  int kills = 0;
  for (int round = 0; round < 50; ++round) {
    const int op = round % 3;
    std::vector<std::string> args;
    if (op == 0) {
      // Change a few files, then back up.
      for (int k = 0; k < 3; ++k)
        write_file(data / ("d" + std::to_string(rng() % 4)) / ("f" + std::to_string(rng() % 24)),
                   random_text(700000, rng()));
      current = snapshot(data);
      args = {"backup", data.string(), "--device",
              "local",  "--level",     rng() % 3 == 0 ? "full" : "incremental"};
    } else if (op == 1) {
      auto sets = s.run({"--json", "sets", "list"}).json_lines();
      int64_t newest = 0;
      for (const auto& j : sets)
        if (j["state"] == "complete" && j["copy_of"].is_null()) newest = j["id"].get<int64_t>();
      if (!newest) continue;
      args = {"duplicate", std::to_string(newest), "--to", "offsite"};
    } else {
      s.run({"expire"});
      args = {"gc"};
    }
    std::set<int64_t> ids_before;
    for (const auto& j : s.run({"--json", "sets", "list"}).json_lines())
      ids_before.insert(j["id"].get<int64_t>());
    pid_t pid = s.spawn(args);
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 1200));
    if (kill(pid, SIGKILL) == 0) ++kills;
    int status = 0;
    waitpid(pid, &status, 0);

    // The catalog: sets the backup may have added were all taken from `current` (a set it discarded, left
    // 'writing' by an earlier kill, is gone; ids are never given twice).
    auto sets = s.run({"--json", "sets", "list"}).json_lines();
    if (op == 0)
      for (const auto& j : sets)
        if (!ids_before.count(j["id"].get<int64_t>())) taken_from[j["id"].get<int64_t>()] = current;
    auto verify_local = s.run({"verify", "--device", "local", "--read-data"});
    ASSERT_EQ(verify_local.exit_code, 0) << "round " << round << ": " << verify_local.err;
    auto verify_offsite = s.run({"verify", "--device", "offsite", "--read-data"});
    ASSERT_EQ(verify_offsite.exit_code, 0) << "round " << round << ": " << verify_offsite.err;
    auto verify_sets = s.run({"verify"});
    ASSERT_EQ(verify_sets.exit_code, 0) << "round " << round << ": " << verify_sets.err;
    // Every complete set (originals and copies) restores as the tree it was taken from; old sets are
    // sampled each round and all are checked at the end.
    for (const auto& j : sets) {
      if (j["state"] != "complete") continue;
      int64_t id = j["id"].get<int64_t>();
      int64_t original = j["copy_of"].is_number() ? j["copy_of"].get<int64_t>() : id;
      if (!taken_from.count(original)) continue;
      if (round != 49 && id < sets.back()["id"].get<int64_t>() - 2 && rng() % 4) continue;
      ASSERT_EQ(diff_trees(taken_from[original],
                           s.restored(id, data, "r" + std::to_string(round) + "-" + std::to_string(id))),
                "")
          << "round " << round << " set " << id;
      fs::remove_all(s.dir() / ("restore-r" + std::to_string(round) + "-" + std::to_string(id)));
    }
  }
  EXPECT_GT(kills, 20) << "most operations should have been killed while running";
}
