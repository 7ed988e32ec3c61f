// Transfer drives: export sets with their chunks to a directory, import them into another dedup device of
// the domain, restore from there; a later optimized duplication sends only new chunks; the reverse direction
// works the same way; wrong domains, missing or damaged listings are refused without changing anything.
#include <sched.h>
#include <sqlite3.h>
#include <sys/file.h>
#include <sys/mount.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <memory>

#include "dedup_site.hpp"

using namespace sbx::test;

namespace {

nlohmann::json read_json(const fs::path& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

void run_sql(const fs::path& db_file, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_file.c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  EXPECT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error), SQLITE_OK) << (error ? error : "");
  sqlite3_free(error);
  sqlite3_close(db);
}

// A full of four files on `device`, then an incremental after one changed; returns both ids and the tree.
struct Chain {
  int64_t full, incremental;
  TreeState state;
};
Chain full_and_incremental(const DedupSite& s, const fs::path& data, const std::string& device) {
  for (int i = 0; i < 4; ++i) write_file(data / ("f" + std::to_string(i)), random_text(150000, 60 + i));
  int64_t full = s.backup(data, device);
  write_file(data / "f1", random_text(150000, 70));
  int64_t incremental = s.backup(data, device, "incremental");
  return {full, incremental, snapshot(data)};
}

