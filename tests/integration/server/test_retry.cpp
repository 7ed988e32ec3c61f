// Retries with back-off: a failing job is retried after 10m, then 20m, then gives up with an alert.
#include <thread>

#include "server_harness.hpp"

using namespace sbx::test;
using nlohmann::json;

TEST(ServerRetry, AFailingJobIsRetriedWithDoublingBackoffThenAlerted) {
  TempDir dir;
  auto site = init_site(dir);
  SimulatedClock clock(dir / "clock");
  clock.set("2026-11-22T21:00:00Z");
  auto data = dir / "data";
  write_file(data / "a", "a");
  apply_document(dir, site,
                 {{"definitions",
                   {{"docs",
                     {{"sources", {data.string()}},
                      {"device", "disk1"},
                      {"retries", {{"attempts", 3}, {"backoff", "10m"}}},
                      {"schedules", {{{"when", "daily 22:00"}}}}}}}}},
                 {clock.env()});
  std::filesystem::rename(data, dir / "data.gone");  // the source vanished: every attempt fails
  ServerProcess server(site, write_server_config(dir, site), {clock.env()});
  server.start();
  clock.set("2026-11-22T22:00:30Z");
  ASSERT_TRUE(wait_until([&] {
    auto jobs = list_jobs(site);
    return jobs.size() == 2 && jobs[0]["state"] == "failed" && jobs[1]["state"] == "queued";
  })) << server.log();
  auto jobs = list_jobs(site);
  EXPECT_NE(jobs[0]["message"].get<std::string>().find("does not exist"), std::string::npos)
      << jobs[0].dump();
  EXPECT_EQ(jobs[1]["attempt"], 2);
  EXPECT_EQ(jobs[1]["retry_of"], jobs[0]["id"]);
  EXPECT_EQ(jobs[1]["not_before"], "2026-11-22T22:10:30Z");
  // Not before its back-off ...
  clock.set("2026-11-22T22:09:00Z");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  EXPECT_EQ(list_jobs(site)[1]["state"], "queued");
  // ... then it runs, fails, and the third attempt waits twice as long.
  clock.set("2026-11-22T22:11:00Z");
  ASSERT_TRUE(wait_until([&] {
    auto j = list_jobs(site);
    return j.size() == 3 && j[1]["state"] == "failed";
  })) << server.log();
  EXPECT_EQ(list_jobs(site)[2]["not_before"], "2026-11-22T22:31:00Z");
  clock.set("2026-11-22T22:31:30Z");
  ASSERT_TRUE(wait_until([&] { return list_jobs(site)[2]["state"] == "failed"; })) << server.log();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(list_jobs(site).size(), 3u);  // attempts exhausted
  server.stop();
  size_t failure_alerts = 0;
  for (const auto& a : list_alerts(site))
    failure_alerts += a["message"].get<std::string>().find("failed") != std::string::npos ? 1 : 0;
  EXPECT_GE(failure_alerts, 1u);
}
