// Device pools and backup definitions: what the site is configured to do, as opposed to what it did. The
// spec of a definition is validated by the site module; here it is only required to be a JSON object that
// round-trips exactly, so `strongbox export` gives back what `apply` stored.
#include <strongbox/catalog.hpp>

#include "rows.hpp"
#include "schema.hpp"

namespace sbx::catalog {

using detail::Database;
using detail::now_ns;
using Json = nlohmann::json;
using namespace detail;

namespace {

constexpr size_t kNameLength = 64;

struct PoolRow {
  int64_t id = 0;
  std::string name;
  std::string type;
  int64_t created_ns = 0;
};

std::optional<PoolRow> lookup_pool(Database& db, const std::string& name) {
  auto statement = db.prepare("SELECT id, name, type, created_ns FROM pools WHERE name = ?");
  statement->bind_text(1, name);
  if (!statement->step()) return std::nullopt;
  return PoolRow{statement->int64(0), statement->text(1), statement->text(2), statement->int64(3)};
}

PoolRow require_pool(Database& db, const std::string& name) {
  auto pool = lookup_pool(db, name);
  if (!pool) throw CatalogError("no pool named " + in_quotes(name));
  return *pool;
}

// Pools with their members in order, from one statement (one snapshot): rows come pool by pool, members by
// position, and a pool without members comes as one row with NULL member.
std::vector<Pool> query_pools(Database& db, const std::string& where, const std::string& parameter) {
  auto statement = db.prepare(
      "SELECT p.id, p.name, p.type, p.created_ns, d.name FROM pools p"
      " LEFT JOIN pool_members m ON m.pool_id = p.id LEFT JOIN devices d ON d.id = m.device_id" +
      where + " ORDER BY p.name, m.position");
  if (!where.empty()) statement->bind_text(1, parameter);
  std::vector<Pool> pools;
  while (statement->step()) {
    if (pools.empty() || pools.back().id != statement->int64(0)) {
      pools.push_back(
          Pool{statement->int64(0), statement->text(1), statement->text(2), {}, statement->int64(3)});
    }
    if (!statement->is_null(4)) pools.back().members.push_back(statement->text(4));
  }
  return pools;
}

// A spec is used (sources, paths), not just shown: a replaced byte would back up something else.
std::string spec_text(const std::string& name, const Json& spec) {
  if (!spec.is_object()) {
    throw CatalogError("spec of definition " + in_quotes(name) + " must be a JSON object, not " +
                       std::string(spec.type_name()));
  }
  try {
    return spec.dump();
  } catch (const Json::exception& e) {
    throw CatalogError("spec of definition " + in_quotes(name) + " is not valid UTF-8 JSON: " + e.what());
  }
}

Definition read_definition(const Statement& row) {
  return Definition{row.int64(0), row.text(1), parse_column(row.text(2), "definition spec"), row.int64(3),
                    row.int64(4)};
}

constexpr const char* kDefinitionColumns = "id, name, spec, created_ns, updated_ns";

}  // namespace

// ----------------------------------------------------------------------------------------------------
// Pools

int64_t Catalog::add_pool(const std::string& name, const std::string& type) {
  check_name("pool name", name, kNameLength);
  check_name("pool type", type, kNameLength);
  Database::Operation operation(*db_, "adding pool " + in_quotes(name));
  int64_t id = 0;
  db_->transaction([&] {
    if (lookup_pool(*db_, name)) throw CatalogError("pool " + in_quotes(name) + " already exists");
    auto statement = db_->prepare("INSERT INTO pools (name, type, created_ns) VALUES (?, ?, ?)");
    statement->bind_text(1, name).bind_text(2, type).bind_int(3, now_ns()).run();
    id = db_->last_insert_rowid();
  });
  return id;
}

void Catalog::remove_pool(const std::string& name) {
  Database::Operation operation(*db_, "removing pool " + in_quotes(name));
  db_->transaction([&] {
    PoolRow pool = require_pool(*db_, name);
    // Members go with the pool (ON DELETE CASCADE); the devices themselves stay.
    auto statement = db_->prepare("DELETE FROM pools WHERE id = ?");
    statement->bind_int(1, pool.id).run();
  });
}

void Catalog::add_pool_member(const std::string& pool_name, const std::string& device_name) {
  Database::Operation operation(
      *db_, "adding device " + in_quotes(device_name) + " to pool " + in_quotes(pool_name));
  db_->transaction([&] {
    PoolRow pool = require_pool(*db_, pool_name);
    auto device = lookup_live_device(*db_, device_name);
    if (!device) throw CatalogError("no device named " + in_quotes(device_name));
    if (device->type != pool.type) {
      throw CatalogError("pool " + in_quotes(pool.name) + " holds " + pool.type + " devices; device " +
                         in_quotes(device->name) + " is of type " + in_quotes(device->type));
    }
    auto member = db_->prepare("SELECT 1 FROM pool_members WHERE pool_id = ? AND device_id = ?");
    member->bind_int(1, pool.id).bind_int(2, device->id);
    if (member->step()) {
      throw CatalogError("device " + in_quotes(device->name) + " is already in pool " + in_quotes(pool.name));
    }
    auto insert = db_->prepare(
        "INSERT INTO pool_members (pool_id, device_id, position)"
        " VALUES (?1, ?2, (SELECT coalesce(max(position), 0) + 1 FROM pool_members WHERE pool_id = ?1))");
    insert->bind_int(1, pool.id).bind_int(2, device->id).run();
  });
}

void Catalog::remove_pool_member(const std::string& pool_name, const std::string& device_name) {
  Database::Operation operation(
      *db_, "removing device " + in_quotes(device_name) + " from pool " + in_quotes(pool_name));
  db_->transaction([&] {
    PoolRow pool = require_pool(*db_, pool_name);
    auto device = lookup_live_device(*db_, device_name);
    if (!device) throw CatalogError("no device named " + in_quotes(device_name));
    auto statement = db_->prepare("DELETE FROM pool_members WHERE pool_id = ? AND device_id = ?");
    statement->bind_int(1, pool.id).bind_int(2, device->id).run();
    if (db_->changes() == 0) {
      throw CatalogError("device " + in_quotes(device->name) + " is not in pool " + in_quotes(pool.name));
    }
  });
}

std::optional<Pool> Catalog::find_pool(const std::string& name) {
  Database::Operation operation(*db_, "looking up pool " + in_quotes(name));
  auto pools = query_pools(*db_, " WHERE p.name = ?", name);
  if (pools.empty()) return std::nullopt;
  return pools.front();
}

std::vector<Pool> Catalog::list_pools() {
  Database::Operation operation(*db_, "listing pools");
  return query_pools(*db_, "", "");
}

// ----------------------------------------------------------------------------------------------------
// Definitions

bool Catalog::put_definition(const std::string& name, const Json& spec) {
  check_name("definition name", name, kNameLength);
  const std::string text = spec_text(name, spec);
  Database::Operation operation(*db_, "storing definition " + in_quotes(name));
  bool changed = false;
  db_->transaction([&] {
    auto existing =
        db_->prepare(std::string("SELECT ") + kDefinitionColumns + " FROM definitions WHERE name = ?");
    existing->bind_text(1, name);
    const int64_t now = now_ns();
    if (existing->step()) {
      Definition stored = read_definition(*existing);
      if (stored.spec == spec) return;
      auto update = db_->prepare("UPDATE definitions SET spec = ?, updated_ns = ? WHERE id = ?");
      update->bind_text(1, text).bind_int(2, now).bind_int(3, stored.id).run();
    } else {
      auto insert =
          db_->prepare("INSERT INTO definitions (name, spec, created_ns, updated_ns) VALUES (?, ?, ?, ?)");
      insert->bind_text(1, name).bind_text(2, text).bind_int(3, now).bind_int(4, now).run();
    }
    changed = true;
  });
  return changed;
}

void Catalog::remove_definition(const std::string& name) {
  Database::Operation operation(*db_, "removing definition " + in_quotes(name));
  db_->transaction([&] {
    auto statement = db_->prepare("DELETE FROM definitions WHERE name = ?");
    statement->bind_text(1, name).run();
    if (db_->changes() == 0) throw CatalogError("no definition named " + in_quotes(name));
    // A definition added later under the same name starts its schedules afresh instead of catching up on
    // firings its predecessor handled (or missed). Jobs and sets keep the name as history.
    auto marks = db_->prepare("DELETE FROM schedule_marks WHERE definition = ?");
    marks->bind_text(1, name).run();
  });
}

std::optional<Definition> Catalog::find_definition(const std::string& name) {
  Database::Operation operation(*db_, "looking up definition " + in_quotes(name));
  auto statement =
      db_->prepare(std::string("SELECT ") + kDefinitionColumns + " FROM definitions WHERE name = ?");
  statement->bind_text(1, name);
  if (!statement->step()) return std::nullopt;
  return read_definition(*statement);
}

std::vector<Definition> Catalog::list_definitions() {
  Database::Operation operation(*db_, "listing definitions");
  auto statement =
      db_->prepare(std::string("SELECT ") + kDefinitionColumns + " FROM definitions ORDER BY name");
  std::vector<Definition> definitions;
  while (statement->step()) definitions.push_back(read_definition(*statement));
  return definitions;
}

}  // namespace sbx::catalog