// A mount in a mount namespace of the test process's own, so nothing outlives the test; the strongbox
// processes it starts see it. Needs CAP_SYS_ADMIN; why_not() says what failed without it.
class PrivateMount {
 public:
  // `dir` seen read-only at `at`, as a write-protected drive is mounted.
  static std::unique_ptr<PrivateMount> read_only_view(const fs::path& dir, const fs::path& at) {
    auto m = std::unique_ptr<PrivateMount>(new PrivateMount(at));
    if (m->why_not_.empty() && ::mount(dir.c_str(), at.c_str(), nullptr, MS_BIND, nullptr) != 0)
      m->why_not_ = std::string("bind mount: ") + std::strerror(errno);
    m->mounted_ = m->why_not_.empty();
    if (m->mounted_ && ::mount(nullptr, at.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
      m->why_not_ = std::string("read-only remount: ") + std::strerror(errno);
    return m;
  }
  // A drive of `bytes` at `at`, which fills.
  static std::unique_ptr<PrivateMount> small_drive(const fs::path& at, size_t bytes) {
    auto m = std::unique_ptr<PrivateMount>(new PrivateMount(at));
    const std::string size = "size=" + std::to_string(bytes);
    if (m->why_not_.empty() && ::mount("tmpfs", at.c_str(), "tmpfs", 0, size.c_str()) != 0)
      m->why_not_ = std::string("tmpfs mount: ") + std::strerror(errno);
    m->mounted_ = m->why_not_.empty();
    return m;
  }
  ~PrivateMount() {
    if (mounted_) ::umount2(at_.c_str(), MNT_DETACH);
  }
  // Empty when mounted as asked.
  const std::string& why_not() const { return why_not_; }

 private:
  explicit PrivateMount(const fs::path& at) : at_(at) {
    fs::create_directories(at);
    if (::unshare(CLONE_NEWNS) != 0)
      why_not_ = std::string("unshare(CLONE_NEWNS): ") + std::strerror(errno);
    else if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      why_not_ = std::string("private mounts: ") + std::strerror(errno);
  }

  fs::path at_;
  bool mounted_ = false;
  std::string why_not_;
};

// A USB drive as MSPs ship them: exFAT (no hard links, no RENAME_NOREPLACE, no permissions), here a file
// image on a loop device mounted through exfat-fuse. Unmounted and detached when the test ends.
class ExfatDrive {
 public:
  explicit ExfatDrive(const fs::path& dir) : image_(dir / "exfat.img"), mounted_at_(dir / "exfat") {
    fs::create_directories(mounted_at_);
    auto shell = [&](const std::string& command) {
      return std::system((command + " >/dev/null 2>&1").c_str());
    };
    if (shell("command -v mkfs.exfat && command -v mount.exfat-fuse && command -v losetup") != 0) {
      why_not_ = "mkfs.exfat, mount.exfat-fuse or losetup is missing (scripts/setup installs them)";
      return;
    }
    if (shell("truncate -s 64M " + image_.string() + " && mkfs.exfat " + image_.string()) != 0) {
      why_not_ = "cannot make an exFAT image";
      return;
    }
    FILE* out = ::popen(("losetup -f --show " + image_.string() + " 2>/dev/null").c_str(), "r");
    char line[256] = {};
    if (out && std::fgets(line, sizeof line, out)) loop_ = line;
    if (out) ::pclose(out);
    while (!loop_.empty() && loop_.back() == '\n') loop_.pop_back();
    if (loop_.empty()) {
      why_not_ = "no loop device (needs root)";
      return;
    }
    if (shell("mount.exfat-fuse " + loop_ + " " + mounted_at_.string()) != 0) {
      why_not_ = "mount.exfat-fuse failed (needs FUSE)";
      return;
    }
    mounted_ = true;
  }
  ~ExfatDrive() {
    if (mounted_) ::umount2(mounted_at_.c_str(), MNT_DETACH);
    if (!loop_.empty()) std::system(("losetup -d " + loop_ + " >/dev/null 2>&1").c_str());
  }
  const fs::path& path() const { return mounted_at_; }
  // Empty when mounted; else why not.
  const std::string& why_not() const { return why_not_; }

 private:
  fs::path image_, mounted_at_;
  std::string loop_, why_not_;
  bool mounted_ = false;
};

}  // namespace

TEST(DedupTransfer, SeedARemoteStoreByDrive) {
  DedupSite s;
  s.add_dedup("customer");
  s.add_dedup("cloud", "customer");
  fs::path data = s.dir() / "data";
  for (int i = 0; i < 8; ++i) write_file(data / ("f" + std::to_string(i)), random_text(250000, i));
  int64_t full = s.backup(data, "customer");
  write_file(data / "f1", random_text(250000, 50));
  int64_t inc = s.backup(data, "customer", "incremental");
  auto state = snapshot(data);
  fs::path drive = s.dir() / "usb";

  auto exported =
      s.run_json({"transfer", "export", std::to_string(full), std::to_string(inc), "--to", drive.string()});
  EXPECT_EQ(exported["sets"].size(), 2u);
  EXPECT_TRUE(fs::exists(drive / "strongbox-transfer.json"));
  auto imported = s.run_json({"transfer", "import", drive.string(), "--device", "cloud"});
  ASSERT_EQ(imported["sets"].size(), 2u);
  int64_t cloud_inc = imported["sets"][1].get<int64_t>();
  EXPECT_EQ(diff_trees(state, s.restored(cloud_inc, data, "cloud")), "");
  EXPECT_EQ(s.run({"verify", "--device", "cloud", "--read-data"}).exit_code, 0);
  // Importing again adds nothing.
  auto twice = s.run_json({"transfer", "import", drive.string(), "--device", "cloud"});
  EXPECT_EQ(twice["sets"].size(), 0u);

  // Newer sets then go by optimized duplication, sending only their new chunks.
  write_file(data / "f2", random_text(250000, 51));
  int64_t newer = s.backup(data, "customer", "incremental");
  auto dup = s.run_json({"duplicate", std::to_string(newer), "--to", "cloud"});
  EXPECT_TRUE(dup["optimized"].get<bool>());
  EXPECT_LT(dup["bytes_sent"].get<uint64_t>(), 400000u) << dup.dump();

  // The reverse direction: from the cloud back to a fresh customer device for a large restore.
  s.add_dedup("replacement", "customer");
  fs::path back = s.dir() / "usb-back";
  s.run_json({"transfer", "export", std::to_string(imported["sets"][0].get<int64_t>()),
              std::to_string(cloud_inc), "--to", back.string()});
  auto restored = s.run_json({"transfer", "import", back.string(), "--device", "replacement"});
  ASSERT_EQ(restored["sets"].size(), 2u);
  EXPECT_EQ(diff_trees(state, s.restored(restored["sets"][1].get<int64_t>(), data, "replacement")), "");
}

TEST(DedupTransfer, AnIncrementalWithoutItsBaseIsRefused) {
  DedupSite s;
  s.add_dedup("a");
  s.add_dedup("b", "a");
  fs::path data = s.dir() / "data";
  write_file(data / "f", "one");
  s.backup(data, "a");
  write_file(data / "f", "two");
  int64_t inc = s.backup(data, "a", "incremental");
  fs::path drive = s.dir() / "usb";
  s.run_json({"transfer", "export", std::to_string(inc), "--to", drive.string()});
  auto r = s.run({"transfer", "import", drive.string(), "--device", "b"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("export it too"), std::string::npos) << r.err;
  auto sets = s.run({"--json", "sets", "list"}).json_lines();
  EXPECT_EQ(sets.size(), 2u) << "a refused import left a set behind";
}

TEST(DedupTransfer, WrongDomainAndBadDrivesAreRefused) {
  DedupSite s;
  s.add_dedup("a");
  s.add_dedup("other");
  fs::path data = s.dir() / "data";
  write_file(data / "f", "x");
  int64_t set = s.backup(data, "a");
  fs::path drive = s.dir() / "usb";
  s.run_json({"transfer", "export", std::to_string(set), "--to", drive.string()});
  auto wrong = s.run({"transfer", "import", drive.string(), "--device", "other"});
  EXPECT_EQ(wrong.exit_code, 2);
  EXPECT_NE(wrong.err.find("another dedup domain"), std::string::npos) << wrong.err;
  auto missing = s.run({"transfer", "import", (s.dir() / "nothing").string(), "--device", "a"});
  EXPECT_EQ(missing.exit_code, 2);
  write_file(drive / "strongbox-transfer.json", "{not json");
  auto garbage = s.run({"transfer", "import", drive.string(), "--device", "a"});
  EXPECT_NE(garbage.exit_code, 0);
  EXPECT_NE(garbage.err.find("not a strongbox transfer listing"), std::string::npos) << garbage.err;
  auto unmounted = s.run({"transfer", "export", std::to_string(set), "--to", "/nonexistent-drive/strongbox"});
  EXPECT_EQ(unmounted.exit_code, 2);
  EXPECT_NE(unmounted.err.find("is the drive mounted?"), std::string::npos) << unmounted.err;
  auto disk_set = s.run({"transfer", "export", "999", "--to", (s.dir() / "usb2").string()});
  EXPECT_EQ(disk_set.exit_code, 2);
}

TEST(DedupTransfer, ASetOnTheTargetThatTheCatalogDoesNotListIsLeftAlone) {
  // Another site sharing the device (or this site after its catalog was rebuilt) holds the set already; an
  // import that failed after sending would have deleted it together with its own half-made copy.
  DedupSite s;
  s.add_dedup("a");
  s.add_dedup("b", "a");
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(200000, 7));
  int64_t set = s.backup(data, "a");
  auto state = snapshot(data);
  fs::path drive = s.dir() / "usb";
  s.run_json({"transfer", "export", std::to_string(set), "--to", drive.string()});
  auto imported = s.run_json({"transfer", "import", drive.string(), "--device", "b"});
  ASSERT_EQ(imported["sets"].size(), 1u);

  fs::path other = s.other_site_sharing("b", "b-too");
  auto r =
      run_strongbox({"--site", other.string(), "transfer", "import", drive.string(), "--device", "b-too"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("that this site's catalog does not list there"), std::string::npos) << r.err;
  EXPECT_EQ(diff_trees(state, s.restored(imported["sets"][0].get<int64_t>(), data, "b")), "");
  EXPECT_EQ(s.run({"verify", "--device", "b", "--read-data"}).exit_code, 0);
}

TEST(DedupTransfer, ASetStillBeingWrittenOnTheTargetIsNotCountedAsImported) {
  DedupSite s;
  s.add_dedup("a");
  s.add_dedup("b", "a");
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(100000, 8));
  int64_t set = s.backup(data, "a");
  fs::path drive = s.dir() / "usb";
  s.run_json({"transfer", "export", std::to_string(set), "--to", drive.string()});
  auto imported = s.run_json({"transfer", "import", drive.string(), "--device", "b"});
  ASSERT_EQ(imported["sets"].size(), 1u);
  const int64_t copy = imported["sets"][0].get<int64_t>();
  // As an import killed before it committed leaves it while another job keeps the site busy (so nothing
  // discards it yet).
  run_sql(s.site() / "catalog.db",
          "UPDATE backup_sets SET state = 'writing' WHERE id = " + std::to_string(copy));
  int busy = ::open((s.site() / "lock").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(busy, 0);
  ASSERT_EQ(::flock(busy, LOCK_SH | LOCK_NB), 0);
  auto again = s.run({"transfer", "import", drive.string(), "--device", "b"});
  ::close(busy);
  EXPECT_EQ(again.exit_code, 1) << again.out;
  EXPECT_NE(again.err.find("is already being written on device b as set " + std::to_string(copy)),
            std::string::npos)
      << again.err;
}

TEST(DedupTransfer, ACopiedFullTravelsWithTheIncrementalsMadeOnIt) {
  // An incremental names its base's original; when the full on the exporting device is a copy under its own
  // store name, the listing must name that copy, which is the one on the drive.
  DedupSite s;
  s.add_dedup("a");
  s.add_dedup("b", "a");
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(150000, 9));
  int64_t on_disk = s.backup(data, "disk1");
  int64_t full = s.run_json({"duplicate", std::to_string(on_disk), "--to", "a"})["set_id"].get<int64_t>();
  write_file(data / "g", random_text(150000, 10));
  int64_t inc = s.backup(data, "a", "incremental");
  auto state = snapshot(data);
  fs::path drive = s.dir() / "usb";
  s.run_json({"transfer", "export", std::to_string(full), std::to_string(inc), "--to", drive.string()});
  auto imported = s.run_json({"transfer", "import", drive.string(), "--device", "b"});
  ASSERT_EQ(imported["sets"].size(), 2u) << imported.dump();
  EXPECT_EQ(diff_trees(state, s.restored(imported["sets"][1].get<int64_t>(), data, "b")), "");
}

namespace {

std::vector<std::string> listing_sets_on(const fs::path& drive) {
  std::vector<std::string> names;
  for (const auto& file : fs::directory_iterator(drive / "sets"))
    if (file.path().filename().string().rfind("strongbox-transfer-listing-", 0) == 0)
      names.push_back(file.path().filename().string());
  return names;
}

}  // namespace

// The listing says which files each set holds. It travels sealed in the drive's store, so a drive damaged
// or altered in transit is refused at import, changing nothing, instead of cataloguing files the sets do not
// hold (a version left out of a listing was a file silently missing from every later restore).
TEST(DedupTransfer, AListingDamagedOrAlteredOnTheDriveIsRefusedAndChangesNothing) {
  DedupSite s;
  s.add_dedup("a");
  s.add_dedup("b", "a");
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(100000, 11));
  write_file(data / "g", random_text(100000, 12));
  int64_t first = s.backup(data, "a");
  int64_t second = s.backup(data, "a");
  fs::path drive = s.dir() / "usb";
  s.run_json({"transfer", "export", std::to_string(first), "--to", drive.string()});
  s.run_json({"transfer", "export", std::to_string(second), "--to", drive.string()});
  ASSERT_EQ(listing_sets_on(drive).size(), 1u) << "a second export left the listing it replaced";
  const auto pointer = read_json(drive / "strongbox-transfer.json");
  const std::string sealed = listing_sets_on(drive).front();
  const auto sets_before = s.run({"--json", "sets", "list"}).json_lines().size();

