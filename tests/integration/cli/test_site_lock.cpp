// The site lock: a job that shares the site waits out a short exclusive hold (another job's start-up upkeep)
// instead of failing, and an exclusive change refuses at once, with one line, while jobs use the site.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "harness.hpp"

namespace fs = std::filesystem;
using namespace sbx::test;

namespace {

// Holds the site's lock file the way another strongbox process would, until released.
class HeldLock {
 public:
  HeldLock(const fs::path& site, int operation)
      : fd_(::open((site / "lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644)) {
    EXPECT_GE(fd_, 0);
    EXPECT_EQ(::flock(fd_, operation | LOCK_NB), 0);
  }
  ~HeldLock() { release(); }
  void release() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

}  // namespace

TEST(CliSiteLock, ABackupWaitsOutAShortExclusiveHold) {
  TempDir dir;
  auto site = init_site(dir);
  fs::path data = dir / "data";
  write_file(data / "a", "alpha");
  write_file(data / "d" / "b", "beta");
  HeldLock upkeep(site, LOCK_EX);
  std::thread releaser([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    upkeep.release();
  });
  auto backup = run_strongbox({"--site", site.string(), "backup", data.string()});
  releaser.join();
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  auto restore = run_strongbox({"--site", site.string(), "restore", "--to", (dir / "back").string()});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(read_file(dir / "back" / data.relative_path() / "d" / "b"), "beta");
}

TEST(CliSiteLock, AnExclusiveChangeRefusesAtOnceWhileAJobUsesTheSite) {
  TempDir dir;
  auto site = init_site(dir);
  HeldLock job(site, LOCK_SH);
  auto remove = run_strongbox({"--site", site.string(), "devices", "remove", "disk1"});
  EXPECT_EQ(remove.exit_code, 11);
  EXPECT_NE(remove.err.find("is busy"), std::string::npos) << remove.err;
  EXPECT_EQ(std::count(remove.err.begin(), remove.err.end(), '\n'), 1) << remove.err;
  job.release();
  auto list = run_strongbox({"--site", site.string(), "devices", "list"});
  EXPECT_NE(list.out.find("disk1"), std::string::npos) << "the refused removal changed nothing";
}
