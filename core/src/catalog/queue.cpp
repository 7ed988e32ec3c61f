// The job queue, the scheduler's marks, alert delivery and per-device limits: the catalog tables the server
// runs on. Several processes use them at once (the server, the jobs it started, an admin's CLI), so every
// state change checks the state it expects inside its transaction.
#include <strongbox/catalog.hpp>

#include "rows.hpp"
#include "schema.hpp"

namespace sbx::catalog {

using detail::Database;
using detail::now_ns;
using Json = nlohmann::json;
using namespace detail;

// ----------------------------------------------------------------------------------------------------
// Devices

void Catalog::set_device_max_jobs(const std::string& name, int64_t max_jobs) {
  if (max_jobs < 1 || max_jobs > 1024)
    throw CatalogError("max jobs of device " + in_quotes(name) + " must be 1 to 1024, not " +
                       std::to_string(max_jobs));
  Database::Operation operation(*db_, "setting the job limit of device " + in_quotes(name));
  db_->transaction([&] {
    auto device = lookup_live_device(*db_, name);
    if (!device) throw CatalogError("no device named " + in_quotes(name));
    auto statement = db_->prepare("UPDATE devices SET max_jobs = ? WHERE id = ?");
    statement->bind_int(1, max_jobs).bind_int(2, device->id).run();
  });
}

void Catalog::set_device_enabled(const std::string& name, bool enabled) {
  Database::Operation operation(*db_, "changing the service state of device " + in_quotes(name));
  db_->transaction([&] {
    auto device = lookup_live_device(*db_, name);
    if (!device) throw CatalogError("no device named " + in_quotes(name));
    auto statement = db_->prepare("UPDATE devices SET enabled = ? WHERE id = ?");
    statement->bind_int(1, enabled ? 1 : 0).bind_int(2, device->id).run();
  });
}

// ----------------------------------------------------------------------------------------------------
// Jobs

std::vector<Job> Catalog::query_jobs(const JobQuery& query) {
  for (const auto& state : query.states) check_one_of("job state", state, kJobStates);
  Database::Operation operation(*db_, "querying jobs");
  std::string sql = std::string("SELECT ") + kJobColumns +
                    " FROM jobs WHERE (?1 = '' OR definition = ?1) AND (?2 = '' OR kind = ?2)"
                    " AND (?3 = 0 OR created_ns >= ?3) AND (?4 = 0 OR created_ns < ?4)"
                    " AND (?5 = '' OR instr(?5, ',' || state || ',') > 0)"
                    " ORDER BY id " +
                    (query.oldest_first ? "ASC" : "DESC") + " LIMIT ?6";
  std::string states;
  if (!query.states.empty()) {
    states = ",";
    for (const auto& state : query.states) states += state + ",";
  }
  auto statement = db_->prepare(sql);
  statement->bind_text(1, query.definition)
      .bind_text(2, query.kind)
      .bind_int(3, query.since_ns)
      .bind_int(4, query.until_ns)
      .bind_text(5, states)
      .bind_int(6, sql_limit(query.limit));
  std::vector<Job> jobs;
  while (statement->step()) jobs.push_back(read_job(*statement));
  return jobs;
}

int64_t Catalog::enqueue_job(const JobRequest& request) {
  check_name("job kind", request.kind, 32);
  if (request.attempt < 1 || request.max_attempts < request.attempt)
    throw CatalogError("job attempt " + std::to_string(request.attempt) + " of " +
                       std::to_string(request.max_attempts) + " is not a valid attempt count");
  Database::Operation operation(*db_, "queueing a " + request.kind + " job");
  int64_t id = 0;
  db_->transaction([&] {
    if (request.retry_of) require_job(*db_, *request.retry_of);
    auto statement = db_->prepare(
        "INSERT INTO jobs (kind, state, created_ns, started_ns, details, definition, target, priority,"
        " scheduled_ns, not_before_ns, deadline_ns, attempt, max_attempts, retry_of)"
        " VALUES (?, 'queued', ?, 0, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    statement->bind_text(1, request.kind)
        .bind_int(2, now_ns())
        .bind_text(3, dump_informational(request.details))
        .bind_text(4, request.definition)
        .bind_text(5, request.target)
        .bind_int(6, request.priority)
        .bind_int(7, request.scheduled_ns)
        .bind_int(8, request.not_before_ns)
        .bind_int(9, request.deadline_ns)
        .bind_int(10, request.attempt)
        .bind_int(11, request.max_attempts)
        .bind_optional_int(12, request.retry_of)
        .run();
    id = db_->last_insert_rowid();
  });
  return id;
}

std::vector<Job> Catalog::runnable_jobs(int64_t now) {
  Database::Operation operation(*db_, "listing runnable jobs");
  auto statement = db_->prepare(std::string("SELECT ") + kJobColumns +
                                " FROM jobs WHERE state = 'queued' AND paused = 0 AND not_before_ns <= ?"
                                " ORDER BY priority DESC, scheduled_ns, id");
  statement->bind_int(1, now);
  std::vector<Job> jobs;
  while (statement->step()) jobs.push_back(read_job(*statement));
  return jobs;
}

void Catalog::start_job(int64_t job_id, int64_t pid) {
  Database::Operation operation(*db_, "starting job " + std::to_string(job_id));
  db_->transaction([&] {
    Job job = require_job(*db_, job_id);
    if (job.state != "queued")
      throw CatalogError("job " + std::to_string(job_id) + " is " + job.state +
                         ", not queued; it cannot start");
    auto statement = db_->prepare("UPDATE jobs SET state = 'running', started_ns = ?, pid = ? WHERE id = ?");
    statement->bind_int(1, now_ns()).bind_int(2, pid).bind_int(3, job_id).run();
  });
}

void Catalog::set_job_pid(int64_t job_id, int64_t pid) {
  Database::Operation operation(*db_, "recording the process of job " + std::to_string(job_id));
  auto statement = db_->prepare("UPDATE jobs SET pid = ? WHERE id = ?");
  statement->bind_int(1, pid).bind_int(2, job_id).run();
  if (db_->changes() == 0) throw CatalogError("no job with id " + std::to_string(job_id));
}

void Catalog::request_job_control(int64_t job_id, const std::string& action) {
  check_one_of("job action", action, kJobControls);
  Database::Operation operation(*db_, "asking job " + std::to_string(job_id) + " to " + action);
  db_->transaction([&] {
    Job job = require_job(*db_, job_id);
    const std::string id = std::to_string(job_id);
    if (job.finished_ns != 0) throw CatalogError("job " + id + " already finished (" + job.state + ")");
    if (action == "pause" && job.paused) throw CatalogError("job " + id + " is already paused");
    if (action == "resume" && !job.paused && job.control != "pause")
      throw CatalogError("job " + id + " is not paused");
    auto statement = db_->prepare("UPDATE jobs SET control = ? WHERE id = ?");
    statement->bind_text(1, action).bind_int(2, job_id).run();
  });
}

void Catalog::settle_job_control(int64_t job_id, bool paused) {
  Database::Operation operation(*db_, "recording the control state of job " + std::to_string(job_id));
  db_->transaction([&] {
    require_job(*db_, job_id);
    auto statement = db_->prepare("UPDATE jobs SET control = '', paused = ? WHERE id = ?");
    statement->bind_int(1, paused ? 1 : 0).bind_int(2, job_id).run();
  });
}

void Catalog::set_job_target(int64_t job_id, const std::string& target) {
  Database::Operation operation(*db_, "setting the target of job " + std::to_string(job_id));
  db_->transaction([&] {
    require_job(*db_, job_id);
    auto statement = db_->prepare("UPDATE jobs SET target = ? WHERE id = ?");
    statement->bind_text(1, target).bind_int(2, job_id).run();
  });
}

// ----------------------------------------------------------------------------------------------------
// Scheduler marks

std::optional<int64_t> Catalog::schedule_mark(const std::string& definition, const std::string& schedule) {
  Database::Operation operation(*db_, "reading the schedule mark of " + in_quotes(definition));
  auto statement =
      db_->prepare("SELECT handled_until_ns FROM schedule_marks WHERE definition = ? AND schedule = ?");
  statement->bind_text(1, definition).bind_text(2, schedule);
  if (!statement->step()) return std::nullopt;
  return statement->int64(0);
}

void Catalog::set_schedule_mark(const std::string& definition, const std::string& schedule,
                                int64_t handled_until_ns) {
  Database::Operation operation(*db_, "recording the schedule mark of " + in_quotes(definition));
  auto statement = db_->prepare(
      "INSERT INTO schedule_marks (definition, schedule, handled_until_ns) VALUES (?, ?, ?)"
      " ON CONFLICT (definition, schedule) DO UPDATE SET handled_until_ns = excluded.handled_until_ns");
  statement->bind_text(1, definition).bind_text(2, schedule).bind_int(3, handled_until_ns).run();
}

void Catalog::remove_schedule_marks(const std::string& definition) {
  Database::Operation operation(*db_, "removing the schedule marks of " + in_quotes(definition));
  auto statement = db_->prepare("DELETE FROM schedule_marks WHERE definition = ?");
  statement->bind_text(1, definition).run();
}

// ----------------------------------------------------------------------------------------------------
// Alert delivery

std::vector<Alert> Catalog::undelivered_alerts() {
  Database::Operation operation(*db_, "listing undelivered alerts");
  auto statement = db_->prepare(std::string("SELECT ") + kAlertColumns +
                                " FROM alerts WHERE delivered_ns = 0 ORDER BY id");
  std::vector<Alert> alerts;
  while (statement->step()) alerts.push_back(read_alert(*statement));
  return alerts;
}

void Catalog::mark_alert_delivered(int64_t id, const std::string& error) {
  Database::Operation operation(*db_, "recording the delivery of alert " + std::to_string(id));
  auto statement = db_->prepare("UPDATE alerts SET delivered_ns = ?, delivery_error = ? WHERE id = ?");
  statement->bind_int(1, now_ns()).bind_text(2, error).bind_int(3, id).run();
  if (db_->changes() == 0) throw CatalogError("no alert with id " + std::to_string(id));
}

void Catalog::clear_alert_subject(const std::string& subject) {
  if (subject.empty()) return;
  Database::Operation operation(*db_, "clearing alerts about " + in_quotes(subject));
  auto statement = db_->prepare("UPDATE alerts SET cleared_ns = ? WHERE subject = ? AND cleared_ns = 0");
  statement->bind_int(1, now_ns()).bind_text(2, subject).run();
}

}  // namespace sbx::catalog
