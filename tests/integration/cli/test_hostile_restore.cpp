// A crafted set with ../, absolute paths and symlink tricks writes nothing outside the restore target.
#include "harness.hpp"

#include <strongbox/sdk/entry.hpp>

#include <algorithm>
#include <strongbox/service.hpp>

namespace fs = std::filesystem;
using namespace sbx::test;

namespace {

struct Crafted {
  std::string path;
  uint32_t type;
  std::string data;
  std::string link_target;
};

// Writes the entries into a set through the disk plugin and catalogues them as a complete full backup,
// the way a tampered device plus catalog would present them.
void craft_set(const fs::path& site_dir, const std::vector<Crafted>& entries) {
  auto site = sbx::service::Site::open(site_dir);
  auto& catalog = site->catalog();
  auto device_row = *catalog.find_device("disk1");
  sbx::catalog::BackupSet set;
  set.device_id = device_row.id;
  set.level = "full";
  set.series = "files:/crafted";
  set.sources = {"/crafted"};
  set.state = "writing";
  set.started_ns = sbx::service::now_ns();
  set.store_name = "set-crafted";
  int64_t id = catalog.begin_set(set);
  auto device = site->open_device(device_row);
  auto writer = device->begin_set("set-crafted");
  std::vector<sbx::catalog::FileVersion> versions;
  for (const auto& c : entries) {
    sbx::sdk::Entry e;
    e.type = c.type;
    e.path = c.path;
    e.link_target = c.link_target;
    e.size = c.data.size();
    e.mode = c.type == SBX_ENTRY_DIRECTORY ? 0755 : 0644;
    e.mtime_ns = set.started_ns;
    writer->write_entry(e.as_c());
    if (!c.data.empty()) writer->write_data(c.data);
    sbx::catalog::FileVersion v;
    v.set_id = id;
    v.path = c.path;
    v.type = int(c.type);
    v.size = c.data.size();
    v.mode = e.mode;
    v.link_target = c.link_target;
    v.locator = writer->end_entry();
    v.seq = versions.size();
    versions.push_back(v);
  }
  auto stats = writer->commit();
  catalog.add_file_versions(id, versions);
  catalog.complete_set(id, versions.size(), 0, stats.stored_bytes, 0);
}

// Entries under root, leaving out the folders named (the site, which the restore job may write to itself).
size_t count_entries(const fs::path& root, const std::vector<fs::path>& skip = {}) {
  size_t n = 0;
  for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
    if (std::find(skip.begin(), skip.end(), it->path()) != skip.end()) {
      it.disable_recursion_pending();
      continue;
    }
    ++n;
  }
  return n;
}

}  // namespace

TEST(CliHostileRestore, NothingIsWrittenOutsideTheTarget) {
  TempDir dir;
  auto site = init_site(dir);
  fs::path outside = dir / "outside";
  fs::create_directories(outside);
  fs::path target = dir / "target";
  const std::string abs_evil = (outside / "abs-evil").string();
  craft_set(site, {
                      {"good.txt", SBX_ENTRY_FILE, "fine", ""},
                      {"../dotdot-evil", SBX_ENTRY_FILE, "evil", ""},
                      {"sub/../../dotdot-evil2", SBX_ENTRY_FILE, "evil", ""},
                      {abs_evil, SBX_ENTRY_FILE, "evil", ""},
                      {"escape", SBX_ENTRY_SYMLINK, "", outside.string()},
                      {"escape/through-symlink", SBX_ENTRY_FILE, "evil", ""},
                      {"hard", SBX_ENTRY_HARDLINK, "", "../../etc/passwd"},
                  });
  size_t outside_before = count_entries(dir.path(), {site});
  auto r = run_strongbox({"--site", site.string(), "restore", "--to", target.string()});
  EXPECT_EQ(r.exit_code, 3) << r.out << r.err;
  EXPECT_EQ(read_file(target / "good.txt"), "fine");
  EXPECT_FALSE(fs::exists(outside / "abs-evil"));
  EXPECT_FALSE(fs::exists(outside / "through-symlink"));
  EXPECT_FALSE(fs::exists(dir / "dotdot-evil"));
  EXPECT_FALSE(fs::exists(dir / "dotdot-evil2"));
  EXPECT_FALSE(fs::exists(target.parent_path() / "dotdot-evil"));
  EXPECT_TRUE(fs::is_empty(outside));
  // Everything new lives under target/; the restore reported each refused entry.
  size_t outside_after = count_entries(dir.path(), {site, target});
  EXPECT_EQ(outside_after, outside_before);
  EXPECT_NE(r.err.find("dotdot-evil"), std::string::npos) << r.err;
}
