// Hostile restores: entries crafted to escape the target (.., absolute paths, symlink tricks, hard links
// to outside files) are refused with a clear message, and nothing outside the target is written.
#include <sys/stat.h>

#include <future>
#include <thread>

#include "agent_harness.hpp"

using namespace agent_test;
namespace fs = std::filesystem;

namespace {

Entry file_entry(const std::string& path, const std::string& data) {
  return regular_file_entry(path, data.size());
}

Entry dir_entry(const std::string& path) {
  Entry e;
  e.type = SBX_ENTRY_DIRECTORY;
  e.path = path;
  e.mode = 0755;
  return e;
}

Entry link_entry(uint32_t type, const std::string& path, const std::string& target) {
  Entry e;
  e.type = type;
  e.path = path;
  e.link_target = target;
  e.mode = 0777;
  e.mtime_ns = 1600000000LL * 1000000000;
  return e;
}

class AgentFilesHostileRestore : public ::testing::Test {
 protected:
  void SetUp() override {
    outside_ = tmp_ / "outside";
    target_ = tmp_ / "target";
    fs::create_directories(outside_);
    fs::create_directories(target_);
    write_file(outside_ / "precious", "do not touch");
    before_ = snapshot(tmp_.path());
  }
  // Everything outside target_ is exactly as it was.
  void expect_outside_untouched() {
    auto now = snapshot(tmp_.path());
    std::map<std::string, Node> want, got;
    for (auto& [path, node] : before_)
      if (path.rfind("target", 0) != 0 && !path.empty()) want[path] = node;
    for (auto& [path, node] : now)
      if (path.rfind("target", 0) != 0 && !path.empty()) got[path] = node;
    EXPECT_EQ(joined(differences(want, got)), "");
    EXPECT_FALSE(fs::exists(tmp_ / "evil"));
    EXPECT_FALSE(fs::exists("/evil"));
  }

  TempDir tmp_{"agent-files-hostile"};
  fs::path outside_, target_;
  std::map<std::string, Node> before_;
  Agent agent_;
};

TEST_F(AgentFilesHostileRestore, BadPathsAreRefusedAsCorrupt) {
  Restore restore(agent_, target_.string());
  ASSERT_EQ(restore.begin_status(), SBX_OK);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"../evil", "'..' component"},      {"/abs/evil", "absolute"},
      {"a/../../evil", "'..' component"}, {"", "empty"},
      {"a//b", "empty component"},        {"./evil", "'.' component"},
      {"a/", "empty component"},          {std::string("a\0b", 3), "NUL"},
      {"..", "'..' component"},
  };
  for (const auto& [path, reason] : cases) {
    EXPECT_EQ(restore.put(file_entry(path, "evil"), "evil"), SBX_ERR_CORRUPT) << printable(path);
    EXPECT_NE(restore.last_error.find(reason), std::string::npos) << restore.last_error;
    if (!path.empty() && path.find('\0') == std::string::npos) {
      EXPECT_NE(restore.last_error.find(printable(path)), std::string::npos) << "message must name the path";
    }
  }
  // The restore goes on with good entries after refusing bad ones.
  EXPECT_EQ(restore.put(file_entry("good", "ok"), "ok"), SBX_OK) << restore.last_error;
  EXPECT_EQ(restore.finish(), SBX_OK) << restore.last_error;
  EXPECT_EQ(read_file(target_ / "good"), "ok");
  expect_outside_untouched();
}

TEST_F(AgentFilesHostileRestore, NothingIsWrittenThroughASymlinkTheRestoreCreated) {
  Restore restore(agent_, target_.string());
  ASSERT_EQ(restore.put(link_entry(SBX_ENTRY_SYMLINK, "link", outside_.string()), ""), SBX_OK)
      << restore.last_error;
  EXPECT_LT(restore.put(file_entry("link/evil", "evil"), "evil"), 0);
  EXPECT_NE(restore.last_error.find("link/evil"), std::string::npos) << restore.last_error;
  EXPECT_LT(restore.put(file_entry("link/precious", "overwritten"), "overwritten"), 0);
  EXPECT_EQ(restore.finish(), SBX_OK) << restore.last_error;
  EXPECT_FALSE(fs::exists(outside_ / "evil"));
  EXPECT_EQ(read_file(outside_ / "precious"), "do not touch");
  expect_outside_untouched();
}

TEST_F(AgentFilesHostileRestore, NothingIsWrittenThroughASymlinkAlreadyInTheTarget) {
  fs::create_symlink(outside_, target_ / "planted");
  before_ = snapshot(tmp_.path());
  Restore restore(agent_, target_.string());
  EXPECT_LT(restore.put(file_entry("planted/evil", "evil"), "evil"), 0);
  const Entry dir = dir_entry("planted/newdir");
  EXPECT_LT(restore.put(dir, ""), 0);
  EXPECT_EQ(restore.finish(), SBX_OK) << restore.last_error;
  EXPECT_TRUE(fs::is_symlink(target_ / "planted")) << "an admin's symlink must not be removed";
  expect_outside_untouched();
}

