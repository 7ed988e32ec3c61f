// `strongbox server`: the standalone backup server. It turns definitions into scheduled jobs, keeps the
// queue, runs each job in a child process (`strongbox job run ID`), carries out admins' cancel/pause/resume
// requests, plans and runs staging copies, watches devices and delivers alerts. All state lives in the site's
// catalog, so a restart loses no queued job and the CLI sees what the server does.
#pragma once

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <strongbox/service.hpp>
#include <vector>

namespace sbx::server {

struct ServerConfig {
  std::filesystem::path site;
  std::string role = "standalone";
  std::string time_zone;                    // default zone of schedules ("" = the machine's)
  int64_t tick_ns = 1'000'000'000;          // how often the loop looks at the clock and the queue (real time)
  int64_t max_jobs = 4;                     // jobs at once on this server
  int64_t late_grace_ns = 120'000'000'000;  // a firing noticed later than this was passed over (server down)
  int64_t device_check_ns = 60'000'000'000;    // how often devices are checked for offline / nearly full
  int64_t full_warning_percent = 90;           // alert when a device is fuller than this
  int64_t full_refuse_percent = 98;            // and take no new job on it
  int64_t expire_every_ns = 3600'000'000'000;  // retention runs this often (0: never automatically)
  nlohmann::json alerts = nlohmann::json::object();  // delivery: {"command": [...], "webhook": "http://..."}
  std::filesystem::path log_file;                    // "" = stderr
};

// Reads a server config file (JSON, see docs/admin-guide.md); site_flag overrides its "site". One-line
// ServiceError(kExitUsage) naming the file and the field on any problem.
ServerConfig load_config(const std::filesystem::path& file, const std::string& site_flag);
// A config for `strongbox server --site DIR` without a file.
ServerConfig default_config(const std::filesystem::path& site);

// The job a definition asks for with a method (full, incremental, differential, synthetic; verify definitions
// ignore it): kind, details, target, priority and attempts; the caller adds timing.
catalog::JobRequest request_for(const catalog::Definition& def, const std::string& method);

// Runs until SIGTERM/SIGINT; returns the process exit code.
int run(const ServerConfig& config);

// The child side: runs queued job `job_id` (the server marked it running) and records its outcome.
int run_job(service::Site& site, int64_t job_id);

}  // namespace sbx::server
