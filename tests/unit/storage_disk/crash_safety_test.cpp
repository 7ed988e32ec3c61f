// Nothing is visible before commit; an interrupted write leaves a .partial that list_sets names and
// delete_set removes; a committed set survives its writer's process dying.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "disk_harness.hpp"

namespace sbx::disk_test {
namespace {

class DiskCrashSafety : public DiskTest {
 protected:
  std::vector<std::string> files_in_sets() {
    std::vector<std::string> names;
    for (const auto& f : std::filesystem::directory_iterator(store_dir() + "/sets"))
      names.push_back(f.path().filename());
    std::sort(names.begin(), names.end());
    return names;
  }

  // Runs `body` in a child process that then dies without cleaning up (as kill -9 would leave things).
  void in_child_that_dies(const std::function<void()>& body) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      body();
      _exit(0);
    }
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child failed: " << status;
  }

  std::vector<Item> items() {
    std::vector<Item> out;
    for (int i = 0; i < 20; ++i)
      out.push_back(file_item("f" + std::to_string(i), testkit::pattern_string(i, 20000)));
    return out;
  }
};

TEST_F(DiskCrashSafety, AbortedWriterLeavesNothing) {
  Device dev = open_device(config());
  sbx_storage_writer* w = nullptr;
  ASSERT_EQ(vt_->begin_set(dev.get(), str("aborted"), &w), SBX_OK);
  for (const Item& item : items()) write_item(w, item);
  EXPECT_EQ(files_in_sets(), std::vector<std::string>{".aborted.partial"});
  vt_->abort_set(w);
  EXPECT_TRUE(files_in_sets().empty());
  EXPECT_TRUE(list_sets(dev).empty());
}

TEST_F(DiskCrashSafety, AbortInTheMiddleOfHugeEntriesIsQuick) {
  Device dev = open_device(config());
  Item dense = file_item("dense", "");
  dense.entry.size = 9ull << 30;
  Item sparse = file_item("sparse", "");
  sparse.entry.size = 1ull << 40;
  sparse.entry.extents = {{0, 1u << 20}, {1ull << 39, 1u << 20}};
  for (const Item* item : {&dense, &sparse}) {
    SCOPED_TRACE(item->entry.path);
    sbx_storage_writer* w = nullptr;
    ASSERT_EQ(vt_->begin_set(dev.get(), str("abandoned"), &w), SBX_OK);
    ASSERT_EQ(vt_->write_entry(w, &item->entry.as_c()), SBX_OK) << FakeHost::last_error();
    std::string data = testkit::pattern_string(1, 1u << 20);
    ASSERT_EQ(vt_->write_data(w, sdk::make_bytes(data)), SBX_OK) << FakeHost::last_error();
    auto start = std::chrono::steady_clock::now();
    vt_->abort_set(w);
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(seconds, 3.0) << "abort pushed the rest of the entry through slowly";
    EXPECT_TRUE(files_in_sets().empty());
  }
}

TEST_F(DiskCrashSafety, FailedCommitLeavesNothing) {
  Device dev = open_device(config());
  sbx_storage_writer* w = nullptr;
  ASSERT_EQ(vt_->begin_set(dev.get(), str("half"), &w), SBX_OK);
  Item item = file_item("f", "0123456789");
  ASSERT_EQ(vt_->write_entry(w, &item.entry.as_c()), SBX_OK);
  FakeHost::clear_error();
  EXPECT_EQ(vt_->commit_set(w, nullptr), SBX_ERR_INVALID_ARGUMENT);  // inside an entry: frees the writer
  EXPECT_NE(FakeHost::last_error().find("before end_entry"), std::string::npos) << FakeHost::last_error();
  EXPECT_TRUE(files_in_sets().empty());
  sbx_storage_reader* r = nullptr;
  EXPECT_EQ(vt_->open_set(dev.get(), str("half"), &r), SBX_ERR_NOT_FOUND);
}

