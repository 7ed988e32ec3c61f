// Set provenance and copies: a copy's own retention, the copies of a set, and the copy graph the stages hook
// planned. The server plans copies, duplicate jobs fulfil them and expiry reads them back, possibly from
// different processes, so every state change checks what it expects inside its transaction.
#include <strongbox/catalog.hpp>

#include "rows.hpp"
#include "schema.hpp"

namespace sbx::catalog {

using detail::Database;
using detail::now_ns;
using Json = nlohmann::json;
using namespace detail;

namespace {

constexpr const char* kCopyColumns =
    "id, set_id, stage, after_stage, target, not_before_ns, window, retention, state, job_id, copy_set_id,"
    " revision, message, created_ns";

PlannedCopy read_copy(const Statement& row) {
  PlannedCopy copy;
  copy.id = row.int64(0);
  copy.set_id = row.int64(1);
  copy.stage = row.text(2);
  copy.after_stage = row.text(3);
  copy.target = row.text(4);
  copy.not_before_ns = row.int64(5);
  copy.window = row.text(6);
  copy.retention = parse_column(row.text(7), "planned copy retention");
  copy.state = row.text(8);
  copy.job_id = row.optional_int64(9);
  copy.copy_set_id = row.optional_int64(10);
  copy.revision = row.text(11);
  copy.message = row.text(12);
  copy.created_ns = row.int64(13);
  return copy;
}

std::optional<PlannedCopy> lookup_copy(Database& db, int64_t id) {
  auto statement = db.prepare(std::string("SELECT ") + kCopyColumns + " FROM copies WHERE id = ?");
  statement->bind_int(1, id);
  if (!statement->step()) return std::nullopt;
  return read_copy(*statement);
}

std::vector<BackupSet> read_sets(Statement& statement) {
  std::vector<BackupSet> sets;
  while (statement.step()) sets.push_back(read_set(statement));
  return sets;
}

std::vector<PlannedCopy> read_copies(Statement& statement) {
  std::vector<PlannedCopy> copies;
  while (statement.step()) copies.push_back(read_copy(statement));
  return copies;
}

}  // namespace

void Catalog::set_retain_until(int64_t set_id, int64_t retain_until_ns) {
  if (retain_until_ns < 0)
    throw CatalogError("retention of set " + std::to_string(set_id) + " cannot end before 1970 (got " +
                       std::to_string(retain_until_ns) + " ns)");
  Database::Operation operation(*db_, "setting the retention of set " + std::to_string(set_id));
  db_->transaction([&] {
    BackupSet set = require_set(*db_, set_id);
    if (set.state == "expired")
      throw CatalogError("set " + std::to_string(set_id) + " is expired; its retention can no longer change");
    auto statement = db_->prepare("UPDATE backup_sets SET retain_until_ns = ? WHERE id = ?");
    statement->bind_int(1, retain_until_ns).bind_int(2, set_id).run();
  });
}

std::vector<BackupSet> Catalog::copies_of_set(int64_t original_set_id) {
  Database::Operation operation(*db_, "listing the copies of set " + std::to_string(original_set_id));
  require_set(*db_, original_set_id);
  auto statement = db_->prepare(std::string("SELECT ") + kSetColumns +
                                " FROM backup_sets WHERE copy_of = ? ORDER BY started_ns, id");
  statement->bind_int(1, original_set_id);
  return read_sets(*statement);
}

int64_t Catalog::plan_copy(const PlannedCopy& copy) {
  check_name("stage name", copy.stage, 64);
  if (!copy.after_stage.empty()) check_name("stage name", copy.after_stage, 64);
  if (copy.after_stage == copy.stage)
    throw CatalogError("stage " + in_quotes(copy.stage) + " cannot copy from itself");
  check_not_empty("the target of stage " + in_quotes(copy.stage), copy.target);
  if (!copy.retention.is_object())
    throw CatalogError("the retention of stage " + in_quotes(copy.stage) + " must be a JSON object, not " +
                       dump_informational(copy.retention));
  if (copy.not_before_ns < 0)
    throw CatalogError("stage " + in_quotes(copy.stage) + " has a negative not-before time");
  const std::string set_text = std::to_string(copy.set_id);
  Database::Operation operation(*db_, "planning copy " + in_quotes(copy.stage) + " of set " + set_text);
  int64_t id = 0;
  db_->transaction([&] {
    BackupSet set = require_set(*db_, copy.set_id);
    if (set.copy_of)
      throw CatalogError("set " + set_text + " is itself a copy of set " + std::to_string(*set.copy_of) +
                         "; plan copies of the original");
    if (set.state != "complete")
      throw CatalogError("set " + set_text + " is " + set.state + "; only a complete set can be copied");
    auto existing = db_->prepare("SELECT id FROM copies WHERE set_id = ? AND stage = ?");
    existing->bind_int(1, copy.set_id).bind_text(2, copy.stage);
    if (existing->step())
      throw CatalogError("set " + set_text + " already has planned copy " +
                         std::to_string(existing->int64(0)) + " for stage " + in_quotes(copy.stage));
    auto statement = db_->prepare(
        "INSERT INTO copies (set_id, stage, after_stage, target, not_before_ns, window, retention, state,"
        " revision, message, created_ns) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)");
    statement->bind_int(1, copy.set_id)
        .bind_text(2, copy.stage)
        .bind_text(3, copy.after_stage)
        .bind_text(4, copy.target)
        .bind_int(5, copy.not_before_ns)
        .bind_text(6, copy.window)
        .bind_text(7, dump_informational(copy.retention))
        .bind_text(8, copy.revision)
        .bind_text(9, copy.message)
        .bind_int(10, now_ns())
        .run();
    id = db_->last_insert_rowid();
  });
  return id;
}

std::vector<PlannedCopy> Catalog::planned_copies(std::optional<int64_t> set_id) {
  Database::Operation operation(*db_, set_id ? "listing the planned copies of set " + std::to_string(*set_id)
                                             : std::string("listing planned copies"));
  auto statement = db_->prepare(std::string("SELECT ") + kCopyColumns +
                                " FROM copies WHERE ?1 IS NULL OR set_id = ?1 ORDER BY created_ns, id");
  statement->bind_optional_int(1, set_id);
  return read_copies(*statement);
}

std::vector<PlannedCopy> Catalog::copies_in_state(const std::string& state) {
  check_one_of("planned copy state", state, kCopyStates);
  Database::Operation operation(*db_, "listing " + state + " planned copies");
  auto statement = db_->prepare(std::string("SELECT ") + kCopyColumns +
                                " FROM copies WHERE state = ? ORDER BY created_ns, id");
  statement->bind_text(1, state);
  return read_copies(*statement);
}

void Catalog::update_copy(int64_t copy_id, const std::string& state, std::optional<int64_t> job_id,
                          std::optional<int64_t> copy_set_id, const std::string& message) {
  check_one_of("planned copy state", state, kCopyStates);
  const std::string id_text = std::to_string(copy_id);
  Database::Operation operation(*db_, "updating planned copy " + id_text);
  db_->transaction([&] {
    auto copy = lookup_copy(*db_, copy_id);
    if (!copy) throw CatalogError("no planned copy with id " + id_text);
    // A done copy is history the expiry of its source relies on; it never goes back.
    if (copy->state == "done" && state != "done")
      throw CatalogError("planned copy " + id_text + " is done; it cannot become " + state);
    if (job_id) require_job(*db_, *job_id);
    std::optional<int64_t> made = copy_set_id ? copy_set_id : copy->copy_set_id;
    if (made) {
      BackupSet made_set = require_set(*db_, *made);
      if (made_set.copy_of != copy->set_id)
        throw CatalogError("set " + std::to_string(*made) + " is not a copy of set " +
                           std::to_string(copy->set_id) + ", so it cannot fulfil planned copy " + id_text);
      if (state == "done" && made_set.state != "complete")
        throw CatalogError("set " + std::to_string(*made) + " is " + made_set.state + "; planned copy " +
                           id_text + " is done only once its copy is complete");
    }
    if (state == "done" && !made)
      throw CatalogError("planned copy " + id_text + " cannot be done without the set it made");
    auto statement = db_->prepare(
        "UPDATE copies SET state = ?, job_id = coalesce(?, job_id), copy_set_id = ?, message = ? WHERE id = "
        "?");
    statement->bind_text(1, state)
        .bind_optional_int(2, job_id)
        .bind_optional_int(3, made)
        .bind_text(4, message)
        .bind_int(5, copy_id)
        .run();
  });
}

}  // namespace sbx::catalog
