// The webhook channel: the alert is POSTed as JSON; error answers, redirects, refused connections and slow
// servers are recorded on the alert without blocking the next one.
#include <chrono>

#include "alerts_test_util.hpp"

namespace sbx::alerts {
namespace {

using testing::HttpServer;
using testing::new_catalog;
using testing::TempDir;

std::vector<catalog::Alert> oldest_first(catalog::Catalog& catalog) {
  auto alerts = catalog.list_alerts(true);
  std::reverse(alerts.begin(), alerts.end());
  return alerts;
}

TEST(AlertWebhook, PostsTheAlertAsJson) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  HttpServer server(200);
  int64_t id =
      catalog->raise_alert("critical", "verify", "verify found damage in sets 3, 4", "verify:damage");
  DeliveryConfig config;
  config.webhook_url = server.url();
  Deliverer deliverer(config);
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 1u);

  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(requests[0].head.starts_with("POST /hook HTTP/1.1\r\n")) << requests[0].head;
  EXPECT_NE(requests[0].head.find("Content-Type: application/json"), std::string::npos) << requests[0].head;
  auto body = nlohmann::json::parse(requests[0].body);
  EXPECT_EQ(body["id"], id);
  EXPECT_EQ(body["severity"], "critical");
  EXPECT_EQ(body["source"], "verify");
  EXPECT_EQ(body["subject"], "verify:damage");
  EXPECT_EQ(body["message"], "verify found damage in sets 3, 4");
  auto alert = catalog->list_alerts(true)[0];
  EXPECT_NE(alert.delivered_ns, 0);
  EXPECT_EQ(alert.delivery_error, "");
}

TEST(AlertWebhook, ErrorAnswerIsRecorded) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  HttpServer server(500);
  catalog->raise_alert("error", "backup", "backup job 4 failed");
  catalog->raise_alert("error", "backup", "backup job 5 failed");
  DeliveryConfig config;
  config.webhook_url = server.url("/hook?token=secret-token");
  Deliverer deliverer(config);
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 2u);
  EXPECT_EQ(server.requests().size(), 2u);
  for (const auto& alert : catalog->list_alerts(true)) {
    EXPECT_NE(alert.delivered_ns, 0);
    EXPECT_NE(alert.delivery_error.find("answered HTTP 500: hook says no"), std::string::npos)
        << alert.delivery_error;
    // Tokens in the path or query stay out of the catalog and the logs.
    EXPECT_EQ(alert.delivery_error.find("secret-token"), std::string::npos) << alert.delivery_error;
  }
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 0u);
}

TEST(AlertWebhook, RedirectIsNotFollowed) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  HttpServer server(302);
  catalog->raise_alert("warning", "device", "device disk1 nearly full");
  DeliveryConfig config;
  config.webhook_url = server.url();
  Deliverer deliverer(config);
  deliverer.deliver_pending(*catalog);
  ASSERT_EQ(server.requests().size(), 1u);  // the /elsewhere it points to is not asked
  auto alert = catalog->list_alerts(true)[0];
  EXPECT_NE(alert.delivery_error.find("answered HTTP 302 (redirects are not followed)"), std::string::npos)
      << alert.delivery_error;
}

TEST(AlertWebhook, RefusedConnectionIsRecorded) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  catalog->raise_alert("error", "job", "job 9 failed");
  DeliveryConfig config;
  int port = testing::unused_port();
  config.webhook_url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  Deliverer deliverer(config);
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 1u);
  auto alert = catalog->list_alerts(true)[0];
  EXPECT_NE(alert.delivered_ns, 0);
  EXPECT_TRUE(alert.delivery_error.starts_with("webhook http://127.0.0.1:" + std::to_string(port) + ": "))
      << alert.delivery_error;
  EXPECT_NE(alert.delivery_error.find("onnect"), std::string::npos) << alert.delivery_error;
}

TEST(AlertWebhook, SlowServerTimesOut) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  HttpServer server(200, 1500);
  catalog->raise_alert("error", "job", "job 10 failed");
  DeliveryConfig config;
  config.webhook_url = server.url();
  config.timeout_ms = 200;
  Deliverer deliverer(config);
  auto started = std::chrono::steady_clock::now();
  deliverer.deliver_pending(*catalog);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), 1.4);
  auto alert = catalog->list_alerts(true)[0];
  EXPECT_NE(alert.delivery_error.find("imed out"), std::string::npos) << alert.delivery_error;
}

TEST(AlertWebhook, CommandAndWebhookErrorsAreBothRecorded) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  HttpServer server(503);
  auto script = testing::write_script(dir, "fail.sh", "exit 1\n");
  catalog->raise_alert("error", "job", "job 11 failed");
  catalog->raise_alert("info", "job", "job 12 succeeded after a retry");
  DeliveryConfig config;
  config.command_argv = {script.string()};
  config.webhook_url = server.url();
  Deliverer deliverer(config);
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 2u);
  for (const auto& alert : oldest_first(*catalog)) {
    EXPECT_NE(alert.delivery_error.find("exited with status 1; webhook http://127.0.0.1:"), std::string::npos)
        << alert.delivery_error;
    EXPECT_NE(alert.delivery_error.find("answered HTTP 503"), std::string::npos) << alert.delivery_error;
  }
}

}  // namespace
}  // namespace sbx::alerts
