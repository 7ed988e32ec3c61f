// The storage report: per device what the catalog keeps there and how full the plugin says it is.
#include "reports_test_util.hpp"

namespace sbx::reports {
namespace {

using Json = nlohmann::json;
using testing::find_row;
using testing::TestCatalog;
using testing::utc;

TEST(StorageReport, CountsSetsAndBytesPerDevice) {
  TestCatalog catalog;
  int64_t disk1 = catalog->add_device("disk1", "disk", Json::object());
  int64_t disk2 = catalog->add_device("disk2", "disk", Json::object());
  catalog->add_device("tape1", "tape", Json::object());
  catalog.backup("", {"/a"}, disk1, utc("2026-11-20 10:00"), "succeeded", 0, 1000, 600, 10);
  catalog.backup("", {"/b"}, disk1, utc("2026-11-20 11:00"), "succeeded", 0, 3000, 1400, 25);
  int64_t expired =
      catalog.backup("", {"/c"}, disk1, utc("2026-11-20 12:00"), "succeeded", 0, 9000, 9000, 99);
  catalog->expire_set(expired);
  catalog.backup("", {"/d"}, disk2, utc("2026-11-20 13:00"), "succeeded", 0, 500, 200, 3);

  std::vector<DeviceUsage> devices = {
      {"disk1", "disk", true, 1000000, 250000, 2000, ""},
      {"disk2", "disk", true, 0, 0, 200, ""},  // a device that reports no size
      {"tape1", "tape", false, 0, 0, 0, "changer /dev/sg3 does not answer"},
  };
  Table table = storage_report(*catalog, devices, utc("2026-11-22 12:00"));
  EXPECT_EQ(table.title, "storage");
  ASSERT_EQ(table.rows.size(), 3u);
  auto d1 = find_row(table, "device", "disk1");
  EXPECT_EQ(d1, Json::parse(R"({"device": "disk1", "plugin": "disk", "online": true, "sets": 2, "expired": 1,
      "stored_bytes": 2000, "files": 35, "total_bytes": 1000000, "free_bytes": 250000, "percent_full": 75.0,
      "problem": null})"));
  auto d2 = find_row(table, "device", "disk2");
  EXPECT_EQ(d2["sets"], 1);
  EXPECT_EQ(d2["stored_bytes"], 200);
  EXPECT_TRUE(d2["percent_full"].is_null());
  auto tape = find_row(table, "device", "tape1");
  EXPECT_EQ(tape["online"], false);
  EXPECT_EQ(tape["sets"], 0);
  EXPECT_TRUE(tape["total_bytes"].is_null());
  EXPECT_TRUE(tape["percent_full"].is_null());
  EXPECT_EQ(tape["problem"], "changer /dev/sg3 does not answer");
  EXPECT_EQ(Json(table.summary),
            Json::parse(R"({"devices": 3, "offline": 1, "sets": 3, "stored_bytes": 2200})"));
}

TEST(StorageReport, FreeAboveTotalIsEmptyNotNegative) {
  TestCatalog catalog;
  catalog->add_device("odd", "disk", Json::object());
  Table table = storage_report(*catalog, {{"odd", "disk", true, 1000, 5000, 0, ""}}, utc("2026-11-22 12:00"));
  EXPECT_EQ(find_row(table, "device", "odd")["percent_full"], 0.0);
  // Rounded to one decimal.
  table = storage_report(*catalog, {{"odd", "disk", true, 3000, 1000, 0, ""}}, utc("2026-11-22 12:00"));
  EXPECT_EQ(find_row(table, "device", "odd")["percent_full"], 66.7);
}

}  // namespace
}  // namespace sbx::reports
