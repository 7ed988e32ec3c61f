// devices list|add|remove, with bad input.
#include "harness.hpp"

using namespace sbx::test;

TEST(CliDevices, AddListRemove) {
  TempDir dir;
  auto site = init_site(dir);
  auto add = run_strongbox({"--site", site.string(), "--json", "devices", "add", "fast", "--type", "disk", "--path",
                            (dir / "fast").string()});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  EXPECT_EQ(add.json_lines().at(0)["name"], "fast");
  auto list = run_strongbox({"--site", site.string(), "--json", "devices", "list"});
  EXPECT_EQ(list.json_lines().size(), 2u);
  auto rm = run_strongbox({"--site", site.string(), "devices", "remove", "fast"});
  EXPECT_EQ(rm.exit_code, 0) << rm.err;
  EXPECT_EQ(run_strongbox({"--site", site.string(), "--json", "devices", "list"}).json_lines().size(), 1u);
}

TEST(CliDevices, BadInputIsRefusedAndChangesNothing) {
  TempDir dir;
  auto site = init_site(dir);
  auto dup = run_strongbox({"--site", site.string(), "devices", "add", "disk1", "--type", "disk", "--path", (dir / "x").string()});
  EXPECT_EQ(dup.exit_code, 2);
  EXPECT_NE(dup.err.find("already exists"), std::string::npos) << dup.err;
  auto type = run_strongbox({"--site", site.string(), "devices", "add", "t1", "--type", "floppy", "--path", (dir / "x").string()});
  EXPECT_EQ(type.exit_code, 2);
  EXPECT_NE(type.err.find("no storage plugin named 'floppy'"), std::string::npos) << type.err;
  auto name = run_strongbox({"--site", site.string(), "devices", "add", "bad/name", "--type", "disk", "--path", (dir / "x").string()});
  EXPECT_EQ(name.exit_code, 2);
  write_file(dir / "short.key", "tooshort");
  auto key = run_strongbox({"--site", site.string(), "devices", "add", "enc", "--type", "disk", "--path",
                            (dir / "enc").string(), "--key-file", (dir / "short.key").string()});
  EXPECT_NE(key.exit_code, 0);
  auto gone = run_strongbox({"--site", site.string(), "devices", "remove", "nothere"});
  EXPECT_EQ(gone.exit_code, 2);
  EXPECT_EQ(run_strongbox({"--site", site.string(), "--json", "devices", "list"}).json_lines().size(), 1u);
}

TEST(CliDevices, RemoveRefusesADeviceWithLiveSets) {
  TempDir dir;
  auto site = init_site(dir);
  write_file(dir / "data" / "a", "hello");
  ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", (dir / "data").string()}).exit_code, 0);
  auto rm = run_strongbox({"--site", site.string(), "devices", "remove", "disk1"});
  EXPECT_NE(rm.exit_code, 0);
  EXPECT_EQ(run_strongbox({"--site", site.string(), "--json", "devices", "list"}).json_lines().size(), 1u);
}

TEST(CliDevices, EncryptedDeviceRoundTrip) {
  TempDir dir;
  auto site = init_site(dir);
  write_file(dir / "k", std::string(64, 'a') + "\n");
  auto add = run_strongbox({"--site", site.string(), "devices", "add", "vault", "--type", "disk", "--path",
                            (dir / "vault").string(), "--key-file", (dir / "k").string()});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  write_file(dir / "data" / "secret.txt", "the launch codes are 0000");
  auto b = run_strongbox({"--site", site.string(), "backup", (dir / "data").string(), "--device", "vault"});
  ASSERT_EQ(b.exit_code, 0) << b.err;
  for (auto& f : std::filesystem::recursive_directory_iterator(dir / "vault"))
    if (f.is_regular_file()) {
      EXPECT_EQ(read_file(f.path()).find("launch codes"), std::string::npos) << f.path();
    }
  auto r = run_strongbox({"--site", site.string(), "restore", "--to", (dir / "out").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(read_file(dir / "out" / std::filesystem::relative(dir / "data" / "secret.txt", "/")), "the launch codes are 0000");
  EXPECT_EQ(run_strongbox({"--site", site.string(), "verify"}).exit_code, 0);
}