  auto refused = [&](const std::string& what, const std::string& expect) {
    SCOPED_TRACE(what);
    auto r = s.run({"transfer", "import", drive.string(), "--device", "b"});
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(expect), std::string::npos) << r.err;
    EXPECT_EQ(s.run({"--json", "sets", "list"}).json_lines().size(), sets_before);
    write_file(drive / "strongbox-transfer.json", pointer.dump());
  };
  auto altered = pointer;
  std::string locator = altered["listing_locator"];
  locator.back() = locator.back() == '0' ? '1' : '0';
  altered["listing_locator"] = locator;
  write_file(drive / "strongbox-transfer.json", altered.dump());
  refused("another locator", "is damaged or was altered");

  // Another set's manifest in the listing's place: manifests are sealed under their set's name.
  fs::path backup_manifest;
  for (const auto& file : fs::directory_iterator(drive / "sets"))
    if (file.path().extension() == ".manifest" && file.path().filename() != sealed)
      backup_manifest = file.path();
  ASSERT_FALSE(backup_manifest.empty());
  fs::copy_file(drive / "sets" / sealed, s.dir() / "kept.manifest");
  fs::copy_file(backup_manifest, drive / "sets" / sealed, fs::copy_options::overwrite_existing);
  refused("another manifest", "is damaged or was altered");
  fs::copy_file(s.dir() / "kept.manifest", drive / "sets" / sealed, fs::copy_options::overwrite_existing);

  altered = pointer;
  altered["listing_set"] = backup_manifest.stem().string();
  write_file(drive / "strongbox-transfer.json", altered.dump());
  refused("a backup set named as the listing", "which is not a listing set");

  altered = pointer;
  altered["version"] = 1;
  write_file(drive / "strongbox-transfer.json", altered.dump());
  refused("the unsealed listing of earlier builds", "has version 1; this strongbox reads version 2");

  auto imported = s.run_json({"transfer", "import", drive.string(), "--device", "b"});
  EXPECT_EQ(imported["sets"].size(), 2u) << imported.dump();
}

