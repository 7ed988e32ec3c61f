// strongbox report jobs|protection|storage after two real backups: text for people, --json and --csv for
// programs, with the numbers the backups themselves reported.
#include <sstream>
#include <strongbox/catalog.hpp>

#include "harness.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using namespace sbx::test;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

class CliReports : public ::testing::Test {
 protected:
  void SetUp() override {
    site = init_site(dir);
    data = dir / "data";
    write_file(data / "a.txt", std::string(1000, 'a'));
    write_file(data / "b, with \"comma\".txt", "b");
    auto first = run({"--json", "backup", data.string(), "--level", "full"});
    ASSERT_EQ(first.exit_code, 0) << first.err;
    backups.push_back(first.json_lines().at(0));
    write_file(data / "a.txt", std::string(2000, 'c'));
    auto second = run({"--json", "backup", data.string()});
    ASSERT_EQ(second.exit_code, 0) << second.err;
    backups.push_back(second.json_lines().at(0));
    // A definition nothing ran for yet; the definitions verbs are tested elsewhere, the catalog API is enough
    // here.
    auto catalog =
        sbx::catalog::Catalog::open(site / "catalog.db", sbx::catalog::Catalog::Mode::open_existing);
    catalog->put_definition("nightly", {{"sources", {"/srv/nightly"}},
                                        {"device", "disk1"},
                                        {"schedules", {{{"when", "daily 22:00"}, {"time_zone", "UTC"}}}}});
  }

  RunResult run(std::vector<std::string> args) {
    args.insert(args.begin(), {"--site", site.string()});
    return run_strongbox(args);
  }

  TempDir dir;
  fs::path site, data;
  std::vector<json> backups;
};

