// Alerts: raise, list newest first, acknowledge, clear (hidden unless asked for).
#include <gtest/gtest.h>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using testing::CatalogTest;

using CatalogAlerts = CatalogTest;

TEST_F(CatalogAlerts, RaiseAcknowledgeClear) {
  int64_t first = catalog->raise_alert("warning", "retention", "policy failed to load; kept everything");
  int64_t second = catalog->raise_alert("critical", "device disk1", "disk full");

  auto alerts = catalog->list_alerts(false);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_EQ(alerts[0].id, second);
  EXPECT_EQ(alerts[0].severity, "critical");
  EXPECT_EQ(alerts[0].source, "device disk1");
  EXPECT_EQ(alerts[0].message, "disk full");
  EXPECT_GT(alerts[0].time_ns, 0);
  EXPECT_FALSE(alerts[0].acknowledged);
  EXPECT_FALSE(alerts[0].cleared);

  catalog->acknowledge_alert(first);
  catalog->acknowledge_alert(first);  // acknowledging twice is harmless
  alerts = catalog->list_alerts(false);
  EXPECT_TRUE(alerts[1].acknowledged);
  EXPECT_FALSE(alerts[0].acknowledged);

  catalog->clear_alert(second);
  alerts = catalog->list_alerts(false);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].id, first);
  alerts = catalog->list_alerts(true);
  ASSERT_EQ(alerts.size(), 2u);
  EXPECT_TRUE(alerts[0].cleared);
}

TEST_F(CatalogAlerts, BadInputRefused) {
  EXPECT_CATALOG_ERROR(catalog->raise_alert("panic", "x", "y"), "invalid alert severity 'panic'");
  EXPECT_CATALOG_ERROR(catalog->raise_alert("info", "", "y"), "source of an alert must not be empty");
  EXPECT_CATALOG_ERROR(catalog->raise_alert("info", "x", ""), "message of an alert must not be empty");
  EXPECT_CATALOG_ERROR(catalog->acknowledge_alert(404), "no alert with id 404");
  EXPECT_CATALOG_ERROR(catalog->clear_alert(404), "no alert with id 404");
  EXPECT_TRUE(catalog->list_alerts(true).empty());
}

}  // namespace
}  // namespace sbx::catalog
