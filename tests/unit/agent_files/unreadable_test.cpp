// Unreadable entries: a file that cannot be opened is a warning with no entry, a directory that cannot be
// opened keeps its own entry with a warning, and the rest of the tree is still backed up. Runs as an
// unprivileged user so that permissions bite even when the suite runs as root.
#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

bool contains(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

TEST(AgentFilesUnreadable, WarningForTheFileAndTheRestIsBackedUp) {
  TempDir tmp("agent-files-unreadable");
  open_up_for_nobody(tmp);
  fs::path src = tmp / "src";
  fs::create_directories(src / "locked");
  write_file(src / "a-readable", "fine");
  write_file(src / "locked/inside", "hidden");
  write_file(src / "secret", "top secret", 0000);
  write_file(src / "z-after", "still here");
  ::chmod(src.c_str(), 0755);
  ::chmod((src / "locked").c_str(), 0000);

  ChildBackup run = backup_unprivileged(job_for({src.string()}), false);
  ::chmod((src / "locked").c_str(), 0755);
  EXPECT_EQ(run.status, SBX_OK) << "warnings must not fail the backup: " << run.error;
  EXPECT_TRUE(run.protocol_errors.empty());

  const std::string secret = entry_path(src / "secret");
  const std::string locked = entry_path(src / "locked");
  ASSERT_EQ(run.warnings.size(), 2u);
  EXPECT_EQ(run.warnings[0].path, locked);
  EXPECT_EQ(run.warnings[0].message, "cannot open directory: Permission denied");
  EXPECT_EQ(run.warnings[1].path, secret);
  EXPECT_EQ(run.warnings[1].message, "cannot open: Permission denied");

  EXPECT_FALSE(contains(run.sent, secret)) << "no entry may be sent for a file that could not be opened";
  EXPECT_TRUE(contains(run.sent, locked)) << "the directory itself is still kept";
  EXPECT_FALSE(contains(run.checked, entry_path(src / "locked/inside")));
  EXPECT_TRUE(contains(run.sent, entry_path(src / "a-readable")));
  EXPECT_TRUE(contains(run.sent, entry_path(src / "z-after")));
  EXPECT_EQ(run.data_bytes, std::string("fine").size() + std::string("still here").size());
}

TEST(AgentFilesUnreadable, UnreadableAttributesAreAWarningAndTheEntryIsKept) {
  TempDir tmp("agent-files-unreadable-xattrs");
  if (!user_xattrs_supported(tmp.path())) GTEST_SKIP() << "the temp file system does not take user.* xattrs";
  open_up_for_nobody(tmp);
  fs::path src = tmp / "src";
  fs::create_directories(src / "closed");
  ::chmod(src.c_str(), 0755);
  ASSERT_EQ(::setxattr((src / "closed").c_str(), "user.note", "n", 1, 0), 0);
  ::chmod((src / "closed").c_str(), 0000);  // user.* needs read permission

  ChildBackup run = backup_unprivileged(job_for({src.string()}), false);
  ::chmod((src / "closed").c_str(), 0755);
  EXPECT_EQ(run.status, SBX_OK) << run.error;
  const std::string closed = entry_path(src / "closed");
  EXPECT_TRUE(contains(run.sent, closed));
  bool xattr_warning = false;
  for (const Warning& w : run.warnings)
    if (w.path == closed && w.message == "cannot read extended attributes: Permission denied")
      xattr_warning = true;
  EXPECT_TRUE(xattr_warning);
}

TEST(AgentFilesUnreadable, SourceBelowASearchOnlyDirectoryIsReachable) {
  TempDir tmp("agent-files-search-only");
  open_up_for_nobody(tmp);
  fs::create_directories(tmp / "home/docs");
  write_file(tmp / "home/docs/file", "readable");
  ::chmod((tmp / "home/docs").c_str(), 0755);
  ::chmod((tmp / "home").c_str(), 0711);  // like a home directory: enter, but not list

  ChildBackup run = backup_unprivileged(job_for({(tmp / "home/docs").string()}), false);
  ::chmod((tmp / "home").c_str(), 0755);
  EXPECT_EQ(run.status, SBX_OK) << run.error;
  EXPECT_TRUE(run.warnings.empty()) << run.warnings.front().path << ": " << run.warnings.front().message;
  EXPECT_TRUE(contains(run.sent, entry_path(tmp / "home/docs/file")));
}

}  // namespace
