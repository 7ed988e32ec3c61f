// kill -9 of the server in the middle of a job: the job process dies with it; at restart the job is failed
// with its cause, its unfinished set is gone, a retry runs, and the job that was still queued runs too.
#include <signal.h>

#include <chrono>
#include <thread>

#include "server_harness.hpp"

using namespace sbx::test;
using nlohmann::json;
namespace fs = std::filesystem;

TEST(ServerRestart, KilledMidJobLosesNoQueuedJobAndFailsTheInterruptedOneWithItsCause) {
  TempDir dir;
  auto site = init_site(dir);
  SimulatedClock clock(dir / "clock");
  clock.set("2026-11-22T21:00:00Z");
  json defs = json::object();
  for (const char* name : {"big", "small"}) {
    auto data = dir / name;
    if (std::string(name) == "big")
      write_random_file(data / "f", 256u << 20);
    else
      write_file(data / "f", "small");
    defs[name] = {{"sources", {data.string()}},
                  {"device", "disk1"},
                  {"priority", std::string(name) == "big" ? 90 : 10},
                  {"retries", {{"attempts", 2}, {"backoff", "10m"}}},
                  {"schedules", {{{"when", "daily 22:00"}}}}};
  }
  apply_document(dir, site, {{"definitions", defs}}, {clock.env()});
  ServerProcess server(site, write_server_config(dir, site), {clock.env()});
  server.start();
  clock.set("2026-11-22T22:00:30Z");
  // disk1 runs one job at a time: "big" (priority 90) runs, "small" waits in the queue. Its process is
  // stopped the moment it exists, so the kill lands while it runs whatever the machine's speed (a pause
  // through the server waits for the server's next tick, and on a fast machine the job may be done by then).
  const pid_t job_process = server.stop_job_process();
  ASSERT_GT(job_process, 0) << server.log();
  // Let it run until part of its set is on the device, then hold it there: the kill lands mid-write.
  auto partial_written = [&] {
    std::error_code ec;
    for (fs::recursive_directory_iterator it(site / "devices", ec), end; !ec && it != end; it.increment(ec))
      if (it->path().string().find(".partial") != std::string::npos && it->is_regular_file(ec) &&
          it->file_size(ec) > (1u << 20))
        return true;
    return false;
  };
  ::kill(-job_process, SIGCONT);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!partial_written() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  ::kill(-job_process, SIGSTOP);
  ASSERT_TRUE(partial_written()) << "the job wrote nothing within a minute\n" << server.log();
  int64_t big = 0;
  ASSERT_TRUE(wait_until([&] {
    for (const auto& j : list_jobs(site))
      if (j["definition"] == "big" && j["state"] == "running" && j["pid"] == job_process) big = j["id"];
    return big != 0;
  })) << server.log();
  server.kill9();

  // Nothing runs any more: the job process died with its server.
  auto jobs = list_jobs(site);
  for (const auto& j : jobs) {
    if (j["definition"] == "small") {
      EXPECT_EQ(j["state"], "queued");
    }
    if (j["id"] == big) {
      EXPECT_EQ(j["state"], "running");
    }
  }

  server.start();
  ASSERT_TRUE(wait_until([&] {
    auto show = run_strongbox({"--site", site.string(), "--json", "jobs", "show", std::to_string(big)});
    return show.json_lines().size() == 1 && show.json_lines()[0]["state"] == "failed";
  })) << server.log();
  auto failed =
      run_strongbox({"--site", site.string(), "--json", "jobs", "show", std::to_string(big)}).json_lines()[0];
  EXPECT_NE(failed["message"].get<std::string>().find("interrupted: the server stopped while it ran"),
            std::string::npos)
      << failed.dump();
  ASSERT_TRUE(wait_until([&] {
    for (const auto& j : list_jobs(site))
      if (j["definition"] == "small" && j["state"] == "succeeded") return true;
    return false;
  })) << server.log();
  // The retry waits for its back-off, then runs.
  clock.set("2026-11-22T22:11:00Z");
  ASSERT_TRUE(wait_until([&] {
    for (const auto& j : list_jobs(site))
      if (j["definition"] == "big" && j["state"] == "succeeded" && j["retry_of"] == big) return true;
    return false;
  })) << server.log();
  server.stop();

  auto verify = run_strongbox({"--site", site.string(), "verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.out << verify.err;
  auto sets = run_strongbox({"--site", site.string(), "--json", "sets", "list"}).json_lines();
  EXPECT_EQ(sets.size(), 2u);
  for (const auto& s : sets) EXPECT_EQ(s["state"], "complete");
  for (const auto& entry : std::filesystem::recursive_directory_iterator(site / "devices"))
    EXPECT_EQ(entry.path().string().find(".partial"), std::string::npos) << entry.path();
}