TEST_F(AgentFilesHostileRestore, HardLinksToOutsideOrUnrestoredFilesAreRefused) {
  fs::create_symlink(outside_, target_ / "planted");
  write_file(target_ / "existing", "was here before the restore");
  before_ = snapshot(tmp_.path());
  Restore restore(agent_, target_.string());
  EXPECT_EQ(restore.put(link_entry(SBX_ENTRY_HARDLINK, "h1", "../outside/precious"), ""), SBX_ERR_CORRUPT);
  EXPECT_NE(restore.last_error.find("../outside/precious"), std::string::npos) << restore.last_error;
  EXPECT_EQ(restore.put(link_entry(SBX_ENTRY_HARDLINK, "h2", outside_.string() + "/precious"), ""),
            SBX_ERR_CORRUPT);
  EXPECT_LT(restore.put(link_entry(SBX_ENTRY_HARDLINK, "h3", "planted/precious"), ""), 0);
  EXPECT_LT(restore.put(link_entry(SBX_ENTRY_HARDLINK, "h4", "existing"), ""), 0)
      << "a hard link may only name a file this restore wrote";
  EXPECT_EQ(restore.finish(), SBX_OK) << restore.last_error;
  for (const char* name : {"h1", "h2", "h3", "h4"}) EXPECT_FALSE(fs::exists(target_ / name)) << name;
  struct stat st;
  ASSERT_EQ(::stat((outside_ / "precious").c_str(), &st), 0);
  EXPECT_EQ(st.st_nlink, 1u);
  expect_outside_untouched();
}

TEST_F(AgentFilesHostileRestore, ExistingHardLinkToAnOutsideFileIsReplacedNotWrittenInto) {
  fs::create_hard_link(outside_ / "precious", target_ / "victim");
  Restore restore(agent_, target_.string());
  ASSERT_EQ(restore.put(file_entry("victim", "restored content"), "restored content"), SBX_OK)
      << restore.last_error;
  ASSERT_EQ(restore.finish(), SBX_OK) << restore.last_error;
  EXPECT_EQ(read_file(target_ / "victim"), "restored content");
  EXPECT_EQ(read_file(outside_ / "precious"), "do not touch");
}

TEST_F(AgentFilesHostileRestore, ExistingSymlinkAsTheFinalComponentIsReplaced) {
  fs::create_symlink(outside_ / "precious", target_ / "victim");
  Restore restore(agent_, target_.string());
  ASSERT_EQ(restore.put(file_entry("victim", "restored content"), "restored content"), SBX_OK)
      << restore.last_error;
  ASSERT_EQ(restore.finish(), SBX_OK) << restore.last_error;
  EXPECT_FALSE(fs::is_symlink(target_ / "victim"));
  EXPECT_EQ(read_file(target_ / "victim"), "restored content");
  EXPECT_EQ(read_file(outside_ / "precious"), "do not touch");
}

}  // namespace

TEST_F(AgentFilesHostileRestore, AParentSwappedForASymlinkDuringTheRestoreIsNotFollowed) {
  Restore restore(agent_, target_.string());
  const Entry dir = dir_entry("d");
  ASSERT_EQ(restore.put(dir, ""), SBX_OK) << restore.last_error;
  ASSERT_EQ(restore.put(file_entry("d/first", "1"), "1"), SBX_OK) << restore.last_error;
  // Someone with write access to the target swaps the directory being filled for a symlink to outside.
  fs::rename(target_ / "d", target_ / "d-moved");
  fs::create_symlink(outside_, target_ / "d");
  restore.put(file_entry("d/second", "2"), "2");  // refused, or written into the directory entered
  restore.put(file_entry("d/precious", "overwritten"), "overwritten");
  EXPECT_EQ(restore.finish(), SBX_OK) << restore.last_error;
  EXPECT_FALSE(fs::exists(outside_ / "second"));
  EXPECT_EQ(read_file(outside_ / "precious"), "do not touch");
  expect_outside_untouched();
}

TEST_F(AgentFilesHostileRestore, ADirectoryBelowAParentSwappedForASymlinkIsNotMadeOrFixedUpOutside) {
  Restore restore(agent_, target_.string());
  Entry dir = dir_entry("d");
  ASSERT_EQ(restore.put(dir, ""), SBX_OK) << restore.last_error;
  dir.path = "d/early";
  dir.mode = 0700;
  ASSERT_EQ(restore.put(dir, ""), SBX_OK) << restore.last_error;
  // The directory being filled becomes a symlink to outside; its later subdirectories and the mode and
  // times finish applies to all of them must not reach through it.
  // outside/early is what a fixup that followed the symlink would change.
  fs::create_directories(outside_ / "early");
  before_ = snapshot(tmp_.path());
  fs::rename(target_ / "d", target_ / "d-moved");
  fs::create_symlink(outside_, target_ / "d");
  dir.path = "d/late";
  dir.mode = 0777;
  restore.put(dir, "");  // refused, or made in the directory entered
  EXPECT_EQ(restore.finish(), SBX_OK) << restore.last_error;
  EXPECT_FALSE(fs::exists(outside_ / "late"));
  expect_outside_untouched();
}

TEST_F(AgentFilesHostileRestore, TheRestoreMovesNoOtherThreadsWorkingDirectory) {
  const fs::path before = fs::current_path();
  // A thread of the host that exists before the restore starts (threads the restore's thread creates later
  // share its working directory, as threads do).
  std::promise<void> look;
  std::promise<fs::path> seen;
  std::thread other([&] {
    look.get_future().wait();
    seen.set_value(fs::current_path());
  });
  Restore restore(agent_, target_.string());
  const Entry dir = dir_entry("a");
  EXPECT_EQ(restore.put(dir, ""), SBX_OK) << restore.last_error;
  EXPECT_EQ(restore.put(file_entry("a/f", "x"), "x"), SBX_OK) << restore.last_error;
  // Mid-restore the restore's thread works from a/; the other thread is where it was.
  look.set_value();
  EXPECT_EQ(seen.get_future().get(), before);
  other.join();
  EXPECT_EQ(restore.finish(), SBX_OK) << restore.last_error;
  EXPECT_EQ(fs::current_path(), before);
  EXPECT_EQ(read_file(target_ / "a" / "f"), "x");
}
