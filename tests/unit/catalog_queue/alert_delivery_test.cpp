#include "catalog_test_util.hpp"

using namespace sbx::catalog;
using namespace sbx::catalog::testing;

TEST(CatalogAlertDelivery, ASubjectHasOneActiveAlertUntilCleared) {
  TempDir dir;
  auto c = Catalog::open(dir.path() / "catalog.db", Catalog::Mode::create);
  int64_t first = c->raise_alert("warning", "device", "disk1 is 91% full", "device:disk1:full");
  int64_t again = c->raise_alert("warning", "device", "disk1 is 92% full", "device:disk1:full");
  EXPECT_EQ(first, again);
  EXPECT_EQ(c->list_alerts(false).size(), 1u);
  c->clear_alert_subject("device:disk1:full");
  EXPECT_TRUE(c->list_alerts(false).empty());
  int64_t later = c->raise_alert("error", "device", "disk1 is 99% full", "device:disk1:full");
  EXPECT_NE(later, first);
  // Without a subject every alert is its own.
  EXPECT_NE(c->raise_alert("error", "backup", "job 1 failed"),
            c->raise_alert("error", "backup", "job 1 failed"));
  c->clear_alert_subject("no-such-subject");
}

TEST(CatalogAlertDelivery, UndeliveredAlertsComeOldestFirstAndDeliveryIsRecorded) {
  TempDir dir;
  auto c = Catalog::open(dir.path() / "catalog.db", Catalog::Mode::create);
  int64_t a = c->raise_alert("error", "backup", "one");
  int64_t b = c->raise_alert("warning", "backup", "two");
  auto pending = c->undelivered_alerts();
  ASSERT_EQ(pending.size(), 2u);
  EXPECT_EQ(pending[0].id, a);
  c->mark_alert_delivered(a, "");
  c->mark_alert_delivered(b, "webhook: connection refused");
  EXPECT_TRUE(c->undelivered_alerts().empty());
  auto all = c->list_alerts(true);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].delivery_error, "webhook: connection refused");
  EXPECT_GT(all[1].delivered_ns, 0);
  EXPECT_CATALOG_ERROR(c->mark_alert_delivered(777, ""), "no alert with id 777");
}
