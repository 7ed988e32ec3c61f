// Protection status per protected resource: is there a recent good backup of everything the site should back
// up, and did the last attempt work.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <strongbox/reports.hpp>
#include <strongbox/scheduler.hpp>

namespace sbx::reports {
namespace {

using Json = nlohmann::json;

constexpr int64_t kSecond = 1000000000;
constexpr int64_t kHour = 3600 * kSecond;
constexpr int64_t kDay = 24 * kHour;
constexpr int64_t kUnknownInterval = 25 * kHour;  // a daily backup with an hour of slack
// The interval is read from the recent past: five weeks show the gaps of daily, weekday and weekly patterns
// without letting last year's excluded holidays stretch it; rarer schedules widen the look to a year or two.
constexpr int64_t kIntervalLookBacks[] = {35 * kDay, 400 * kDay, 800 * kDay};
constexpr size_t kEnoughGaps = 2;
constexpr size_t kFiringLimit = 10000;

const std::vector<std::string> kStatuses = {"OK", "WARNING", "CRITICAL", "NEVER"};
const std::set<std::string> kFinishedStates = {"succeeded", "partial", "failed", "cancelled", "missed"};
const std::set<std::string> kBadResults = {"failed", "partial", "missed"};

bool is_backup_definition(const catalog::Definition& definition) {
  auto kind = definition.spec.find("kind");
  return kind == definition.spec.end() || (kind->is_string() && kind->get<std::string>() == "backup");
}

std::string string_field(const Json& object, const char* key) {
  auto value = object.find(key);
  return value != object.end() && value->is_string() ? value->get<std::string>() : std::string();
}

std::vector<std::string> string_list(const Json& object, const char* key) {
  std::vector<std::string> list;
  auto value = object.find(key);
  if (value == object.end() || !value->is_array()) return list;
  for (const auto& item : *value)
    if (item.is_string()) list.push_back(item.get<std::string>());
  return list;
}

// What a row says about one protected resource.
struct Resource {
  Json definition;  // name, null for manual backups
  std::vector<std::string> sources;
  std::vector<const catalog::BackupSet*> sets;  // originals (no copies), oldest first
  std::optional<catalog::Job> last_job;
  std::optional<int64_t> interval_ns;
};

// The backup a restore would go back to: copies and synthetic fulls restore data captured earlier, so their
// own start time says nothing about how recent the data is.
const catalog::BackupSet* last_good(const Resource& resource) {
  const catalog::BackupSet* best = nullptr;
  for (const auto* set : resource.sets) {
    if (set->state != "complete" || set->synthetic) continue;
    if (!best || set->started_ns > best->started_ns ||
        (set->started_ns == best->started_ns && set->id > best->id))
      best = set;
  }
  return best;
}

std::optional<catalog::Job> newest_finished(catalog::Catalog& catalog, const std::string& definition,
                                            const std::string& kind) {
  catalog::JobQuery query;
  query.definition = definition;
  query.kind = kind;
  query.states.assign(kFinishedStates.begin(), kFinishedStates.end());
  query.limit = 1;
  auto jobs = catalog.query_jobs(query);
  if (jobs.empty()) return std::nullopt;
  return jobs.front();
}

std::optional<catalog::Job> last_definition_job(catalog::Catalog& catalog, const std::string& name) {
  std::optional<catalog::Job> newest;
  for (const char* kind : {"backup", "synthesize"}) {
    auto job = newest_finished(catalog, name, kind);
    if (job && (!newest || job->id > newest->id)) newest = job;
  }
  return newest;
}

// A manual series' last attempt: its newest set's job, or a later manual backup of the same sources that left
// no set (it failed). Only jobs from that set's job on are read, so a long history costs nothing.
std::optional<catalog::Job> last_manual_job(catalog::Catalog& catalog, const Resource& resource) {
  const catalog::BackupSet* newest = resource.sets.empty() ? nullptr : resource.sets.back();
  if (!newest) return std::nullopt;
  catalog::JobQuery query;
  query.kind = "backup";
  query.states.assign(kFinishedStates.begin(), kFinishedStates.end());
  std::optional<catalog::Job> own;
  if (newest->job_id) own = catalog.find_job(*newest->job_id);
  query.since_ns = own ? own->created_ns : newest->started_ns;
  std::optional<catalog::Job> result = own && kFinishedStates.count(own->state) ? own : std::nullopt;
  for (const auto& job : catalog.query_jobs(query)) {  // newest first
    if (!job.definition.empty() || !job.details.is_object()) continue;
    if (string_list(job.details, "sources") != newest->sources) continue;
    if (!result || job.id > result->id) result = job;
    break;
  }
  return result;
}

Json time_or_null(int64_t ns) {
  return ns ? Json(format_time(ns)) : Json(nullptr);
}

Json seconds(int64_t ns) {
  return Json(std::round(double(ns) / 1e6) / 1e3);
}

std::string hours_text(int64_t ns) {
  double hours = double(ns) / double(kHour);
  char buf[32];
  std::snprintf(buf, sizeof buf, hours < 10 ? "%.1fh" : "%.0fh", hours);
  return buf;
}

std::vector<Json> row_of(const Resource& resource, int64_t now_ns,
                         std::map<std::string, int64_t>& per_status) {
  const catalog::BackupSet* good = last_good(resource);
  const int64_t interval = resource.interval_ns.value_or(kUnknownInterval);
  const std::string interval_note = resource.interval_ns ? "" : " (no schedule: 25h assumed)";
  std::string status, reason;
  int64_t age = good ? std::max<int64_t>(0, now_ns - good->started_ns) : 0;
  const std::string last_state = resource.last_job ? resource.last_job->state : "";
  if (resource.sets.empty()) {
    status = "NEVER";
    reason = "no backup was ever taken";
  } else if (!good) {
    status = "CRITICAL";
    reason = "no complete backup is left";
  } else if (age > 3 * interval) {
    status = "CRITICAL";
    reason = "last good backup is " + hours_text(age) + " old, more than 3 x the " + hours_text(interval) +
             " interval" + interval_note;
  } else if (kBadResults.count(last_state)) {
    status = "WARNING";
    reason = "last job " + std::to_string(resource.last_job->id) + " " + last_state;
  } else if (2 * age > 3 * interval) {
    status = "WARNING";
    reason = "last good backup is " + hours_text(age) + " old, more than 1.5 x the " + hours_text(interval) +
             " interval" + interval_note;
  } else {
    status = "OK";
  }
  ++per_status[status];
  bool partial = false;
  if (good) {
    partial = good->warnings > 0;
  }
  Json sources = Json::array();
  for (const auto& source : resource.sources) sources.push_back(source);
  return {resource.definition,
          sources,
          good ? time_or_null(good->started_ns) : Json(nullptr),
          good ? seconds(age) : Json(nullptr),
          good ? Json(partial) : Json(nullptr),
          resource.last_job ? Json(resource.last_job->id) : Json(nullptr),
          resource.last_job ? Json(resource.last_job->state) : Json(nullptr),
          resource.last_job ? Json(resource.last_job->message) : Json(nullptr),
          seconds(interval),
          status,
          reason};
}

}  // namespace

std::optional<int64_t> backup_interval_ns(const Json& spec, int64_t now_ns) {
  if (!spec.is_object()) return std::nullopt;
  auto entries = spec.find("schedules");
  if (entries == spec.end() || !entries->is_array() || entries->empty()) return std::nullopt;
  const std::string default_zone = string_field(spec, "time_zone");
  std::vector<scheduler::Schedule> schedules;
  for (const auto& entry : *entries) {
    if (!entry.is_object()) return std::nullopt;
    std::string zone = string_field(entry, "time_zone");
    try {
      schedules.push_back(scheduler::Schedule::parse(string_field(entry, "when"),
                                                     zone.empty() ? default_zone : zone,
                                                     string_list(entry, "exclude_dates")));
    } catch (const scheduler::ScheduleError&) {
      return std::nullopt;  // the site module reports a bad schedule; here it only means "interval unknown"
    }
  }
  int64_t longest = 0;
  for (int64_t look_back : kIntervalLookBacks) {
    std::vector<int64_t> firings;
    int64_t until = now_ns;
    for (const auto& schedule : schedules) {
      auto own = schedule.firings_between(now_ns - look_back, now_ns, kFiringLimit);
      // A schedule firing more often than the limit allows was only read up to the last firing returned: gaps
      // past that point would be gaps in our reading, not in the schedule.
      if (own.size() == kFiringLimit) until = std::min(until, own.back());
      firings.insert(firings.end(), own.begin(), own.end());
    }
    std::sort(firings.begin(), firings.end());
    firings.erase(std::unique(firings.begin(), firings.end()), firings.end());
    size_t counted = 0;
    longest = 0;
    for (size_t i = 1; i < firings.size() && firings[i] <= until; ++i, ++counted)
      longest = std::max(longest, firings[i] - firings[i - 1]);
    if (counted >= kEnoughGaps) break;
  }
  if (longest == 0) return std::nullopt;
  return longest;
}

Table protection_report(catalog::Catalog& catalog, int64_t now_ns) {
  Table table;
  table.title = "protection";
  table.columns = {"definition",        "sources",  "last_good",   "age_s",
                   "last_good_partial", "last_job", "last_result", "last_message",
                   "interval_s",        "status",   "reason"};
  const auto all_sets = catalog.list_sets();  // oldest first
  std::map<std::string, Resource> by_definition;
  std::vector<std::string> definition_order;
  for (const auto& definition : catalog.list_definitions()) {
    if (!is_backup_definition(definition)) continue;
    Resource resource;
    resource.definition = definition.name;
    resource.sources = string_list(definition.spec, "sources");
    resource.interval_ns = backup_interval_ns(definition.spec, now_ns);
    resource.last_job = last_definition_job(catalog, definition.name);
    by_definition.emplace(definition.name, std::move(resource));
    definition_order.push_back(definition.name);
  }
  // Series a definition has written are its own, and so are manual backups of the same sources.
  std::map<std::string, std::string> series_owner;
  for (const auto& set : all_sets) {
    if (!set.copy_of && by_definition.count(set.definition)) series_owner.emplace(set.series, set.definition);
  }
  std::map<std::string, Resource> manual;  // by series
  std::vector<std::string> manual_order;
  for (const auto& set : all_sets) {
    if (set.copy_of) continue;
    auto own = by_definition.find(set.definition);
    if (own == by_definition.end()) {
      auto owner = series_owner.find(set.series);
      if (owner != series_owner.end()) own = by_definition.find(owner->second);
    }
    if (own != by_definition.end()) {
      own->second.sets.push_back(&set);
      continue;
    }
    auto [entry, added] = manual.try_emplace(set.series);
    if (added) manual_order.push_back(set.series);
    entry->second.definition = nullptr;
    entry->second.sources = set.sources;  // the newest set's, since sets come oldest first
    entry->second.sets.push_back(&set);
  }

  std::map<std::string, int64_t> per_status;
  for (const auto& status : kStatuses) per_status[status] = 0;
  for (const auto& name : definition_order)
    table.rows.push_back(row_of(by_definition[name], now_ns, per_status));
  for (const auto& series : manual_order) {
    Resource& resource = manual[series];
    resource.last_job = last_manual_job(catalog, resource);
    table.rows.push_back(row_of(resource, now_ns, per_status));
  }
  table.summary["resources"] = table.rows.size();
  for (const auto& status : kStatuses) table.summary[status] = per_status[status];
  return table;
}

}  // namespace sbx::reports
