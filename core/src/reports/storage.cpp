// Storage use per device: what the catalog keeps on it and how full the plugin says it is.
#include <cmath>
#include <map>
#include <strongbox/reports.hpp>

namespace sbx::reports {
namespace {

using Json = nlohmann::json;

struct SetTotals {
  uint64_t complete = 0, expired = 0, stored_bytes = 0, files = 0;
};

}  // namespace

Table storage_report(catalog::Catalog& catalog, const std::vector<DeviceUsage>& devices, int64_t /*now_ns*/) {
  Table table;
  table.title = "storage";
  table.columns = {"device", "plugin",      "online",     "sets",         "expired", "stored_bytes",
                   "files",  "total_bytes", "free_bytes", "percent_full", "problem"};
  std::map<std::string, int64_t> device_ids;
  for (const auto& device : catalog.list_devices()) device_ids[device.name] = device.id;
  std::map<int64_t, SetTotals> totals;
  for (const auto& set : catalog.list_sets()) {
    auto& t = totals[set.device_id];
    if (set.state == "complete") {
      ++t.complete;
      t.stored_bytes += set.stored_bytes;
      t.files += set.file_count;
    } else if (set.state == "expired") {
      ++t.expired;
    }
  }
  uint64_t offline = 0, all_sets = 0, all_stored = 0;
  for (const auto& device : devices) {
    SetTotals t;
    auto id = device_ids.find(device.name);
    if (id != device_ids.end()) t = totals[id->second];
    Json percent = nullptr;
    // A free figure above the total (a plugin counting differently, quotas) is shown as empty, not negative.
    if (device.online && device.total_bytes > 0) {
      uint64_t used = device.total_bytes - std::min(device.free_bytes, device.total_bytes);
      percent = std::round(1000.0 * double(used) / double(device.total_bytes)) / 10.0;
    }
    if (!device.online) ++offline;
    all_sets += t.complete;
    all_stored += t.stored_bytes;
    table.rows.push_back({device.name, device.type, device.online, t.complete, t.expired, t.stored_bytes,
                          t.files, device.online ? Json(device.total_bytes) : Json(nullptr),
                          device.online ? Json(device.free_bytes) : Json(nullptr), percent,
                          device.problem.empty() ? Json(nullptr) : Json(device.problem)});
  }
  table.summary["devices"] = devices.size();
  table.summary["offline"] = offline;
  table.summary["sets"] = all_sets;
  table.summary["stored_bytes"] = all_stored;
  return table;
}

}  // namespace sbx::reports
