// The server's config file: plain JSON that lives in git beside the site's definitions.
#include <fstream>
#include <set>
#include <strongbox/alerts.hpp>
#include <strongbox/scheduler.hpp>
#include <strongbox/server.hpp>

namespace fs = std::filesystem;
using nlohmann::json;

namespace sbx::server {
namespace {

[[noreturn]] void bad(const fs::path& file, const std::string& what) {
  throw service::ServiceError("server config " + file.string() + ": " + what, service::kExitUsage);
}

int64_t duration_field(const fs::path& file, const json& doc, const char* key, int64_t fallback) {
  if (!doc.contains(key)) return fallback;
  if (!doc[key].is_string()) bad(file, std::string(key) + " must be a duration such as \"30s\"");
  try {
    int64_t ns = scheduler::parse_duration(doc[key].get<std::string>());
    if (ns <= 0) bad(file, std::string(key) + " must be longer than zero");
    return ns;
  } catch (const scheduler::ScheduleError& e) {
    bad(file, std::string(key) + ": " + e.what());
  }
}

int64_t integer_field(const fs::path& file, const json& doc, const char* key, int64_t fallback, int64_t low,
                      int64_t high) {
  if (!doc.contains(key)) return fallback;
  if (!doc[key].is_number_integer()) bad(file, std::string(key) + " must be an integer");
  int64_t value = doc[key].get<int64_t>();
  if (value < low || value > high)
    bad(file, std::string(key) + " must be " + std::to_string(low) + " to " + std::to_string(high) +
                  ", not " + std::to_string(value));
  return value;
}

}  // namespace

ServerConfig default_config(const fs::path& site) {
  ServerConfig config;
  config.site = fs::absolute(site).lexically_normal();
  return config;
}

ServerConfig load_config(const fs::path& file, const std::string& site_flag) {
  std::ifstream in(file);
  if (!in) bad(file, "cannot be read");
  json doc;
  try {
    doc = json::parse(in);
  } catch (const json::parse_error& e) {
    bad(file, std::string("not valid JSON: ") + e.what());
  }
  if (!doc.is_object()) bad(file, "must be a JSON object");
  static const std::set<std::string> known = {"site",
                                              "role",
                                              "time_zone",
                                              "tick",
                                              "max_jobs",
                                              "late_grace",
                                              "device_check",
                                              "full_warning_percent",
                                              "full_refuse_percent",
                                              "expire_every",
                                              "alerts",
                                              "log_file"};
  for (const auto& [key, value] : doc.items())
    if (!known.count(key)) bad(file, "unknown setting '" + key + "'");
  ServerConfig config;
  std::string site = site_flag;
  if (site.empty()) {
    if (!doc.contains("site") || !doc["site"].is_string()) bad(file, "site (the site directory) is required");
    site = doc["site"].get<std::string>();
    if (fs::path(site).is_relative()) site = (fs::absolute(file).parent_path() / site).string();
  }
  config.site = fs::absolute(site).lexically_normal();
  if (doc.contains("role")) {
    if (!doc["role"].is_string()) bad(file, "role must be a string");
    config.role = doc["role"].get<std::string>();
    static const std::set<std::string> roles = {"standalone", "central", "managed", "offsite"};
    if (!roles.count(config.role))
      bad(file, "role '" + config.role + "' is not one of standalone, central, managed, offsite");
  }
  if (doc.contains("time_zone")) {
    if (!doc["time_zone"].is_string()) bad(file, "time_zone must be a string");
    config.time_zone = doc["time_zone"].get<std::string>();
    try {
      scheduler::Schedule::parse("daily 00:00", config.time_zone);
    } catch (const scheduler::ScheduleError& e) {
      bad(file, std::string("time_zone: ") + e.what());
    }
  }
  config.tick_ns = duration_field(file, doc, "tick", config.tick_ns);
  config.late_grace_ns = duration_field(file, doc, "late_grace", config.late_grace_ns);
  config.device_check_ns = duration_field(file, doc, "device_check", config.device_check_ns);
  if (doc.contains("expire_every") && doc["expire_every"] == "never")
    config.expire_every_ns = 0;
  else
    config.expire_every_ns = duration_field(file, doc, "expire_every", config.expire_every_ns);
  config.max_jobs = integer_field(file, doc, "max_jobs", config.max_jobs, 1, 256);
  config.full_warning_percent =
      integer_field(file, doc, "full_warning_percent", config.full_warning_percent, 1, 100);
  config.full_refuse_percent =
      integer_field(file, doc, "full_refuse_percent", config.full_refuse_percent, 1, 100);
  if (doc.contains("alerts")) {
    if (!doc["alerts"].is_object()) bad(file, "alerts must be an object with command and/or webhook");
    try {
      alerts::parse_delivery_config(doc["alerts"]);
    } catch (const alerts::ConfigError& e) {
      bad(file, std::string("alerts: ") + e.what());
    }
    config.alerts = doc["alerts"];
  }
  if (doc.contains("log_file")) config.log_file = doc["log_file"].get<std::string>();
  return config;
}

}  // namespace sbx::server
