// Backup windows and catch-up: a job not started inside its window is missed and alerted, never run late.
#include <map>
#include <thread>

#include "server_harness.hpp"

using namespace sbx::test;
using nlohmann::json;

namespace {

json definition(const std::filesystem::path& data, json schedule) {
  return {{"sources", {data.string()}}, {"device", "disk1"}, {"schedules", {schedule}}};
}

bool has_alert_containing(const std::filesystem::path& site, const std::string& text) {
  for (const auto& a : list_alerts(site))
    if (a["message"].get<std::string>().find(text) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(ServerWindow, AJobWaitingForItsDeviceIsMissedWhenTheWindowCloses) {
  TempDir dir;
  auto site = init_site(dir);
  SimulatedClock clock(dir / "clock");
  clock.set("2026-11-22T21:00:00Z");
  auto data = dir / "data";
  write_file(data / "a", "a");
  apply_document(
      dir, site,
      {{"definitions", {{"nightly", definition(data, {{"when", "daily 22:00"}, {"window", "1h"}})}}}},
      {clock.env()});
  auto r = run_strongbox({"--site", site.string(), "devices", "set", "disk1", "--disable"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ServerProcess server(site, write_server_config(dir, site), {clock.env()});
  server.start();

  clock.set("2026-11-22T22:00:30Z");
  ASSERT_TRUE(wait_until([&] {
    auto jobs = list_jobs(site);
    return jobs.size() == 1 && jobs[0]["state"] == "queued";
  })) << server.log();
  ASSERT_TRUE(wait_until([&] {
    auto log = run_strongbox({"--site", site.string(), "jobs", "log", "1"});
    return log.out.find("waiting: device disk1 is disabled") != std::string::npos;
  }));
  clock.set("2026-11-22T22:59:00Z");
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(list_jobs(site)[0]["state"], "queued");  // still inside the window
  clock.set("2026-11-22T23:00:01Z");
  ASSERT_TRUE(wait_until([&] { return list_jobs(site)[0]["state"] == "missed"; })) << server.log();
  auto job = list_jobs(site)[0];
  EXPECT_NE(job["message"].get<std::string>().find("window closed"), std::string::npos) << job.dump();
  EXPECT_NE(job["message"].get<std::string>().find("device disk1 is disabled"), std::string::npos)
      << job.dump();
  EXPECT_TRUE(has_alert_containing(site, "missed"));
  // Re-enabling the device later does not run the missed job.
  run_strongbox({"--site", site.string(), "devices", "set", "disk1", "--enable"});
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  server.stop();
  auto sets = run_strongbox({"--site", site.string(), "--json", "sets", "list"});
  EXPECT_TRUE(sets.json_lines().empty()) << sets.out;
}

TEST(ServerWindow, CatchUpAfterTheServerWasDownFollowsEachScheduleRule) {
  TempDir dir;
  auto site = init_site(dir);
  SimulatedClock clock(dir / "clock");
  clock.set("2026-11-22T12:00:00Z");
  auto data = dir / "data";
  write_file(data / "a", "a");
  json defs = {{"windowed", definition(data, {{"when", "daily 22:00"}, {"window", "1h"}})},
               {"late-ok", definition(data, {{"when", "daily 22:00"}, {"window", "3h"}})},
               {"last", definition(data, {{"when", "hourly"}, {"catch_up", "last"}})},
               {"none", definition(data, {{"when", "daily 22:00"}, {"catch_up", "none"}})}};
  apply_document(dir, site, {{"definitions", defs}}, {clock.env()});
  ServerProcess server(site, write_server_config(dir, site), {clock.env()});
  server.start();
  clock.set("2026-11-22T20:30:00Z");
  ASSERT_TRUE(wait_until([&] { return list_jobs(site).size() >= 1 && queue_idle(site); })) << server.log();
  server.stop();
  const size_t before = list_jobs(site).size();

  // Down from 20:30 to 23:30: the 22:00 firings and the hourly 21:00-23:00 ones passed unseen.
  clock.set("2026-11-22T23:30:00Z");
  server.start();
  ASSERT_TRUE(wait_until([&] { return list_jobs(site).size() >= before + 6 && queue_idle(site); }))
      << server.log();
  server.stop();
  auto jobs = list_jobs(site);
  std::map<std::string, std::vector<std::string>> states;
  for (size_t i = before; i < jobs.size(); ++i)
    states[jobs[i]["definition"]].push_back(jobs[i]["scheduled"].get<std::string>().substr(11, 5) + " " +
                                            jobs[i]["state"].get<std::string>());
  EXPECT_EQ(states["windowed"], std::vector<std::string>{"22:00 missed"});
  EXPECT_EQ(states["late-ok"], std::vector<std::string>{"22:00 succeeded"});
  EXPECT_EQ(states["none"], std::vector<std::string>{"22:00 missed"});
  EXPECT_EQ(states["last"], (std::vector<std::string>{"21:00 missed", "22:00 missed", "23:00 succeeded"}));
  const json* windowed = nullptr;
  for (size_t i = before; i < jobs.size(); ++i)
    if (jobs[i]["definition"] == "windowed") windowed = &jobs[i];
  ASSERT_NE(windowed, nullptr);
  EXPECT_NE((*windowed)["message"].get<std::string>().find("the server was not running"), std::string::npos);
  EXPECT_TRUE(has_alert_containing(site, "windowed"));
}
