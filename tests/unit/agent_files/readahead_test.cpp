// The walk's read-ahead threads are hints only: with many directories and files queued ahead of the walk,
// every file still arrives whole and in walk order, files changed behind the read-ahead's back are read as
// they are now, and a host that stops the backup mid-walk gets control back with the queue still full (a hang
// would trip ctest's timeout).
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

}  // namespace
