// The walk's read-ahead (directories listed and lstat-ed by the scanner's threads, file data asked for by the
// prefetcher's): with many directories and files queued ahead of the walk, every file still arrives whole and
// in walk order, files changed behind the read-ahead's back are read as they are now, a directory swapped for
// a symlink after the scanner opened it never leads the walk out of the tree, a directory removed after it
// was listed costs warnings only, the descriptors held ahead stay bounded, and a host that stops the backup
// mid-walk gets control back with the queue still full (a hang would trip ctest's timeout).
#include <dirent.h>

#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

class AgentFilesReadAhead : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_ / "src";
    for (int d = 0; d < 20; ++d)
      for (int f = 0; f < 60; ++f) {
        fs::path dir = src_ / ("d" + std::to_string(d)) / ("sub" + std::to_string(f % 3));
        fs::create_directories(dir);
        write_file(dir / ("f" + std::to_string(f)), content(d, f));
      }
  }
  static std::string content(int d, int f) {
    return std::string(size_t(1 + (d * 60 + f) % 9000), char('a' + (d + f) % 26)) +
           std::to_string(d * 1000 + f);
  }
  TempDir tmp_{"agent-files-readahead"};
  fs::path src_;
  Agent agent_;
};

TEST_F(AgentFilesReadAhead, EveryFileOfAWideTreeArrivesWholeInWalkOrder) {
  RecordingSink sink;
  BackupResult result = backup(agent_, job_for({src_.string()}), sink);
  ASSERT_EQ(result.status, SBX_OK) << result.error;
  EXPECT_TRUE(sink.protocol_errors.empty()) << sink.protocol_errors.front();
  size_t files = 0;
  std::string previous;
  for (const auto& r : sink.entries) {
    EXPECT_LT(previous, r.entry.path) << "out of walk order";
    previous = r.entry.path;
    if (r.entry.type != SBX_ENTRY_FILE) continue;
    ++files;
    EXPECT_EQ(r.data.size(), r.entry.size) << r.entry.path;
  }
  EXPECT_EQ(files, 20u * 60u);
  for (int d = 0; d < 20; ++d)
    for (int f = 0; f < 60; f += 7) {
      fs::path p =
          src_ / ("d" + std::to_string(d)) / ("sub" + std::to_string(f % 3)) / ("f" + std::to_string(f));
      const auto* r = sink.find(entry_path(p));
      ASSERT_NE(r, nullptr) << p;
      EXPECT_EQ(r->data, content(d, f)) << p;
    }
}

TEST_F(AgentFilesReadAhead, AFileRewrittenAfterTheReadAheadIsReadAsItIsNow) {
  // By the time the walk reaches d19, the read-ahead has long seen it; the walk must still read what is
  // there.
  const fs::path late = src_ / "d19" / "sub0" / "f0";
  RecordingSink sink;
  sink.after_entry = [&](const Entry& e) {
    if (e.path == entry_path(src_ / "d1")) write_file(late, "rewritten while the walk was elsewhere");
  };
  BackupResult result = backup(agent_, job_for({src_.string()}), sink);
  ASSERT_EQ(result.status, SBX_OK) << result.error;
  const auto* r = sink.find(entry_path(late));
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->data, "rewritten while the walk was elsewhere");
}

TEST_F(AgentFilesReadAhead, StoppingMidWalkReturnsWithoutWaitingForTheReadAhead) {
  RecordingSink sink;
  int seen = 0;
  sink.on_check = [&](const Entry&) { return ++seen > 30 ? SBX_ERR_CANCELLED : SBX_OK; };
  BackupResult result = backup(agent_, job_for({src_.string()}), sink);
  EXPECT_EQ(result.status, SBX_ERR_CANCELLED);
  EXPECT_LE(sink.checked.size(), 31u);
}

size_t open_descriptors() {
  size_t count = 0;
  for ([[maybe_unused]] const auto& fd : fs::directory_iterator("/proc/self/fd")) ++count;
  return count;
}

