// Duplicate: a copy of one complete set on another device (staging, duplication). The copy is a set of its
// own with its own retention; copy_of names the original, so restores and dependents resolve to whichever
// copy survives.
#include <spdlog/spdlog.h>

#include "internal.hpp"

namespace sbx::service {

DuplicateResult Site::duplicate(const DuplicateRequest& request, const ProgressFn& progress) {
  auto started = std::chrono::steady_clock::now();
  if (request.device.empty())
    throw ServiceError("give the device to copy set " + std::to_string(request.set_id) + " to", kExitUsage);
  if (request.retain_until_ns < 0)
    throw ServiceError("the retention of a copy cannot end before 1970", kExitUsage);
  recover_if_idle();
  detail::SiteLock lock(dir_, false);

  auto source = catalog_->find_set(request.set_id);
  if (!source || source->state != "complete")
    throw ServiceError("no complete backup set with id " + std::to_string(request.set_id), kExitUsage);
  if (catalog_->device(source->device_id).removed_ns)
    throw ServiceError("set " + std::to_string(source->id) + " lives on a removed device", kExitUsage);
  auto device = catalog_->find_device(request.device);
  if (!device)
    throw ServiceError("no device named '" + request.device + "' (see `strongbox devices list`)", kExitUsage);
  if (device->id == source->device_id)
    throw ServiceError("set " + std::to_string(source->id) + " already lives on device '" + device->name +
                           "'; a copy must go to another device",
                       kExitUsage);
  const int64_t original = source->copy_of.value_or(source->id);
  if (request.planned_copy_id) {
    auto plans = catalog_->planned_copies(original);
    auto it = std::find_if(plans.begin(), plans.end(),
                           [&](const auto& p) { return p.id == *request.planned_copy_id; });
    if (it == plans.end())
      throw ServiceError("planned copy " + std::to_string(*request.planned_copy_id) +
                             " is not a copy of set " + std::to_string(original),
                         kExitUsage);
    if (it->state == "done")
      throw ServiceError("planned copy " + std::to_string(it->id) + " is already done (set " +
                             std::to_string(it->copy_set_id.value_or(0)) + ")",
                         kExitUsage);
  }

  if (!request.planned_copy_id) {
    // A second copy on one device protects nothing more; asked for by hand, it is most likely a repeat.
    std::vector<catalog::BackupSet> instances = catalog_->copies_of_set(original);
    if (auto first = catalog_->find_set(original)) instances.push_back(*first);
    for (const auto& instance : instances)
      if (instance.device_id == device->id && instance.state != "expired")
        throw ServiceError("set " + std::to_string(source->id) + " already has a copy on device '" +
                               device->name + "': set " + std::to_string(instance.id),
                           kExitUsage);
  }

  DuplicateResult result;
  result.source_set_id = source->id;
  result.device = device->name;
  nlohmann::json details = {{"set_id", source->id}, {"device", device->name}};
  if (request.planned_copy_id) details["planned_copy_id"] = *request.planned_copy_id;
  result.job_id = begin_job("duplicate", details, request.job);
  catalog_->set_job_device(result.job_id, device->id);

  try {
    // Every version as the set recorded it, deletion markers included, in the order it was written.
    std::vector<catalog::FileVersion> versions;
    catalog_->for_each_file(source->id, [&](const catalog::FileVersion& v) { versions.push_back(v); });
    std::vector<const catalog::FileVersion*> ordered;
    ordered.reserve(versions.size());
    for (const auto& v : versions) ordered.push_back(&v);
    std::stable_sort(ordered.begin(), ordered.end(), [](auto* a, auto* b) { return a->seq < b->seq; });

    catalog::BackupSet target;
    target.job_id = result.job_id;
    target.level = source->level;
    target.base_set_id = source->base_set_id;
    target.series = source->series;
    target.sources = source->sources;
    target.agent = source->agent;
    target.definition = source->definition;
    target.synthetic = source->synthetic;
    target.copy_of = original;
    target.retain_until_ns = request.retain_until_ns;
    target.started_ns = source->started_ns;
    catalog_->append_job_log(result.job_id, "info",
                             "copying set " + std::to_string(source->id) + " (" +
                                 std::to_string(versions.size()) + " entries) to device " + device->name);
    bool by_chunks = false;
    {
      auto from = open_device(catalog_->device(source->device_id));
      auto to = open_device(*device);
      by_chunks = detail::same_dedup_domain(*from, *to);
    }
    auto copied = by_chunks
                      ? detail::copy_set_by_chunks(*this, *source, *device, target, ordered,
                                                   request.planned_copy_id, progress)
                      : detail::write_set_from(*this, *device, target, {{*source, ordered}}, source->warnings,
                                               request.planned_copy_id, progress, "duplicate");
    result.optimized = by_chunks;
    result.chunks_total = copied.chunks_total;
    result.chunks_sent = copied.chunks_sent;
    result.bytes_sent = by_chunks ? copied.bytes_sent : copied.bytes;
    if (by_chunks)
      catalog_->append_job_log(result.job_id, "info",
                               "optimized duplication: sent " + std::to_string(copied.chunks_sent) + " of " +
                                   std::to_string(copied.chunks_total) + " chunks, " +
                                   std::to_string(copied.bytes_sent) + " bytes");
    result.set_id = copied.set_id;
    result.entries = copied.entries;
    result.bytes = copied.bytes;
    result.stored_bytes = copied.stored_bytes;
  } catch (const std::exception& e) {
    std::string message =
        "copy of set " + std::to_string(source->id) + " to device " + device->name + " failed: " + e.what();
    try {
      catalog_->append_job_log(result.job_id, "error", message);
      catalog_->finish_job(result.job_id, "failed", message, nlohmann::json::object());
      if (request.planned_copy_id)
        catalog_->update_copy(*request.planned_copy_id, "failed", result.job_id, std::nullopt, e.what());
      catalog_->raise_alert("error", "duplicate",
                            "duplicate job " + std::to_string(result.job_id) + " failed: " + message);
    } catch (const std::exception& inner) {
      spdlog::error("could not record the failure of job {}: {}", result.job_id, inner.what());
    }
    throw ServiceError(message);
  }
  result.seconds = detail::seconds_since(started);
  std::string summary = "set " + std::to_string(result.set_id) + ": copy of set " + std::to_string(original) +
                        " on device " + device->name + ", " + std::to_string(result.entries) + " entries";
  catalog_->append_job_log(result.job_id, "info", summary);
  catalog_->finish_job(result.job_id, "succeeded", summary, result.to_json());
  if (progress) progress(ProgressInfo{"duplicate", result.entries, result.bytes, {}});
  return result;
}

nlohmann::json DuplicateResult::to_json() const {
  return {{"type", "duplicate"},
          {"job_id", job_id},
          {"source_set_id", source_set_id},
          {"set_id", set_id},
          {"device", device},
          {"entries", entries},
          {"bytes", bytes},
          {"stored_bytes", stored_bytes},
          {"optimized", optimized},
          {"chunks_total", chunks_total},
          {"chunks_sent", chunks_sent},
          {"bytes_sent", bytes_sent},
          {"seconds", seconds}};
}

}  // namespace sbx::service
