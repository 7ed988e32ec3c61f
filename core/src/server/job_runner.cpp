// The child process of a queued job: reads the job the server started, runs the verb it stands for under that
// job id, and exits with the verb's exit code. The verb records the outcome in the catalog itself; the server
// only steps in when this process dies without doing so.
#include <spdlog/spdlog.h>

#include <strongbox/clock.hpp>
#include <strongbox/server.hpp>

namespace sbx::server {
namespace {

std::string device_name_of(service::Site& site, const catalog::Job& job) {
  if (!job.device_id) return "";
  return site.catalog().device(*job.device_id).name;
}

}  // namespace

int run_job(service::Site& site, int64_t job_id) {
  auto found = site.catalog().find_job(job_id);
  if (!found) throw service::ServiceError("no job with id " + std::to_string(job_id), service::kExitUsage);
  const catalog::Job job = *found;
  if (job.state != "running")
    throw service::ServiceError(
        "job " + std::to_string(job_id) + " is " + job.state + "; only the server starts jobs",
        service::kExitUsage);
  service::JobBinding binding{job.id, job.definition};
  const nlohmann::json& d = job.details;
  if (job.kind == "backup") {
    service::BackupRequest request;
    request.sources = d.value("sources", std::vector<std::string>{});
    request.excludes = d.value("excludes", std::vector<std::string>{});
    request.includes = d.value("includes", std::vector<std::string>{});
    request.level = d.value("level", std::string("incremental"));
    request.agent = d.value("agent", std::string("files"));
    request.device = device_name_of(site, job);
    request.job = binding;
    auto result = site.backup(request, {});
    return result.warnings.empty() ? service::kExitOk : service::kExitPartial;
  }
  if (job.kind == "synthesize") {
    // A schedule that synthesizes weekly fires even when nothing was backed up since the last full: that is
    // nothing to do, not a failure to retry and alert about.
    std::optional<catalog::BackupSet> newest;
    for (const auto& set : site.catalog().sets_in_state("complete"))
      if (!set.copy_of && set.definition == job.definition &&
          (!newest || std::pair(set.started_ns, set.id) > std::pair(newest->started_ns, newest->id)))
        newest = set;
    if (newest && newest->level == "full" && !d.contains("set_id")) {
      const std::string message =
          "nothing to synthesize: the newest set (" + std::to_string(newest->id) + ") is a full";
      site.catalog().append_job_log(job.id, "info", message);
      site.catalog().finish_job(job.id, "succeeded", message, nlohmann::json::object());
      return service::kExitOk;
    }
    service::SynthesizeRequest request;
    request.definition = job.definition;
    if (d.contains("set_id")) request.set_id = d["set_id"].get<int64_t>();
    request.device = device_name_of(site, job);
    request.job = binding;
    site.synthesize(request, {});
    return service::kExitOk;
  }
  if (job.kind == "duplicate") {
    service::DuplicateRequest request;
    request.set_id = d.at("set_id").get<int64_t>();
    request.device = device_name_of(site, job);
    request.retain_until_ns = d.value("retain_until_ns", int64_t(0));
    if (d.contains("planned_copy_id")) request.planned_copy_id = d["planned_copy_id"].get<int64_t>();
    request.job = binding;
    site.duplicate(request, {});
    return service::kExitOk;
  }
  if (job.kind == "verify") {
    auto result = job.device_id ? site.verify_device(device_name_of(site, job), {}, binding)
                                : site.verify(std::nullopt, {}, binding);
    return result.damage.empty() ? service::kExitOk : service::kExitDamaged;
  }
  if (job.kind == "expire") {
    auto result = site.expire(false, clock::now_ns(), binding);
    auto copies = site.expire_copies(clock::now_ns());
    return result.errors.empty() && copies.errors.empty() ? service::kExitOk : service::kExitFailed;
  }
  throw service::ServiceError("job " + std::to_string(job_id) + " is of kind '" + job.kind +
                              "', which the server does not run");
}

}  // namespace sbx::server
