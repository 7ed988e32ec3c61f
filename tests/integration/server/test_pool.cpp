// Device pools under the server: an offline member is passed over, a busy member hands the next job to the
// next member, and the job never waits while a member is free.
#include <set>
#include <thread>

#include "server_harness.hpp"

using namespace sbx::test;
using nlohmann::json;

namespace {

void add_disk(const std::filesystem::path& site, const std::string& name, const std::filesystem::path& path) {
  auto r = run_strongbox(
      {"--site", site.string(), "devices", "add", name, "--type", "disk", "--path", path.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
}

}  // namespace

TEST(ServerPool, AnOfflineMemberIsPassedOverAndAlerted) {
  TempDir dir;
  auto site = init_site(dir);
  SimulatedClock clock(dir / "clock");
  clock.set("2026-11-22T21:00:00Z");
  std::filesystem::create_directories(dir / "mount-a");
  std::filesystem::create_directories(dir / "mount-b");
  add_disk(site, "disk-a", dir / "mount-a" / "store");
  add_disk(site, "disk-b", dir / "mount-b" / "store");
  auto data = dir / "data";
  write_file(data / "f", "pool data");
  json document = {
      {"pools", {{"fast", {{"type", "disk"}, {"devices", {"disk-a", "disk-b"}}}}}},
      {"definitions",
       {{"docs",
         {{"sources", {data.string()}}, {"pool", "fast"}, {"schedules", {{{"when", "daily 22:00"}}}}}}}}};
  apply_document(dir, site, document, {clock.env()});
  // disk-a's file system goes away, as an unmounted USB disk would.
  std::filesystem::rename(dir / "mount-a", dir / "mount-a.gone");
  ServerProcess server(site, write_server_config(dir, site), {clock.env()});
  server.start();
  clock.set("2026-11-22T22:00:30Z");
  ASSERT_TRUE(wait_until([&] {
    auto jobs = list_jobs(site);
    return jobs.size() == 1 && jobs[0]["state"] == "succeeded";
  })) << server.log();
  auto job = run_strongbox({"--site", site.string(), "jobs", "show", "1"});
  EXPECT_NE(job.out.find("device       disk-b"), std::string::npos) << job.out;
  bool alerted = false;
  for (const auto& a : list_alerts(site))
    alerted |= a["message"].get<std::string>().find("device disk-a is offline") != std::string::npos;
  EXPECT_TRUE(alerted);
  server.stop();
}

TEST(ServerPool, JobsFiringTogetherSpreadOverFreeMembers) {
  TempDir dir;
  auto site = init_site(dir);
  SimulatedClock clock(dir / "clock");
  clock.set("2026-11-22T21:00:00Z");
  add_disk(site, "disk-a", dir / "store-a");
  add_disk(site, "disk-b", dir / "store-b");
  json defs = json::object();
  for (const char* name : {"one", "two"}) {
    auto data = dir / name;
    write_file(data / "f", std::string(2 << 20, name[0]));
    defs[name] = {{"sources", {data.string()}}, {"pool", "fast"}, {"schedules", {{{"when", "daily 22:00"}}}}};
  }
  json document = {{"pools", {{"fast", {{"type", "disk"}, {"devices", {"disk-a", "disk-b"}}}}}},
                   {"definitions", defs}};
  apply_document(dir, site, document, {clock.env()});
  ServerProcess server(site, write_server_config(dir, site), {clock.env()});
  server.start();
  clock.set("2026-11-22T22:00:30Z");
  ASSERT_TRUE(wait_until([&] { return count_state(list_jobs(site), "succeeded") == 2; })) << server.log();
  server.stop();
  std::set<std::string> devices;
  for (int id : {1, 2}) {
    auto show = run_strongbox({"--site", site.string(), "jobs", "show", std::to_string(id)});
    auto at = show.out.find("device       ");
    ASSERT_NE(at, std::string::npos) << show.out;
    devices.insert(show.out.substr(at + 13, show.out.find('\n', at) - at - 13));
  }
  EXPECT_EQ(devices, (std::set<std::string>{"disk-a", "disk-b"}));
}
