// A scheduled verify job reads every set back; damage raises an alert naming the sets.
#include <fstream>

#include "server_harness.hpp"

using namespace sbx::test;
using nlohmann::json;

namespace {

size_t verify_jobs(const std::filesystem::path& site, const std::string& state) {
  size_t n = 0;
  for (const auto& j : list_jobs(site)) n += j["kind"] == "verify" && j["state"] == state ? 1 : 0;
  return n;
}

}  // namespace

TEST(ServerVerify, AScheduledVerifyFindsDamageAndNamesTheSet) {
  TempDir dir;
  auto site = init_site(dir);
  SimulatedClock clock(dir / "clock");
  clock.set("2026-11-22T12:00:00Z");
  auto data = dir / "data";
  write_random_file(data / "f", 1 << 20);
  auto backup = run_strongbox({"--site", site.string(), "--json", "backup", data.string()});
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  int64_t set_id = backup.json_lines().at(0)["set_id"];
  apply_document(dir, site,
                 {{"definitions",
                   {{"check",
                     {{"kind", "verify"},
                      {"device", "disk1"},
                      {"retries", {{"attempts", 1}}},
                      {"schedules", {{{"when", "daily 06:00"}}}}}}}}},
                 {clock.env()});
  ServerProcess server(site, write_server_config(dir, site), {clock.env()});
  server.start();
  clock.set("2026-11-23T06:00:30Z");
  ASSERT_TRUE(wait_until([&] { return verify_jobs(site, "succeeded") == 1; })) << server.log();

  // Flip a byte in the middle of the set's file.
  std::filesystem::path set_file;
  for (const auto& e : std::filesystem::recursive_directory_iterator(site / "devices" / "disk1"))
    if (e.is_regular_file() && e.file_size() > 4096) set_file = e.path();
  ASSERT_FALSE(set_file.empty());
  {
    std::fstream f(set_file, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(std::streamoff(std::filesystem::file_size(set_file) / 2));
    f.put('\x5a' ^ 0x33);
  }
  clock.set("2026-11-24T06:00:30Z");
  ASSERT_TRUE(wait_until([&] { return verify_jobs(site, "failed") == 1; })) << server.log();
  server.stop();
  bool named = false;
  for (const auto& a : list_alerts(site))
    named |= a["source"] == "verify" &&
             a["message"].get<std::string>().find("sets " + std::to_string(set_id)) != std::string::npos;
  EXPECT_TRUE(named);
}
