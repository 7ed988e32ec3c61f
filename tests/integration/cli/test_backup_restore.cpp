// backup, sets list, files list and restore round trips, compared byte for byte with metadata.
#include "harness.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace sbx::test;

namespace {

// A tree with every kind of entry the files agent handles.
fs::path make_rich_tree(const TempDir& dir) {
  fs::path d = dir / "data";
  write_file(d / "plain.txt", "hello world\n");
  write_file(d / "with space.txt", "spaces");
  write_file(d / "new\nline", "newline in name");
  write_file(d / std::string("bad\xff\xfeutf8"), "invalid utf-8 name");
  write_file(d / "empty", "");
  std::string big(3 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = char((i * 2654435761u) >> 13);
  write_file(d / "sub" / "deeper" / "big.bin", big);
  fs::create_directories(d / "empty-dir");
  fs::create_symlink("plain.txt", d / "link-rel");
  fs::create_symlink("/nonexistent/target", d / "link-dangling");
  fs::create_hard_link(d / "plain.txt", d / "sub" / "hardlink-to-plain");
  chmod((d / "plain.txt").c_str(), 0640);
  chmod((d / "sub").c_str(), 0750);
  setxattr((d / "plain.txt").c_str(), "user.color", "blue", 4, 0);
  mkfifo((d / "fifo").c_str(), 0600);
  // Sparse: 64 MiB with two small data islands.
  int fd = open((d / "sparse.img").c_str(), O_WRONLY | O_CREAT, 0644);
  pwrite(fd, "island-one", 10, 4096 * 10);
  pwrite(fd, "island-two", 10, (64 << 20) - 10);
  close(fd);
  struct timespec times[2] = {{1600000000, 123456789}, {1600000000, 123456789}};
  utimensat(AT_FDCWD, (d / "with space.txt").c_str(), times, AT_SYMLINK_NOFOLLOW);
  if (geteuid() == 0) chown((d / "empty").c_str(), 12345, 54321);
  return d;
}

fs::path restored(const fs::path& target, const fs::path& source) { return target / fs::relative(source, "/"); }

}  // namespace

TEST(CliBackupRestore, FullRoundTripKeepsEverything) {
  TempDir dir;
  auto site = init_site(dir);
  auto data = make_rich_tree(dir);
  auto before = snapshot(data);
  auto b = run_strongbox({"--site", site.string(), "--json", "backup", data.string(), "--level", "full"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto result = b.json_lines().at(0);
  EXPECT_EQ(result["level"], "full");
  EXPECT_GT(result["entries_stored"].get<int>(), 10);
  auto r = run_strongbox({"--site", site.string(), "restore", "--to", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto after = snapshot(restored(dir / "out", data));
  EXPECT_EQ(diff_trees(before, after), "");
  struct stat st;
  ASSERT_EQ(stat(restored(dir / "out", data / "sparse.img").c_str(), &st), 0);
  EXPECT_LT(st.st_blocks * 512, 1 << 20) << "sparse file came back dense";
}

TEST(CliBackupRestore, NoChangeIncrementalReadsNoData) {
  TempDir dir;
  auto site = init_site(dir);
  auto data = make_rich_tree(dir);
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string()}).exit_code, 0);
  auto inc = run_strongbox({"--site", site.string(), "--json", "backup", data.string()});
  ASSERT_EQ(inc.exit_code, 0) << inc.err;
  auto j = inc.json_lines().at(0);
  EXPECT_EQ(j["level"], "incremental");
  EXPECT_EQ(j["bytes_read"], 0);
  EXPECT_EQ(j["entries_stored"], 0);
  EXPECT_EQ(j["entries_deleted"], 0);
  EXPECT_GT(j["entries_unchanged"].get<int>(), 10);
}

TEST(CliBackupRestore, FirstIncrementalBecomesFullWithANote) {
  TempDir dir;
  auto site = init_site(dir);
  write_file(dir / "data" / "a", "a");
  auto b = run_strongbox({"--site", site.string(), "--json", "backup", (dir / "data").string()});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  auto j = b.json_lines().at(0);
  EXPECT_EQ(j["level"], "full");
  EXPECT_NE(j["note"].get<std::string>().find("no earlier full"), std::string::npos);
}

TEST(CliBackupRestore, DifferentialCarriesEverythingSinceTheFull) {
  TempDir dir;
  auto site = init_site(dir);
  fs::path data = dir / "data";
  write_file(data / "a", "1");
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string(), "--level", "full"}).exit_code, 0);
  write_file(data / "b", "2");
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string()}).exit_code, 0);
  write_file(data / "c", "3");
  auto diff = run_strongbox({"--site", site.string(), "--json", "backup", data.string(), "--level", "differential"});
  ASSERT_EQ(diff.exit_code, 0) << diff.err;
  auto j = diff.json_lines().at(0);
  EXPECT_EQ(j["base_set_id"], 1);
  auto files = run_strongbox({"--site", site.string(), "--json", "files", "list", std::to_string(j["set_id"].get<int>())});
  std::set<std::string> names;
  for (const auto& f : files.json_lines()) names.insert(fs::path(f["path"].get<std::string>()).filename());
  EXPECT_TRUE(names.count("b") && names.count("c")) << files.out;
}