TEST_F(CliReports, ProtectionShowsTheManualSeriesAndTheDefinitionNeverRun) {
  auto r = run({"report", "protection", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = r.json_lines();
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_EQ(lines[0]["definition"], "nightly");
  EXPECT_EQ(lines[0]["status"], "NEVER");
  EXPECT_EQ(lines[0]["interval_s"], 86400.0);
  EXPECT_TRUE(lines[1]["definition"].is_null());
  EXPECT_EQ(lines[1]["sources"], json::array({data.string()}));
  EXPECT_EQ(lines[1]["status"], "OK");
  EXPECT_EQ(lines[1]["last_job"], backups[1]["job_id"]);
  EXPECT_EQ(lines[1]["last_result"], "succeeded");
  EXPECT_EQ(lines[1]["last_good_partial"], false);
  EXPECT_LT(lines[1]["age_s"].get<double>(), 600.0);
  EXPECT_EQ(lines[2], json::parse(R"({"type": "summary", "report": "protection", "resources": 2, "OK": 1,
                                      "WARNING": 0, "CRITICAL": 0, "NEVER": 1})"));

  auto text = run({"report", "protection"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  auto text_lines = lines_of(text.out);
  ASSERT_GE(text_lines.size(), 3u) << text.out;
  EXPECT_TRUE(text_lines[0].starts_with("DEFINITION  SOURCES")) << text.out;
  EXPECT_TRUE(text_lines[1].starts_with("nightly ")) << text.out;
  EXPECT_NE(text_lines[1].find("NEVER"), std::string::npos) << text.out;
  EXPECT_NE(text_lines[2].find(" OK "), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("NEVER: 1\n"), std::string::npos) << text.out;

  auto csv = run({"report", "protection", "--csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_TRUE(
      csv.out.starts_with("definition,sources,last_good,age_s,last_good_partial,last_job,last_result,"
                          "last_message,interval_s,status,reason\r\nnightly,/srv/nightly,,,,,,,86400.0,NEVER,"
                          "no backup was ever taken\r\n,"))
      << csv.out;
  EXPECT_EQ(lines_of(csv.out).size(), 3u);
}

TEST_F(CliReports, StorageCountsTheSetsAndBytesTheBackupsStored) {
  auto r = run({"--json", "report", "storage"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = r.json_lines();
  ASSERT_EQ(lines.size(), 2u) << r.out;
  const auto& disk = lines[0];
  EXPECT_EQ(disk["device"], "disk1");
  EXPECT_EQ(disk["plugin"], "disk");
  EXPECT_EQ(disk["online"], true);
  EXPECT_EQ(disk["sets"], 2);
  EXPECT_EQ(disk["expired"], 0);
  uint64_t stored = backups[0]["stored_bytes"].get<uint64_t>() + backups[1]["stored_bytes"].get<uint64_t>();
  uint64_t files =
      backups[0]["entries_stored"].get<uint64_t>() + backups[1]["entries_stored"].get<uint64_t>();
  EXPECT_EQ(disk["stored_bytes"], stored);
  EXPECT_EQ(disk["files"], files);
  EXPECT_GT(disk["total_bytes"].get<uint64_t>(), 0u);
  EXPECT_GT(disk["percent_full"].get<double>(), 0.0);
  EXPECT_LE(disk["percent_full"].get<double>(), 100.0);
  EXPECT_EQ(lines[1]["type"], "summary");
  EXPECT_EQ(lines[1]["sets"], 2);
  EXPECT_EQ(lines[1]["stored_bytes"], stored);
  EXPECT_EQ(lines[1]["offline"], 0);

  auto csv = run({"report", "storage", "--csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  auto csv_lines = lines_of(csv.out);
  ASSERT_EQ(csv_lines.size(), 2u) << csv.out;
  EXPECT_EQ(
      csv_lines[0],
      "device,plugin,online,sets,expired,stored_bytes,files,total_bytes,free_bytes,percent_full,problem\r");
  EXPECT_TRUE(csv_lines[1].starts_with("disk1,disk,true,2,0," + std::to_string(stored) + "," +
                                       std::to_string(files) + ","))
      << csv.out;

  auto text = run({"report", "storage"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(text.out.starts_with("DEVICE  PLUGIN  ONLINE  SETS")) << text.out;
  EXPECT_NE(text.out.find("\ndisk1   disk    yes     2 "), std::string::npos) << text.out;
}

TEST_F(CliReports, JobsListsBothBackupsWithTheirBytes) {
  auto r = run({"report", "jobs", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto lines = r.json_lines();
  ASSERT_EQ(lines.size(), 3u) << r.out;
  // Newest first.
  for (int i = 0; i < 2; ++i) {
    const auto& job = lines[i];
    const auto& backup = backups[1 - i];
    EXPECT_EQ(job["id"], backup["job_id"]);
    EXPECT_EQ(job["kind"], "backup");
    EXPECT_EQ(job["state"], "succeeded");
    EXPECT_EQ(job["device"], "disk1");
    EXPECT_EQ(job["bytes"], backup["bytes_read"]);
    EXPECT_GE(job["duration_s"].get<double>(), 0.0);
  }
  EXPECT_EQ(lines[2]["jobs"], 2);
  EXPECT_EQ(lines[2]["succeeded"], 2);
  EXPECT_EQ(lines[2]["failed"], 0);
  EXPECT_EQ(lines[2]["bytes"],
            backups[0]["bytes_read"].get<uint64_t>() + backups[1]["bytes_read"].get<uint64_t>());

  auto csv = run({"report", "jobs", "--since", "1h", "--csv"});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  auto csv_lines = lines_of(csv.out);
  ASSERT_EQ(csv_lines.size(), 3u) << csv.out;
  EXPECT_EQ(csv_lines[0],
            "id,kind,definition,state,device,scheduled,started,finished,duration_s,bytes,message\r");

  // A period that ends before the backups holds none of them.
  auto before = run({"report", "jobs", "--since", "2000-01-01T00:00:00Z", "--until", "2000-01-02", "--json"});
  ASSERT_EQ(before.exit_code, 0) << before.err;
  ASSERT_EQ(before.json_lines().size(), 1u) << before.out;
  EXPECT_EQ(before.json_lines()[0]["jobs"], 0);

  auto text = run({"report", "jobs"});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(text.out.starts_with("ID  KIND    DEFINITION  STATE      DEVICE")) << text.out;
  EXPECT_NE(text.out.find("succeeded: 2\n"), std::string::npos) << text.out;
}

TEST_F(CliReports, BadArgumentsGetOneLineAndExitTwo) {
  auto garbage = run({"report", "jobs", "--since", "last tuesday"});
  EXPECT_EQ(garbage.exit_code, 2);
  EXPECT_EQ(
      garbage.err,
      "strongbox: --since wants an ISO 8601 time (2026-11-22T10:00:00Z) or a duration back from now (7d, "
      "12h), not 'last tuesday'\n");
  auto inverted = run({"report", "jobs", "--since", "1d", "--until", "2d"});
  EXPECT_EQ(inverted.exit_code, 2);
  EXPECT_NE(inverted.err.find("is not before --until"), std::string::npos) << inverted.err;
  auto both = run({"report", "storage", "--csv", "--json"});
  EXPECT_EQ(both.exit_code, 2);
  EXPECT_EQ(both.err, "strongbox: --csv and --json exclude each other\n");
  auto unknown = run({"report", "weather"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_TRUE(unknown.out.empty()) << unknown.out;
}

}  // namespace
