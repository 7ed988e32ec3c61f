// The protection report: one row per definition of kind backup and per manual series, with the age of the
// last good backup, the last result and a status an admin can act on.
#include "reports_test_util.hpp"

namespace sbx::reports {
namespace {

using Json = nlohmann::json;
using testing::find_row;
using testing::kHour;
using testing::TestCatalog;
using testing::utc;

Json daily(const std::string& source) {
  return {{"sources", {source}},
          {"device", "disk1"},
          {"schedules", {{{"when", "daily 22:00"}, {"time_zone", "UTC"}}}}};
}

class ProtectionReport : public ::testing::Test {
 protected:
  void SetUp() override {
    disk1 = catalog->add_device("disk1", "disk", Json::object());
    disk2 = catalog->add_device("disk2", "disk", Json::object());
  }
  TestCatalog catalog;
  int64_t disk1 = 0, disk2 = 0;
  const int64_t now = utc("2026-11-22 12:00");  // a Sunday
};

TEST_F(ProtectionReport, StatusFollowsAgeAndLastResult) {
  catalog->put_definition("home", daily("/home"));
  catalog.backup("home", {"/home"}, disk1, utc("2026-11-21 22:00"));

  catalog->put_definition("mail", daily("/var/mail"));
  int64_t mail_set = catalog.backup("mail", {"/var/mail"}, disk1, utc("2026-11-20 22:00"));
  // A copy made this morning holds data from the 20th: it does not make the backup any younger.
  catalog.set_time(utc("2026-11-22 08:00"));
  catalog::BackupSet copy = *catalog->find_set(mail_set);
  copy.id = 0;
  copy.device_id = disk2;
  copy.store_name = "copy-1";
  copy.copy_of = mail_set;
  copy.started_ns = utc("2026-11-22 08:00");
  int64_t copy_id = catalog->begin_set(copy);
  catalog->complete_set(copy_id, 10, 1000, 600, 0);

  catalog->put_definition("db", daily("/var/lib/db"));
  catalog.backup("db", {"/var/lib/db"}, disk1, utc("2026-11-21 22:00"));
  int64_t db_failed =
      catalog.job("backup", "failed", "db", utc("2026-11-22 02:00"), 3, "device disk1 is offline");

  catalog->put_definition("old", daily("/srv/old"));
  catalog.backup("old", {"/srv/old"}, disk1, utc("2026-11-18 22:00"));

  catalog->put_definition("new", daily("/srv/new"));
  int64_t new_failed = catalog.job("backup", "failed", "new", utc("2026-11-21 22:00"), 1, "agent not found");

  catalog->put_definition("gone", daily("/srv/gone"));
  int64_t gone_set = catalog.backup("gone", {"/srv/gone"}, disk1, utc("2026-11-21 22:00"));
  catalog->expire_set(gone_set);

  catalog->put_definition("weekdays", {{"sources", {"/work"}},
                                       {"device", "disk1"},
                                       {"schedules", {{{"when", "0 22 * * 1-5"}, {"time_zone", "UTC"}}}}});
  catalog.backup("weekdays", {"/work"}, disk1, utc("2026-11-20 22:00"));  // Friday night

  catalog->put_definition("flaky", daily("/flaky"));
  catalog.backup("flaky", {"/flaky"}, disk1, utc("2026-11-21 22:00"), "partial", 2);

  catalog->put_definition("verify-all", {{"kind", "verify"}, {"all", true}});

  Table table = protection_report(*catalog, now);
  EXPECT_EQ(table.title, "protection");
  ASSERT_EQ(table.rows.size(), 8u);  // the verify definition protects nothing

  auto home = find_row(table, "definition", "home");
  EXPECT_EQ(home["sources"], Json::array({"/home"}));
  EXPECT_EQ(home["last_good"], "2026-11-21T22:00:00Z");
  EXPECT_EQ(home["age_s"], 14 * 3600.0);
  EXPECT_EQ(home["last_good_partial"], false);
  EXPECT_EQ(home["last_result"], "succeeded");
  EXPECT_EQ(home["interval_s"], 24 * 3600.0);
  EXPECT_EQ(home["status"], "OK");
  EXPECT_EQ(home["reason"], "");

  auto mail = find_row(table, "definition", "mail");
  EXPECT_EQ(mail["last_good"], "2026-11-20T22:00:00Z");
  EXPECT_EQ(mail["status"], "WARNING");
  EXPECT_EQ(mail["reason"], "last good backup is 38h old, more than 1.5 x the 24h interval");

  auto db = find_row(table, "definition", "db");
  EXPECT_EQ(db["status"], "WARNING");
  EXPECT_EQ(db["last_job"], db_failed);
  EXPECT_EQ(db["last_result"], "failed");
  EXPECT_EQ(db["last_message"], "device disk1 is offline");
  EXPECT_EQ(db["reason"], "last job " + std::to_string(db_failed) + " failed");

  auto old = find_row(table, "definition", "old");
  EXPECT_EQ(old["status"], "CRITICAL");
  EXPECT_EQ(old["reason"], "last good backup is 86h old, more than 3 x the 24h interval");

  auto never = find_row(table, "definition", "new");
  EXPECT_EQ(never["status"], "NEVER");
  EXPECT_TRUE(never["last_good"].is_null());
  EXPECT_TRUE(never["age_s"].is_null());
  EXPECT_EQ(never["last_job"], new_failed);
  EXPECT_EQ(never["last_message"], "agent not found");

  auto gone = find_row(table, "definition", "gone");
  EXPECT_EQ(gone["status"], "CRITICAL");
  EXPECT_EQ(gone["reason"], "no complete backup is left");

  // 38 hours since Friday's backup is normal for a weekday schedule (the weekend gap is 72 hours).
  auto weekdays = find_row(table, "definition", "weekdays");
  EXPECT_EQ(weekdays["interval_s"], 72 * 3600.0);
  EXPECT_EQ(weekdays["status"], "OK");

  auto flaky = find_row(table, "definition", "flaky");
  EXPECT_EQ(flaky["last_good"], "2026-11-21T22:00:00Z");  // partial still counts as good...
  EXPECT_EQ(flaky["last_good_partial"], true);            // ...but is flagged
  EXPECT_EQ(flaky["status"], "WARNING");

  EXPECT_EQ(Json(table.summary),
            Json::parse(R"({"resources": 8, "OK": 2, "WARNING": 3, "CRITICAL": 2, "NEVER": 1})"));
}

TEST_F(ProtectionReport, ManualSeriesGetARowAndManualBackupsOfADefinitionsSourcesCountForIt) {
  catalog->put_definition("home", daily("/home"));
  catalog.backup("home", {"/home"}, disk1, utc("2026-11-19 22:00"));
  // An admin backed /home up by hand this morning: the definition's data is fresh.
  catalog.backup("", {"/home"}, disk1, utc("2026-11-22 10:00"));
  // Manual backups of something no definition covers.
  catalog.backup("", {"/opt", "/usr/local"}, disk1, utc("2026-11-21 06:00"));
  catalog.backup("", {"/opt", "/usr/local"}, disk1, utc("2026-11-22 06:00"));
  catalog.backup("", {"/scratch"}, disk1, utc("2026-11-19 06:00"));
  // A later manual backup of /scratch failed before it made a set.
  int64_t scratch_failed =
      catalog.job("backup", "failed", "", utc("2026-11-20 06:00"), 1, "permission denied",
                  {{"sources", {"/scratch"}}, {"level", "incremental"}});

  Table table = protection_report(*catalog, now);
  ASSERT_EQ(table.rows.size(), 3u);
  auto home = find_row(table, "definition", "home");
  EXPECT_EQ(home["last_good"], "2026-11-22T10:00:00Z");
  EXPECT_EQ(home["status"], "OK");

  auto opt = find_row(table, "sources", Json::array({"/opt", "/usr/local"}));
  EXPECT_TRUE(opt["definition"].is_null());
  EXPECT_EQ(opt["last_good"], "2026-11-22T06:00:00Z");
  EXPECT_EQ(opt["interval_s"], 25 * 3600.0);
  EXPECT_EQ(opt["last_result"], "succeeded");
  EXPECT_EQ(opt["status"], "OK");

  auto scratch = find_row(table, "sources", Json::array({"/scratch"}));
  EXPECT_EQ(scratch["last_job"], scratch_failed);
  EXPECT_EQ(scratch["last_result"], "failed");
  // 78 hours > 3 x 25 assumed hours.
  EXPECT_EQ(scratch["status"], "CRITICAL");
  EXPECT_EQ(scratch["reason"],
            "last good backup is 78h old, more than 3 x the 25h interval (no schedule: 25h assumed)");
}

TEST_F(ProtectionReport, SyntheticFullDoesNotRefreshTheAge) {
  catalog->put_definition("home", daily("/home"));
  int64_t full = catalog.backup("home", {"/home"}, disk1, utc("2026-11-19 22:00"));
  catalog.set_time(utc("2026-11-22 11:00"));
  catalog::BackupSet synthetic = *catalog->find_set(full);
  synthetic.id = 0;
  synthetic.job_id.reset();
  synthetic.store_name = "synthetic-1";
  synthetic.synthetic = true;
  synthetic.started_ns = utc("2026-11-22 11:00");
  int64_t synthetic_id = catalog->begin_set(synthetic);
  catalog->complete_set(synthetic_id, 10, 1000, 0, 0);

  auto row = find_row(protection_report(*catalog, now), "definition", "home");
  EXPECT_EQ(row["last_good"], "2026-11-19T22:00:00Z");
  EXPECT_EQ(row["status"], "WARNING");
}

TEST_F(ProtectionReport, DefinitionWithoutSchedulesAssumesADailyInterval) {
  catalog->put_definition("adhoc",
                          {{"sources", {"/adhoc"}}, {"device", "disk1"}, {"schedules", Json::array()}});
  catalog.backup("adhoc", {"/adhoc"}, disk1,
                 utc("2026-11-20 12:00"));  // 48h: WARNING under 25h, not CRITICAL
  auto row = find_row(protection_report(*catalog, now), "definition", "adhoc");
  EXPECT_EQ(row["interval_s"], 25 * 3600.0);
  EXPECT_EQ(row["status"], "WARNING");
  EXPECT_EQ(row["reason"],
            "last good backup is 48h old, more than 1.5 x the 25h interval (no schedule: 25h assumed)");
}

TEST_F(ProtectionReport, EmptyCatalogGivesAnEmptyReport) {
  Table table = protection_report(*catalog, now);
  EXPECT_TRUE(table.rows.empty());
  EXPECT_EQ(Json(table.summary),
            Json::parse(R"({"resources": 0, "OK": 0, "WARNING": 0, "CRITICAL": 0, "NEVER": 0})"));
}

}  // namespace
}  // namespace sbx::reports
