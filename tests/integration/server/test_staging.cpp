// Staging on one server: a backup to disk1 is copied to disk2 after its delay, inside its window; the
// original expires once the copy exists (expire-after-copy) and restores then come from the copy.
#include <thread>

#include "server_harness.hpp"

using namespace sbx::test;
using nlohmann::json;

namespace {

json set_by_id(const std::filesystem::path& site, int64_t id) {
  for (const auto& s : run_strongbox({"--site", site.string(), "--json", "sets", "list"}).json_lines())
    if (s["id"] == id) return s;
  return json();
}

}  // namespace

TEST(ServerStaging, CopyAfterDelayInsideItsWindowThenExpireTheOriginalAndRestoreFromTheCopy) {
  TempDir dir;
  auto site = init_site(dir);
  SimulatedClock clock(dir / "clock");
  clock.set("2026-11-22T21:00:00Z");
  auto add = run_strongbox({"--site", site.string(), "devices", "add", "disk2", "--type", "disk", "--path",
                            (dir / "offsite").string()});
  ASSERT_EQ(add.exit_code, 0) << add.err;
  auto data = dir / "data";
  write_file(data / "report.txt", "quarterly numbers");
  write_random_file(data / "blob", 300000);
  json def = {{"sources", {data.string()}},
              {"device", "disk1"},
              {"expire_after_copy", true},
              {"stages",
               {{{"name", "offsite"},
                 {"to", "disk2"},
                 {"after", "4h"},
                 {"window", "03:00-05:00"},
                 {"retention", {{"days", 30}}}}}},
              {"schedules", {{{"when", "daily 22:00"}, {"method", "full"}}}}};
  apply_document(dir, site, {{"definitions", {{"docs", def}}}}, {clock.env()});
  ServerProcess server(site, write_server_config(dir, site, {{"expire_every", "1h"}}), {clock.env()});
  server.start();

  clock.set("2026-11-22T22:00:30Z");
  int64_t original = 0;
  ASSERT_TRUE(wait_until([&] {
    for (const auto& j : list_jobs(site))
      if (j["kind"] == "backup" && j["state"] == "succeeded") original = j["set_id"];
    return original != 0;
  })) << server.log();

  // Four hours later the window (03:00-05:00) is not open yet: no copy.
  clock.set("2026-11-23T02:00:30Z");
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  for (const auto& j : list_jobs(site)) EXPECT_NE(j["kind"], "duplicate") << j.dump();

  clock.set("2026-11-23T03:00:30Z");
  int64_t copy = 0;
  ASSERT_TRUE(wait_until([&] {
    for (const auto& j : list_jobs(site))
      if (j["kind"] == "duplicate" && j["state"] == "succeeded") copy = j["set_id"];
    return copy != 0;
  })) << server.log();
  json copy_set = set_by_id(site, copy);
  EXPECT_EQ(copy_set["copy_of"], original);
  // The next retention run expires the original: every copy from it exists.
  clock.set("2026-11-23T04:00:30Z");
  ASSERT_TRUE(wait_until([&] { return set_by_id(site, original)["state"] == "expired"; })) << server.log();
  server.stop();
  EXPECT_EQ(set_by_id(site, copy)["state"], "complete");

  // Restores by the original's id and by time come from the surviving copy.
  auto by_id = dir / "by-id";
  auto r = run_strongbox(
      {"--site", site.string(), "restore", "--set", std::to_string(original), "--to", by_id.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(diff_trees(snapshot(data), snapshot(by_id / data.relative_path())), "");
  auto by_time = dir / "by-time";
  r = run_strongbox(
      {"--site", site.string(), "restore", "--as-of", "2026-11-23T00:00:00Z", "--to", by_time.string()},
      {clock.env()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(diff_trees(snapshot(data), snapshot(by_time / data.relative_path())), "");
  auto verify = run_strongbox({"--site", site.string(), "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
}