TEST_F(AgentFilesReadAhead, ADirectorySwappedForASymlinkAfterItWasScannedIsNotFollowed) {
  const fs::path outside = tmp_ / "outside";
  fs::create_directories(outside);
  write_file(outside / "secret-outside", "must never be read");
  // d7 is well within what the scanner reads ahead by the time the walk checks d0's first file.
  const std::string trigger = entry_path(src_ / "d0" / "sub0" / "f0");
  RecordingSink sink;
  sink.on_check = [&](const Entry& e) {
    if (e.path == trigger) swap_for_symlink(src_ / "d7", outside, tmp_ / "d7-moved");
    return SBX_OK;
  };
  BackupResult result = backup(agent_, job_for({src_.string()}), sink);
  ASSERT_EQ(result.status, SBX_OK) << result.error;
  for (const Recorded& r : sink.entries) {
    EXPECT_EQ(r.entry.path.find("secret-outside"), std::string::npos) << "the walk left the tree";
    EXPECT_EQ(r.data.find("must never be read"), std::string::npos);
  }
  // Either the directory that was opened is walked (its files are where they were), or it is reported as
  // replaced; nothing else.
  for (const Warning& w : sink.warnings)
    EXPECT_NE(w.message.find("replaced"), std::string::npos) << sink.warnings_text();
}

TEST_F(AgentFilesReadAhead, ADirectoryRemovedAfterItWasListedCostsWarningsOnly) {
  const std::string trigger = entry_path(src_ / "d0" / "sub0" / "f0");
  RecordingSink sink;
  sink.on_check = [&](const Entry& e) {
    if (e.path == trigger) fs::remove_all(src_ / "d5");
    return SBX_OK;
  };
  BackupResult result = backup(agent_, job_for({src_.string()}), sink);
  ASSERT_EQ(result.status, SBX_OK) << result.error;
  for (const Recorded& r : sink.entries) {
    if (r.entry.type == SBX_ENTRY_FILE) {
      EXPECT_EQ(r.data.size(), r.entry.size) << r.entry.path;
    }
  }
  for (const Warning& w : sink.warnings) {
    EXPECT_EQ(w.path.rfind(entry_path(src_ / "d5"), 0), 0u) << sink.warnings_text();
    EXPECT_NE(w.message.find("vanished"), std::string::npos) << sink.warnings_text();
  }
  EXPECT_NE(sink.find(entry_path(src_ / "d19" / "sub2" / "f59")), nullptr);
}

TEST(AgentFilesScanner, DescriptorsHeldAheadOfTheWalkStayBounded) {
  TempDir tmp{"agent-files-scanner"};
  // 2000 directories: a scanner without a bound would hold one descriptor for each.
  for (int d = 0; d < 2000; ++d)
    fs::create_directories(tmp.path() / "wide" / ("d" + std::to_string(d)) / "x");
  Agent agent;
  RecordingSink sink;
  size_t most = 0;
  sink.on_check = [&](const Entry&) {
    most = std::max(most, open_descriptors());
    return SBX_OK;
  };
  const size_t before = open_descriptors();
  BackupResult result = backup(agent, job_for({(tmp.path() / "wide").string()}), sink);
  ASSERT_EQ(result.status, SBX_OK) << result.error;
  EXPECT_EQ(sink.checked.size(), 1u + 2000u * 2);
  EXPECT_LT(most, before + 200) << "descriptors held ahead of the walk";
  EXPECT_EQ(open_descriptors(), before) << "descriptors left open after the backup";
}

TEST(AgentFilesScanner, AnIncrementalThatSkipsEverythingStillChecksEveryName) {
  TempDir tmp{"agent-files-scanner"};
  for (int d = 0; d < 30; ++d) {
    const fs::path dir = tmp.path() / "t" / ("d" + std::to_string(d));
    fs::create_directories(dir);
    for (int f = 0; f < 40; ++f) write_file(dir / ("f" + std::to_string(f)), "x");
  }
  Agent agent;
  RecordingSink sink;
  sink.on_check = [](const Entry&) { return SBX_SKIP; };
  nlohmann::json job = job_for({(tmp.path() / "t").string()});
  job["level"] = "incremental";
  BackupResult result = backup(agent, job, sink);
  ASSERT_EQ(result.status, SBX_OK) << result.error;
  EXPECT_EQ(sink.checked.size(), 1u + 30u + 30u * 40u);
  EXPECT_TRUE(sink.entries.empty());
  std::string previous;
  for (const Entry& e : sink.checked) {
    EXPECT_LT(previous, e.path) << "out of walk order";
    previous = e.path;
  }
}

}  // namespace
