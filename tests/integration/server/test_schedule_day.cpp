// A simulated day under the server: every firing of two schedules runs once, at its time, with its method.
#include <set>
#include <thread>

#include "server_harness.hpp"

using namespace sbx::test;
using nlohmann::json;

namespace {

size_t finished(const std::vector<json>& jobs) {
  size_t n = 0;
  for (const auto& j : jobs) n += j["finished"].is_null() ? 0 : 1;
  return n;
}

}  // namespace

TEST(ServerSchedule, ADayOfSchedulesRunsEveryFiringOnceWithItsMethod) {
  TempDir dir;
  auto site = init_site(dir);
  SimulatedClock clock(dir / "clock");
  clock.set("2026-11-22T00:00:00Z");
  auto data = dir / "data";
  write_file(data / "a.txt", "first");
  json document = {{"definitions",
                    {{"docs",
                      {{"sources", {data.string()}},
                       {"device", "disk1"},
                       {"schedules",
                        {{{"when", "every 4 hours"}, {"method", "incremental"}},
                         {{"when", "daily 22:00"}, {"method", "full"}}}}}}}}};
  apply_document(dir, site, document, {clock.env()});
  ServerProcess server(site, write_server_config(dir, site), {clock.env()});
  server.start();

  std::set<std::string> expected_times;
  size_t expected = 0;
  for (int hour = 1; hour <= 24; ++hour) {
    write_file(data / ("hour-" + std::to_string(hour)), std::to_string(hour));
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "2026-11-%02dT%02d:00:30Z", hour == 24 ? 23 : 22, hour % 24);
    clock.set(stamp);
    if (hour % 4 == 0) ++expected;
    if (hour == 22) ++expected;
    ASSERT_TRUE(wait_until([&] { return finished(list_jobs(site)) == expected; })) << "hour " << hour << "\n"
                                                                                   << server.log();
  }
  server.stop();

  auto jobs = list_jobs(site);
  ASSERT_EQ(jobs.size(), 7u) << server.log();
  std::multiset<std::string> seen;
  for (const auto& j : jobs) {
    EXPECT_EQ(j["state"], "succeeded") << j.dump();
    EXPECT_EQ(j["kind"], "backup");
    EXPECT_EQ(j["definition"], "docs");
    seen.insert(j["scheduled"].get<std::string>() + " " + j["details"]["level"].get<std::string>());
  }
  // The first incremental has no full to build on and becomes one (the job's details say what was taken).
  std::multiset<std::string> want = {"2026-11-22T04:00:00Z full",        "2026-11-22T08:00:00Z incremental",
                                     "2026-11-22T12:00:00Z incremental", "2026-11-22T16:00:00Z incremental",
                                     "2026-11-22T20:00:00Z incremental", "2026-11-22T22:00:00Z full",
                                     "2026-11-23T00:00:00Z incremental"};
  EXPECT_EQ(seen, want);

  // What the day produced restores to the tree as it is now.
  auto restored = dir / "restored";
  auto r = run_strongbox({"--site", site.string(), "restore", "--to", restored.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(diff_trees(snapshot(data), snapshot(restored / data.relative_path())), "");
}

TEST(ServerSchedule, ExcludedDatesAreSkipped) {
  TempDir dir;
  auto site = init_site(dir);
  SimulatedClock clock(dir / "clock");
  clock.set("2026-12-23T12:00:00Z");
  auto data = dir / "data";
  write_file(data / "a.txt", "x");
  json document = {
      {"definitions",
       {{"docs",
         {{"sources", {data.string()}},
          {"device", "disk1"},
          {"schedules", {{{"when", "daily 22:00"}, {"exclude_dates", {"2026-12-24..2026-12-25"}}}}}}}}}};
  apply_document(dir, site, document, {clock.env()});
  ServerProcess server(site, write_server_config(dir, site), {clock.env()});
  server.start();
  for (const char* t :
       {"2026-12-23T22:00:30Z", "2026-12-24T22:00:30Z", "2026-12-25T22:00:30Z", "2026-12-26T22:00:30Z"}) {
    clock.set(t);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    ASSERT_TRUE(wait_until([&] { return queue_idle(site); }));
  }
  ASSERT_TRUE(wait_until([&] { return finished(list_jobs(site)) == 2; })) << server.log();
  server.stop();
  auto jobs = list_jobs(site);
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_EQ(jobs[0]["scheduled"], "2026-12-23T22:00:00Z");
  EXPECT_EQ(jobs[1]["scheduled"], "2026-12-26T22:00:00Z");
}