TEST_F(DiskCrashSafety, DeadWriterLeavesAPartialThatIsListedAndDeletable) {
  const std::string cfg = config();
  { Device dev = open_device(cfg); }
  in_child_that_dies([&] {
    sbx_storage_device* dev = nullptr;
    if (vt_->open(str(cfg), &dev) != SBX_OK) _exit(2);
    sbx_storage_writer* w = nullptr;
    if (vt_->begin_set(dev, str("crashed"), &w) != SBX_OK) _exit(3);
    for (const Item& item : items()) write_item(w, item);
    // No commit, no abort: the process just ends.
  });
  EXPECT_EQ(files_in_sets(), std::vector<std::string>{".crashed.partial"});

  Device dev = open_device(cfg);
  EXPECT_EQ(list_sets(dev), std::set<std::string>{"crashed"});
  sbx_storage_reader* r = nullptr;
  FakeHost::clear_error();
  EXPECT_EQ(vt_->open_set(dev.get(), str("crashed"), &r), SBX_ERR_NOT_FOUND);
  EXPECT_NE(FakeHost::last_error().find("unfinished write"), std::string::npos) << FakeHost::last_error();
  sbx_storage_writer* w = nullptr;
  FakeHost::clear_error();
  EXPECT_EQ(vt_->begin_set(dev.get(), str("crashed"), &w), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(FakeHost::last_error().find(".crashed.partial exists"), std::string::npos)
      << FakeHost::last_error();

  ASSERT_EQ(vt_->delete_set(dev.get(), str("crashed")), SBX_OK) << FakeHost::last_error();
  EXPECT_TRUE(files_in_sets().empty());
  EXPECT_TRUE(list_sets(dev).empty());
  auto all = items();
  auto locators = write_set(dev, "crashed", all);
  auto got = read(dev, "crashed", locators);
  ASSERT_EQ(got.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) expect_entry(all[i], got[i]);
}

TEST_F(DiskCrashSafety, KillNineInTheMiddleOfAWrite) {
  const std::string cfg = config({{"frame_bytes", 4096}});
  { Device dev = open_device(cfg); }
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    sbx_storage_device* dev = nullptr;
    sbx_storage_writer* w = nullptr;
    if (vt_->open(str(cfg), &dev) != SBX_OK || vt_->begin_set(dev, str("killed"), &w) != SBX_OK) _exit(2);
    for (uint64_t i = 0;; ++i)
      write_item(w, file_item("f" + std::to_string(i), testkit::pattern_string(i, 50000)));
  }
  // Kill it once it is writing: its partial file exists and has grown past a few frames.
  const std::string partial = store_dir() + "/sets/.killed.partial";
  for (int waited = 0; waited < 1000; ++waited) {
    std::error_code ec;
    if (std::filesystem::file_size(partial, ec) > (256u << 10) && !ec) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer ended before it was killed: " << status;

  Device dev = open_device(cfg);
  EXPECT_EQ(list_sets(dev), std::set<std::string>{"killed"});
  sbx_storage_reader* r = nullptr;
  EXPECT_EQ(vt_->open_set(dev.get(), str("killed"), &r), SBX_ERR_NOT_FOUND);
  EXPECT_EQ(vt_->delete_set(dev.get(), str("killed")), SBX_OK) << FakeHost::last_error();
  EXPECT_TRUE(files_in_sets().empty());
}

TEST_F(DiskCrashSafety, CommittedSetSurvivesItsWriterDying) {
  const std::string cfg = config();
  { Device dev = open_device(cfg); }
  auto all = items();
  // Locators travel from the child through a pipe, as a catalog would have stored them.
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  in_child_that_dies([&] {
    sbx_storage_device* dev = nullptr;
    sbx_storage_writer* w = nullptr;
    if (vt_->open(str(cfg), &dev) != SBX_OK || vt_->begin_set(dev, str("durable"), &w) != SBX_OK) _exit(2);
    for (const Item& item : all) {
      Locator l = write_item(w, item);
      uint8_t len = static_cast<uint8_t>(l.size());
      if (::write(fds[1], &len, 1) != 1 ||
          ::write(fds[1], l.data(), l.size()) != static_cast<ssize_t>(l.size()))
        _exit(4);
    }
    if (vt_->commit_set(w, nullptr) != SBX_OK) _exit(5);
  });
  close(fds[1]);
  std::vector<Locator> locators;
  uint8_t len = 0;
  while (::read(fds[0], &len, 1) == 1) {
    Locator l(len);
    ASSERT_EQ(::read(fds[0], l.data(), len), len);
    locators.push_back(l);
  }
  close(fds[0]);
  ASSERT_EQ(locators.size(), all.size());
  EXPECT_EQ(files_in_sets(), std::vector<std::string>{"durable.tar.zst"});
  Device dev = open_device(cfg);
  auto got = read(dev, "durable", locators);
  ASSERT_EQ(got.size(), all.size());
  for (size_t i = 0; i < all.size(); ++i) expect_entry(all[i], got[i]);
}

TEST_F(DiskCrashSafety, ACommittedSetIsNeverReplaced) {
  Device dev = open_device(config());
  auto all = items();
  auto locators = write_set(dev, "once", all);
  sbx_storage_writer* w = nullptr;
  FakeHost::clear_error();
  EXPECT_EQ(vt_->begin_set(dev.get(), str("once"), &w), SBX_ERR_INVALID_ARGUMENT);
  EXPECT_NE(FakeHost::last_error().find("already exists"), std::string::npos) << FakeHost::last_error();
  auto got = read(dev, "once", locators);
  ASSERT_EQ(got.size(), all.size());
  expect_entry(all[5], got[5]);
}

TEST_F(DiskCrashSafety, SecondWriterOfTheSameSetIsRefused) {
  Device dev = open_device(config());
  sbx_storage_writer* first = nullptr;
  sbx_storage_writer* second = nullptr;
  ASSERT_EQ(vt_->begin_set(dev.get(), str("twice"), &first), SBX_OK);
  EXPECT_EQ(vt_->begin_set(dev.get(), str("twice"), &second), SBX_ERR_INVALID_ARGUMENT);
  // The refused writer must not have removed the first one's file.
  EXPECT_EQ(files_in_sets(), std::vector<std::string>{".twice.partial"});
  write_item(first, file_item("x", "y"));
  EXPECT_EQ(vt_->commit_set(first, nullptr), SBX_OK) << FakeHost::last_error();
  EXPECT_EQ(files_in_sets(), std::vector<std::string>{"twice.tar.zst"});
}

}  // namespace
}  // namespace sbx::disk_test
