// gc: the second step of deletion on dedup devices. Expiry removes a set from the catalog and its manifest
// from the device; gc then reclaims the chunks no live set needs. The catalog names the live sets (every
// set not expired, including ones being written), and the device keeps what writers in flight rely on.
#include <spdlog/spdlog.h>

#include "internal.hpp"

namespace sbx::service {

GcResult Site::collect_garbage(const std::string& device_name, bool dry_run, const JobBinding& job) {
  auto started = std::chrono::steady_clock::now();
  // Shared: backups and duplications go on while gc runs.
  detail::SiteLock lock(dir_, false);
  std::vector<catalog::Device> targets;
  if (!device_name.empty()) {
    auto device = catalog_->find_device(device_name);
    if (!device)
      throw ServiceError("no device named '" + device_name + "' (see `strongbox devices list`)", kExitUsage);
    targets.push_back(*device);
  } else {
    for (const auto& d : catalog_->list_devices())
      if (!d.removed_ns) targets.push_back(d);
  }
  GcResult result;
  result.dry_run = dry_run;
  std::vector<std::pair<catalog::Device, std::unique_ptr<plugins::StorageDevice>>> dedup;
  std::vector<GcDeviceResult> offline;
  for (const auto& d : targets) {
    std::unique_ptr<plugins::StorageDevice> opened;
    try {
      opened = open_device(d);
    } catch (const plugins::PluginError& e) {
      // A rotated drive that is not plugged in has nothing to collect tonight; every other device still
      // gets its gc. Asked for by name, it is an error.
      auto plugin = registry_->find(SBX_KIND_STORAGE, d.type);
      if (!device_name.empty() || e.status() != SBX_ERR_OFFLINE || !plugin ||
          !(plugin->capabilities & SBX_CAP_DEDUP))
        throw;
      GcDeviceResult skipped;
      skipped.device = d.name;
      skipped.offline = e.what();
      offline.push_back(std::move(skipped));
      continue;
    }
    if (opened->deduplicates())
      dedup.emplace_back(d, std::move(opened));
    else if (!device_name.empty())
      throw ServiceError(
          "device '" + d.name +
              "' does not deduplicate: expiring a set frees its space at once, gc has nothing to do",
          kExitUsage);
  }
  result.job_id = begin_job("gc", {{"device", device_name}, {"dry_run", dry_run}}, job);
  for (auto& skipped : offline) {
    catalog_->append_job_log(result.job_id, "warning",
                             "device " + skipped.device + " is offline, skipped: " + skipped.offline);
    result.devices.push_back(std::move(skipped));
  }
  bool failed = false;
  for (auto& [row, device] : dedup) {
    GcDeviceResult r;
    r.device = row.name;
    std::vector<std::string> live;
    for (const auto& set : catalog_->list_sets())
      if (set.device_id == row.id && set.state != "expired" && !set.store_name.empty())
        live.push_back(set.store_name);
    try {
      sbx_gc_stats stats = device->collect_garbage(live, dry_run);
      r.sets_marked = stats.sets_marked;
      r.sets_unknown = stats.sets_unknown;
      r.chunks_live = stats.chunks_live;
      r.chunks_freed = stats.chunks_freed;
      r.bytes_freed = stats.bytes_freed;
      r.packs_deleted = stats.packs_deleted;
      r.packs_rewritten = stats.packs_rewritten;
      r.bytes_after = stats.bytes_after;
      catalog_->append_job_log(
          result.job_id, "info",
          "device " + row.name + ": " + (dry_run ? "would free " : "freed ") + std::to_string(r.bytes_freed) +
              " bytes (" + std::to_string(r.chunks_freed) + " chunks); " + std::to_string(r.chunks_live) +
              " chunks of " + std::to_string(r.sets_marked) + " live sets remain, " +
              std::to_string(r.bytes_after) + " bytes");
      if (r.sets_unknown)
        catalog_->append_job_log(result.job_id, "warning",
                                 "device " + row.name + " holds " + std::to_string(r.sets_unknown) +
                                     " sets the catalog does not know; gc kept them");
    } catch (const std::exception& e) {
      r.error = e.what();
      failed = true;
      catalog_->append_job_log(result.job_id, "error", "device " + row.name + ": " + r.error);
      catalog_->raise_alert(
          "error", "gc",
          "gc job " + std::to_string(result.job_id) + " failed on device " + row.name + ": " + r.error);
    }
    result.devices.push_back(std::move(r));
  }
  result.seconds = detail::seconds_since(started);
  uint64_t freed = 0;
  for (const auto& r : result.devices) freed += r.bytes_freed;
  std::string summary = std::string(dry_run ? "would free " : "freed ") + std::to_string(freed) +
                        " bytes on " + std::to_string(result.devices.size() - offline.size()) +
                        " dedup devices" +
                        (offline.empty() ? "" : "; " + std::to_string(offline.size()) + " offline, skipped");
  catalog_->finish_job(result.job_id, failed ? "failed" : "succeeded", summary, result.to_json());
  return result;
}

nlohmann::json GcResult::to_json() const {
  nlohmann::json devs = nlohmann::json::array();
  for (const auto& r : devices) {
    nlohmann::json j = {{"device", r.device},
                        {"sets_marked", r.sets_marked},
                        {"sets_unknown", r.sets_unknown},
                        {"chunks_live", r.chunks_live},
                        {"chunks_freed", r.chunks_freed},
                        {"bytes_freed", r.bytes_freed},
                        {"packs_deleted", r.packs_deleted},
                        {"packs_rewritten", r.packs_rewritten},
                        {"bytes_after", r.bytes_after}};
    if (!r.error.empty()) j["error"] = r.error;
    if (!r.offline.empty()) j["offline"] = r.offline;
    devs.push_back(std::move(j));
  }
  return {{"type", "gc"}, {"job_id", job_id}, {"dry_run", dry_run}, {"devices", devs}, {"seconds", seconds}};
}

}  // namespace sbx::service
