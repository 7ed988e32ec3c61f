// Delivery of alerts: every alert the catalog holds is written to the log and handed once to the channels an
// admin configured, a command (argv, no shell) and a webhook URL (HTTP POST of the alert as JSON).
//
// Delivery is at least once and never blocks: a channel that fails or hangs costs its timeout and an error
// recorded on the alert (catalog::Alert::delivery_error), and the next alert is delivered regardless. A
// failed delivery is not retried, so a dead webhook cannot make the server loop on the same alerts forever.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <strongbox/catalog.hpp>
#include <vector>

namespace sbx::alerts {

class ConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct DeliveryConfig {
  // Program and arguments, run directly (posix_spawnp; PATH lookup when argv[0] has no '/'), never through a
  // shell, so an alert's text cannot inject commands. Empty: no command.
  std::vector<std::string> command_argv;
  // http:// or https:// URL the alert is POSTed to as application/json. Empty: no webhook.
  std::string webhook_url;
  // Per channel and alert: the command is killed (its whole process group) and the HTTP request abandoned
  // after this long.
  int timeout_ms = 5000;
};

// Reads {"command": ["/path/prog", "arg", ...], "webhook": "http://127.0.0.1:8080/hook", "timeout": 5000}.
// Every key is optional; "timeout" is milliseconds (a number) or a duration text such as "5s" or "1m".
// Throws ConfigError naming the key and what was wrong (unknown key, wrong type, empty program, URL that is
// not http(s), timeout outside 1 ms to 10 minutes).
DeliveryConfig parse_delivery_config(const nlohmann::json& config);

// The alert as channels receive it: {"id", "time" (ISO 8601 UTC), "time_ns", "severity", "source", "subject",
// "message"}.
nlohmann::json alert_json(const catalog::Alert& alert);

class Deliverer {
 public:
  explicit Deliverer(DeliveryConfig config);

  // Delivers every undelivered alert of the catalog, oldest first: logs it (one spdlog line at the level its
  // severity maps to), runs the command with the alert JSON on stdin and STRONGBOX_ALERT_ID, _SEVERITY,
  // _SOURCE, _SUBJECT, _MESSAGE (cut to 32 KiB) and _TIME in its environment (exit status 0 is success),
  // POSTs the JSON to the webhook (2xx is success; redirects are not followed). Then marks the alert
  // delivered, with the channels' errors joined by "; " when any failed. Returns how many alerts it marked,
  // failed channels included.
  size_t deliver_pending(catalog::Catalog& catalog);

  // One alert through the channels (not the log, not the catalog); returns the error text, "" on success.
  std::string deliver(const catalog::Alert& alert);

  const DeliveryConfig& config() const { return config_; }

 private:
  DeliveryConfig config_;
};

}  // namespace sbx::alerts
