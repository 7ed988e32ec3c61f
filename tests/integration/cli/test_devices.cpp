// devices list|add|remove, with bad input.
#include "harness.hpp"

using namespace sbx::test;

TEST(CliDevices, AddListRemove) {
  TempDir dir;
  auto site = init_site(dir);
  auto add = run_strongbox({"--site", site.string(), "--json", "devices", "add", "fast", "--type", "disk",
                            "--path", (dir / "fast").string()});
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
  auto dup = run_strongbox(
      {"--site", site.string(), "devices", "add", "disk1", "--type", "disk", "--path", (dir / "x").string()});
  EXPECT_EQ(dup.exit_code, 2);
  EXPECT_NE(dup.err.find("already exists"), std::string::npos) << dup.err;
  auto type = run_strongbox(
      {"--site", site.string(), "devices", "add", "t1", "--type", "floppy", "--path", (dir / "x").string()});
  EXPECT_EQ(type.exit_code, 2);
  EXPECT_NE(type.err.find("no storage plugin named 'floppy'"), std::string::npos) << type.err;
  auto name = run_strongbox({"--site", site.string(), "devices", "add", "bad/name", "--type", "disk",
                             "--path", (dir / "x").string()});
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
  EXPECT_EQ(read_file(dir / "out" / std::filesystem::relative(dir / "data" / "secret.txt", "/")),
            "the launch codes are 0000");
  EXPECT_EQ(run_strongbox({"--site", site.string(), "verify"}).exit_code, 0);
}

// The drive holding a device is unmounted: its mount point is an empty directory. Every command must report
// the device offline and write nothing there; before, the next backup quietly made a new, empty store on the
// wrong disk, and restores of the sets on the real drive failed as if the sets were lost.
TEST(CliDevices, ADeviceWhoseDriveIsNotMountedIsOfflineAndNothingIsWrittenThere) {
  for (const std::string type : {"disk", "dedup"}) {
    SCOPED_TRACE(type);
    TempDir dir;
    auto site = init_site(dir);
    const auto mount_point = dir / "mnt";
    std::filesystem::create_directories(mount_point);
    auto add = run_strongbox({"--site", site.string(), "devices", "add", "usb", "--type", type, "--path",
                              (mount_point / "strongbox").string()});
    ASSERT_EQ(add.exit_code, 0) << add.err;
    write_file(dir / "data" / "a", "kept on the drive");
    auto full =
        run_strongbox({"--site", site.string(), "backup", (dir / "data").string(), "--device", "usb"});
    ASSERT_EQ(full.exit_code, 0) << full.err;

    std::filesystem::rename(mount_point, dir / "drive");  // unplugged
    std::filesystem::create_directories(mount_point);
    auto list = run_strongbox({"--site", site.string(), "--json", "devices", "list"});
    ASSERT_EQ(list.exit_code, 0) << list.err;
    bool reported = false;
    for (const auto& d : list.json_lines())
      if (d["name"] == "usb") {
        EXPECT_FALSE(d["online"].get<bool>());
        reported = d.value("problem", "").find("is its drive mounted?") != std::string::npos;
        EXPECT_TRUE(reported) << d.dump();
      }
    EXPECT_TRUE(reported);
    auto backup =
        run_strongbox({"--site", site.string(), "backup", (dir / "data").string(), "--device", "usb"});
    EXPECT_NE(backup.exit_code, 0);
    EXPECT_NE(backup.err.find("is its drive mounted?"), std::string::npos) << backup.err;
    auto restore = run_strongbox({"--site", site.string(), "restore", "--to", (dir / "out").string()});
    EXPECT_NE(restore.exit_code, 0);
    EXPECT_NE(restore.err.find("is its drive mounted?"), std::string::npos) << restore.err;
    EXPECT_TRUE(std::filesystem::is_empty(mount_point)) << "a command wrote onto the mount point";

    std::filesystem::remove(mount_point);  // plugged in again
    std::filesystem::rename(dir / "drive", mount_point);
    auto again = run_strongbox({"--site", site.string(), "restore", "--to", (dir / "out").string()});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    EXPECT_EQ(read_file(dir / "out" / std::filesystem::relative(dir / "data" / "a", "/")),
              "kept on the drive");
    EXPECT_EQ(run_strongbox({"--site", site.string(), "verify"}).exit_code, 0);
  }
}

// A store that lost the file describing it (the disk device's device.json, the dedup device's dedup.json,
// which holds its keys) is refused, by `devices add` too, rather than given a new one: new keys could never
// read the packs already there, and the next gc would sweep them.
TEST(CliDevices, AStoreThatLostItsDescriptionIsRefusedAndLeftAsItIs) {
  for (const auto& [type, description] :
       std::vector<std::pair<std::string, std::string>>{{"disk", "device.json"}, {"dedup", "dedup.json"}}) {
    SCOPED_TRACE(type);
    TempDir dir;
    auto site = init_site(dir);
    const auto store = dir / "store";
    ASSERT_EQ(run_strongbox({"--site", site.string(), "devices", "add", "dev", "--type", type, "--path",
                             store.string()})
                  .exit_code,
              0);
    write_file(dir / "data" / "a", "hello");
    ASSERT_EQ(run_strongbox({"--site", site.string(), "backup", (dir / "data").string(), "--device", "dev"})
                  .exit_code,
              0);
    std::filesystem::rename(store / description, dir / description);
    const auto before = snapshot(store);
    auto backup =
        run_strongbox({"--site", site.string(), "backup", (dir / "data").string(), "--device", "dev"});
    EXPECT_NE(backup.exit_code, 0);
    EXPECT_NE(backup.err.find("but no " + description), std::string::npos) << backup.err;
    auto readd = run_strongbox(
        {"--site", site.string(), "devices", "add", "again", "--type", type, "--path", store.string()});
    EXPECT_NE(readd.exit_code, 0);
    EXPECT_NE(readd.err.find("but no " + description), std::string::npos) << readd.err;
    EXPECT_EQ(diff_trees(before, snapshot(store)), "");
    std::filesystem::rename(dir / description, store / description);  // put back from its copy
    EXPECT_EQ(run_strongbox({"--site", site.string(), "verify"}).exit_code, 0);
  }
}
