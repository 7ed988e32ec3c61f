// The job history report: jobs in every state over a period, with durations, bytes and totals per state.
#include "reports_test_util.hpp"

namespace sbx::reports {
namespace {

using Json = nlohmann::json;
using testing::find_row;
using testing::kHour;
using testing::kSecond;
using testing::TestCatalog;
using testing::utc;

TEST(JobsReport, ListsJobsOfThePeriodInEveryStateWithTotals) {
  TestCatalog catalog;
  int64_t disk1 = catalog->add_device("disk1", "disk", Json::object());
  // Before the period: not listed.
  catalog.job("backup", "succeeded", "home", utc("2026-11-10 22:00"), 60);
  int64_t set = catalog.backup("home", {"/home"}, disk1, utc("2026-11-20 22:00"), "succeeded", 0, 5000);
  int64_t partial = catalog.job("backup", "partial", "mail", utc("2026-11-21 01:00"), 90,
                                "2 files unreadable", {{"bytes_read", 777}});
  int64_t failed =
      catalog.job("backup", "failed", "db", utc("2026-11-21 02:00"), 5, "device disk9 is offline");
  int64_t cancelled = catalog.job("verify", "cancelled", "", utc("2026-11-21 03:00"), 30,
                                  "cancelled by admin", {{"bytes", 123}});
  int64_t missed = catalog.job("backup", "missed", "mail", utc("2026-11-21 04:00"), 7200, "window 2h closed");
  int64_t running = catalog.job("duplicate", "running", "home", utc("2026-11-22 11:00"), 0);
  int64_t queued = catalog.job("backup", "queued", "home", utc("2026-11-22 11:30"), 0);
  // After the period: not listed.
  catalog.job("backup", "queued", "home", utc("2026-11-23 00:00"), 0);

  const int64_t now = utc("2026-11-22 12:00");
  Table table = jobs_report(*catalog, utc("2026-11-15 00:00"), utc("2026-11-22 23:00"), now);
  EXPECT_EQ(table.title, "jobs");
  EXPECT_EQ(table.columns,
            (std::vector<std::string>{"id", "kind", "definition", "state", "device", "scheduled", "started",
                                      "finished", "duration_s", "bytes", "message"}));
  ASSERT_EQ(table.rows.size(), 7u);
  // Newest first.
  EXPECT_EQ(table.rows.front()[0], queued);
  EXPECT_EQ(table.rows.back()[0], catalog->find_set(set)->job_id.value());

  auto backup = find_row(table, "id", catalog->find_set(set)->job_id.value());
  EXPECT_EQ(backup["kind"], "backup");
  EXPECT_EQ(backup["definition"], "home");
  EXPECT_EQ(backup["state"], "succeeded");
  EXPECT_EQ(backup["device"], "disk1");
  EXPECT_EQ(backup["started"], "2026-11-20T22:00:00Z");
  EXPECT_EQ(backup["finished"], "2026-11-20T22:01:00Z");
  EXPECT_EQ(backup["duration_s"], 60.0);
  EXPECT_EQ(backup["bytes"], 5000);  // from the set it wrote

  auto p = find_row(table, "id", partial);
  EXPECT_EQ(p["state"], "partial");
  EXPECT_EQ(p["bytes"], 777);  // from its details
  EXPECT_EQ(p["duration_s"], 90.0);
  EXPECT_EQ(p["message"], "2 files unreadable");
  auto f = find_row(table, "id", failed);
  EXPECT_EQ(f["message"], "device disk9 is offline");
  EXPECT_TRUE(f["bytes"].is_null());
  EXPECT_TRUE(f["device"].is_null());
  auto c = find_row(table, "id", cancelled);
  EXPECT_TRUE(c["definition"].is_null());
  EXPECT_EQ(c["bytes"], 123);
  auto m = find_row(table, "id", missed);
  EXPECT_TRUE(m["started"].is_null());
  EXPECT_TRUE(m["duration_s"].is_null());
  EXPECT_EQ(m["finished"], "2026-11-21T06:00:00Z");
  auto r = find_row(table, "id", running);
  EXPECT_TRUE(r["finished"].is_null());
  EXPECT_EQ(r["duration_s"], 3600.0);  // running for an hour at `now`
  auto q = find_row(table, "id", queued);
  EXPECT_TRUE(q["started"].is_null());
  EXPECT_TRUE(q["duration_s"].is_null());

  EXPECT_EQ(Json(table.summary),
            Json::parse(R"({"jobs": 7, "queued": 1, "running": 1, "succeeded": 1, "partial": 1,
      "failed": 1, "cancelled": 1, "missed": 1, "bytes": 5900, "since": "2026-11-15T00:00:00Z",
      "until": "2026-11-22T23:00:00Z"})"));
}

TEST(JobsReport, PeriodBoundsAreSinceInclusiveUntilExclusive) {
  TestCatalog catalog;
  catalog.job("backup", "succeeded", "", utc("2026-11-20 00:00"), 1);
  catalog.job("backup", "succeeded", "", utc("2026-11-21 00:00"), 1);
  const int64_t now = utc("2026-11-22 00:00");
  EXPECT_EQ(jobs_report(*catalog, utc("2026-11-20 00:00"), utc("2026-11-21 00:00"), now).rows.size(), 1u);
  EXPECT_EQ(jobs_report(*catalog, utc("2026-11-20 00:00") + 1, 0, now).rows.size(), 1u);
  EXPECT_EQ(jobs_report(*catalog, 0, 0, now).rows.size(), 2u);
  auto empty = jobs_report(*catalog, utc("2026-11-21 00:00") + kSecond, utc("2026-11-22 00:00"), now);
  EXPECT_TRUE(empty.rows.empty());
  EXPECT_EQ(empty.summary["jobs"], 0);
  EXPECT_EQ(empty.summary["succeeded"], 0);
  EXPECT_TRUE(jobs_report(*catalog, 0, 0, now).summary["since"].is_null());
}

TEST(JobsReport, RefusesAnEmptyPeriod) {
  TestCatalog catalog;
  const int64_t t = utc("2026-11-22 00:00");
  try {
    jobs_report(*catalog, t, t - kHour, t);
    FAIL() << "an inverted period was accepted";
  } catch (const catalog::CatalogError& e) {
    EXPECT_STREQ(
        e.what(),
        "job report period is empty: since 2026-11-22T00:00:00Z is not before until 2026-11-21T23:00:00Z");
  }
}

}  // namespace
}  // namespace sbx::reports
