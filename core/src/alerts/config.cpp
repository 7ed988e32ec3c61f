// The "alerts" section of a server configuration.
#include <strongbox/alerts.hpp>
#include <strongbox/scheduler.hpp>

#include "internal.hpp"

namespace sbx::alerts {
namespace {

constexpr int64_t kMaxTimeoutMs = 10 * 60 * 1000;

int parse_timeout(const nlohmann::json& value) {
  int64_t ms = 0;
  if (value.is_number_integer()) {
    ms = value.get<int64_t>();
  } else if (value.is_number_float()) {
    throw ConfigError("alerts.timeout must be whole milliseconds or a duration such as \"5s\", not " +
                      value.dump());
  } else if (value.is_string()) {
    try {
      ms = scheduler::parse_duration(value.get<std::string>()) / 1000000;
    } catch (const scheduler::ScheduleError& e) {
      throw ConfigError("alerts.timeout: " + std::string(e.what()));
    }
  } else {
    throw ConfigError("alerts.timeout must be milliseconds or a duration such as \"5s\", not " +
                      std::string(value.type_name()));
  }
  if (ms < 1 || ms > kMaxTimeoutMs)
    throw ConfigError("alerts.timeout must be between 1 ms and 10 minutes, not " + std::to_string(ms) +
                      " ms");
  return int(ms);
}

}  // namespace

DeliveryConfig parse_delivery_config(const nlohmann::json& config) {
  if (!config.is_object())
    throw ConfigError("the alerts configuration must be a JSON object, not " +
                      std::string(config.type_name()));
  DeliveryConfig result;
  for (const auto& [key, value] : config.items()) {
    if (key == "command") {
      if (!value.is_array())
        throw ConfigError(
            "alerts.command must be an array of strings, the program and its arguments (no shell is used), "
            "not " +
            std::string(value.type_name()));
      if (value.empty()) throw ConfigError("alerts.command is an empty array; name at least the program");
      for (size_t i = 0; i < value.size(); ++i) {
        if (!value[i].is_string())
          throw ConfigError("alerts.command[" + std::to_string(i) + "] must be a string, not " +
                            std::string(value[i].type_name()));
        std::string argument = value[i].get<std::string>();
        if (argument.find('\0') != std::string::npos)
          throw ConfigError("alerts.command[" + std::to_string(i) + "] contains a NUL byte");
        result.command_argv.push_back(std::move(argument));
      }
      if (result.command_argv[0].empty()) throw ConfigError("alerts.command[0], the program, is empty");
    } else if (key == "webhook") {
      if (!value.is_string())
        throw ConfigError("alerts.webhook must be an http:// or https:// URL string, not " +
                          std::string(value.type_name()));
      result.webhook_url = value.get<std::string>();
      if (!result.webhook_url.empty() && detail::url_origin(result.webhook_url).empty())
        throw ConfigError("alerts.webhook '" + detail::one_line(result.webhook_url, 200) +
                          "' is not an http:// or https:// URL with a host");
    } else if (key == "timeout") {
      result.timeout_ms = parse_timeout(value);
    } else {
      throw ConfigError("alerts has no setting '" + detail::one_line(key, 100) +
                        "' (known: command, webhook, timeout)");
    }
  }
  return result;
}

}  // namespace sbx::alerts