// An export killed after sealing its listing and before pointing strongbox-transfer.json at it leaves a
// listing set nothing names; the next export removes it with the listing it replaces, so a drive in
// rotation does not collect them.
TEST(DedupTransfer, AListingLeftByAnInterruptedExportGoesWithTheNextExport) {
  DedupSite s;
  s.add_dedup("a");
  s.add_dedup("b", "a");
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(100000, 21));
  int64_t first = s.backup(data, "a");
  write_file(data / "g", random_text(100000, 22));
  int64_t second = s.backup(data, "a", "incremental");
  auto state = snapshot(data);
  fs::path drive = s.dir() / "usb";
  s.run_json({"transfer", "export", std::to_string(first), "--to", drive.string()});
  ASSERT_EQ(listing_sets_on(drive).size(), 1u);
  const std::string orphan = listing_sets_on(drive).front();
  fs::copy_file(drive / "sets" / orphan, s.dir() / "orphan");
  s.run_json({"transfer", "export", std::to_string(first), "--to", drive.string()});
  // The state the kill leaves: a sealed listing set beside the one the pointer names.
  fs::copy_file(s.dir() / "orphan", drive / "sets" / orphan);
  ASSERT_EQ(listing_sets_on(drive).size(), 2u);

  s.run_json({"transfer", "export", std::to_string(second), "--to", drive.string()});
  const auto left = listing_sets_on(drive);
  ASSERT_EQ(left.size(), 1u) << "an orphaned listing outlived the next export";
  EXPECT_NE(left.front(), orphan);
  auto imported = s.run_json({"transfer", "import", drive.string(), "--device", "b"});
  ASSERT_EQ(imported["sets"].size(), 2u) << imported.dump();
  EXPECT_EQ(diff_trees(state, s.restored(imported["sets"][1].get<int64_t>(), data, "b")), "");
}

