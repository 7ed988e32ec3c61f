// Directory modes and times: special bits, read-only and locked directories with children, an existing
// directory restored in place, and a directory whose parent the stream never sent all come back with the
// backup's mode and nanosecond times, whichever way the restore created them.
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

constexpr int64_t kSecond = 1000000000;

Entry directory(const std::string& path, uint32_t mode, int64_t mtime_s) {
  Entry e;
  e.type = SBX_ENTRY_DIRECTORY;
  e.path = path;
  e.mode = mode;
  e.mtime_ns = mtime_s * kSecond + 123456789;
  e.atime_ns = (mtime_s + 1) * kSecond + 987654321;
  return e;
}

Entry file(const std::string& path, const std::string& data) {
  return regular_file_entry(path, data.size());
}

struct Expected {
  std::string path;
  mode_t mode;
  int64_t mtime_s;
};

// A tree whose directories need every kind of mode, with children inside the ones nobody may write.
const std::vector<std::pair<Entry, std::string>>& tree() {
  static const std::vector<std::pair<Entry, std::string>> entries = {
      {directory("setgid", 02775, 1600000001), ""},
      {file("setgid/f", "s"), "s"},
      {directory("sticky", 01777, 1600000002), ""},
      {directory("read-only", 0555, 1600000003), ""},
      {file("read-only/f", "r"), "r"},
      {directory("read-only/sub", 0500, 1600000004), ""},
      {file("read-only/sub/g", "g"), "g"},
      {directory("locked", 0000, 1600000005), ""},
      {file("locked/x", "x"), "x"},
      {directory("plain", 0750, 1600000006), ""},
  };
  return entries;
}

const std::vector<Expected> kExpected = {
    {"setgid", 02775, 1600000001},       {"sticky", 01777, 1600000002}, {"read-only", 0555, 1600000003},
    {"read-only/sub", 0500, 1600000004}, {"locked", 0000, 1600000005},  {"plain", 0750, 1600000006},
};

// Restores tree() into target; returns "" or the first failure.
std::string restore_tree(const fs::path& target) {
  Agent agent;
  Restore restore(agent, target.string());
  if (restore.begin_status() != SBX_OK) return "begin: " + sbx::testkit::FakeHost::last_error();
  for (const auto& [entry, data] : tree())
    if (restore.put(entry, data) != SBX_OK) return entry.path + ": " + restore.last_error;
  if (restore.finish() != SBX_OK) return "finish: " + restore.last_error;
  return {};
}

void expect_tree(const fs::path& target) {
  for (const Expected& want : kExpected) {
    struct stat st;
    ASSERT_EQ(::lstat((target / want.path).c_str(), &st), 0) << want.path;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << want.path;
    EXPECT_EQ(st.st_mode & 07777, want.mode) << want.path;
    EXPECT_EQ(st.st_mtim.tv_sec, want.mtime_s) << want.path;
    EXPECT_EQ(st.st_mtim.tv_nsec, 123456789) << want.path;
    EXPECT_EQ(st.st_atim.tv_sec, want.mtime_s + 1) << want.path;
    EXPECT_EQ(st.st_atim.tv_nsec, 987654321) << want.path;
  }
  EXPECT_EQ(read_file(target / "read-only/sub/g"), "g");
  EXPECT_EQ(read_file(target / "locked/x"), "x");
}

}  // namespace

TEST(AgentFilesDirectoryModes, SpecialBitsAndNanosecondTimesComeBack) {
  TempDir tmp("agent-files-dirmodes");
  ASSERT_EQ(restore_tree(tmp / "target"), "");
  expect_tree(tmp / "target");
}

TEST(AgentFilesDirectoryModes, AnUnprivilegedRestoreFillsDirectoriesNobodyMayWrite) {
  TempDir tmp("agent-files-dirmodes-user");
  const fs::path target = tmp / "target";
  fs::create_directories(target);
  if (::geteuid() != 0) {
    ASSERT_EQ(restore_tree(target), "");
  } else {
    // As root permissions never bite: restore as uid/gid 65534 in a child, into a target it owns.
    open_up_for_nobody(tmp);
    ASSERT_EQ(::chown(target.c_str(), kNobody, kNobody), 0);
    plugin();
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      if (::setgroups(0, nullptr) != 0 || ::setresgid(kNobody, kNobody, kNobody) != 0 ||
          ::setresuid(kNobody, kNobody, kNobody) != 0)
        ::_exit(2);
      const std::string failure = restore_tree(target);
      if (!failure.empty()) (void)!::write(2, failure.data(), failure.size());
      ::_exit(failure.empty() ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "wait status " << status;
  }
  expect_tree(target);
}

TEST(AgentFilesDirectoryModes, AnExistingDirectoryTakesTheBackupsModeAndTimes) {
  TempDir tmp("agent-files-dirmodes-existing");
  const fs::path target = tmp / "target";
  for (const Expected& want : kExpected) fs::create_directories(target / want.path);
  for (const Expected& want : kExpected) ::chmod((target / want.path).c_str(), 0711);
  ASSERT_EQ(restore_tree(target), "");
  expect_tree(target);
}

TEST(AgentFilesDirectoryModes, ADirectoryWhoseParentsWereNotSentStillGetsItsModeAndTimes) {
  TempDir tmp("agent-files-dirmodes-orphan");
  const fs::path target = tmp / "target";
  Agent agent;
  Restore restore(agent, target.string());
  ASSERT_EQ(restore.put(directory("never/sent/leaf", 02750, 1600000007), ""), SBX_OK) << restore.last_error;
  ASSERT_EQ(restore.put(file("never/sent/leaf/f", "f"), "f"), SBX_OK) << restore.last_error;
  ASSERT_EQ(restore.finish(), SBX_OK) << restore.last_error;
  struct stat st;
  ASSERT_EQ(::lstat((target / "never/sent/leaf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 02750u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000007);
  EXPECT_EQ(st.st_mtim.tv_nsec, 123456789);
  EXPECT_EQ(read_file(target / "never/sent/leaf/f"), "f");
}
