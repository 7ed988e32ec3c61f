// De-duplication by subject: a condition that persists raises one active alert, delivered once; once cleared,
// the condition coming back raises (and delivers) a new one.
#include "alerts_test_util.hpp"

namespace sbx::alerts {
namespace {

using testing::HttpServer;
using testing::new_catalog;
using testing::TempDir;

TEST(AlertDedup, RepeatedSubjectIsRaisedAndDeliveredOnce) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  HttpServer server(200);
  DeliveryConfig config;
  config.webhook_url = server.url();
  Deliverer deliverer(config);

  int64_t first = catalog->raise_alert("warning", "device", "disk1 is 91% full", "device:disk1:full");
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 1u);
  // The server checks every minute; the condition persists.
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(catalog->raise_alert("warning", "device", "disk1 is 92% full", "device:disk1:full"), first);
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 0u);
  EXPECT_EQ(server.requests().size(), 1u);

  // A different subject is a different alert.
  int64_t other = catalog->raise_alert("warning", "device", "disk2 is 95% full", "device:disk2:full");
  EXPECT_NE(other, first);
  // An acknowledged alert is still active: no new one for its subject.
  catalog->acknowledge_alert(first);
  EXPECT_EQ(catalog->raise_alert("warning", "device", "disk1 is 93% full", "device:disk1:full"), first);
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 1u);
  EXPECT_EQ(server.requests().size(), 2u);

  // The condition went away, then came back: a new alert, delivered again.
  catalog->clear_alert_subject("device:disk1:full");
  EXPECT_EQ(catalog->list_alerts(false).size(), 1u);
  int64_t again = catalog->raise_alert("warning", "device", "disk1 is 90% full", "device:disk1:full");
  EXPECT_NE(again, first);
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 1u);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(requests[2].body)["id"], again);
}

TEST(AlertDedup, AlertsWithoutSubjectAreNeverMerged) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  int64_t a = catalog->raise_alert("error", "backup", "backup job 1 failed");
  int64_t b = catalog->raise_alert("error", "backup", "backup job 1 failed");
  EXPECT_NE(a, b);
  Deliverer deliverer(DeliveryConfig{});
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 2u);
}

}  // namespace
}  // namespace sbx::alerts
