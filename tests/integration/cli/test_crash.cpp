// kill -9 during a backup leaves a site that verifies, loses no acknowledged set, and takes the next backup.
#include "harness.hpp"

#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <chrono>
#include <thread>

extern char** environ;
namespace fs = std::filesystem;
using namespace sbx::test;

TEST(CliCrash, KillNineDuringBackupAtSeveralPoints) {
  TempDir dir;
  auto site = init_site(dir);
  fs::path data = dir / "data";
  // ~96 MiB of poorly compressible data in many files so the kill lands mid-stream.
  uint32_t x = 7;
  for (int i = 0; i < 48; ++i) {
    std::string content(2 << 20, '\0');
    for (size_t k = 0; k < content.size(); k += 4) {
      x = x * 1664525 + 1013904223;
      memcpy(&content[k], &x, 4);
    }
    write_file(data / ("d" + std::to_string(i % 4)) / ("f" + std::to_string(i)), content);
  }
  auto first = run_strongbox({"--site", site.string(), "backup", data.string(), "--level", "full"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  auto acknowledged = snapshot(data);

  for (int delay_ms : {20, 80, 200, 400, 700}) {
    SCOPED_TRACE("kill after " + std::to_string(delay_ms) + " ms");
    std::string bin = strongbox_binary().string();
    std::vector<std::string> args_s = {bin, "--site", site.string(), "-q", "backup", data.string(), "--level", "full"};
    std::vector<char*> argv;
    for (auto& a : args_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid;
    ASSERT_EQ(posix_spawn(&pid, bin.c_str(), nullptr, nullptr, argv.data(), environ), 0);
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);

    auto verify = run_strongbox({"--site", site.string(), "--json", "verify"});
    EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  }
  // The next backup works and clears what the killed ones left; the acknowledged set still restores.
  auto next = run_strongbox({"--site", site.string(), "--json", "backup", data.string()});
  ASSERT_EQ(next.exit_code, 0) << next.err;
  auto restore = run_strongbox({"--site", site.string(), "restore", "--set", "1", "--to", (dir / "out").string()});
  ASSERT_EQ(restore.exit_code, 0) << restore.err;
  EXPECT_EQ(diff_trees(acknowledged, snapshot(dir / "out" / fs::relative(data, "/"))), "");
  EXPECT_EQ(run_strongbox({"--site", site.string(), "verify"}).exit_code, 0);
  size_t partials = 0;
  for (auto& f : fs::recursive_directory_iterator(site / "devices" / "disk1"))
    partials += f.path().filename().string().find("partial") != std::string::npos;
  EXPECT_EQ(partials, 0u) << "leftovers of killed backups were not cleaned up";
}
