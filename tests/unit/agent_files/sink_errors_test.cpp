// The host stops a backup: a negative status from any sink callback ends the walk at once and backup()
// returns that status with a message naming where it stopped.
#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

class AgentFilesSinkErrors : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_ / "src";
    fs::create_directories(src_);
    for (const char* name : {"a", "b", "c"}) write_file(src_ / name, std::string("data of ") + name);
  }
  TempDir tmp_{"agent-files-sink-errors"};
  fs::path src_;
  Agent agent_;
};

TEST_F(AgentFilesSinkErrors, RefusedDataStopsTheBackup) {
  RecordingSink sink;
  sink.data_status = SBX_ERR_NO_SPACE;
  BackupResult result = backup(agent_, job_for({src_.string()}), sink);
  EXPECT_EQ(result.status, SBX_ERR_NO_SPACE);
  EXPECT_NE(result.error.find("on_data"), std::string::npos) << result.error;
  EXPECT_NE(result.error.find(entry_path(src_ / "a")), std::string::npos) << result.error;
  ASSERT_EQ(sink.entries.size(), 2u);  // the root and "a"; nothing after the refusal
  EXPECT_FALSE(sink.was_checked(entry_path(src_ / "b")));
}

TEST_F(AgentFilesSinkErrors, RefusedCheckStopsTheBackup) {
  RecordingSink sink;
  const std::string stop_at = entry_path(src_ / "b");
  sink.on_check = [&](const Entry& e) { return e.path == stop_at ? SBX_ERR_CANCELLED : SBX_OK; };
  BackupResult result = backup(agent_, job_for({src_.string()}), sink);
  EXPECT_EQ(result.status, SBX_ERR_CANCELLED);
  EXPECT_FALSE(sink.was_checked(entry_path(src_ / "c")));
  EXPECT_EQ(sink.find(stop_at), nullptr);
}

}  // namespace
