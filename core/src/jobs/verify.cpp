// Verify reads every entry of every complete set back from its device and checks it against the catalog.
#include "internal.hpp"

#include <algorithm>
#include <set>

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
    if (!set || set->state != "complete") throw ServiceError("no complete backup set with id " + std::to_string(*set_id), kExitUsage);
    sets.push_back(*set);
  } else {
    sets = catalog_->sets_in_state("complete");
  }
  return verify_sets(sets, {{"set", set_id ? nlohmann::json(*set_id) : nlohmann::json(nullptr)}}, progress, job);
}

VerifyResult Site::verify_device(const std::string& device_name, const ProgressFn& progress, const JobBinding& job) {
  auto device = catalog_->find_device(device_name);
  if (!device) throw ServiceError("no device named '" + device_name + "' (see `strongbox devices list`)", kExitUsage);
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
  if (!result.damage.empty()) {
    std::set<int64_t> hit;
    for (const auto& d : result.damage) hit.insert(d.set_id);
    std::string names;
    for (int64_t id : hit) names += (names.empty() ? "" : ", ") + std::to_string(id);
    catalog_->raise_alert("critical", "verify",
                          "verify job " + std::to_string(result.job_id) + " found " + std::to_string(result.damage.size()) +
                              " damaged entries in sets " + names);
    for (const auto& d : result.damage)
      catalog_->append_job_log(result.job_id, "error", "set " + std::to_string(d.set_id) + " " + d.path + ": " + d.problem);
  }
  catalog_->finish_job(result.job_id, result.damage.empty() ? "succeeded" : "failed",
                       result.damage.empty() ? "no damage" : std::to_string(result.damage.size()) + " damaged entries",
                       result.to_json());
  return result;
}

}  // namespace sbx::service
