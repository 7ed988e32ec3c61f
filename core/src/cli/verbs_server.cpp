// strongbox server, strongbox jobs ..., and the internal `strongbox job run ID` the server starts per job.
#include <fcntl.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <strongbox/clock.hpp>
#include <strongbox/server.hpp>

#include "verbs.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using sbx::service::ServiceError;

namespace sbx::cli {
namespace {

// True while a server holds the site (it keeps an exclusive flock on server.lock).
bool server_running(const fs::path& site_dir) {
  int fd = ::open((site_dir / "server.lock").c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0;
  ::close(fd);
  return held;
}

std::string time_or_dash(int64_t ns) {
  return ns ? service::format_time(ns) : "-";
}

json job_json(const catalog::Job& j) {
  json out = {{"type", "job"},
              {"id", j.id},
              {"kind", j.kind},
              {"state", j.state},
              {"definition", j.definition},
              {"target", j.target},
              {"priority", j.priority},
              {"attempt", j.attempt},
              {"max_attempts", j.max_attempts},
              {"paused", j.paused},
              {"created", service::format_time(j.created_ns)},
              {"scheduled", j.scheduled_ns ? json(service::format_time(j.scheduled_ns)) : json(nullptr)},
              {"deadline", j.deadline_ns ? json(service::format_time(j.deadline_ns)) : json(nullptr)},
              {"not_before", j.not_before_ns ? json(service::format_time(j.not_before_ns)) : json(nullptr)},
              {"started", j.started_ns ? json(service::format_time(j.started_ns)) : json(nullptr)},
              {"finished", j.finished_ns ? json(service::format_time(j.finished_ns)) : json(nullptr)},
              {"message", j.message},
              {"details", j.details}};
  out["device_id"] = j.device_id ? json(*j.device_id) : json(nullptr);
  out["set_id"] = j.set_id ? json(*j.set_id) : json(nullptr);
  out["retry_of"] = j.retry_of ? json(*j.retry_of) : json(nullptr);
  // The job's process while it runs, for an admin who wants to look at it (strace, /proc, top).
  out["pid"] = j.state == "running" && j.pid ? json(j.pid) : json(nullptr);
  if (!j.control.empty()) out["control_requested"] = j.control;
  return out;
}

void print_job_line(const catalog::Job& j) {
  std::string state =
      j.state + (j.paused ? " (paused)" : "") + (j.control.empty() ? "" : " (" + j.control + " asked)");
  std::printf("%6lld  %-10s %-22s %-12s %-20s %-20s %s\n", (long long)j.id, j.kind.c_str(), state.c_str(),
              j.definition.empty() ? "-" : j.definition.c_str(),
              time_or_dash(j.scheduled_ns ? j.scheduled_ns : j.created_ns).c_str(),
              time_or_dash(j.finished_ns).c_str(), j.message.c_str());
}

struct JobsOptions {
  std::string config;
  std::string job_id;
  std::vector<std::string> states;
  std::string definition;
  std::string kind;
  std::string since, until;
  size_t limit = 50;
  std::string start_definition;
  std::string method = "incremental";
};

int64_t parse_when(const std::string& text, const char* flag) {
  if (text.empty()) return 0;
  if (auto t = service::parse_time(text)) return *t;
  throw ServiceError(std::string(flag) + " wants a time like 2026-11-22T10:00:00Z, not '" + text + "'",
                     service::kExitUsage);
}

catalog::Job require_job(service::Site& site, int64_t id) {
  auto job = site.catalog().find_job(id);
  if (!job) throw ServiceError("no job with id " + std::to_string(id), service::kExitUsage);
  return *job;
}

// Cancel, pause and resume go through the server that runs the job. With no server running only queued jobs
// can be changed, and the CLI does it itself.
void control(const Globals& g, const std::string& id_text, const std::string& action) {
  auto site = open_site(g);
  const int64_t id = parse_id(id_text, "job id");
  catalog::Job job = require_job(*site, id);
  if (job.finished_ns)
    throw ServiceError("job " + id_text + " already finished (" + job.state + ")", service::kExitUsage);
  const bool server = server_running(site->dir());
  if (!server && job.state == "running")
    throw ServiceError(
        "job " + id_text + " runs outside a server (started from the command line); stop it where it runs",
        service::kExitUsage);
  try {
    if (server) {
      site->catalog().request_job_control(id, action);
    } else if (action == "cancel") {
      site->catalog().finish_job(id, "cancelled", "cancelled by an administrator before it started",
                                 json::object());
    } else {
      if ((action == "pause") == job.paused)
        throw ServiceError("job " + id_text + (job.paused ? " is already paused" : " is not paused"),
                           service::kExitUsage);
      site->catalog().settle_job_control(id, action == "pause");
      site->catalog().append_job_log(id, "info", action == "pause" ? "paused while queued" : "resumed");
    }
  } catch (const catalog::CatalogError& e) {
    throw ServiceError(e.what(), service::kExitUsage);
  }
  site->catalog().audit("cli", "job." + action, {{"job", id}});
  if (g.out.json)
    print_json({{"type", "job_control"}, {"job", id}, {"action", action}, {"via_server", server}});
  else if (!g.out.quiet)
    std::printf(server ? "job %lld: %s requested; the server carries it out\n" : "job %lld: %s done\n",
                (long long)id, action.c_str());
}

}  // namespace

void add_server_verbs(CLI::App& app, Globals& g) {
  auto options = std::make_shared<JobsOptions>();

  auto* server =
      app.add_subcommand("server", "run the backup server (schedules, queue, staging, alerts) until stopped");
  server->add_option("--config", options->config, "server config file (JSON; see docs/admin-guide.md)");
  server->callback([&g, options] {
    server::ServerConfig config = options->config.empty()
                                      ? server::default_config(service::Site::locate(g.site))
                                      : server::load_config(options->config, g.site);
    if (!config.log_file.empty()) {
      auto sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(config.log_file.string());
      spdlog::default_logger()->sinks().push_back(sink);
    }
    if (g.verbosity == 0 && !g.out.quiet) spdlog::set_level(spdlog::level::info);
    g.exit_code = server::run(config);
  });

  // The child side of a server job; not for people, hence hidden from --help.
  auto* job = app.add_subcommand("job", "")->group("");
  job->require_subcommand(1);
  auto* job_run = job->add_subcommand("run", "run a job the server started");
  job_run->add_option("ID", options->job_id)->required();
  job_run->callback([&g, options] {
    auto site = open_site(g);
    g.exit_code = server::run_job(*site, parse_id(options->job_id, "job id"));
  });

  auto* jobs = app.add_subcommand("jobs", "the job queue and job history");
  jobs->require_subcommand(1);
  auto* list = jobs->add_subcommand("list", "list jobs, newest first");
  list->add_option("--state", options->states, "only jobs in this state (repeatable)")
      ->check(CLI::IsMember({"queued", "running", "succeeded", "partial", "failed", "cancelled", "missed"}));
  list->add_option("--definition", options->definition, "only jobs of this definition");
  list->add_option("--kind", options->kind,
                   "only jobs of this kind (backup, verify, synthesize, duplicate, expire...)");
  list->add_option("--since", options->since, "only jobs created at or after this time");
  list->add_option("--until", options->until, "only jobs created before this time");
  list->add_option("--limit", options->limit, "at most this many (0: all)");
  list->callback([&g, options] {
    auto site = open_site(g);
    catalog::JobQuery query;
    query.states = options->states;
    query.definition = options->definition;
    query.kind = options->kind;
    query.since_ns = parse_when(options->since, "--since");
    query.until_ns = parse_when(options->until, "--until");
    query.limit = options->limit;
    auto found = site->catalog().query_jobs(query);
    if (!g.out.json && !g.out.quiet)
      std::printf("%6s  %-10s %-22s %-12s %-20s %-20s %s\n", "ID", "KIND", "STATE", "DEFINITION",
                  "SCHEDULED/CREATED", "FINISHED", "MESSAGE");
    for (const auto& j : found) g.out.json ? print_json(job_json(j)) : print_job_line(j);
  });

  auto* show = jobs->add_subcommand("show", "one job with its details");
  show->add_option("ID", options->job_id)->required();
  show->callback([&g, options] {
    auto site = open_site(g);
    catalog::Job j = require_job(*site, parse_id(options->job_id, "job id"));
    if (g.out.json) {
      print_json(job_json(j));
      return;
    }
    std::printf("job %lld: %s, %s%s\n", (long long)j.id, j.kind.c_str(), j.state.c_str(),
                j.paused ? " (paused)" : "");
    if (!j.definition.empty()) std::printf("  definition   %s\n", j.definition.c_str());
    if (!j.target.empty()) std::printf("  target       %s\n", j.target.c_str());
    if (j.device_id) std::printf("  device       %s\n", site->catalog().device(*j.device_id).name.c_str());
    if (j.set_id) std::printf("  set          %lld\n", (long long)*j.set_id);
    std::printf("  priority     %lld, attempt %lld of %lld%s\n", (long long)j.priority, (long long)j.attempt,
                (long long)j.max_attempts,
                j.retry_of ? (" (retry of job " + std::to_string(*j.retry_of) + ")").c_str() : "");
    std::printf("  created      %s\n", time_or_dash(j.created_ns).c_str());
    if (j.scheduled_ns) std::printf("  scheduled    %s\n", time_or_dash(j.scheduled_ns).c_str());
    if (j.deadline_ns) std::printf("  must start   before %s\n", time_or_dash(j.deadline_ns).c_str());
    if (j.not_before_ns) std::printf("  not before   %s\n", time_or_dash(j.not_before_ns).c_str());
    std::printf("  started      %s\n", time_or_dash(j.started_ns).c_str());
    std::printf("  finished     %s\n", time_or_dash(j.finished_ns).c_str());
    if (!j.message.empty()) std::printf("  message      %s\n", j.message.c_str());
  });

  auto* log = jobs->add_subcommand("log", "the log of one job");
  log->add_option("ID", options->job_id)->required();
  log->callback([&g, options] {
    auto site = open_site(g);
    catalog::Job j = require_job(*site, parse_id(options->job_id, "job id"));
    for (const auto& line : site->catalog().job_log(j.id)) {
      if (g.out.json)
        print_json({{"type", "job_log"},
                    {"job", j.id},
                    {"time", service::format_time(line.time_ns)},
                    {"level", line.level},
                    {"message", line.message}});
      else
        std::printf("%s %-7s %s\n", service::format_time(line.time_ns).c_str(), line.level.c_str(),
                    line.message.c_str());
    }
  });

  for (const char* action : {"cancel", "pause", "resume"}) {
    auto* verb = jobs->add_subcommand(action, std::string(action) + " a queued or running job");
    auto id = std::make_shared<std::string>();
    verb->add_option("ID", *id, "job id")->required();
    verb->callback([&g, id, action] { control(g, *id, action); });
  }

  auto* start = jobs->add_subcommand("start", "queue a job for a definition now (the server runs it)");
  start->add_option("DEFINITION", options->start_definition)->required();
  start->add_option("--method", options->method, "full, incremental, differential or synthetic")
      ->check(CLI::IsMember({"full", "incremental", "differential", "synthetic"}));
  start->callback([&g, options] {
    auto site = open_site(g);
    auto def = site->catalog().find_definition(options->start_definition);
    if (!def)
      throw ServiceError("no definition named '" + options->start_definition + "'", service::kExitUsage);
    catalog::JobRequest request = server::request_for(*def, options->method);
    int64_t id = site->catalog().enqueue_job(request);
    site->catalog().append_job_log(id, "info", "queued by an administrator");
    site->catalog().audit("cli", "job.start", {{"job", id}, {"definition", def->name}});
    const bool server = server_running(site->dir());
    if (g.out.json)
      print_json(
          {{"type", "job_queued"}, {"job", id}, {"definition", def->name}, {"server_running", server}});
    else if (!g.out.quiet)
      std::printf("job %lld queued%s\n", (long long)id,
                  server ? "" : " (no server is running: it starts when one does)");
  });
}

}  // namespace sbx::cli
