// Optimized duplication between dedup devices of one domain: only missing chunks travel, bytes sent are
// printed and recorded, an interrupted duplication resumes without resending acknowledged chunks, and a
// duplication to another domain re-encrypts (every byte travels) and restores the same.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "dedup_site.hpp"

using namespace sbx::test;

TEST(DedupDuplicate, OnlyMissingChunksTravel) {
  DedupSite s;
  s.add_dedup("local");
  s.add_dedup("offsite", "local");
  fs::path data = s.dir() / "data";
  for (int i = 0; i < 10; ++i) write_file(data / ("f" + std::to_string(i)), random_text(200000, i));
  int64_t first = s.backup(data, "local");
  auto state = snapshot(data);
  auto copy = s.run_json({"duplicate", std::to_string(first), "--to", "offsite"});
  EXPECT_TRUE(copy["optimized"].get<bool>());
  EXPECT_EQ(copy["chunks_sent"], copy["chunks_total"]);
  uint64_t unique = copy["stored_bytes"].get<uint64_t>();
  uint64_t sent = copy["bytes_sent"].get<uint64_t>();
  EXPECT_GE(sent, unique);
  EXPECT_LE(double(sent), double(unique) * 1.02) << "framing overhead above 2%";
  EXPECT_EQ(diff_trees(state, s.restored(copy["set_id"].get<int64_t>(), data, "copy")), "");

  write_file(data / "f3", random_text(200000, 99));
  int64_t second = s.backup(data, "local", "incremental");
  auto again = s.run_json({"duplicate", std::to_string(second), "--to", "offsite"});
  EXPECT_GT(again["chunks_sent"].get<int>(), 0);
  EXPECT_LT(again["bytes_sent"].get<uint64_t>(), 300000u) << again.dump();
  auto text = s.run({"jobs", "log", std::to_string(again["job_id"].get<int64_t>())});
  EXPECT_NE(text.out.find("optimized duplication: sent"), std::string::npos) << text.out;
  EXPECT_EQ(s.run({"verify", "--device", "offsite", "--read-data"}).exit_code, 0);
}

TEST(DedupDuplicate, AnotherDomainGetsEveryByteReEncrypted) {
  DedupSite s;
  s.add_dedup("local");
  s.add_dedup("stranger");
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(300000, 5));
  int64_t set = s.backup(data, "local");
  auto copy = s.run_json({"duplicate", std::to_string(set), "--to", "stranger"});
  EXPECT_FALSE(copy["optimized"].get<bool>());
  EXPECT_EQ(diff_trees(snapshot(data), s.restored(copy["set_id"].get<int64_t>(), data, "stranger")), "");
  EXPECT_EQ(s.run({"verify", "--device", "stranger", "--read-data"}).exit_code, 0);
}

