// Pause, resume and cancel through the server, for queued and running jobs.
#include <thread>

#include "server_harness.hpp"

using namespace sbx::test;
using nlohmann::json;

namespace {

json show(const std::filesystem::path& site, int64_t id) {
  auto lines =
      run_strongbox({"--site", site.string(), "--json", "jobs", "show", std::to_string(id)}).json_lines();
  return lines.empty() ? json() : lines[0];
}

struct Fixture {
  TempDir dir;
  std::filesystem::path site = init_site(dir);
  SimulatedClock clock{dir / "clock"};
  std::unique_ptr<ServerProcess> server;

  void start(size_t big_bytes) {
    clock.set("2026-11-22T21:00:00Z");
    auto data = dir / "data";
    write_random_file(data / "big", big_bytes);
    apply_document(dir, site,
                   {{"definitions",
                     {{"docs",
                       {{"sources", {data.string()}},
                        {"device", "disk1"},
                        {"retries", {{"attempts", 1}}},
                        {"schedules", {{{"when", "daily 22:00"}}}}}}}}},
                   {clock.env()});
    server = std::make_unique<ServerProcess>(site, write_server_config(dir, site),
                                             std::vector<std::string>{clock.env()});
    server->start();
  }
  // The running job's id. Its process is held (SIGSTOP) the moment it starts, so a control sent now finds
  // it running whatever the machine's speed; the server's own signals (SIGSTOP, SIGCONT, SIGTERM) then
  // decide what it does.
  int64_t running_job() {
    EXPECT_GT(server->stop_job_process(), 0) << server->log();
    int64_t id = 0;
    EXPECT_TRUE(wait_until([&] {
      for (const auto& j : list_jobs(site))
        if (j["state"] == "running") id = j["id"];
      return id != 0;
    })) << server->log();
    return id;
  }
};

}  // namespace

TEST(ServerControl, PauseHoldsARunningJobAndResumeLetsItFinish) {
  Fixture f;
  f.start(256u << 20);
  f.clock.set("2026-11-22T22:00:30Z");
  int64_t id = f.running_job();
  ASSERT_EQ(run_strongbox({"--site", f.site.string(), "jobs", "pause", std::to_string(id)}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return show(f.site, id)["paused"] == true; })) << f.server->log();
  // Paused means stopped: the job makes no progress while it is held.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(show(f.site, id)["state"], "running");
  auto again = run_strongbox({"--site", f.site.string(), "jobs", "pause", std::to_string(id)});
  EXPECT_EQ(again.exit_code, 2);
  EXPECT_NE(again.err.find("already paused"), std::string::npos) << again.err;
  ASSERT_EQ(run_strongbox({"--site", f.site.string(), "jobs", "resume", std::to_string(id)}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return show(f.site, id)["state"] == "succeeded"; }, std::chrono::seconds(120)))
      << f.server->log();
  auto log = run_strongbox({"--site", f.site.string(), "jobs", "log", std::to_string(id)}).out;
  EXPECT_NE(log.find("paused"), std::string::npos) << log;
  EXPECT_NE(log.find("resumed"), std::string::npos) << log;
  f.server->stop();
}

TEST(ServerControl, CancelStopsARunningJobAndLeavesNoSet) {
  Fixture f;
  f.start(256u << 20);
  f.clock.set("2026-11-22T22:00:30Z");
  int64_t id = f.running_job();
  ASSERT_EQ(run_strongbox({"--site", f.site.string(), "jobs", "cancel", std::to_string(id)}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return show(f.site, id)["state"] == "cancelled"; })) << f.server->log();
  f.server->stop();
  EXPECT_TRUE(run_strongbox({"--site", f.site.string(), "--json", "sets", "list"}).json_lines().empty());
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(f.site / "devices" / "disk1" / "sets"))
    EXPECT_FALSE(entry.is_regular_file()) << "left behind: " << entry.path();
  auto finished = run_strongbox({"--site", f.site.string(), "jobs", "cancel", std::to_string(id)});
  EXPECT_EQ(finished.exit_code, 2);
  EXPECT_NE(finished.err.find("already finished"), std::string::npos) << finished.err;
}

TEST(ServerControl, QueuedJobsPauseResumeAndCancelWithoutAServer) {
  Fixture f;
  f.clock.set("2026-11-22T21:00:00Z");
  auto data = f.dir / "data";
  write_file(data / "a", "a");
  apply_document(
      f.dir, f.site,
      {{"definitions",
        {{"docs", {{"sources", {data.string()}}, {"device", "disk1"}, {"schedules", json::array()}}}}}});
  auto start = [&] {
    auto r = run_strongbox({"--site", f.site.string(), "--json", "jobs", "start", "docs"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.json_lines().at(0)["job"].get<int64_t>();
  };
  int64_t a = start(), b = start();
  ASSERT_EQ(run_strongbox({"--site", f.site.string(), "jobs", "pause", std::to_string(a)}).exit_code, 0);
  EXPECT_EQ(show(f.site, a)["paused"], true);
  ASSERT_EQ(run_strongbox({"--site", f.site.string(), "jobs", "cancel", std::to_string(b)}).exit_code, 0);
  EXPECT_EQ(show(f.site, b)["state"], "cancelled");
  // A server started now leaves the paused job alone until it is resumed.
  f.server = std::make_unique<ServerProcess>(f.site, write_server_config(f.dir, f.site),
                                             std::vector<std::string>{f.clock.env()});
  f.server->start();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  EXPECT_EQ(show(f.site, a)["state"], "queued");
  ASSERT_EQ(run_strongbox({"--site", f.site.string(), "jobs", "resume", std::to_string(a)}).exit_code, 0);
  ASSERT_TRUE(wait_until([&] { return show(f.site, a)["state"] == "succeeded"; })) << f.server->log();
  f.server->stop();
  auto bad = run_strongbox({"--site", f.site.string(), "jobs", "cancel", "99"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("no job with id 99"), std::string::npos);
  EXPECT_EQ(run_strongbox({"--site", f.site.string(), "jobs", "cancel", "x1"}).exit_code, 2);
}
