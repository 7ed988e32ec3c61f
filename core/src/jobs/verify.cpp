// Verify reads every entry of every complete set back from its device and checks it against the catalog.
#include <algorithm>
#include <map>
#include <set>

#include "internal.hpp"

namespace sbx::service {
namespace {

class VerifyCounter : public detail::VersionConsumer {
 public:
  VerifyCounter(VerifyResult& result, detail::ProgressTicker& ticker) : result_(result), ticker_(ticker) {}
  void entry(const catalog::FileVersion&, const sdk::Entry&) override {}
  void data(std::string_view bytes) override {
    result_.bytes += bytes.size();
    info_.bytes = result_.bytes;
    ticker_.tick(info_);
  }
  void end(const catalog::FileVersion&) override {
    ++result_.entries;
    info_.files = result_.entries;
  }
  void damaged(const catalog::FileVersion& version, const std::string& problem) override {
    result_.damage.push_back({version.set_id, "/" + printable(version.path), problem});
  }

 private:
  VerifyResult& result_;
  detail::ProgressTicker& ticker_;
  ProgressInfo info_{"verify", 0, 0, {}};
};

}  // namespace

VerifyResult Site::verify(std::optional<int64_t> set_id, const ProgressFn& progress, const JobBinding& job) {
  std::vector<catalog::BackupSet> sets;
  if (set_id) {
    auto set = catalog_->find_set(*set_id);
    if (!set || set->state != "complete")
      throw ServiceError("no complete backup set with id " + std::to_string(*set_id), kExitUsage);
    sets.push_back(*set);
  } else {
    sets = catalog_->sets_in_state("complete");
  }
  return verify_sets(sets, {{"set", set_id ? nlohmann::json(*set_id) : nlohmann::json(nullptr)}}, progress,
                     job);
}

VerifyResult Site::verify_device(const std::string& device_name, const ProgressFn& progress,
                                 const JobBinding& job, std::optional<uint32_t> read_data_percent) {
  auto device = catalog_->find_device(device_name);
  if (!device)
    throw ServiceError("no device named '" + device_name + "' (see `strongbox devices list`)", kExitUsage);
  if (read_data_percent && *read_data_percent > 100)
    throw ServiceError("--read-data-subset takes a share from 1% to 100%", kExitUsage);
  {
    auto opened = open_device(*device);
    if (opened->deduplicates())
      return verify_dedup_device(*device, *opened, read_data_percent.value_or(0), job);
  }
  if (read_data_percent)
    throw ServiceError(
        "device '" + device_name +
            "' does not deduplicate: its verify reads every set in full; drop --read-data/--read-data-subset",
        kExitUsage);
  std::vector<catalog::BackupSet> sets;
  for (const auto& set : catalog_->sets_in_state("complete"))
    if (set.device_id == device->id) sets.push_back(set);
  return verify_sets(sets, {{"device", device_name}}, progress, job);
}

VerifyResult Site::verify_sets(const std::vector<catalog::BackupSet>& sets, const nlohmann::json& details,
                               const ProgressFn& progress, const JobBinding& job) {
  auto started = std::chrono::steady_clock::now();
  detail::SiteLock lock(dir_, false);
  VerifyResult result;
  result.job_id = begin_job("verify", details, job);
  detail::ProgressTicker ticker(progress);
  VerifyCounter counter(result, ticker);
  for (const auto& set : sets) {
    std::vector<catalog::FileVersion> versions;
    catalog_->for_each_file(set.id, [&](const catalog::FileVersion& v) {
      if (!v.deleted) versions.push_back(v);
    });
    std::vector<const catalog::FileVersion*> pointers;
    for (const auto& v : versions) pointers.push_back(&v);
    std::stable_sort(pointers.begin(), pointers.end(), [](auto* a, auto* b) { return a->seq < b->seq; });
    try {
      auto device = open_device(catalog_->device(set.device_id));
      detail::read_versions(*device, set, pointers, counter);
    } catch (const std::exception& e) {
      result.damage.push_back({set.id, "", std::string("device cannot be opened: ") + e.what()});
    }
    ++result.sets;
  }
  result.seconds = detail::seconds_since(started);
  record_verify_outcome(result);
  return result;
}

VerifyResult Site::verify_dedup_device(const catalog::Device& device_row, plugins::StorageDevice& device,
                                       uint32_t read_data_percent, const JobBinding& job) {
  auto started = std::chrono::steady_clock::now();
  detail::SiteLock lock(dir_, false);
  VerifyResult result;
  result.job_id =
      begin_job("verify", {{"device", device_row.name}, {"read_data_percent", read_data_percent}}, job);
  // Sets the catalog knows on this device, by the name the device knows them by.
  std::map<std::string, int64_t> set_of_store_name;
  for (const auto& set : catalog_->list_sets())
    if (set.device_id == device_row.id && set.state != "expired" && !set.store_name.empty())
      set_of_store_name[set.store_name] = set.id;
  std::map<int64_t, std::map<std::string, std::string>> paths_by_locator;  // loaded per set on demand
  auto path_of = [&](int64_t set_id, const std::string& locator) -> std::string {
    auto [it, fresh] = paths_by_locator.try_emplace(set_id);
    if (fresh)
      catalog_->for_each_file(set_id, [&](const catalog::FileVersion& v) {
        if (!v.deleted) it->second[v.locator] = v.path;
      });
    auto found = it->second.find(locator);
    return found == it->second.end() ? std::string() : found->second;
  };
  sbx_verify_options options{};
  options.struct_size = sizeof options;
  options.read_data_percent = read_data_percent;
  options.seed = uint64_t(now_ns());
  sbx_verify_stats stats{};
  try {
    stats = device.verify_device(options, [&](const std::string& store_name, const std::string& locator,
                                              const std::string& path, const std::string& problem) {
      int64_t set_id = 0;
      std::string where = path;
      std::string what = problem;
      if (!store_name.empty()) {
        auto it = set_of_store_name.find(store_name);
        if (it == set_of_store_name.end()) {
          what = "set " + store_name + " (not in the catalog): " + problem;
        } else {
          set_id = it->second;
          if (where.empty() && !locator.empty()) where = path_of(set_id, locator);
        }
      }
      result.damage.push_back({set_id, where.empty() ? "" : "/" + printable(where), what});
    });
    // A set the catalog holds complete but whose manifest is gone cannot be restored; the device's own check
    // walks only the manifests it has, so it cannot see that.
    std::set<std::string> on_device;
    for (auto& name : device.list_sets()) on_device.insert(std::move(name));
    for (const auto& [store_name, set_id] : set_of_store_name) {
      if (on_device.count(store_name)) continue;
      auto now = catalog_->find_set(set_id);  // expired and collected meanwhile is not damage
      if (now && now->state == "complete")
        result.damage.push_back({set_id, "",
                                 "the device holds no manifest of this set (stored as " + store_name +
                                     "): it cannot be restored from this device"});
    }
  } catch (const std::exception& e) {
    result.damage.push_back({0, "", std::string("the device could not be verified: ") + e.what()});
  }
  result.sets = stats.sets_checked;
  result.entries = stats.chunks_checked;
  result.bytes = stats.bytes_read;
  result.chunks_checked = stats.chunks_checked;
  result.chunks_read = stats.chunks_read;
  result.damaged_chunks = stats.damaged_chunks;
  result.seconds = detail::seconds_since(started);
  record_verify_outcome(result);
  return result;
}

void Site::record_verify_outcome(const VerifyResult& result) {
  if (!result.damage.empty()) {
    std::set<int64_t> hit;
    for (const auto& d : result.damage)
      if (d.set_id) hit.insert(d.set_id);
    std::string names;
    for (int64_t id : hit) names += (names.empty() ? "" : ", ") + std::to_string(id);
    catalog_->raise_alert("critical", "verify",
                          "verify job " + std::to_string(result.job_id) + " found " +
                              std::to_string(result.damage.size()) +
                              (names.empty() ? std::string(" problems in the store itself")
                                             : " damaged entries in sets " + names));
    for (const auto& d : result.damage)
      catalog_->append_job_log(result.job_id, "error",
                               (d.set_id ? "set " + std::to_string(d.set_id) + " " : std::string("store ")) +
                                   d.path + ": " + d.problem);
  }
  catalog_->finish_job(
      result.job_id, result.damage.empty() ? "succeeded" : "failed",
      result.damage.empty() ? "no damage" : std::to_string(result.damage.size()) + " damaged entries",
      result.to_json());
}

}  // namespace sbx::service
