// Retention: the site's Lua policy decides per series which sets to keep; the engine's invariants and a
// fail-closed rule guard the result; each decision is recorded with the policy revision that made it.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <set>
#include <strongbox/policy.hpp>

#include "internal.hpp"

namespace sbx::service {

ExpireResult Site::expire(bool dry_run, int64_t now, const JobBinding& binding) {
  // Shared: backups may run meanwhile. The catalog refuses to expire a set a writing set is based on, so a
  // backup never loses its base; only the orphan sweep below needs the site to itself.
  std::optional<detail::SiteLock> lock(std::in_place, dir_, false);
  ExpireResult result;
  result.dry_run = dry_run;
  policy::PolicyEngine engine(policy_dir());
  if (auto error = engine.last_error())
    result.errors.push_back("policy " + policy_dir().string() + " failed to load: " + *error);
  result.revision = engine.revision();
  if (result.revision.empty()) result.revision = policy::policy_revision(policy_dir());

  std::map<std::string, std::vector<catalog::BackupSet>> by_series;
  // Copies keep their own retention (fixed days, or until the next stage copied them): the series policy
  // decides over originals only.
  for (const auto& s : catalog_->sets_in_state("complete"))
    if (!s.copy_of) by_series[s.series].push_back(s);

  std::vector<catalog::BackupSet> to_expire;
  std::optional<int64_t> job_id;
  if (!dry_run) job_id = begin_job("expire", {{"policy_dir", policy_dir().string()}}, binding);
  for (const auto& [series, sets] : by_series) {
    std::vector<policy::SetInfo> infos;
    for (const auto& s : sets) {
      policy::SetInfo info;
      info.id = s.id;
      info.level = s.level;
      info.base = s.base_set_id;
      info.started_s = s.started_ns / 1000000000;
      info.completed_s = s.completed_ns / 1000000000;
      info.files = s.file_count;
      info.bytes = s.bytes;
      info.legal_hold = s.legal_hold;
      infos.push_back(info);
    }
    policy::ExpireResult decided = engine.evaluate_expire(series, infos, now / 1000000000);
    if (!decided.revision.empty()) result.revision = decided.revision;
    if (decided.failed) {
      std::string line = "retention policy failed for series " + series + ": " +
                         decided.error.value_or("unknown error") + "; every set is kept";
      if (result.errors.empty() || result.errors.back() != line) result.errors.push_back(line);
      if (!dry_run) catalog_->raise_alert("error", "policy", line);
    }
    for (const auto& d : decided.decisions) {
      result.decisions.push_back({d.set_id, series, d.keep, d.reasons});
      if (dry_run) continue;
      // A policy that failed to load has no revision of its own: the decision (keep) is logged under the
      // revision of the files that failed, so the log shows which change broke retention.
      catalog_->record_decision(d.set_id, d.keep ? "keep" : "expire",
                                {{"reasons", d.reasons},
                                 {"overridden", d.overridden},
                                 {"policy_file", decided.policy_file},
                                 {"failed", decided.failed}},
                                decided.revision.empty() ? result.revision : decided.revision);
      std::string reasons;
      for (const auto& r : d.reasons) reasons += (reasons.empty() ? "" : "; ") + r;
      catalog_->append_job_log(
          *job_id, "info",
          "set " + std::to_string(d.set_id) + ": " + (d.keep ? "keep" : "expire") + " by policy " +
              (decided.revision.empty() ? result.revision : decided.revision) + ": " + reasons);
      if (!d.keep)
        for (const auto& s : sets)
          if (s.id == d.set_id) to_expire.push_back(s);
    }
  }
  if (dry_run) {
    for (const auto& d : result.decisions) result.expired += d.keep ? 0 : 1;
    return result;
  }
  // The catalog forgets a set before its data goes: a crash in between leaves an orphan file (swept below,
  // or by the next expire), never a catalogued set whose data is missing.
  std::map<int64_t, std::unique_ptr<plugins::StorageDevice>> devices;
  // Newest first: a set is only expired once nothing still live depends on it.
  std::sort(to_expire.begin(), to_expire.end(), [](const auto& a, const auto& b) {
    return a.started_ns != b.started_ns ? a.started_ns > b.started_ns : a.id > b.id;
  });
  for (const auto& s : to_expire) {
    catalog_->expire_set(s.id);
    catalog_->audit("policy", "set.expire", {{"set_id", s.id}, {"revision", result.revision}});
    ++result.expired;
    try {
      auto& device = devices[s.device_id];
      if (!device) device = open_device(catalog_->device(s.device_id));
      device->delete_set(s.store_name);
    } catch (const std::exception& e) {
      result.errors.push_back("set " + std::to_string(s.id) +
                              " expired, but its data could not be deleted yet: " + e.what());
    }
  }
  lock.reset();
  sweep_orphans_if_idle();
  catalog_->finish_job(*job_id, result.errors.empty() ? "succeeded" : "failed",
                       std::to_string(result.expired) + " sets expired", result.to_json());
  return result;
}

void Site::sweep_orphans_if_idle() {
  try {
    detail::SiteLock exclusive(dir_, true);
    sweep_orphans();
  } catch (const ServiceError& e) {
    if (e.exit_code() != kExitLocked) throw;
    spdlog::info("orphan sweep skipped: other jobs are running");
  }
}

// Data of sets this catalog expired whose deletion was interrupted. A name the catalog never recorded on a
// device is not this site's to delete (another site may share the device, or the catalog was restored from
// an older copy): it is kept and reported. Called under the exclusive site lock.
void Site::sweep_orphans() {
  std::map<int64_t, std::set<std::string>> live, expired;
  for (const auto& s : catalog_->list_sets())
    (s.state == "expired" ? expired : live)[s.device_id].insert(s.store_name);
  for (const auto& d : catalog_->list_devices()) {
    try {
      auto device = open_device(d);
      for (const auto& name : device->list_sets()) {
        if (live[d.id].count(name)) continue;
        if (expired[d.id].count(name))
          device->delete_set(name);
        else
          spdlog::warn("device {} holds set {}, which this catalog does not know; it is kept", d.name, name);
      }
    } catch (const std::exception& e) {
      spdlog::warn("could not sweep device {}: {}", d.name, e.what());
    }
  }
}

}  // namespace sbx::service