TEST(CliBackupRestore, ExcludesAndPathSelection) {
  TempDir dir;
  auto site = init_site(dir);
  fs::path data = dir / "data";
  write_file(data / "keep.txt", "k");
  write_file(data / "skip.tmp", "s");
  write_file(data / "cache" / "x", "x");
  write_file(data / "docs" / "a.txt", "a");
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string(), "--exclude", "*.tmp", "--exclude",
                           (data / "cache").string()})
                .exit_code,
            0);
  auto r = run_strongbox({"--site", site.string(), "restore", "--to", (dir / "out").string(), (data / "docs").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(fs::exists(restored(dir / "out", data / "docs" / "a.txt")));
  EXPECT_FALSE(fs::exists(restored(dir / "out", data / "keep.txt")));
  auto all = run_strongbox({"--site", site.string(), "restore", "--to", (dir / "all").string()});
  ASSERT_EQ(all.exit_code, 0) << all.err;
  EXPECT_TRUE(fs::exists(restored(dir / "all", data / "keep.txt")));
  EXPECT_FALSE(fs::exists(restored(dir / "all", data / "skip.tmp")));
  EXPECT_FALSE(fs::exists(restored(dir / "all", data / "cache")));
}

TEST(CliBackupRestore, SetsAndFilesListInTextAndJson) {
  TempDir dir;
  auto site = init_site(dir);
  auto data = make_rich_tree(dir);
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string()}).exit_code, 0);
  auto sets = run_strongbox({"--site", site.string(), "--json", "sets", "list"});
  ASSERT_EQ(sets.exit_code, 0);
  auto s = sets.json_lines().at(0);
  EXPECT_EQ(s["state"], "complete");
  EXPECT_EQ(s["sources"][0], data.string());
  auto files = run_strongbox({"--site", site.string(), "--json", "files", "list", "1"});
  ASSERT_EQ(files.exit_code, 0) << files.err;
  bool saw_hash = false;
  for (const auto& f : files.json_lines())
    if (f["path"] == (data / "plain.txt").string()) saw_hash = f["sha256"].get<std::string>().size() == 64;
  EXPECT_TRUE(saw_hash) << files.out;
  auto text = run_strongbox({"--site", site.string(), "files", "list", "1"});
  EXPECT_NE(text.out.find("link-rel -> plain.txt"), std::string::npos) << text.out;
}

TEST(CliBackupRestore, UnencryptedSetRestoresWithZstdAndTarAlone) {
  TempDir dir;
  auto site = init_site(dir);
  fs::path data = dir / "data";
  write_file(data / "a.txt", "plain tools work");
  write_file(data / "sub" / "b.txt", "also here");
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string()}).exit_code, 0);
  fs::path set_file;
  for (auto& f : fs::recursive_directory_iterator(site / "devices" / "disk1"))
    if (f.path().extension() == ".zst") set_file = f.path();
  ASSERT_FALSE(set_file.empty());
  fs::create_directories(dir / "tar");
  std::string cmd = "zstd -q -d < '" + set_file.string() + "' | tar -x -C '" + (dir / "tar").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(read_file(restored(dir / "tar", data / "sub" / "b.txt")), "also here");
}
