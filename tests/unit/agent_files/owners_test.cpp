// Owners: as root, numeric owners without a local name (files, directories, symlinks) come back, and a file
// of the restoring process's own owner and group keeps its group in a set-group-ID directory of another
// group.
#include <sys/stat.h>
#include <unistd.h>

#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

TEST(AgentFilesOwners, NumericOwnersComeBackAsRoot) {
  if (::geteuid() != 0) GTEST_SKIP() << "changing owners needs root";
  TempDir tmp("agent-files-owners");
  fs::path src = tmp / "src";
  fs::create_directories(src / "dir");
  write_file(src / "file", "owned", 04755);
  fs::create_symlink("file", src / "link");
  ASSERT_EQ(::chown((src / "file").c_str(), 12345, 23456), 0);
  ASSERT_EQ(::chmod((src / "file").c_str(), 04755), 0);  // chown clears set-user-ID
  ASSERT_EQ(::chown((src / "dir").c_str(), 12346, 23457), 0);
  ASSERT_EQ(::lchown((src / "link").c_str(), 12347, 23458), 0);

  Agent agent;
  RecordingSink sink;
  ASSERT_EQ(backup(agent, job_for({src.string()}), sink).status, SBX_OK);
  const Recorded* file = sink.find(entry_path(src / "file"));
  ASSERT_NE(file, nullptr);
  EXPECT_EQ(file->entry.uid, 12345u);
  EXPECT_EQ(file->entry.gid, 23456u);
  EXPECT_EQ(file->entry.user_name, "") << "uid 12345 has no name here";

  auto before = snapshot(src);
  fs::path target = tmp / "restored";
  restore_all(agent, sink.entries, target.string());
  fs::path back = target / src.relative_path();
  EXPECT_EQ(joined(differences(before, snapshot(back))), "");
  struct stat st;
  ASSERT_EQ(::lstat((back / "file").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 12345u);
  EXPECT_EQ(st.st_gid, 23456u);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  ASSERT_EQ(::lstat((back / "link").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 12347u);
}

TEST(AgentFilesOwners, OwnFilesKeepTheirGroupInASetGroupIdDirectoryOfAnotherGroup) {
  if (::geteuid() != 0) GTEST_SKIP() << "changing owners needs root";
  TempDir tmp("agent-files-owners");
  fs::path src = tmp / "src";
  fs::create_directories(src / "shared");
  write_file(src / "shared" / "mine", "root's own");
  write_file(src / "top", "root's own too");
  ASSERT_EQ(::chown((src / "shared" / "mine").c_str(), ::geteuid(), ::getegid()), 0);
  ASSERT_EQ(::chown((src / "top").c_str(), ::geteuid(), ::getegid()), 0);
  Agent agent;
  RecordingSink sink;
  ASSERT_EQ(backup(agent, job_for({src.string()}), sink).status, SBX_OK);

  // Only the files are restored, into directories that exist already, set-group-ID and of group 4242 (a
  // restore of the directories too would give them the backup's mode first): a new file there takes group
  // 4242 unless its group is set back.
  fs::path target = tmp / "restored";
  fs::path existing = target / src.relative_path();
  fs::create_directories(existing / "shared");
  for (const fs::path& dir : {existing, existing / "shared"}) {
    ASSERT_EQ(::chown(dir.c_str(), 0, 4242), 0);
    ASSERT_EQ(::chmod(dir.c_str(), 02775), 0);
  }
  std::vector<Recorded> files;
  for (const Recorded& r : sink.entries)
    if (r.entry.type == SBX_ENTRY_FILE) files.push_back(r);
  ASSERT_EQ(files.size(), 2u);
  restore_all(agent, files, target.string());
  for (const fs::path& file : {existing / "shared" / "mine", existing / "top"}) {
    struct stat st;
    ASSERT_EQ(::lstat(file.c_str(), &st), 0) << file;
    EXPECT_EQ(st.st_uid, ::geteuid()) << file;
    EXPECT_EQ(st.st_gid, ::getegid()) << file << " took its directory's group";
  }
}

}  // namespace
