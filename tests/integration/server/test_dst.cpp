// Daylight-saving changes under the server (Europe/Berlin): a fixed time of day fires once, after the gap
// when it does not exist and at the first occurrence when it exists twice; an hourly schedule follows the
// real clock.
#include <set>
#include <thread>

#include "server_harness.hpp"

using namespace sbx::test;
using nlohmann::json;

namespace {

std::multiset<std::string> run_day(const std::string& start, const std::vector<std::string>& steps) {
  TempDir dir;
  auto site = init_site(dir);
  SimulatedClock clock(dir / "clock");
  clock.set(start);
  json verify_all = {{"kind", "verify"}, {"all", true}, {"time_zone", "Europe/Berlin"}};
  json daily = verify_all, hourly = verify_all;
  daily["schedules"] = {{{"when", "daily 02:30"}}};
  hourly["schedules"] = {{{"when", "hourly :30"}}};
  apply_document(dir, site, {{"definitions", {{"daily", daily}, {"hourly", hourly}}}}, {clock.env()});
  ServerProcess server(site, write_server_config(dir, site), {clock.env()});
  server.start();
  for (const auto& t : steps) {
    clock.set(t);
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(wait_until([&] { return queue_idle(site); })) << server.log();
  }
  server.stop();
  std::multiset<std::string> fired;
  for (const auto& j : list_jobs(site)) {
    EXPECT_EQ(j["state"], "succeeded") << j.dump();
    fired.insert(j["definition"].get<std::string>() + " " + j["scheduled"].get<std::string>());
  }
  return fired;
}

}  // namespace

TEST(ServerDst, SpringForwardFixedTimeRunsAfterTheGapAndHourlySkipsIt) {
  // 2026-03-29: 02:00 CET jumps to 03:00 CEST (01:00Z). Local 02:30 does not exist.
  auto fired =
      run_day("2026-03-28T23:00:00Z", {"2026-03-28T23:30:30Z", "2026-03-29T00:30:30Z", "2026-03-29T01:00:30Z",
                                       "2026-03-29T01:30:30Z", "2026-03-29T02:30:30Z"});
  std::multiset<std::string> want = {"daily 2026-03-29T01:00:00Z",   // 03:00 CEST, the end of the gap
                                     "hourly 2026-03-28T23:30:00Z",  // 00:30 CET
                                     "hourly 2026-03-29T00:30:00Z",  // 01:30 CET
                                     "hourly 2026-03-29T01:30:00Z",  // 03:30 CEST (02:30 never happened)
                                     "hourly 2026-03-29T02:30:00Z"};
  EXPECT_EQ(fired, want);
}

TEST(ServerDst, FallBackFixedTimeRunsOnceAndHourlyRunsTwiceInTheRepeatedHour) {
  // 2026-10-25: 03:00 CEST falls back to 02:00 CET (01:00Z). Local 02:30 happens twice.
  auto fired = run_day("2026-10-24T23:00:00Z", {"2026-10-24T23:30:30Z", "2026-10-25T00:30:30Z",
                                                "2026-10-25T01:30:30Z", "2026-10-25T02:30:30Z"});
  std::multiset<std::string> want = {"daily 2026-10-25T00:30:00Z",   // the first 02:30 (CEST)
                                     "hourly 2026-10-24T23:30:00Z",  // 01:30 CEST
                                     "hourly 2026-10-25T00:30:00Z",  // 02:30 CEST
                                     "hourly 2026-10-25T01:30:00Z",  // 02:30 CET, the repeated hour
                                     "hourly 2026-10-25T02:30:00Z"};
  EXPECT_EQ(fired, want);
}