TEST(DedupDuplicate, AKilledDuplicationResumesWithoutResending) {
  DedupSite s;
  s.add_dedup("local", "", {"chunk_avg_kib=64"});
  s.add_dedup("offsite", "local");
  fs::path data = s.dir() / "data";
  for (int i = 0; i < 12; ++i) write_file(data / ("f" + std::to_string(i)), random_text(16 << 20, 20 + i));
  int64_t set = s.backup(data, "local");
  uint64_t total = 0;
  // Kill it once some acknowledgements (every 64 MiB) happened.
  pid_t child = s.spawn({"duplicate", std::to_string(set), "--to", "offsite"});
  auto packs = s.dir() / "offsite" / "packs";
  for (int i = 0; i < 600; ++i) {
    uint64_t bytes = 0;
    if (fs::exists(packs))
      for (const auto& e : fs::recursive_directory_iterator(packs))
        if (e.is_regular_file()) bytes += e.file_size();
    if (bytes > (70u << 20)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  auto resumed = s.run_json({"duplicate", std::to_string(set), "--to", "offsite"});
  total = resumed["chunks_total"].get<uint64_t>();
  EXPECT_LT(resumed["chunks_sent"].get<uint64_t>(), total) << "acknowledged chunks were sent again";
  EXPECT_GT(resumed["chunks_sent"].get<uint64_t>(), 0u);
  EXPECT_EQ(diff_trees(snapshot(data), s.restored(resumed["set_id"].get<int64_t>(), data, "resumed")), "");
}

TEST(DedupDuplicate, TheCopyOpensAfterTheStoreItTookItsDomainFromIsLost) {
  // "domain_from" names the store a device joins when it is made; the offsite copy must not depend on that
  // store afterwards, since it is needed most when that store is gone.
  DedupSite s;
  s.add_dedup("a");
  s.add_dedup("b", "a");
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(200000, 12));
  int64_t set = s.backup(data, "a");
  auto state = snapshot(data);
  int64_t copy = s.run_json({"duplicate", std::to_string(set), "--to", "b"})["set_id"].get<int64_t>();
  fs::remove_all(s.dir() / "a");
  EXPECT_EQ(diff_trees(state, s.restored(copy, data, "b")), "");
  EXPECT_EQ(s.run({"verify", "--device", "b", "--read-data"}).exit_code, 0);
}

TEST(DedupDuplicate, AnOptimizedCopyGoesThroughAfterTheSourceIndexIsLost) {
  // The index is rebuilt from the pack trailers when needed; listing a set's chunks for a copy must take
  // that path too, as a restore does, instead of saying the store lacks them.
  DedupSite s;
  s.add_dedup("local");
  s.add_dedup("offsite", "local");
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(300000, 15));
  int64_t set = s.backup(data, "local");
  auto state = snapshot(data);
  s.lose_index("local");
  auto copy = s.run_json({"duplicate", std::to_string(set), "--to", "offsite"});
  EXPECT_TRUE(copy.value("optimized", false)) << copy.dump();
  EXPECT_EQ(diff_trees(state, s.restored(copy["set_id"].get<int64_t>(), data, "copy")), "");
}

TEST(DedupDuplicate, ASecondCopyOnTheSameDeviceIsAUsageError) {
  DedupSite s;
  s.add_dedup("local");
  s.add_dedup("offsite", "local");
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(100000, 16));
  int64_t set = s.backup(data, "local");
  int64_t copy = s.run_json({"duplicate", std::to_string(set), "--to", "offsite"})["set_id"].get<int64_t>();
  auto again = s.run({"duplicate", std::to_string(set), "--to", "offsite"});
  EXPECT_EQ(again.exit_code, 2) << again.err;
  EXPECT_NE(again.err.find("already has a copy on device 'offsite': set " + std::to_string(copy)),
            std::string::npos)
      << again.err;
  auto back = s.run({"duplicate", std::to_string(copy), "--to", "local"});
  EXPECT_EQ(back.exit_code, 2) << back.err;
  EXPECT_NE(back.err.find("already has a copy on device 'local': set " + std::to_string(set)),
            std::string::npos)
      << back.err;
  EXPECT_EQ(s.run({"--json", "alerts", "list"}).out.find("duplicate"), std::string::npos)
      << "a refused request is no failed job";
}

TEST(DedupDuplicate, ACopyRecordsTheBytesItsOriginalDid) {
  // A sparse file's holes are no data: the copy must not count them as the original did not.
  DedupSite s;
  s.add_dedup("local");
  s.add_dedup("offsite", "local");
  fs::path data = s.dir() / "data";
  write_file(data / "sparse", random_text(4096, 17));
  fs::resize_file(data / "sparse", 10 << 20);
  int64_t set = s.backup(data, "local");
  int64_t copy = s.run_json({"duplicate", std::to_string(set), "--to", "offsite"})["set_id"].get<int64_t>();
  std::map<int64_t, uint64_t> bytes;
  for (const auto& j : s.run({"--json", "sets", "list"}).json_lines()) bytes[j["id"]] = j["bytes"];
  EXPECT_LT(bytes[set], uint64_t(1) << 20) << "the original counts the holes";
  EXPECT_EQ(bytes[copy], bytes[set]);
}
