// Reports over the catalog for admins and their monitoring: job history over a period, protection status per
// protected resource, and storage use per device; each rendered as aligned text, JSON lines or CSV.
//
// Every report takes the time it is made for (`now_ns`) explicitly, so the same catalog gives the same report
// and tests need no clock. Times in rows are ISO 8601 UTC text ("" when there is none), durations and ages
// are seconds, sizes are bytes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <strongbox/catalog.hpp>
#include <vector>

namespace sbx::reports {

struct Table {
  std::string title;                              // "jobs", "protection", "storage"
  std::vector<std::string> columns;               // names, also the JSON keys and the CSV header
  std::vector<std::vector<nlohmann::json>> rows;  // one value per column; null for "none"
  nlohmann::ordered_json summary = nlohmann::ordered_json::object();  // in the order it is shown
};

// Aligned columns under an upper-case header (null as "-", booleans as yes/no, line breaks as spaces), then
// one "key: value" line per summary entry.
std::string render_text(const Table& table);
// One JSON object per line, keys = columns, then the summary object with "type": "summary" and "report":
// title.
std::string render_json(const Table& table);
// RFC 4180: a header line of the columns, then one record per row, CRLF line ends; a field with a comma,
// quote, CR or LF is quoted, quotes doubled. null is an empty field; strings, numbers and booleans as in JSON
// text without quotes; the summary is not part of it.
std::string render_csv(const Table& table);

// Jobs created in [since_ns, until_ns): id, kind, definition, state, device (the device it ran on, else the
// target asked for), scheduled, started, finished, duration_s (a running job up to now), bytes (of the set it
// wrote, else from its details; null when unknown), message. Newest first. Summary: "jobs" and the count per
// state ("succeeded", "failed", ...; every state, zero included), "bytes", "since", "until".
Table jobs_report(catalog::Catalog& catalog, int64_t since_ns, int64_t until_ns, int64_t now_ns);

// One row per protected resource: every definition of kind backup, then every series whose sets no definition
// covers (manual backups; definition null; a manual backup of a definition's sources counts for the
// definition). Columns: definition, sources (array), last_good (start time of the newest complete set that is
// neither a copy nor synthetic), age_s, last_good_partial (that set had unreadable files), last_job (id),
// last_result (its state), last_message, interval_s (expected time between backups), status, reason. status:
// NEVER (no set at all), CRITICAL (no complete set, or age > 3 x interval), WARNING (last job failed, partial
// or missed, or age > 1.5 x interval), else OK. interval: the longest gap between consecutive firings of the
// definition's schedules together over the 35 days before now (400 or 800 days when that holds fewer than two
// gaps, for monthly or yearly schedules); 25 h when unknown (no schedule, a schedule that does not parse, a
// manual series). Summary: "resources" and the count per status ("OK", "WARNING", "CRITICAL", "NEVER").
Table protection_report(catalog::Catalog& catalog, int64_t now_ns);
// The expected time between backups of a definition spec (see protection_report); nullopt when unknown.
std::optional<int64_t> backup_interval_ns(const nlohmann::json& spec, int64_t now_ns);

// What a caller learned from the storage plugins about a device (reports do not load plugins).
struct DeviceUsage {
  std::string name;
  std::string type;
  bool online = false;
  uint64_t total_bytes = 0, free_bytes = 0, used_bytes = 0;
  std::string problem;  // why it is offline, "" when it is not
};

// One row per device given: device, plugin, online, sets (complete), expired (sets), stored_bytes and files
// (of its complete sets), total_bytes, free_bytes, percent_full ((total - free) / total, one decimal; null
// when the device reports no size or is offline), problem. Summary: "devices", "offline", "sets",
// "stored_bytes".
Table storage_report(catalog::Catalog& catalog, const std::vector<DeviceUsage>& devices, int64_t now_ns);

// ISO 8601 UTC with seconds ("2026-11-22T10:00:00Z"); "" for 0.
std::string format_time(int64_t ns);

}  // namespace sbx::reports
