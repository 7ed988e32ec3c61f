// Pieces every catalog source file shares: validation, JSON columns, row readers and common lookups.
#pragma once

#include <span>
#include <string_view>
#include <strongbox/catalog.hpp>

#include "sqlite_handle.hpp"

namespace sbx::catalog::detail {

inline constexpr std::string_view kServerRoles[] = {"standalone", "central", "managed", "offsite"};
inline constexpr std::string_view kJobStates[] = {"queued", "running",   "succeeded", "partial",
                                                  "failed", "cancelled", "missed"};
inline constexpr std::string_view kFinalJobStates[] = {"succeeded", "partial", "failed", "cancelled",
                                                       "missed"};
inline constexpr std::string_view kLogLevels[] = {"debug", "info", "warning", "error"};
inline constexpr std::string_view kSetLevels[] = {"full", "incremental", "differential"};
inline constexpr std::string_view kSetStates[] = {"writing", "complete", "expired"};
inline constexpr std::string_view kSeverities[] = {"info", "warning", "error", "critical"};
inline constexpr std::string_view kCopyStates[] = {"pending", "queued", "done", "failed"};
inline constexpr std::string_view kJobControls[] = {"cancel", "pause", "resume"};

inline constexpr const char* kDeviceColumns =
    "id, name, type, settings, created_ns, removed_ns, max_jobs, enabled";
inline constexpr const char* kJobColumns =
    "id, kind, state, device_id, set_id, created_ns, started_ns, finished_ns, message, details, definition, "
    "target,"
    " priority, scheduled_ns, not_before_ns, deadline_ns, attempt, max_attempts, retry_of, pid, paused, "
    "control";
inline constexpr const char* kSetColumns =
    "id, job_id, device_id, store_name, level, base_set_id, series, sources, state,"
    " started_ns, completed_ns, expired_ns, file_count, bytes, stored_bytes, warnings, legal_hold,"
    " agent, definition, synthetic, copy_of, retain_until_ns";
inline constexpr const char* kAlertColumns =
    "id, time_ns, severity, source, message, acknowledged_ns, cleared_ns, subject, delivered_ns, "
    "delivery_error";

std::string in_quotes(std::string_view value);
// Names that end up in CLI output, file names and configuration (devices, pools, definitions).
void check_name(std::string_view what, const std::string& value, size_t max_length);
void check_one_of(std::string_view what, const std::string& value, std::span<const std::string_view> options);
void check_not_empty(std::string_view what, const std::string& value);

std::string dump_informational(const nlohmann::json& value);
nlohmann::json parse_column(const std::string& text, std::string_view what);

Device read_device(const Statement& row);
Job read_job(const Statement& row);
BackupSet read_set(const Statement& row);
Alert read_alert(const Statement& row);

std::string ids_text(const std::vector<int64_t>& ids);
std::vector<int64_t> query_ids(Database& db, const std::string& sql, int64_t parameter);
std::optional<BackupSet> lookup_set(Database& db, int64_t id);
BackupSet require_set(Database& db, int64_t id);
std::optional<Device> lookup_live_device(Database& db, const std::string& name);
std::optional<Device> lookup_device(Database& db, int64_t id);
Device require_live_device(Database& db, int64_t id);
std::optional<Job> lookup_job(Database& db, int64_t id);
Job require_job(Database& db, int64_t id);
int64_t sql_limit(size_t limit);  // 0 -> -1 (SQLite's "no limit")

}  // namespace sbx::catalog::detail
