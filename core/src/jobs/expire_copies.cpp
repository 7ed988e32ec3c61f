// Copy retention, beside the series policy: a copy keeps its own fixed retention ({"days": N}) or lives until
// every stage copying from it is done ({"until_copied": true}); an original whose definition says
// "expire_after_copy" goes once every stage copying from it is done. The catalog's
// invariants (legal hold, the last readable instance of a set others depend on) still decide last.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>

#include "internal.hpp"

namespace sbx::service {
namespace {

struct Candidate {
  catalog::BackupSet set;
  std::vector<std::string> reasons;
  std::string revision;  // the policy revision that planned the copies behind the decision ("" when none)
};

bool until_copied(const catalog::PlannedCopy& copy) {
  return copy.retention.is_object() && copy.retention.value("until_copied", false) == true;
}

}  // namespace

ExpireResult Site::expire_copies(int64_t now) {
  detail::SiteLock lock(dir_, false);
  ExpireResult result;
  std::map<int64_t, Candidate> candidates;
  auto propose = [&](const catalog::BackupSet& set, const std::string& reason, const std::string& revision) {
    auto [it, inserted] = candidates.try_emplace(set.id, Candidate{set, {}, revision});
    it->second.reasons.push_back(reason);
    if (it->second.revision.empty()) it->second.revision = revision;
  };

  const auto plans = catalog_->planned_copies(std::nullopt);
  // (a) copies whose own retention ended.
  for (const auto& s : catalog_->sets_in_state("complete")) {
    if (!s.copy_of || s.retain_until_ns == 0 || s.retain_until_ns > now) continue;
    std::string revision;
    for (const auto& p : plans)
      if (p.copy_set_id == s.id) revision = p.revision;
    propose(s,
            "copy of set " + std::to_string(*s.copy_of) + ": its retention ended " +
                format_time(s.retain_until_ns),
            revision);
  }

  // (b) expire-after-copy: a stage copy kept {"until_copied": true}, or an original whose definition says
  // "expire_after_copy", goes once every stage copying from it is done and those copies still exist.
  std::map<std::pair<int64_t, std::string>, std::vector<const catalog::PlannedCopy*>> from_source;
  for (const auto& p : plans) from_source[{p.set_id, p.after_stage}].push_back(&p);
  for (const auto& [key, outgoing] : from_source) {
    const auto& [original_id, stage] = key;
    std::optional<catalog::BackupSet> source;
    if (stage.empty()) {
      source = catalog_->find_set(original_id);
      auto definition = source ? catalog_->find_definition(source->definition) : std::nullopt;
      if (!definition || !definition->spec.value("expire_after_copy", false)) continue;
    } else {
      const catalog::PlannedCopy* made_by = nullptr;
      for (const auto& p : plans)
        if (p.set_id == original_id && p.stage == stage) made_by = &p;
      if (!made_by || !until_copied(*made_by) || made_by->state != "done" || !made_by->copy_set_id) continue;
      source = catalog_->find_set(*made_by->copy_set_id);
    }
    if (!source || source->state != "complete") continue;
    if (!std::all_of(outgoing.begin(), outgoing.end(), [](auto* p) { return p->state == "done"; })) continue;
    // Every copy made from it must still be there; a copy that expired meanwhile keeps the source.
    bool copies_live = std::all_of(outgoing.begin(), outgoing.end(), [&](auto* p) {
      auto made = p->copy_set_id ? catalog_->find_set(*p->copy_set_id) : std::nullopt;
      return made && made->state == "complete";
    });
    if (!copies_live) continue;
    std::string stages;
    for (const auto* p : outgoing)
      stages += (stages.empty() ? "" : ", ") + p->stage + " (set " + std::to_string(*p->copy_set_id) + ")";
    propose(*source, "every copy from it is done: " + stages, outgoing.front()->revision);
  }
  if (candidates.empty()) return result;

  std::vector<Candidate> ordered;
  for (auto& [id, c] : candidates) {
    // A copy made by hand (no plan) carries a retention the admin gave; decisions still name their origin.
    if (c.revision.empty()) c.revision = "manual-copy-retention";
    ordered.push_back(std::move(c));
  }
  // Newest first, as retention does: dependents go before the sets they depend on.
  std::sort(ordered.begin(), ordered.end(), [](const auto& a, const auto& b) {
    return a.set.started_ns != b.set.started_ns ? a.set.started_ns > b.set.started_ns : a.set.id > b.set.id;
  });
  const int64_t job_id = begin_job("expire", {{"reason", "copy retention"}, {"sets", ordered.size()}}, {});
  result.revision = ordered.front().revision;
  std::map<int64_t, std::unique_ptr<plugins::StorageDevice>> devices;
  for (const auto& c : ordered) {
    ExpireDecisionView view{c.set.id, c.set.series, false, c.reasons};
    std::string why;
    for (const auto& r : c.reasons) why += (why.empty() ? "" : "; ") + r;
    try {
      if (c.set.legal_hold)
        throw catalog::CatalogError("set " + std::to_string(c.set.id) + " is on legal hold");
      catalog_->expire_set(c.set.id);
    } catch (const catalog::CatalogError& e) {
      view.keep = true;
      view.reasons.push_back(std::string("kept: ") + e.what());
      catalog_->append_job_log(job_id, "info",
                               "set " + std::to_string(c.set.id) + ": keep: " + e.what() + " (" + why + ")");
      catalog_->record_decision(c.set.id, "keep", {{"reasons", view.reasons}, {"by", "copy retention"}},
                                c.revision);
      result.decisions.push_back(std::move(view));
      continue;
    }
    ++result.expired;
    catalog_->append_job_log(job_id, "info", "set " + std::to_string(c.set.id) + ": expire: " + why);
    catalog_->record_decision(c.set.id, "expire", {{"reasons", view.reasons}, {"by", "copy retention"}},
                              c.revision);
    catalog_->audit("retention", "set.expire", {{"set_id", c.set.id}, {"reasons", view.reasons}});
    result.decisions.push_back(std::move(view));
    // The catalog forgot the set first; data left behind by a failure here is an orphan the next sweep
    // removes.
    try {
      auto& device = devices[c.set.device_id];
      if (!device) device = open_device(catalog_->device(c.set.device_id));
      device->delete_set(c.set.store_name);
    } catch (const std::exception& e) {
      std::string line =
          "set " + std::to_string(c.set.id) + " expired, but its data could not be deleted yet: " + e.what();
      result.errors.push_back(line);
      catalog_->append_job_log(job_id, "warning", line);
    }
  }
  catalog_->finish_job(job_id, result.errors.empty() ? "succeeded" : "failed",
                       std::to_string(result.expired) + " sets expired by copy retention", result.to_json());
  return result;
}

}  // namespace sbx::service
