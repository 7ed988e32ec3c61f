// Duplicate: a copy on a second disk device restores like its original; once the original expires, restore by
// its id, by --as-of and of the incrementals on it still work from the copy; a damaged source fails the copy
// cleanly and leaves no set behind.
#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "harness.hpp"

namespace fs = std::filesystem;
using namespace sbx::test;

namespace {

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

nlohmann::json one_json(const RunResult& r) {
  auto lines = r.json_lines();
  EXPECT_EQ(lines.size(), 1u) << r.out;
  return lines.empty() ? nlohmann::json::object() : lines[0];
}

int64_t backup(const std::string& site, const fs::path& data, const std::string& level) {
  auto r = run_strongbox({"--site", site, "backup", data.string(), "--level", level, "--json"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
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

nlohmann::json set_row(const std::string& site, int64_t id) {
  for (const auto& s : run_strongbox({"--site", site, "sets", "list", "--json"}).json_lines())
    if (s["id"] == id) return s;
  return nullptr;
}

// The original expires as retention would expire it: the catalog forgets it and its data goes.
void expire_by_hand(const fs::path& site, int64_t set_id) {
  const std::string store_name =
      query_text(site, "SELECT store_name FROM backup_sets WHERE id = " + std::to_string(set_id));
  ASSERT_FALSE(store_name.empty());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((site / "catalog.db").c_str(), &db), SQLITE_OK);
  std::string statement =
      "DELETE FROM file_versions WHERE set_id = " + std::to_string(set_id) +
      "; UPDATE backup_sets SET state = 'expired', expired_ns = 1 WHERE id = " + std::to_string(set_id);
  ASSERT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  for (const auto& entry : fs::directory_iterator(site / "devices" / "disk1" / "sets"))
    if (entry.path().filename().string().find(store_name) != std::string::npos) fs::remove_all(entry.path());
}

class CopiesDuplicate : public ::testing::Test {
 protected:
  TempDir dir;
  fs::path site_path = init_site(dir);
  std::string site = site_path.string();
  fs::path data = dir / "data";

  void SetUp() override {
    auto r = run_strongbox(
        {"--site", site, "devices", "add", "disk2", "--type", "disk", "--path", (dir / "disk2").string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    write_file(data / "a.txt", "alpha");
    write_file(data / "dir" / "b.txt", std::string(100000, 'b'));
    fs::create_symlink("a.txt", data / "sym");
  }
};

TEST_F(CopiesDuplicate, CopyRestoresLikeTheOriginalAndOutlivesIt) {
  int64_t full = backup(site, data, "full");
  const TreeState at_full = snapshot(data);
  write_file(data / "c.txt", "charlie");
  fs::remove(data / "a.txt");
  int64_t inc = backup(site, data, "incremental");
  const TreeState at_inc = snapshot(data);

  auto r = run_strongbox({"--site", site, "duplicate", std::to_string(full), "--to", "disk2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto result = one_json(r);
  EXPECT_EQ(result["type"], "duplicate");
  EXPECT_EQ(result["source_set_id"], full);
  EXPECT_EQ(result["device"], "disk2");
  int64_t copy = result["set_id"];
  auto row = set_row(site, copy);
  EXPECT_EQ(row["copy_of"], full);
  EXPECT_EQ(row["level"], "full");
  EXPECT_EQ(row["state"], "complete");
  EXPECT_EQ(row["started"], set_row(site, full)["started"]) << "a copy stands for its original's moment";

  // The incremental's copy keeps its deletion marker and names the original as its base.
  auto r2 = run_strongbox({"--site", site, "duplicate", std::to_string(inc), "--to", "disk2", "--json"});
  ASSERT_EQ(r2.exit_code, 0) << r2.err;
  int64_t inc_copy = one_json(r2)["set_id"];
  EXPECT_EQ(set_row(site, inc_copy)["base_set_id"], full);
  bool marker = false;
  for (const auto& f :
       run_strongbox({"--site", site, "files", "list", std::to_string(inc_copy), "--json"}).json_lines())
    marker = marker || (f["kind"] == "deleted" && f["path"].get<std::string>().ends_with("/a.txt"));
  EXPECT_TRUE(marker) << "deletion markers are copied as they are";

  // Restore by the copy's id equals the original.
  EXPECT_EQ(diff_trees(restored(site, {"--set", std::to_string(full)}, dir / "r-orig", data),
                       restored(site, {"--set", std::to_string(copy)}, dir / "r-copy", data)),
            "");
  EXPECT_EQ(diff_trees(at_full, snapshot(dir / "r-copy" / fs::relative(data, "/"))), "");

  // The original full goes; everything still restores through the copy.
  expire_by_hand(site_path, full);
  nlohmann::json read;
  EXPECT_EQ(
      diff_trees(at_full, restored(site, {"--set", std::to_string(full)}, dir / "r-expired", data, &read)),
      "");
  EXPECT_EQ(read["sets_read"], (nlohmann::json{copy}));
  EXPECT_EQ(diff_trees(at_inc, restored(site, {"--set", std::to_string(inc)}, dir / "r-inc", data, &read)),
            "");
  EXPECT_EQ(read["sets_read"], (nlohmann::json{copy, inc})) << "the incremental's base resolves to the copy";
  EXPECT_EQ(diff_trees(at_inc, restored(site, {}, dir / "r-latest", data)), "");
  EXPECT_EQ(
      diff_trees(at_full, restored(site, {"--as-of", std::to_string(full)}, dir / "r-as-of", data, &read)),
      "");
  EXPECT_EQ(read["sets_read"], (nlohmann::json{copy}));

  // A new incremental still has a base: the copy stands for the expired full.
  write_file(data / "d.txt", "delta");
  auto next = run_strongbox({"--site", site, "backup", data.string(), "--json"});
  ASSERT_EQ(next.exit_code, 0) << next.err;
  EXPECT_EQ(one_json(next)["level"], "incremental");
}

TEST_F(CopiesDuplicate, HostileRequests) {
  int64_t full = backup(site, data, "full");
  auto same = run_strongbox({"--site", site, "duplicate", std::to_string(full), "--to", "disk1"});
  EXPECT_EQ(same.exit_code, 2);
  EXPECT_NE(same.err.find("already lives on device 'disk1'"), std::string::npos) << same.err;
  auto nodev = run_strongbox({"--site", site, "duplicate", std::to_string(full), "--to", "tape9"});
  EXPECT_EQ(nodev.exit_code, 2);
  EXPECT_NE(nodev.err.find("no device named 'tape9'"), std::string::npos) << nodev.err;
  auto noset = run_strongbox({"--site", site, "duplicate", "99", "--to", "disk2"});
  EXPECT_EQ(noset.exit_code, 2);
  EXPECT_NE(noset.err.find("no complete backup set with id 99"), std::string::npos) << noset.err;
  auto noto = run_strongbox({"--site", site, "duplicate", std::to_string(full)});
  EXPECT_EQ(noto.exit_code, 2);

  // Copying a copy makes another copy of the original, in human output too.
  auto first = run_strongbox({"--site", site, "duplicate", std::to_string(full), "--to", "disk2", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  int64_t copy = one_json(first)["set_id"];
  auto r = run_strongbox(
      {"--site", site, "devices", "add", "disk3", "--type", "disk", "--path", (dir / "disk3").string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto second = run_strongbox({"--site", site, "duplicate", std::to_string(copy), "--to", "disk3"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("(copy of set " + std::to_string(copy) + " on disk3): "), std::string::npos)
      << second.out;
  auto sets = run_strongbox({"--site", site, "sets", "list", "--json"}).json_lines();
  ASSERT_EQ(sets.size(), 3u);
  EXPECT_EQ(sets[2]["copy_of"], full);
}

TEST_F(CopiesDuplicate, DamagedSourceFailsCleanly) {
  // Incompressible, so the damage below lands in file data rather than in a few bytes of compressed zeros.
  std::string noise(300000, '\0');
  uint32_t state = 12345;
  for (char& c : noise) c = static_cast<char>((state = state * 1103515245u + 12345u) >> 24);
  write_file(data / "big.bin", noise);
  int64_t full = backup(site, data, "full");
  // Flip bytes in the middle of the stored set.
  const std::string store_name =
      query_text(site_path, "SELECT store_name FROM backup_sets WHERE id = " + std::to_string(full));
  bool damaged = false;
  for (const auto& entry : fs::recursive_directory_iterator(site_path / "devices" / "disk1")) {
    if (!entry.is_regular_file() || entry.path().filename().string().find(store_name) == std::string::npos)
      continue;
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(entry.file_size() / 2));
    f.write("\xde\xad\xbe\xef\xde\xad\xbe\xef", 8);
    damaged = true;
  }
  ASSERT_TRUE(damaged) << "found no stored data of set " << full;

  auto r = run_strongbox({"--site", site, "duplicate", std::to_string(full), "--to", "disk2"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("copy of set " + std::to_string(full) + " to device disk2 failed: source set " +
                       std::to_string(full) + " is damaged at /"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << "one line: " << r.err;
  auto sets = run_strongbox({"--site", site, "sets", "list", "--json"}).json_lines();
  EXPECT_EQ(sets.size(), 1u) << "no copy set is left in the catalog";
  size_t stored = 0;
  if (fs::exists(dir / "disk2" / "sets"))
    for (const auto& entry : fs::recursive_directory_iterator(dir / "disk2" / "sets"))
      stored += entry.is_regular_file() ? 1 : 0;
  EXPECT_EQ(stored, 0u) << "nor on the target device";
  EXPECT_EQ(query_text(site_path, "SELECT state FROM jobs WHERE kind = 'duplicate'"), "failed");
}

}  // namespace
