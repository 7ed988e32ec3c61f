// Synthetic full: the tree a chain of sets shows (the last full and the incrementals after it) written as a
// new full without contacting the source. It stands for the moment of the newest set of the chain, so later
// incrementals base on it and a restore of it equals a restore of a real full taken then.
#include <spdlog/spdlog.h>

#include <map>

#include "internal.hpp"

namespace sbx::service {
namespace {

std::string ids_text(const std::vector<int64_t>& ids) {
  std::string text;
  for (int64_t id : ids) text += (text.empty() ? "" : "-") + std::to_string(id);
  return text;
}

}  // namespace

SynthesizeResult Site::synthesize(const SynthesizeRequest& request, const ProgressFn& progress) {
  auto started = std::chrono::steady_clock::now();
  if (request.set_id && !request.definition.empty())
    throw ServiceError("give either a set or a definition to synthesize, not both", kExitUsage);
  recover_if_idle();
  detail::SiteLock lock(dir_, false);

  // The newest set of the chain: the one asked for, else the newest logical set of the definition.
  catalog::BackupSet newest;
  if (request.set_id) {
    auto set = catalog_->find_set(*request.set_id);
    if (!set || set->state == "writing")
      throw ServiceError("no complete backup set with id " + std::to_string(*request.set_id), kExitUsage);
    newest = *set;
  } else if (!request.definition.empty()) {
    std::optional<catalog::BackupSet> found;
    for (const auto& s : catalog_->sets_in_state("complete")) {
      if (s.definition != request.definition) continue;
      // Sets come oldest first; a copy stands for its original, which it never outranks.
      if (!found || s.copy_of.value_or(s.id) != found->copy_of.value_or(found->id)) found = s;
    }
    if (!found)
      throw ServiceError(
          "definition '" + request.definition + "' has no complete backup set to synthesize from",
          kExitUsage);
    newest = *found;
  } else {
    throw ServiceError("give a set id or --definition NAME to synthesize", kExitUsage);
  }
  if (newest.copy_of) {
    auto original = catalog_->find_set(*newest.copy_of);
    if (original) newest = *original;
  }

  // A synthetic full is a tree of files; an image or database agent's sets cannot be merged that way.
  auto agent = registry_->find(SBX_KIND_AGENT, newest.agent);
  if (!agent)
    throw ServiceError("synthetic full needs file-based backups: agent '" + newest.agent +
                           "' that made set " + std::to_string(newest.id) +
                           " is not loaded, so that cannot be checked",
                       kExitUsage);
  if (!(agent->capabilities & SBX_CAP_FILE_BASED))
    throw ServiceError(
        "synthetic full needs file-based backups: agent '" + newest.agent + "' does not make them",
        kExitUsage);
  if (newest.level == "full" && !newest.base_set_id)
    throw ServiceError(
        "set " + std::to_string(newest.id) +
            " is already a full backup; a synthetic full needs incrementals or a differential after a full",
        kExitUsage);

  std::vector<catalog::BackupSet> chain;
  try {
    chain = chain_of(newest);
  } catch (const ServiceError& e) {
    throw ServiceError(std::string("cannot synthesize: ") + e.what(), e.exit_code());
  }

  std::string device_name = request.device;
  std::optional<catalog::Device> device;
  if (device_name.empty()) {
    device = catalog_->device(newest.device_id);
    if (device->removed_ns)
      throw ServiceError("device '" + device->name + "' of set " + std::to_string(newest.id) +
                             " was removed; give --device for the synthetic full",
                         kExitUsage);
  } else {
    device = catalog_->find_device(device_name);
    if (!device)
      throw ServiceError("no device named '" + device_name + "' (see `strongbox devices list`)", kExitUsage);
  }

  SynthesizeResult result;
  for (const auto& s : chain) result.from_sets.push_back(s.id);
  nlohmann::json details = {
      {"from_sets", result.from_sets}, {"device", device->name}, {"newest_set", newest.id}};
  result.job_id = begin_job("synthesize", details, request.job);
  catalog_->set_job_device(result.job_id, device->id);

  try {
    // The latest version of every path along the chain; a full holds no deletion markers.
    std::vector<catalog::FileVersion> versions;
    std::vector<int64_t> chain_ids = result.from_sets;
    catalog_->for_each_latest(chain_ids, [&](catalog::FileVersion&& v) {
      if (!v.deleted) versions.push_back(std::move(v));
    });
    std::map<int64_t, std::vector<const catalog::FileVersion*>> by_set, links_by_set;
    for (const auto& v : versions)
      (v.type == SBX_ENTRY_HARDLINK ? links_by_set : by_set)[v.set_id].push_back(&v);
    // Each source set is read front to back; hard links go last so their targets precede them in the new set
    // (what tar needs when someone restores it without strongbox).
    std::vector<detail::CopyGroup> groups;
    uint64_t warnings = 0;
    for (auto* pass : {&by_set, &links_by_set})
      for (const auto& s : chain)
        if (auto it = pass->find(s.id); it != pass->end()) {
          std::stable_sort(it->second.begin(), it->second.end(),
                           [](auto* a, auto* b) { return a->seq < b->seq; });
          groups.push_back({s, it->second});
        }
    for (const auto& s : chain) warnings += s.warnings;

    catalog::BackupSet target;
    target.job_id = result.job_id;
    target.level = "full";
    target.series = newest.series;
    target.sources = newest.sources;
    target.agent = newest.agent;
    target.definition = newest.definition;
    target.synthetic = true;
    target.started_ns = newest.started_ns;
    catalog_->append_job_log(result.job_id, "info",
                             "assembling a full from sets " + ids_text(result.from_sets) + " (" +
                                 std::to_string(versions.size()) + " entries) on device " + device->name);
    auto copied = detail::write_set_from(*this, *device, target, groups, warnings, std::nullopt, progress,
                                         "synthesize");
    result.set_id = copied.set_id;
    result.entries = copied.entries;
    result.bytes = copied.bytes;
    result.stored_bytes = copied.stored_bytes;
    result.linked = copied.linked;
  } catch (const std::exception& e) {
    std::string message =
        std::string("synthetic full of set ") + std::to_string(newest.id) + " failed: " + e.what();
    try {
      catalog_->append_job_log(result.job_id, "error", message);
      catalog_->finish_job(result.job_id, "failed", message, nlohmann::json::object());
      catalog_->raise_alert("error", "synthesize",
                            "synthesize job " + std::to_string(result.job_id) + " failed: " + e.what());
    } catch (const std::exception& inner) {
      spdlog::error("could not record the failure of job {}: {}", result.job_id, inner.what());
    }
    throw ServiceError(message);
  }
  result.seconds = detail::seconds_since(started);
  std::string summary = "set " + std::to_string(result.set_id) + ": synthetic full of sets " +
                        ids_text(result.from_sets) + ", " + std::to_string(result.entries) + " entries";
  catalog_->append_job_log(result.job_id, "info", summary);
  catalog_->finish_job(result.job_id, "succeeded", summary, result.to_json());
  if (progress) progress(ProgressInfo{"synthesize", result.entries, result.bytes, {}});
  return result;
}

nlohmann::json SynthesizeResult::to_json() const {
  return {{"type", "synthesize"},         {"job_id", job_id},   {"set_id", set_id},
          {"from_sets", from_sets},       {"entries", entries}, {"bytes", bytes},
          {"stored_bytes", stored_bytes}, {"linked", linked},   {"seconds", seconds}};
}

}  // namespace sbx::service
