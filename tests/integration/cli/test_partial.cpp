// An unreadable file is a warning (exit 3) and the rest is backed up.
#include "harness.hpp"

#include <sys/stat.h>

namespace fs = std::filesystem;
using namespace sbx::test;

TEST(CliPartial, UnreadableFileWarnsAndTheRestIsBackedUp) {
  TempDir dir;
  chmod(dir.path().c_str(), 0755);
  auto site = init_site(dir);
  fs::path data = dir / "data";
  write_file(data / "readable.txt", "fine");
  write_file(data / "secret.txt", "root only");
  chmod((data / "secret.txt").c_str(), 0600);
  // The backup runs as uid 65534, so the root-owned 0600 file is really unreadable even in a root CI.
  std::string chown_site = "chown -R 65534:65534 '" + site.string() + "'";
  ASSERT_EQ(std::system(chown_site.c_str()), 0);
  auto b = run_strongbox({"--site", site.string(), "--json", "backup", data.string()}, {}, "65534");
  ASSERT_EQ(b.exit_code, 3) << b.out << b.err;
  auto j = b.json_lines().at(0);
  ASSERT_EQ(j["warnings"].size(), 1u);
  EXPECT_NE(j["warnings"][0].get<std::string>().find("secret.txt"), std::string::npos);
  EXPECT_NE(b.err.find("warning:"), std::string::npos);
  auto files = run_strongbox({"--site", site.string(), "--json", "files", "list", "1"}, {}, "65534");
  bool readable = false, secret = false;
  for (const auto& f : files.json_lines()) {
    readable |= f["path"] == (data / "readable.txt").string();
    secret |= f["path"] == (data / "secret.txt").string();
  }
  EXPECT_TRUE(readable);
  EXPECT_FALSE(secret);
  auto sets = run_strongbox({"--site", site.string(), "--json", "sets", "list"}, {}, "65534");
  EXPECT_EQ(sets.json_lines().at(0)["warnings"], 1);
}

TEST(CliPartial, UnreadableDirectoryInAnIncrementalIsNotADeletion) {
  TempDir dir;
  chmod(dir.path().c_str(), 0755);
  auto site = init_site(dir);
  fs::path data = dir / "data";
  write_file(data / "open.txt", "fine");
  write_file(data / "locked" / "inside.txt", "kept from the full");
  std::string chown_all = "chown -R 65534:65534 '" + site.string() + "' '" + data.string() + "'";
  ASSERT_EQ(std::system(chown_all.c_str()), 0);
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", data.string(), "--level", "full"}, {}, "65534").exit_code, 0);
  chmod((data / "locked").c_str(), 0);
  auto inc = run_strongbox({"--site", site.string(), "--json", "backup", data.string()}, {}, "65534");
  EXPECT_EQ(inc.exit_code, 3) << inc.out << inc.err;
  EXPECT_EQ(inc.json_lines().at(0)["entries_deleted"], 0) << inc.out;
  chmod((data / "locked").c_str(), 0755);
  auto r = run_strongbox({"--site", site.string(), "restore", "--to", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir / "out" / fs::relative(data / "locked" / "inside.txt", "/")), "kept from the full");
}
