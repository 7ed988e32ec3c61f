// True image restore across a full and three incrementals with adds, changes, renames and deletes.
#include "harness.hpp"

#include <chrono>
#include <ctime>
#include <thread>

namespace fs = std::filesystem;
using namespace sbx::test;

namespace {

std::string iso_now_utc() {
  time_t t = time(nullptr);
  struct tm tm;
  gmtime_r(&t, &tm);
  char buf[32];
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

TEST(CliTrueImage, EveryPointInTimeRestoresExactly) {
  TempDir dir;
  auto site = init_site(dir);
  fs::path data = dir / "data";
  const std::string s = site.string();
  write_file(data / "a.txt", "alpha v1");
  write_file(data / "b.txt", "bravo");
  write_file(data / "dir1" / "c.txt", "charlie");
  write_file(data / "dir1" / "d.txt", "delta");
  write_file(data / "dir2" / "e.txt", "echo");

  std::vector<TreeState> states;
  std::vector<std::string> times;
  auto take = [&](const std::string& level) {
    states.push_back(snapshot(data));
    auto r = run_strongbox({"--site", s, "backup", data.string(), "--level", level});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
    times.push_back(iso_now_utc());
    std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  };
  take("full");
  // Incremental 1: change, add.
  write_file(data / "a.txt", "alpha v2, longer");
  write_file(data / "dir2" / "f.txt", "foxtrot");
  take("incremental");
  // Incremental 2: rename a file and a directory, delete one.
  fs::rename(data / "b.txt", data / "b-renamed.txt");
  fs::rename(data / "dir1", data / "dir1-moved");
  fs::remove(data / "dir2" / "e.txt");
  take("incremental");
  // Incremental 3: bring back a deleted name with new content, delete a directory tree, same-size change.
  write_file(data / "dir2" / "e.txt", "echo again");
  fs::remove_all(data / "dir1-moved");
  write_file(data / "a.txt", "ALPHA V2, LONGER");
  take("incremental");

  for (size_t i = 0; i < states.size(); ++i) {
    SCOPED_TRACE("point " + std::to_string(i + 1));
    fs::path by_set = dir / ("by-set-" + std::to_string(i + 1));
    auto r = run_strongbox({"--site", s, "restore", "--set", std::to_string(i + 1), "--to", by_set.string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(diff_trees(states[i], snapshot(by_set / fs::relative(data, "/"))), "");
    fs::path by_time = dir / ("by-time-" + std::to_string(i + 1));
    auto t = run_strongbox({"--site", s, "restore", "--as-of", times[i], "--to", by_time.string()});
    ASSERT_EQ(t.exit_code, 0) << t.err;
    EXPECT_EQ(diff_trees(states[i], snapshot(by_time / fs::relative(data, "/"))), "");
  }
  // --as-of also takes a set id, and a time before the first backup is refused clearly.
  auto by_id = run_strongbox({"--site", s, "restore", "--as-of", "2", "--to", (dir / "as-of-id").string()});
  ASSERT_EQ(by_id.exit_code, 0) << by_id.err;
  EXPECT_EQ(diff_trees(states[1], snapshot(dir / "as-of-id" / fs::relative(data, "/"))), "");
  auto early = run_strongbox({"--site", s, "restore", "--as-of", "2001-01-01T00:00:00+02:00", "--to", (dir / "x").string()});
  EXPECT_EQ(early.exit_code, 2);
  EXPECT_NE(early.err.find("no backup set was taken at or before"), std::string::npos) << early.err;
}
