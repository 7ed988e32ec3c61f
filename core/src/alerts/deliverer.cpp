#include <spdlog/spdlog.h>

#include <strongbox/alerts.hpp>

#include "internal.hpp"

namespace sbx::alerts {
namespace {

spdlog::level::level_enum log_level(const std::string& severity) {
  if (severity == "critical") return spdlog::level::critical;
  if (severity == "error") return spdlog::level::err;
  if (severity == "warning") return spdlog::level::warn;
  return spdlog::level::info;
}

// The kernel refuses an environment string over 128 KiB (MAX_ARG_STRLEN) and the command would not start at
// all; the JSON on stdin always carries the whole text.
constexpr size_t kMaxEnvValue = 32 * 1024;

std::string env_entry(const std::string& name, const std::string& value) {
  std::string text = value.substr(0, value.find('\0'));  // an environment string ends at the first NUL
  if (text.size() > kMaxEnvValue) {
    size_t cut = kMaxEnvValue;
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8 whole
    text.resize(cut);
  }
  return "STRONGBOX_ALERT_" + name + "=" + text;
}

}  // namespace

nlohmann::json alert_json(const catalog::Alert& alert) {
  return {{"id", alert.id},           {"time", detail::iso_time(alert.time_ns)},
          {"time_ns", alert.time_ns}, {"severity", alert.severity},
          {"source", alert.source},   {"subject", alert.subject},
          {"message", alert.message}};
}

Deliverer::Deliverer(DeliveryConfig config) : config_(std::move(config)) {
  if (config_.timeout_ms < 1) throw ConfigError("alert delivery timeout must be at least 1 ms");
}

std::string Deliverer::deliver(const catalog::Alert& alert) {
  // Messages may hold raw path bytes; replaced, never refused, so one odd byte cannot stop every delivery.
  const std::string body = alert_json(alert).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::vector<std::string> errors;
  if (!config_.command_argv.empty()) {
    std::vector<std::string> env = {
        env_entry("ID", std::to_string(alert.id)), env_entry("SEVERITY", alert.severity),
        env_entry("SOURCE", alert.source),         env_entry("SUBJECT", alert.subject),
        env_entry("MESSAGE", alert.message),       env_entry("TIME", detail::iso_time(alert.time_ns))};
    std::string error = detail::run_command(config_.command_argv, env, body + "\n", config_.timeout_ms);
    if (!error.empty()) errors.push_back(std::move(error));
  }
  if (!config_.webhook_url.empty()) {
    std::string error = detail::post_json(config_.webhook_url, body, config_.timeout_ms);
    if (!error.empty()) errors.push_back(std::move(error));
  }
  std::string joined;
  for (const auto& e : errors) joined += (joined.empty() ? "" : "; ") + e;
  return joined;
}

size_t Deliverer::deliver_pending(catalog::Catalog& catalog) {
  size_t marked = 0;
  for (const auto& alert : catalog.undelivered_alerts()) {
    spdlog::log(log_level(alert.severity), "alert {} [{}] {}: {}", alert.id, alert.severity, alert.source,
                detail::one_line(alert.message, 2000));
    std::string error = deliver(alert);
    if (!error.empty()) spdlog::error("alert {} could not be delivered: {}", alert.id, error);
    catalog.mark_alert_delivered(alert.id, error);
    ++marked;
  }
  return marked;
}

}  // namespace sbx::alerts
