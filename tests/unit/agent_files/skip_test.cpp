// SKIP semantics: when check() answers SBX_SKIP the agent sends nothing more for the entry and reads no
// data (an unreadable file is never even opened), while directories are still descended.
#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

TEST(AgentFilesSkip, SkipEverythingSendsNothingButChecksEverything) {
  TempDir tmp("agent-files-skip");
  fs::path src = tmp / "src";
  fs::create_directories(src / "dir/sub");
  write_file(src / "dir/sub/file", "data");
  write_file(src / "top", "top");
  fs::create_symlink("top", src / "link");
  Agent agent;
  RecordingSink sink;
  sink.on_check = [](const Entry&) { return SBX_SKIP; };
  ASSERT_EQ(backup(agent, job_for({src.string()}), sink).status, SBX_OK);
  EXPECT_TRUE(sink.entries.empty());
  EXPECT_TRUE(sink.warnings.empty()) << sink.warnings_text();
  std::vector<std::string> checked;
  for (const Entry& e : sink.checked) checked.push_back(e.path);
  std::vector<std::string> want = {entry_path(src),
                                   entry_path(src / "dir"),
                                   entry_path(src / "dir/sub"),
                                   entry_path(src / "dir/sub/file"),
                                   entry_path(src / "link"),
                                   entry_path(src / "top")};
  EXPECT_EQ(checked, want);
}

TEST(AgentFilesSkip, SkippedUnreadableFileIsNeverOpened) {
  TempDir tmp("agent-files-skip-unreadable");
  open_up_for_nobody(tmp);
  fs::path src = tmp / "src";
  fs::create_directories(src);
  ::chmod(src.c_str(), 0755);
  write_file(src / "secret", "never read", 0000);
  write_file(src / "plain", "plain");

  ChildBackup run = backup_unprivileged(job_for({src.string()}), true);
  EXPECT_EQ(run.status, SBX_OK) << run.error;
  EXPECT_TRUE(run.warnings.empty()) << "a skipped file must not be opened; got: "
                                    << run.warnings.front().message;
  EXPECT_TRUE(run.sent.empty());
  EXPECT_EQ(run.data_bytes, 0u);
  EXPECT_NE(std::find(run.checked.begin(), run.checked.end(), entry_path(src / "secret")), run.checked.end());
}

TEST(AgentFilesSkip, MixedAnswersSendOnlyWhatWasAskedFor) {
  TempDir tmp("agent-files-skip-mixed");
  fs::path src = tmp / "src";
  fs::create_directories(src / "unchanged-dir");
  write_file(src / "unchanged-dir/changed", "new data");
  write_file(src / "unchanged", "old data");
  Agent agent;
  RecordingSink sink;
  const std::string wanted = entry_path(src / "unchanged-dir/changed");
  sink.on_check = [&](const Entry& e) { return e.path == wanted ? SBX_OK : SBX_SKIP; };
  ASSERT_EQ(backup(agent, job_for({src.string()}), sink).status, SBX_OK);
  ASSERT_EQ(sink.entries.size(), 1u);
  EXPECT_EQ(sink.entries[0].entry.path, wanted);
  EXPECT_EQ(sink.entries[0].data, "new data");
}

}  // namespace
