// Synthetic full: a restore of it equals a restore of a real full taken at the same moment and the source
// tree, across adds, changes (also same size), deletes, renames, a removed directory, a changed symlink and
// hard links; later incrementals base on it; it reads none of the old sets; non-file-based agents are
// refused.
#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <strongbox/catalog.hpp>
#include <thread>

#include "harness.hpp"

namespace fs = std::filesystem;
using namespace sbx::test;

namespace {

void sql(const fs::path& site, const std::string& statement) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((site / "catalog.db").c_str(), &db), SQLITE_OK);
  char* error = nullptr;
  int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &error);
  std::string message = error ? error : "";
  sqlite3_free(error);
  sqlite3_close(db);
  ASSERT_EQ(rc, SQLITE_OK) << message;
}

std::string query_text(const fs::path& site, const std::string& statement) {
  sqlite3* db = nullptr;
  std::string value;
  if (sqlite3_open((site / "catalog.db").c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, statement.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
      value = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return value;
}

void set_mtime(const fs::path& p, time_t seconds) {
  struct timespec times[2] = {{seconds, 0}, {seconds, 0}};
  ASSERT_EQ(utimensat(AT_FDCWD, p.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << p;
}

nlohmann::json one_json(const RunResult& r) {
  auto lines = r.json_lines();
  EXPECT_EQ(lines.size(), 1u) << r.out;
  return lines.empty() ? nlohmann::json::object() : lines[0];
}

int64_t backup(const std::string& site, const fs::path& data, const std::string& level) {
  auto r = run_strongbox({"--site", site, "backup", data.string(), "--level", level, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  // Distinct mtimes and started times between sets, as real runs have.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  return one_json(r).value("set_id", int64_t{0});
}

TreeState restored(const std::string& site, const std::vector<std::string>& how, const fs::path& to,
                   const fs::path& data, nlohmann::json* result = nullptr) {
  std::vector<std::string> args = {"--site", site, "restore", "--to", to.string(), "--json"};
  args.insert(args.end(), how.begin(), how.end());
  auto r = run_strongbox(args);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  if (result) *result = one_json(r);
  return snapshot(to / fs::relative(data, "/"));
}

}  // namespace

TEST(CopiesSynthesize, EqualsARealFullAndTheSource) {
  TempDir dir;
  auto site_path = init_site(dir);
  const std::string site = site_path.string();
  fs::path data = dir / "data";
  write_file(data / "a.txt", "alpha v1");
  write_file(data / "same-size.txt", "12345678");
  write_file(data / "b.txt", "bravo");
  write_file(data / "dir1" / "c.txt", "charlie");
  write_file(data / "gone" / "x" / "y.txt", "in a directory that will be removed");
  write_file(data / "linked.txt", "hard linked content");
  fs::create_hard_link(data / "linked.txt", data / "link-2.txt");
  fs::create_symlink("a.txt", data / "sym");
  set_mtime(data / "same-size.txt", 1'600'000'000);
  int64_t full = backup(site, data, "full");

  // Incremental 1: a change, an add, a same-size change with another mtime, a new hard link to an old file.
  write_file(data / "a.txt", "alpha v2, longer");
  write_file(data / "dir1" / "new.txt", "new file");
  write_file(data / "same-size.txt", "87654321");
  set_mtime(data / "same-size.txt", 1'600'000'100);
  fs::create_hard_link(data / "linked.txt", data / "link-3.txt");
  int64_t inc1 = backup(site, data, "incremental");
  // Incremental 2: renames of a file and a directory, a delete, a removed directory tree, a changed symlink.
  fs::rename(data / "b.txt", data / "b-renamed.txt");
  fs::rename(data / "dir1", data / "dir1-moved");
  fs::remove_all(data / "gone");
  fs::remove(data / "sym");
  fs::create_symlink("b-renamed.txt", data / "sym");
  int64_t inc2 = backup(site, data, "incremental");
  // Incremental 3: a deleted name comes back with new content, a hard link goes, a new pair of links.
  write_file(data / "b.txt", "bravo again");
  fs::remove(data / "link-2.txt");
  write_file(data / "pair-1.txt", "pair");
  fs::create_hard_link(data / "pair-1.txt", data / "pair-2.txt");
  int64_t inc3 = backup(site, data, "incremental");
  const TreeState source = snapshot(data);

  // The real full of the same moment, taken into a second site so it does not join this series.
  TempDir other;
  auto other_site = init_site(other);
  int64_t real_full = backup(other_site.string(), data, "full");

  auto r = run_strongbox({"--site", site, "synthesize", std::to_string(inc3), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto result = one_json(r);
  EXPECT_EQ(result["type"], "synthesize");
  EXPECT_EQ(result["from_sets"], (nlohmann::json{full, inc1, inc2, inc3}));
  int64_t synthetic = result["set_id"];
  EXPECT_GT(result["entries"].get<int64_t>(), 10);

  auto sets = run_strongbox({"--site", site, "sets", "list", "--json"});
  nlohmann::json synthetic_row;
  int64_t inc3_started = 0;
  for (const auto& s : sets.json_lines()) {
    if (s["id"] == synthetic) synthetic_row = s;
    if (s["id"] == inc3) inc3_started = 1;
  }
  ASSERT_TRUE(synthetic_row.is_object());
  EXPECT_EQ(synthetic_row["level"], "full");
  EXPECT_TRUE(synthetic_row["synthetic"].get<bool>());
  EXPECT_TRUE(synthetic_row["base_set_id"].is_null());
  EXPECT_EQ(inc3_started, 1);

  // The synthetic full holds no deletion markers: a full has none.
  auto files = run_strongbox({"--site", site, "files", "list", std::to_string(synthetic), "--json"});
  ASSERT_EQ(files.exit_code, 0) << files.err;
  for (const auto& f : files.json_lines()) EXPECT_NE(f["kind"], "deleted") << f.dump();

  nlohmann::json read;
  TreeState from_synthetic =
      restored(site, {"--set", std::to_string(synthetic)}, dir / "r-synthetic", data, &read);
  EXPECT_EQ(read["sets_read"], (nlohmann::json{synthetic})) << "a synthetic full restores on its own";
  TreeState from_real =
      restored(other_site.string(), {"--set", std::to_string(real_full)}, dir / "r-real", data);
  TreeState from_chain = restored(site, {"--set", std::to_string(inc3)}, dir / "r-chain", data);
  EXPECT_EQ(diff_trees(from_real, from_synthetic), "");
  EXPECT_EQ(diff_trees(source, from_synthetic), "");
  EXPECT_EQ(diff_trees(from_chain, from_synthetic), "");

  // Without the old sets' data the synthetic still restores: it never reads them.
  const std::string store_name =
      query_text(site_path, "SELECT store_name FROM backup_sets WHERE id = " + std::to_string(synthetic));
  ASSERT_FALSE(store_name.empty());
  fs::path moved = dir / "old-sets";
  fs::create_directories(moved);
  size_t moved_count = 0;
  for (const auto& entry : fs::directory_iterator(site_path / "devices" / "disk1" / "sets"))
    if (entry.path().filename().string().find(store_name) == std::string::npos) {
      fs::rename(entry.path(), moved / entry.path().filename());
      ++moved_count;
    }
  EXPECT_GE(moved_count, 4u) << "the four old sets were stored on disk1";
  TreeState alone = restored(site, {"--set", std::to_string(synthetic)}, dir / "r-alone", data);
  EXPECT_EQ(diff_trees(source, alone), "");
  for (const auto& entry : fs::directory_iterator(moved))
    fs::rename(entry.path(), site_path / "devices" / "disk1" / "sets" / entry.path().filename());

  // The next incremental bases on the synthetic full (it stands for inc3's moment and sorts after it).
  write_file(data / "after.txt", "after the synthetic full");
  auto next = run_strongbox({"--site", site, "backup", data.string(), "--json"});
  ASSERT_EQ(next.exit_code, 0) << next.err;
  auto next_json = one_json(next);
  EXPECT_EQ(next_json["level"], "incremental");
  EXPECT_EQ(next_json["base_set_id"], synthetic);
  EXPECT_EQ(next_json["entries_stored"].get<int64_t>(), 2) << "only the new file and its directory";
  TreeState after =
      restored(site, {"--set", std::to_string(next_json["set_id"].get<int64_t>())}, dir / "r-after", data);
  EXPECT_EQ(diff_trees(snapshot(data), after), "");

  // Nothing depends on the old chain any more: it can all expire, and the newest tree still restores.
  {
    auto catalog =
        sbx::catalog::Catalog::open(site_path / "catalog.db", sbx::catalog::Catalog::Mode::open_existing);
    for (int64_t id : {inc3, inc2, inc1, full}) EXPECT_NO_THROW(catalog->expire_set(id)) << "set " << id;
  }
  nlohmann::json latest_read;
  EXPECT_EQ(diff_trees(snapshot(data), restored(site, {}, dir / "r-latest", data, &latest_read)), "");
  EXPECT_EQ(latest_read["sets_read"], (nlohmann::json{synthetic, next_json["set_id"]}));
}

TEST(CopiesSynthesize, HumanOutputAndDefinitionLookup) {
  TempDir dir;
  auto site_path = init_site(dir);
  const std::string site = site_path.string();
  fs::path data = dir / "data";
  write_file(data / "a.txt", "alpha");
  int64_t full = backup(site, data, "full");
  write_file(data / "b.txt", "bravo");
  int64_t inc = backup(site, data, "incremental");
  sql(site_path, "UPDATE backup_sets SET definition = 'nightly'");

  auto r = run_strongbox({"--site", site, "synthesize", "--definition", "nightly"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string expected =
      "(synthetic full of sets " + std::to_string(full) + "-" + std::to_string(inc) + "): ";
  EXPECT_NE(r.out.find(expected), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" entries, "), std::string::npos) << r.out;
  auto sets = run_strongbox({"--site", site, "sets", "list", "--json"}).json_lines();
  ASSERT_EQ(sets.size(), 3u);
  EXPECT_EQ(sets[2]["definition"], "nightly") << "the synthetic full keeps the definition";

  // Its newest set is now a full: nothing is left to assemble.
  auto again = run_strongbox({"--site", site, "synthesize", "--definition", "nightly"});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("is already a full backup"), std::string::npos) << again.err;
}

TEST(CopiesSynthesize, HostileRequests) {
  TempDir dir;
  auto site_path = init_site(dir);
  const std::string site = site_path.string();
  auto none = run_strongbox({"--site", site, "synthesize"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("give a set id or --definition NAME"), std::string::npos) << none.err;
  auto unknown = run_strongbox({"--site", site, "synthesize", "42"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no complete backup set with id 42"), std::string::npos) << unknown.err;
  auto bad = run_strongbox({"--site", site, "synthesize", "x7"});
  EXPECT_EQ(bad.exit_code, 2);
  auto no_def = run_strongbox({"--site", site, "synthesize", "--definition", "nope"});
  EXPECT_EQ(no_def.exit_code, 2);
  EXPECT_NE(no_def.err.find("definition 'nope' has no complete backup set"), std::string::npos) << no_def.err;
  EXPECT_EQ(none.err.find('\n'), none.err.size() - 1) << "one line";
}

TEST(CopiesSynthesize, RefusedForAgentsWhoseSetsAreNotFiles) {
  TempDir dir;
  auto site_path = init_site(dir);
  const std::string site = site_path.string();
  fs::path data = dir / "data";
  write_file(data / "a.txt", "alpha");
  backup(site, data, "full");
  write_file(data / "b.txt", "bravo");
  int64_t inc = backup(site, data, "incremental");
  // As if an image agent had made the chain.
  sql(site_path, "UPDATE backup_sets SET agent = 'test-image-agent'");
  const std::vector<std::string> env = {std::string("STRONGBOX_PLUGIN_PATH=") + SBX_TEST_PLUGIN_DIR};

  auto plugins = run_strongbox({"plugins", "list", "--json"}, env);
  bool loaded = false;
  for (const auto& p : plugins.json_lines()) loaded = loaded || p.value("name", "") == "test-image-agent";
  ASSERT_TRUE(loaded) << plugins.out << plugins.err;

  auto r = run_strongbox({"--site", site, "synthesize", std::to_string(inc)}, env);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(
      r.err.find("synthetic full needs file-based backups: agent 'test-image-agent' does not make them"),
      std::string::npos)
      << r.err;
  // An agent that is not loaded at all cannot be vouched for either.
  auto unloaded = run_strongbox({"--site", site, "synthesize", std::to_string(inc)});
  EXPECT_EQ(unloaded.exit_code, 2);
  EXPECT_NE(unloaded.err.find("agent 'test-image-agent' that made set"), std::string::npos) << unloaded.err;
  EXPECT_EQ(run_strongbox({"--site", site, "sets", "list", "--json"}).json_lines().size(), 2u)
      << "no set was made";
}

TEST(CopiesSynthesize, DamagedSourceFailsAndLeavesNoSet) {
  TempDir dir;
  auto site_path = init_site(dir);
  const std::string site = site_path.string();
  fs::path data = dir / "data";
  // Incompressible, so the damage lands in file data.
  std::string noise(300000, '\0');
  uint32_t state = 777;
  for (char& c : noise) c = static_cast<char>((state = state * 1103515245u + 12345u) >> 24);
  write_file(data / "big.bin", noise);
  int64_t full = backup(site, data, "full");
  write_file(data / "small.txt", "small");
  int64_t inc = backup(site, data, "incremental");
  const std::string store_name =
      query_text(site_path, "SELECT store_name FROM backup_sets WHERE id = " + std::to_string(full));
  bool damaged = false;
  for (const auto& entry : fs::directory_iterator(site_path / "devices" / "disk1" / "sets")) {
    if (entry.path().filename().string().find(store_name) == std::string::npos) continue;
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(entry.file_size() / 2));
    f.write("\xde\xad\xbe\xef\xde\xad\xbe\xef", 8);
    damaged = true;
  }
  ASSERT_TRUE(damaged);

  auto r = run_strongbox({"--site", site, "synthesize", std::to_string(inc)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("synthetic full of set " + std::to_string(inc) + " failed: source set " +
                       std::to_string(full) + " is damaged at /"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("big.bin"), std::string::npos) << r.err;
  EXPECT_EQ(run_strongbox({"--site", site, "sets", "list", "--json"}).json_lines().size(), 2u);
  size_t stored = 0;
  for (const auto& entry : fs::directory_iterator(site_path / "devices" / "disk1" / "sets"))
    stored += entry.is_regular_file() ? 1 : 0;
  EXPECT_EQ(stored, 2u) << "the aborted synthetic full left nothing on the device";
  EXPECT_EQ(query_text(site_path, "SELECT state FROM jobs WHERE kind = 'synthesize'"), "failed");
}
