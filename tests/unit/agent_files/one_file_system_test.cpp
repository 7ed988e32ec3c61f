// one_file_system: a mount point below a source is kept as a directory but not descended; without the
// option its contents are backed up too. Needs a mount, so it runs in a private mount namespace.
#include <sched.h>
#include <sys/mount.h>

#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

// Runs body in a forked child inside a new mount namespace (so that the tmpfs vanishes with it) and
// returns its exit code; 77 when mounting is not allowed here.
int in_mount_namespace(const std::function<int()>& body) {
  plugin();
  pid_t pid = ::fork();
  if (pid == 0) {
    if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      ::_exit(77);
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 100;
}

TEST(AgentFilesOneFileSystem, MountPointsAreKeptButNotDescended) {
  TempDir tmp("agent-files-xdev");
  fs::path src = tmp / "src";
  fs::create_directories(src / "mnt");
  write_file(src / "local", "here");
  int code = in_mount_namespace([&] {
    if (::mount("tmpfs", (src / "mnt").c_str(), "tmpfs", 0, "size=1m") != 0) return 77;
    try {
      write_file(src / "mnt/on-tmpfs", "there");
      Agent agent;
      RecordingSink within, across;
      nlohmann::json job = job_for({src.string()});
      job["one_file_system"] = true;
      if (backup(agent, job, within).status != SBX_OK) return 1;
      job["one_file_system"] = false;
      if (backup(agent, job, across).status != SBX_OK) return 2;
      if (!within.find(entry_path(src / "mnt"))) return 3;  // the mount point itself is kept
      if (within.was_checked(entry_path(src / "mnt/on-tmpfs"))) return 4;
      if (!within.find(entry_path(src / "local"))) return 5;
      if (!across.find(entry_path(src / "mnt/on-tmpfs"))) return 6;
      return 0;
    } catch (...) {
      return 9;
    }
  });
  if (code == 77) GTEST_SKIP() << "cannot mount a tmpfs here (no CAP_SYS_ADMIN)";
  EXPECT_EQ(code, 0) << "failed check number " << code;
}

}  // namespace