// gc never visits a transfer drive, so what an export killed mid-way left there (its session file, the pack
// it was filling) is swept by the next export instead: a session nobody holds, and unfinished packs a day
// old. A session still held and a pack still being written stay.
TEST(DedupTransfer, WhatAnInterruptedExportLeftOnTheDriveGoesWithTheNextExport) {
  DedupSite s;
  s.add_dedup("a");
  fs::path data = s.dir() / "data";
  write_file(data / "f", random_text(100000, 31));
  int64_t first = s.backup(data, "a");
  write_file(data / "g", random_text(100000, 32));
  int64_t second = s.backup(data, "a", "incremental");
  fs::path drive = s.dir() / "usb";
  s.run_json({"transfer", "export", std::to_string(first), "--to", drive.string()});

  write_file(drive / "tmp" / "killed.pack.tmp", random_text(300000, 33));
  fs::last_write_time(drive / "tmp" / "killed.pack.tmp",
                      fs::file_time_type::clock::now() - std::chrono::hours(48));
  write_file(drive / "tmp" / "in-flight.pack.tmp", random_text(1000, 34));
  write_file(drive / "sessions" / "killed.ids", std::string(32, 'k'));
  write_file(drive / "sessions" / "in-flight.ids", std::string(32, 'i'));
  const int held = ::open((drive / "sessions" / "in-flight.ids").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(held, 0);
  ASSERT_EQ(::flock(held, LOCK_EX | LOCK_NB), 0);

  s.run_json({"transfer", "export", std::to_string(second), "--to", drive.string()});
  EXPECT_FALSE(fs::exists(drive / "tmp" / "killed.pack.tmp"));
  EXPECT_FALSE(fs::exists(drive / "sessions" / "killed.ids"));
  EXPECT_TRUE(fs::exists(drive / "tmp" / "in-flight.pack.tmp"));
  EXPECT_TRUE(fs::exists(drive / "sessions" / "in-flight.ids"));
  ::close(held);
}

TEST(DedupTransfer, ADriveMountedReadOnlyIsImportedFromAndLeftAsItWas) {
  // A seed drive often arrives write-protected, or is mounted read-only so nothing can alter it: the import
  // reads it through its index opened immutable (or, without a usable index, a temporary one made from the
  // packs), writes nothing there, and an export to it fails with one line.
  DedupSite s;
  s.add_dedup("a");
  s.add_dedup("b", "a");
  s.add_dedup("c", "a");
  fs::path data = s.dir() / "data";
  auto [full, inc, state] = full_and_incremental(s, data, "a");
  fs::path drive = s.dir() / "usb";
  s.run_json({"transfer", "export", std::to_string(full), std::to_string(inc), "--to", drive.string()});
  const TreeState shipped = snapshot(drive);
  fs::path mounted = s.dir() / "mnt";
  auto view = PrivateMount::read_only_view(drive, mounted);
  if (!view->why_not().empty()) GTEST_SKIP() << "cannot mount a read-only view: " << view->why_not();

  auto imported = s.run_json({"transfer", "import", mounted.string(), "--device", "b"});
  ASSERT_EQ(imported["sets"].size(), 2u);
  EXPECT_EQ(diff_trees(state, s.restored(imported["sets"][1].get<int64_t>(), data, "b")), "");
  EXPECT_EQ(s.run({"verify", "--device", "b", "--read-data"}).exit_code, 0);
  EXPECT_EQ(diff_trees(shipped, snapshot(drive)), "") << "the import changed the drive";

  auto onto = s.run({"transfer", "export", std::to_string(inc), "--to", mounted.string()});
  EXPECT_EQ(onto.exit_code, 1);
  EXPECT_NE(onto.err.find("is on a read-only file system: cannot receive chunks"), std::string::npos)
      << onto.err;
  EXPECT_EQ(std::count(onto.err.begin(), onto.err.end(), '\n'), 1) << onto.err;

  // An index left with commits in its write-ahead log (the exporting process was killed) is not trusted:
  // an immutable open would not see them.
  write_file(drive / "index.db-wal", "commits an immutable open would miss");
  auto unclean = s.run({"transfer", "import", mounted.string(), "--device", "b"});
  EXPECT_EQ(unclean.exit_code, 0) << unclean.err;
  EXPECT_NE(unclean.err.find("its index was not closed cleanly: read through a temporary index"),
            std::string::npos)
      << unclean.err;

  // Without its index (lost, say, when the drive was unplugged mid-export) the packs are read instead.
  for (const char* file : {"index.db", "index.db-wal", "index.db-shm"}) fs::remove(drive / file);
  const TreeState unindexed = snapshot(drive);
  auto rebuilt = s.run({"--json", "transfer", "import", mounted.string(), "--device", "c"});
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  EXPECT_NE(rebuilt.err.find("is read-only and it has no index: read through a temporary index"),
            std::string::npos)
      << rebuilt.err;
  EXPECT_EQ(std::count(rebuilt.err.begin(), rebuilt.err.end(), '\n'), 1)
      << "warned more than once: " << rebuilt.err;
  int64_t on_c = rebuilt.json_lines().back()["sets"][1].get<int64_t>();
  EXPECT_EQ(diff_trees(state, s.restored(on_c, data, "c")), "");
  EXPECT_EQ(diff_trees(unindexed, snapshot(drive)), "") << "the import changed the drive";

  // The drive as a device of the site (an offsite copy mounted read-only for an audit): verified and read,
  // never written.
  auto added = s.run(
      {"devices", "add", "drive", "--type", "dedup", "--path", mounted.string(), "--key-file", s.key()});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  EXPECT_EQ(s.run({"verify", "--device", "drive", "--read-data"}).exit_code, 0);
  auto written = s.run({"backup", data.string(), "--device", "drive"});
  EXPECT_NE(written.exit_code, 0);
  EXPECT_NE(written.err.find("is on a read-only file system: cannot write a set"), std::string::npos)
      << written.err;
  EXPECT_EQ(diff_trees(unindexed, snapshot(drive)), "") << "the device's jobs changed the drive";
}

TEST(DedupTransfer, AnExfatDriveCarriesASeed) {
  // exFAT has no hard links and FUSE no RENAME_NOREPLACE: a store's config and set names are made there by
  // looking and then renaming. Before, every export to such a drive failed at "cannot create dedup.json".
  DedupSite s;
  s.add_dedup("a");
  s.add_dedup("b", "a");
  fs::path data = s.dir() / "data";
  auto [full, inc, state] = full_and_incremental(s, data, "a");
  ExfatDrive usb(s.dir().path());
  if (!usb.why_not().empty()) GTEST_SKIP() << "no exFAT drive: " << usb.why_not();
  fs::path seed = usb.path() / "seed";

  s.run_json({"transfer", "export", std::to_string(full), "--to", seed.string()});
  // A second export to the same drive adds the incremental beside what is there.
  auto second = s.run_json({"transfer", "export", std::to_string(inc), "--to", seed.string()});
  EXPECT_EQ(second["sets"].size(), 1u);
  auto imported = s.run_json({"transfer", "import", seed.string(), "--device", "b"});
  ASSERT_EQ(imported["sets"].size(), 2u);
  EXPECT_EQ(diff_trees(state, s.restored(imported["sets"][1].get<int64_t>(), data, "b")), "");
  EXPECT_EQ(s.run({"verify", "--device", "b", "--read-data"}).exit_code, 0);

  // A disk device on the drive publishes its sets the same way.
  auto added =
      s.run({"devices", "add", "usb-disk", "--type", "disk", "--path", (usb.path() / "disk").string()});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  int64_t on_disk = s.backup(data, "usb-disk");
  ASSERT_GT(on_disk, 0);
  EXPECT_EQ(diff_trees(state, s.restored(on_disk, data, "usb-disk")), "");
}

TEST(DedupTransfer, ADriveThatFillsFailsTheCopyWithItsReasonAndChangesNothing) {
  // Before, the receiver gave up on "No space left on device" and the sender waited for ever for room in the
  // connection: an export to a small drive, or a duplication to a full device, hung.
  DedupSite s;
  s.add_dedup("a");
  fs::path data = s.dir() / "data";
  write_file(data / "big", random_text(12u << 20, 11));
  int64_t set = s.backup(data, "a");
  auto state = snapshot(data);
  fs::path small = s.dir() / "small";
  auto drive = PrivateMount::small_drive(small, 1u << 20);
  if (!drive->why_not().empty()) GTEST_SKIP() << "cannot mount a small drive: " << drive->why_not();
  const std::string sets_before = s.run({"--json", "sets", "list"}).out;

  auto exported = s.run({"transfer", "export", std::to_string(set), "--to", (small / "seed").string()});
  EXPECT_EQ(exported.exit_code, 1);
  EXPECT_NE(exported.err.find("the receiving device refused"), std::string::npos) << exported.err;
  EXPECT_NE(exported.err.find("No space left on device"), std::string::npos) << exported.err;
  EXPECT_EQ(std::count(exported.err.begin(), exported.err.end(), '\n'), 1) << exported.err;
  EXPECT_TRUE(fs::is_empty(small / "seed" / "tmp")) << "an unfinished pack was left on the drive";

  fs::create_directories(small / "store");
  auto added = s.run({"devices", "add", "on-small", "--type", "dedup", "--path", (small / "store").string(),
                      "--key-file", s.key(), "--set", "domain_from=" + (s.dir() / "a").string()});
  ASSERT_EQ(added.exit_code, 0) << added.err;
  auto duplicated = s.run({"duplicate", std::to_string(set), "--to", "on-small"});
  EXPECT_EQ(duplicated.exit_code, 1);
  EXPECT_NE(duplicated.err.find("No space left on device"), std::string::npos) << duplicated.err;

  // Nothing is recorded for the failed copies, and the set still goes to a drive with room.
  auto sets = s.run({"--json", "sets", "list"}).json_lines();
  EXPECT_EQ(sets.size(), 1u) << s.run({"sets", "list"}).out;
  fs::path roomy = s.dir() / "usb";
  s.run_json({"transfer", "export", std::to_string(set), "--to", roomy.string()});
  s.add_dedup("b", "a");
  auto imported = s.run_json({"transfer", "import", roomy.string(), "--device", "b"});
  ASSERT_EQ(imported["sets"].size(), 1u);
  EXPECT_EQ(diff_trees(state, s.restored(imported["sets"][0].get<int64_t>(), data, "b")), "");
}
