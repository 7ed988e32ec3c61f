// Job history over a period.
#include <cmath>
#include <map>
#include <strongbox/reports.hpp>

namespace sbx::reports {
namespace {

using Json = nlohmann::json;

const std::vector<std::string> kJobStates = {"queued", "running",   "succeeded", "partial",
                                             "failed", "cancelled", "missed"};

Json time_or_null(int64_t ns) {
  return ns ? Json(format_time(ns)) : Json(nullptr);
}

Json seconds(int64_t ns) {
  return Json(std::round(double(ns) / 1e6) / 1e3);
}

// Device names by id, removed devices included (their sets' history still names them).
class DeviceNames {
 public:
  explicit DeviceNames(catalog::Catalog& catalog) : catalog_(catalog) {}
  std::string operator()(int64_t id) {
    auto found = names_.find(id);
    if (found != names_.end()) return found->second;
    std::string name;
    try {
      name = catalog_.device(id).name;
    } catch (const catalog::CatalogError&) {
      name =
          "#" + std::to_string(id);  // a job may name a device row that is gone; show the id rather than fail
    }
    return names_[id] = name;
  }

 private:
  catalog::Catalog& catalog_;
  std::map<int64_t, std::string> names_;
};

// What the job moved: the set it wrote, else what its result recorded (backups "bytes_read", the others
// "bytes").
Json job_bytes(const catalog::Job& job, const std::map<int64_t, catalog::BackupSet>& sets) {
  if (job.set_id) {
    auto set = sets.find(*job.set_id);
    if (set != sets.end() && set->second.state != "writing") return set->second.bytes;
  }
  if (job.details.is_object()) {
    for (const char* key : {"bytes_read", "bytes"}) {
      auto value = job.details.find(key);
      if (value != job.details.end() && value->is_number_unsigned()) return *value;
      if (value != job.details.end() && value->is_number_integer() && value->get<int64_t>() >= 0)
        return *value;
    }
  }
  return nullptr;
}

}  // namespace

Table jobs_report(catalog::Catalog& catalog, int64_t since_ns, int64_t until_ns, int64_t now_ns) {
  if (until_ns != 0 && since_ns >= until_ns)
    throw catalog::CatalogError("job report period is empty: since " + format_time(since_ns) +
                                " is not before until " + format_time(until_ns));
  Table table;
  table.title = "jobs";
  table.columns = {"id",      "kind",     "definition", "state", "device", "scheduled",
                   "started", "finished", "duration_s", "bytes", "message"};
  catalog::JobQuery query;
  query.since_ns = since_ns;
  query.until_ns = until_ns;
  std::map<int64_t, catalog::BackupSet> sets;
  for (auto& set : catalog.list_sets()) sets.emplace(set.id, std::move(set));
  DeviceNames device_names(catalog);

  std::map<std::string, int64_t> per_state;
  for (const auto& state : kJobStates) per_state[state] = 0;
  uint64_t total_bytes = 0;
  auto jobs = catalog.query_jobs(query);
  for (const auto& job : jobs) {
    ++per_state[job.state];
    Json duration = nullptr;
    if (job.started_ns && job.finished_ns)
      duration = seconds(job.finished_ns - job.started_ns);
    else if (job.started_ns && job.state == "running")
      duration = seconds(std::max<int64_t>(0, now_ns - job.started_ns));
    Json bytes = job_bytes(job, sets);
    if (bytes.is_number()) total_bytes += bytes.get<uint64_t>();
    std::string device = job.device_id ? device_names(*job.device_id) : job.target;
    table.rows.push_back({job.id, job.kind, job.definition.empty() ? Json(nullptr) : Json(job.definition),
                          job.state, device.empty() ? Json(nullptr) : Json(device),
                          time_or_null(job.scheduled_ns), time_or_null(job.started_ns),
                          time_or_null(job.finished_ns), duration, bytes, job.message});
  }
  table.summary["jobs"] = jobs.size();
  for (const auto& state : kJobStates) table.summary[state] = per_state[state];
  table.summary["bytes"] = total_bytes;
  table.summary["since"] = since_ns ? Json(format_time(since_ns)) : Json(nullptr);
  table.summary["until"] = until_ns ? Json(format_time(until_ns)) : Json(nullptr);
  return table;
}

}  // namespace sbx::reports
