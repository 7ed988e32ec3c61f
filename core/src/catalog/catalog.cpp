#include "strongbox/catalog.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <span>
#include <string_view>
#include <thread>

#include "rows.hpp"
#include "schema.hpp"
#include "sqlite_handle.hpp"

namespace sbx::catalog {
namespace fs = std::filesystem;
using detail::Database;
using detail::now_ns;
using detail::printable;
using Json = nlohmann::json;

namespace detail {

// ----------------------------------------------------------------------------------------------------
// Validation

std::string in_quotes(std::string_view value) {
  return "'" + printable(value) + "'";
}

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Names that end up in CLI output, file names and configuration: a conservative alphabet keeps them safe in
// all.
void check_name(std::string_view what, const std::string& value, size_t max_length) {
  auto allowed = [](char c) { return is_ascii_alnum(c) || c == '.' || c == '_' || c == '-'; };
  bool ok = !value.empty() && value.size() <= max_length && is_ascii_alnum(value[0]) &&
            std::all_of(value.begin(), value.end(), allowed);
  if (!ok) {
    throw CatalogError("invalid " + std::string(what) + " " + in_quotes(value) + ": use 1 to " +
                       std::to_string(max_length) +
                       " letters, digits, '.', '_' or '-', starting with a letter or digit");
  }
}

void check_one_of(std::string_view what, const std::string& value,
                  std::span<const std::string_view> options) {
  if (std::find(options.begin(), options.end(), value) != options.end()) return;
  std::string expected;
  for (auto option : options) expected += (expected.empty() ? "" : ", ") + std::string(option);
  throw CatalogError("invalid " + std::string(what) + " " + in_quotes(value) +
                     " (expected one of: " + expected + ")");
}

void check_not_empty(std::string_view what, const std::string& value) {
  if (value.empty()) throw CatalogError(std::string(what) + " must not be empty");
}

constexpr int kFirstEntryType = 1;  // SBX_ENTRY_FILE
constexpr int kLastEntryType = 7;   // SBX_ENTRY_BLOCK_DEVICE
constexpr size_t kHashSize = 32;

// ----------------------------------------------------------------------------------------------------
// JSON columns

// Job details, audit details and decision reasons are for people: a stray invalid UTF-8 byte must not cost
// the record, so it is replaced rather than refused.
std::string dump_informational(const Json& value) {
  return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

Json parse_column(const std::string& text, std::string_view what) {
  try {
    return Json::parse(text);
  } catch (const Json::exception& e) {
    throw CatalogError("catalog holds an unreadable " + std::string(what) + ": " + e.what());
  }
}

// RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF (the rules nlohmann::json enforces).
bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = byte(i);
    size_t length;
    unsigned char low = 0x80, high = 0xbf;  // allowed range of the second byte
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      length = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      length = 3;
      if (c == 0xe0) low = 0xa0;
      if (c == 0xed) high = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      length = 4;
      if (c == 0xf0) low = 0x90;
      if (c == 0xf4) high = 0x8f;
    } else {
      return false;
    }
    if (i + length > s.size()) return false;
    if (byte(i + 1) < low || byte(i + 1) > high) return false;
    for (size_t k = 2; k < length; ++k) {
      if (byte(i + k) < 0x80 || byte(i + k) > 0xbf) return false;
    }
    i += length;
  }
  return true;
}

// Sources are paths, hence raw bytes: a UTF-8 source is a JSON string (readable in the table), any other is
// {"hex": "..."} so it round-trips exactly.
std::string encode_sources(const std::vector<std::string>& sources) {
  static constexpr char kDigits[] = "0123456789abcdef";
  Json array = Json::array();
  for (const auto& source : sources) {
    if (is_valid_utf8(source)) {
      array.push_back(source);
      continue;
    }
    std::string hex;
    for (unsigned char c : source) {
      hex.push_back(kDigits[c >> 4]);
      hex.push_back(kDigits[c & 0xf]);
    }
    array.push_back(Json{{"hex", hex}});
  }
  return array.dump();
}

std::vector<std::string> decode_sources(const std::string& text) {
  Json array = parse_column(text, "list of set sources");
  auto corrupt = [&] {
    return CatalogError("catalog holds a malformed list of set sources: " + printable(text));
  };
  if (!array.is_array()) throw corrupt();
  std::vector<std::string> sources;
  for (const auto& element : array) {
    if (element.is_string()) {
      sources.push_back(element.get<std::string>());
      continue;
    }
    if (!element.is_object() || !element.contains("hex") || !element["hex"].is_string()) throw corrupt();
    const auto& hex = element["hex"].get_ref<const std::string&>();
    if (hex.size() % 2 != 0) throw corrupt();
    std::string bytes;
    for (size_t i = 0; i < hex.size(); i += 2) {
      auto nibble = [&](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        throw corrupt();
      };
      bytes.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
    }
    sources.push_back(std::move(bytes));
  }
  return sources;
}

std::string chain_json(const std::vector<int64_t>& chain) {
  Json array = Json::array();
  for (int64_t id : chain) array.push_back(id);
  return array.dump();
}

// ----------------------------------------------------------------------------------------------------
// Rows

Device read_device(const detail::Statement& row) {
  Device device;
  device.id = row.int64(0);
  device.name = row.text(1);
  device.type = row.text(2);
  device.settings = parse_column(row.text(3), "device settings");
  device.created_ns = row.int64(4);
  device.removed_ns = row.optional_int64(5);
  device.max_jobs = row.int64(6);
  device.enabled = row.int64(7) != 0;
  return device;
}

constexpr const char* kMediumColumns = "id, device_id, label, state, created_ns";

Medium read_medium(const detail::Statement& row) {
  return Medium{row.int64(0), row.int64(1), row.text(2), row.text(3), row.int64(4)};
}

Job read_job(const detail::Statement& row) {
  Job job;
  job.id = row.int64(0);
  job.kind = row.text(1);
  job.state = row.text(2);
  job.device_id = row.optional_int64(3);
  job.set_id = row.optional_int64(4);
  job.created_ns = row.int64(5);
  job.started_ns = row.int64(6);
  job.finished_ns = row.int64(7);
  job.message = row.text(8);
  job.details = parse_column(row.text(9), "job details");
  job.definition = row.text(10);
  job.target = row.text(11);
  job.priority = row.int64(12);
  job.scheduled_ns = row.int64(13);
  job.not_before_ns = row.int64(14);
  job.deadline_ns = row.int64(15);
  job.attempt = row.int64(16);
  job.max_attempts = row.int64(17);
  job.retry_of = row.optional_int64(18);
  job.pid = row.int64(19);
  job.paused = row.int64(20) != 0;
  job.control = row.text(21);
  return job;
}

BackupSet read_set(const detail::Statement& row) {
  BackupSet set;
  set.id = row.int64(0);
  set.job_id = row.optional_int64(1);
  set.device_id = row.int64(2);
  set.store_name = row.text(3);
  set.level = row.text(4);
  set.base_set_id = row.optional_int64(5);
  set.series = row.blob(6);
  set.sources = decode_sources(row.text(7));
  set.state = row.text(8);
  set.started_ns = row.int64(9);
  set.completed_ns = row.int64(10);
  set.expired_ns = row.int64(11);
  set.file_count = static_cast<uint64_t>(row.int64(12));
  set.bytes = static_cast<uint64_t>(row.int64(13));
  set.stored_bytes = static_cast<uint64_t>(row.int64(14));
  set.warnings = static_cast<uint64_t>(row.int64(15));
  set.legal_hold = row.int64(16) != 0;
  set.agent = row.text(17);
  set.definition = row.text(18);
  set.synthetic = row.int64(19) != 0;
  set.copy_of = row.optional_int64(20);
  set.retain_until_ns = row.int64(21);
  return set;
}

constexpr std::array<const char*, 22> kFileColumnNames = {
    "set_id",      "path",       "type",     "deleted",      "size",    "mode",  "uid",   "gid",
    "user_name",   "group_name", "mtime_ns", "ctime_ns",     "device",  "inode", "nlink", "rdev",
    "link_target", "xattrs",     "extents",  "content_hash", "locator", "seq"};

std::string column_list(std::span<const char* const> names, std::string_view prefix = "") {
  std::string columns;
  for (const char* name : names) {
    if (!columns.empty()) columns += ", ";
    columns += std::string(prefix) + name;
  }
  return columns;
}

std::string file_columns(std::string_view prefix) {
  return column_list(kFileColumnNames, prefix);
}

// Both column lists start with these eight, in this order.
FileVersion read_leading_columns(const detail::Statement& row) {
  FileVersion file;
  file.set_id = row.int64(0);
  file.path = row.blob(1);
  file.type = static_cast<int>(row.int64(2));
  file.deleted = row.int64(3) != 0;
  file.size = static_cast<uint64_t>(row.int64(4));
  file.mode = static_cast<uint32_t>(row.int64(5));
  file.uid = static_cast<uint32_t>(row.int64(6));
  file.gid = static_cast<uint32_t>(row.int64(7));
  return file;
}

FileVersion read_file(const detail::Statement& row) {
  FileVersion file = read_leading_columns(row);
  file.user_name = row.blob(8);
  file.group_name = row.blob(9);
  file.mtime_ns = row.int64(10);
  file.ctime_ns = row.int64(11);
  file.device = static_cast<uint64_t>(row.int64(12));
  file.inode = static_cast<uint64_t>(row.int64(13));
  file.nlink = static_cast<uint64_t>(row.int64(14));
  file.rdev = static_cast<uint64_t>(row.int64(15));
  file.link_target = row.blob(16);
  file.xattrs = row.blob(17);
  file.extents = row.blob(18);
  file.content_hash = row.blob(19);
  file.locator = row.blob(20);
  file.seq = static_cast<uint64_t>(row.int64(21));
  return file;
}

constexpr std::array<const char*, 12> kChangeCheckColumnNames = {
    "set_id", "path", "type",     "deleted",  "size",  "mode",
    "uid",    "gid",  "mtime_ns", "ctime_ns", "inode", "link_target"};

constexpr bool lists_share_leading_columns() {
  for (size_t i = 0; i < 8; ++i)
    if (std::string_view(kFileColumnNames[i]) != kChangeCheckColumnNames[i]) return false;
  return true;
}
static_assert(lists_share_leading_columns(), "read_leading_columns reads the first eight of both lists");

std::string change_check_columns() {
  return column_list(kChangeCheckColumnNames);
}

FileVersion read_change_check(const detail::Statement& row) {
  FileVersion file = read_leading_columns(row);
  file.mtime_ns = row.int64(8);
  file.ctime_ns = row.int64(9);
  file.inode = static_cast<uint64_t>(row.int64(10));
  file.link_target = row.blob(11);
  return file;
}

Alert read_alert(const detail::Statement& row) {
  return Alert{row.int64(0),      row.int64(1),      row.text(2), row.text(3),  row.text(4),
               row.int64(5) != 0, row.int64(6) != 0, row.text(7), row.int64(8), row.text(9)};
}

// ----------------------------------------------------------------------------------------------------
// Shared lookups

std::string ids_text(const std::vector<int64_t>& ids) {
  std::string text;
  for (int64_t id : ids) text += (text.empty() ? "" : ", ") + std::to_string(id);
  return text;
}

std::vector<int64_t> query_ids(Database& db, const std::string& sql, int64_t parameter) {
  auto statement = db.prepare(sql);
  statement->bind_int(1, parameter);
  std::vector<int64_t> ids;
  while (statement->step()) ids.push_back(statement->int64(0));
  return ids;
}

std::optional<BackupSet> lookup_set(Database& db, int64_t id) {
  auto statement = db.prepare(std::string("SELECT ") + kSetColumns + " FROM backup_sets WHERE id = ?");
  statement->bind_int(1, id);
  if (!statement->step()) return std::nullopt;
  return read_set(*statement);
}

BackupSet require_set(Database& db, int64_t id) {
  auto set = lookup_set(db, id);
  if (!set) throw CatalogError("no backup set with id " + std::to_string(id));
  return *set;
}

std::optional<Device> lookup_live_device(Database& db, const std::string& name) {
  auto statement = db.prepare(std::string("SELECT ") + kDeviceColumns +
                              " FROM devices WHERE name = ? AND removed_ns IS NULL");
  statement->bind_text(1, name);
  if (!statement->step()) return std::nullopt;
  return read_device(*statement);
}

std::optional<Device> lookup_device(Database& db, int64_t id) {
  auto statement = db.prepare(std::string("SELECT ") + kDeviceColumns + " FROM devices WHERE id = ?");
  statement->bind_int(1, id);
  if (!statement->step()) return std::nullopt;
  return read_device(*statement);
}

Device require_live_device(Database& db, int64_t id) {
  auto device = lookup_device(db, id);
  if (!device) throw CatalogError("no device with id " + std::to_string(id));
  if (device->removed_ns)
    throw CatalogError("device " + in_quotes(device->name) + " (id " + std::to_string(id) + ") was removed");
  return *device;
}

std::optional<Job> lookup_job(Database& db, int64_t id) {
  auto statement = db.prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE id = ?");
  statement->bind_int(1, id);
  if (!statement->step()) return std::nullopt;
  return read_job(*statement);
}

Job require_job(Database& db, int64_t id) {
  auto job = lookup_job(db, id);
  if (!job) throw CatalogError("no job with id " + std::to_string(id));
  return *job;
}

// Switching a new file to WAL needs an exclusive lock. When several processes create the same catalog at
// once, SQLite answers BUSY at once instead of waiting (waiting could deadlock), so the wait happens here.
// Once the file is in WAL mode the pragma takes no lock and returns at once.
std::string switch_to_wal(Database& db) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    auto statement = db.prepare("PRAGMA journal_mode = WAL");
    int rc = statement->try_step();
    if (rc == SQLITE_ROW) return statement->text(0);
    if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() > deadline) db.fail(rc);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

// SQLite's LIMIT -1 means no limit.
int64_t sql_limit(size_t limit) {
  return limit == 0 ? -1 : static_cast<int64_t>(limit);
}

}  // namespace detail

using namespace detail;

// ----------------------------------------------------------------------------------------------------
// Opening

Catalog::Catalog(std::unique_ptr<detail::Database> db) : db_(std::move(db)) {}
Catalog::~Catalog() = default;

int Catalog::latest_schema_version() {
  return static_cast<int>(detail::migrations().size());
}

std::unique_ptr<Catalog> Catalog::open(const fs::path& file, Mode mode) {
  const std::string name = printable(file.string());
  std::error_code error;
  fs::file_status status = fs::status(file, error);
  const bool exists = status.type() != fs::file_type::not_found;
  if (exists && error) throw CatalogError("catalog " + name + ": cannot examine it: " + error.message());
  if (exists && fs::is_directory(status))
    throw CatalogError("catalog " + name + " is a directory, not a catalog file");
  if (mode == Mode::create && exists) {
    throw CatalogError("catalog " + name + " already exists; refusing to create a new catalog over it");
  }
  if (mode == Mode::open_existing && !exists) throw CatalogError("catalog " + name + " does not exist");

  auto db = std::make_unique<Database>(file, !exists);
  // Read-only checks first: a foreign or newer file must be left exactly as it was.
  const int version = detail::inspect_schema(*db, latest_schema_version());
  {
    Database::Operation operation(*db, "configuring the connection");
    if (version == 0 && db->query_int("PRAGMA page_count") == 0) {
      // Larger pages keep file_versions rows (path + metadata + locator) well inside a page.
      db->exec("PRAGMA page_size = 8192");
    }
    std::string journal = switch_to_wal(*db);
    if (journal != "wal") {
      throw CatalogError("catalog " + db->name() +
                         ": cannot use a WAL journal on this file system (SQLite kept '" + journal + "')");
    }
    // Catalog commits are the durability point of a backup: FULL syncs the WAL on every commit.
    // journal_size_limit: after a checkpoint the WAL shrinks back instead of keeping the size of the largest
    // transaction (a big backup's file list) forever.
    db->exec(
        "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF;"
        " PRAGMA cache_size = -32768; PRAGMA journal_size_limit = 67108864");
    if (db->query_int("PRAGMA foreign_keys") != 1) {
      throw CatalogError("catalog " + db->name() + ": this SQLite cannot enforce foreign keys");
    }
  }
  detail::migrate_schema(*db, detail::migrations());
  return std::unique_ptr<Catalog>(new Catalog(std::move(db)));
}

int Catalog::schema_version() {
  return static_cast<int>(db_->query_int("PRAGMA user_version"));
}

void Catalog::transaction(const std::function<void()>& body) {
  db_->transaction(body);
}

std::vector<std::string> Catalog::check_integrity() {
  Database::Operation operation(*db_, "checking integrity");
  std::vector<std::string> problems;
  {
    auto check = db_->prepare("PRAGMA integrity_check");
    while (check->step()) {
      std::string line = check->text(0);
      if (line != "ok") problems.push_back(printable(line));
    }
  }
  auto foreign = db_->prepare("PRAGMA foreign_key_check");
  while (foreign->step()) {
    problems.push_back("row " + std::to_string(foreign->int64(1)) + " of table " + foreign->text(0) +
                       " refers to a missing row of table " + foreign->text(2));
  }
  return problems;
}

// ----------------------------------------------------------------------------------------------------
// Servers

int64_t Catalog::ensure_server(const std::string& name, const std::string& role) {
  check_name("server name", name, 253);
  check_one_of("server role", role, kServerRoles);
  Database::Operation operation(*db_, "recording server " + in_quotes(name));
  auto statement = db_->prepare(
      "INSERT INTO servers (name, role, created_ns, updated_ns) VALUES (?1, ?2, ?3, ?3) "
      "ON CONFLICT (name) DO UPDATE SET role = excluded.role, updated_ns = excluded.updated_ns RETURNING id");
  statement->bind_text(1, name).bind_text(2, role).bind_int(3, now_ns());
  if (!statement->step()) db_->fail(SQLITE_ERROR, "the server upsert returned no id");
  int64_t id = statement->int64(0);
  statement->run();
  return id;
}

std::vector<Server> Catalog::list_servers() {
  Database::Operation operation(*db_, "listing servers");
  auto statement = db_->prepare("SELECT id, name, role, created_ns, updated_ns FROM servers ORDER BY name");
  std::vector<Server> servers;
  while (statement->step()) {
    servers.push_back(Server{statement->int64(0), statement->text(1), statement->text(2), statement->int64(3),
                             statement->int64(4)});
  }
  return servers;
}

// ----------------------------------------------------------------------------------------------------
// Devices and media

int64_t Catalog::add_device(const std::string& name, const std::string& type, const Json& settings) {
  check_name("device name", name, 64);
  check_name("device type", type, 64);
  if (!settings.is_object()) {
    throw CatalogError("settings of device " + in_quotes(name) + " must be a JSON object, not " +
                       std::string(settings.type_name()));
  }
  std::string settings_text;
  try {
    // Settings are used, not just shown (a path, a key file): a replaced byte would point somewhere else.
    settings_text = settings.dump();
  } catch (const Json::exception& e) {
    throw CatalogError("settings of device " + in_quotes(name) + " are not valid UTF-8 JSON: " + e.what());
  }
  Database::Operation operation(*db_, "adding device " + in_quotes(name));
  int64_t id = 0;
  db_->transaction([&] {
    if (lookup_live_device(*db_, name)) throw CatalogError("device " + in_quotes(name) + " already exists");
    auto statement =
        db_->prepare("INSERT INTO devices (name, type, settings, created_ns) VALUES (?, ?, ?, ?)");
    statement->bind_text(1, name).bind_text(2, type).bind_text(3, settings_text).bind_int(4, now_ns()).run();
    id = db_->last_insert_rowid();
  });
  return id;
}

void Catalog::remove_device(const std::string& name) {
  Database::Operation operation(*db_, "removing device " + in_quotes(name));
  db_->transaction([&] {
    auto device = lookup_live_device(*db_, name);
    if (!device) throw CatalogError("no device named " + in_quotes(name));
    auto live_sets =
        query_ids(*db_, "SELECT id FROM backup_sets WHERE device_id = ? AND state <> 'expired' ORDER BY id",
                  device->id);
    if (!live_sets.empty()) {
      throw CatalogError("device " + in_quotes(name) + " still holds " + std::to_string(live_sets.size()) +
                         " backup set(s) that are not expired (set " + ids_text(live_sets) +
                         "); expire or discard them first");
    }
    // A pool naming a removed device would send jobs to a device that no longer exists.
    auto pools = db_->prepare(
        "SELECT p.name FROM pool_members m JOIN pools p ON p.id = m.pool_id WHERE m.device_id = ?"
        " ORDER BY p.name");
    pools->bind_int(1, device->id);
    std::vector<std::string> pool_names;
    while (pools->step()) pool_names.push_back(pools->text(0));
    if (!pool_names.empty()) {
      std::string listed;
      for (const auto& pool : pool_names) listed += (listed.empty() ? "" : ", ") + in_quotes(pool);
      throw CatalogError("device " + in_quotes(name) + " is in pool " + listed +
                         "; take it out first (strongbox pools remove-device " +
                         (pool_names.size() == 1 ? pool_names.front() : "POOL") + " " + name + ")");
    }
    auto statement = db_->prepare("UPDATE devices SET removed_ns = ? WHERE id = ?");
    statement->bind_int(1, now_ns()).bind_int(2, device->id).run();
  });
}

std::optional<Device> Catalog::find_device(const std::string& name) {
  Database::Operation operation(*db_, "looking up device " + in_quotes(name));
  return lookup_live_device(*db_, name);
}

Device Catalog::device(int64_t id) {
  Database::Operation operation(*db_, "looking up device " + std::to_string(id));
  auto device = lookup_device(*db_, id);
  if (!device) throw CatalogError("no device with id " + std::to_string(id));
  return *device;
}

std::vector<Device> Catalog::list_devices() {
  Database::Operation operation(*db_, "listing devices");
  auto statement = db_->prepare(std::string("SELECT ") + kDeviceColumns +
                                " FROM devices WHERE removed_ns IS NULL ORDER BY name");
  std::vector<Device> devices;
  while (statement->step()) devices.push_back(read_device(*statement));
  return devices;
}

int64_t Catalog::add_medium(int64_t device_id, const std::string& label) {
  check_name("medium label", label, 64);
  Database::Operation operation(*db_, "adding medium " + in_quotes(label));
  int64_t id = 0;
  db_->transaction([&] {
    Device device = require_live_device(*db_, device_id);
    auto existing = db_->prepare("SELECT id FROM media WHERE device_id = ? AND label = ?");
    existing->bind_int(1, device_id).bind_text(2, label);
    if (existing->step()) {
      throw CatalogError("device " + in_quotes(device.name) + " already has a medium labelled " +
                         in_quotes(label));
    }
    auto statement =
        db_->prepare("INSERT INTO media (device_id, label, state, created_ns) VALUES (?, ?, 'available', ?)");
    statement->bind_int(1, device_id).bind_text(2, label).bind_int(3, now_ns()).run();
    id = db_->last_insert_rowid();
  });
  return id;
}

std::vector<Medium> Catalog::list_media(std::optional<int64_t> device_id) {
  Database::Operation operation(*db_, "listing media");
  auto statement = db_->prepare(std::string("SELECT ") + kMediumColumns +
                                " FROM media WHERE ?1 IS NULL OR device_id = ?1 ORDER BY id");
  statement->bind_optional_int(1, device_id);
  std::vector<Medium> media;
  while (statement->step()) media.push_back(read_medium(*statement));
  return media;
}

// ----------------------------------------------------------------------------------------------------
// Jobs

int64_t Catalog::create_job(const std::string& kind, const Json& details) {
  check_name("job kind", kind, 32);
  Database::Operation operation(*db_, "creating a " + kind + " job");
  int64_t now = now_ns();
  auto statement = db_->prepare(
      "INSERT INTO jobs (kind, state, created_ns, started_ns, details) VALUES (?, 'running', ?, ?, ?)");
  statement->bind_text(1, kind)
      .bind_int(2, now)
      .bind_int(3, now)
      .bind_text(4, dump_informational(details))
      .run();
  return db_->last_insert_rowid();
}

void Catalog::finish_job(int64_t job_id, const std::string& state, const std::string& message,
                         const Json& details) {
  check_one_of("final job state", state, kFinalJobStates);
  Database::Operation operation(*db_, "finishing job " + std::to_string(job_id));
  db_->transaction([&] {
    Job job = require_job(*db_, job_id);
    if (job.finished_ns != 0) {
      throw CatalogError("job " + std::to_string(job_id) + " already finished (" + job.state + ")");
    }
    Json merged = job.details;
    if (details.is_object() && merged.is_object()) {
      merged.update(details);
    } else if (!details.is_null()) {
      merged = details;
    }
    auto statement =
        db_->prepare("UPDATE jobs SET state = ?, finished_ns = ?, message = ?, details = ? WHERE id = ?");
    statement->bind_text(1, state)
        .bind_int(2, now_ns())
        .bind_text(3, message)
        .bind_text(4, dump_informational(merged))
        .bind_int(5, job_id)
        .run();
  });
}

void Catalog::set_job_set(int64_t job_id, int64_t set_id) {
  Database::Operation operation(
      *db_, "linking job " + std::to_string(job_id) + " to set " + std::to_string(set_id));
  db_->transaction([&] {
    require_job(*db_, job_id);
    require_set(*db_, set_id);
    auto statement = db_->prepare("UPDATE jobs SET set_id = ? WHERE id = ?");
    statement->bind_int(1, set_id).bind_int(2, job_id).run();
  });
}

void Catalog::set_job_device(int64_t job_id, int64_t device_id) {
  Database::Operation operation(
      *db_, "linking job " + std::to_string(job_id) + " to device " + std::to_string(device_id));
  db_->transaction([&] {
    require_job(*db_, job_id);
    require_live_device(*db_, device_id);
    auto statement = db_->prepare("UPDATE jobs SET device_id = ? WHERE id = ?");
    statement->bind_int(1, device_id).bind_int(2, job_id).run();
  });
}

void Catalog::append_job_log(int64_t job_id, const std::string& level, const std::string& message) {
  check_one_of("log level", level, kLogLevels);
  Database::Operation operation(*db_, "appending to the log of job " + std::to_string(job_id));
  auto statement = db_->prepare("INSERT INTO job_log (job_id, time_ns, level, message) VALUES (?, ?, ?, ?)");
  statement->bind_int(1, job_id).bind_int(2, now_ns()).bind_text(3, level).bind_text(4, message);
  // Log lines can be many (a warning per unreadable file): the foreign key does the existence check.
  int rc = statement->try_step();
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY) throw CatalogError("no job with id " + std::to_string(job_id));
  if (rc != SQLITE_DONE) db_->fail(rc);
}

std::vector<Job> Catalog::list_jobs(size_t limit) {
  Database::Operation operation(*db_, "listing jobs");
  auto statement = db_->prepare(std::string("SELECT ") + kJobColumns + " FROM jobs ORDER BY id DESC LIMIT ?");
  statement->bind_int(1, sql_limit(limit));
  std::vector<Job> jobs;
  while (statement->step()) jobs.push_back(read_job(*statement));
  return jobs;
}

std::vector<Job> Catalog::jobs_in_state(const std::string& state) {
  check_one_of("job state", state, kJobStates);
  Database::Operation operation(*db_, "listing " + state + " jobs");
  auto statement =
      db_->prepare(std::string("SELECT ") + kJobColumns + " FROM jobs WHERE state = ? ORDER BY id");
  statement->bind_text(1, state);
  std::vector<Job> jobs;
  while (statement->step()) jobs.push_back(read_job(*statement));
  return jobs;
}

std::optional<Job> Catalog::find_job(int64_t id) {
  Database::Operation operation(*db_, "looking up job " + std::to_string(id));
  return lookup_job(*db_, id);
}

std::vector<JobLogLine> Catalog::job_log(int64_t job_id) {
  Database::Operation operation(*db_, "reading the log of job " + std::to_string(job_id));
  auto statement =
      db_->prepare("SELECT job_id, time_ns, level, message FROM job_log WHERE job_id = ? ORDER BY id");
  statement->bind_int(1, job_id);
  std::vector<JobLogLine> lines;
  while (statement->step()) {
    lines.push_back(
        JobLogLine{statement->int64(0), statement->int64(1), statement->text(2), statement->text(3)});
  }
  return lines;
}

// ----------------------------------------------------------------------------------------------------
// Backup sets

namespace {

void check_store_name_free(Database& db, int64_t device_id, const std::string& store_name,
                           int64_t except_set) {
  if (store_name.empty()) return;
  auto statement = db.prepare(
      "SELECT id FROM backup_sets WHERE device_id = ? AND store_name = ? AND state <> 'expired' AND id <> ?");
  statement->bind_int(1, device_id).bind_text(2, store_name).bind_int(3, except_set);
  if (statement->step()) {
    throw CatalogError("device " + std::to_string(device_id) + " already has set " +
                       std::to_string(statement->int64(0)) + " stored as " + in_quotes(store_name));
  }
}

bool has_complete_copy(Database& db, int64_t original_id) {
  auto statement = db.prepare("SELECT 1 FROM backup_sets WHERE copy_of = ? AND state = 'complete' LIMIT 1");
  statement->bind_int(1, original_id);
  return statement->step();
}

}  // namespace

int64_t Catalog::begin_set(const BackupSet& set) {
  check_one_of("backup level", set.level, kSetLevels);
  check_not_empty("the series of a backup set", set.series);
  Database::Operation operation(*db_, "beginning a " + set.level + " backup set");
  int64_t id = 0;
  db_->transaction([&] {
    require_live_device(*db_, set.device_id);
    if (set.job_id) require_job(*db_, *set.job_id);
    if (set.level == "full" && set.base_set_id) {
      throw CatalogError("a full backup set has no base set (got base set " +
                         std::to_string(*set.base_set_id) + ")");
    }
    // base_set_id always names the original (logical) set; a copy given as base stands for its original.
    std::optional<int64_t> base_id = set.base_set_id;
    if (set.level != "full") {
      if (!base_id) throw CatalogError("an " + set.level + " backup set needs a base set");
      BackupSet base = require_set(*db_, *base_id);
      if (base.copy_of) base = require_set(*db_, *base.copy_of);
      base_id = base.id;
      if (base.state != "complete" && !has_complete_copy(*db_, base.id)) {
        throw CatalogError("base set " + std::to_string(base.id) + " of the new " + set.level + " set is " +
                           base.state + ", not complete, and no complete copy of it survives");
      }
    }
    if (set.copy_of) {
      BackupSet original = require_set(*db_, *set.copy_of);
      if (original.copy_of)
        throw CatalogError("set " + std::to_string(original.id) + " is itself a copy of set " +
                           std::to_string(*original.copy_of) + "; a new copy names the original");
      if (original.series != set.series || original.level != set.level || original.base_set_id != base_id)
        throw CatalogError("a copy of set " + std::to_string(original.id) +
                           " must keep its series, level and base set");
    }
    check_store_name_free(*db_, set.device_id, set.store_name, 0);
    // Past every id ever given, not only past the ids still here (schema version 3).
    auto statement = db_->prepare(
        "INSERT INTO backup_sets (job_id, device_id, store_name, level, base_set_id, series, sources, state, "
        "started_ns, legal_hold, agent, definition, synthetic, copy_of, retain_until_ns, id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'writing', ?, ?, ?, ?, ?, ?, ?,"
        " max((SELECT id FROM set_id_high), coalesce((SELECT max(id) FROM backup_sets), 0)) + 1)");
    statement->bind_optional_int(1, set.job_id)
        .bind_int(2, set.device_id)
        .bind_text(3, set.store_name)
        .bind_text(4, set.level)
        .bind_optional_int(5, base_id)
        .bind_blob(6, set.series)
        .bind_text(7, encode_sources(set.sources))
        .bind_int(8, set.started_ns != 0 ? set.started_ns : now_ns())
        .bind_int(9, set.legal_hold ? 1 : 0)
        .bind_text(10, set.agent)
        .bind_text(11, set.definition)
        .bind_int(12, set.synthetic ? 1 : 0)
        .bind_optional_int(13, set.copy_of)
        .bind_int(14, set.retain_until_ns)
        .run();
    id = db_->last_insert_rowid();
    db_->prepare("UPDATE set_id_high SET id = ?")->bind_int(1, id).run();
  });
  return id;
}

void Catalog::add_file_versions(int64_t set_id, const std::vector<FileVersion>& batch) {
  Database::Operation operation(*db_, "adding file versions to set " + std::to_string(set_id));
  db_->transaction([&] {
    BackupSet set = require_set(*db_, set_id);
    if (set.state != "writing") {
      throw CatalogError("set " + std::to_string(set_id) + " is " + set.state +
                         "; file versions can only be added " + "while it is being written");
    }
    auto insert = db_->prepare("INSERT INTO file_versions (" + file_columns("") +
                               ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    // Blobs are borrowed from `batch`, which outlives every step; the statement is reset after each row.
    for (const FileVersion& file : batch) {
      if (file.path.empty())
        throw CatalogError("a file version of set " + std::to_string(set_id) + " has an empty path");
      if (file.type < kFirstEntryType || file.type > kLastEntryType) {
        throw CatalogError("file version " + in_quotes(file.path) + " has unknown entry type " +
                           std::to_string(file.type));
      }
      if (!file.content_hash.empty() && file.content_hash.size() != kHashSize) {
        throw CatalogError("file version " + in_quotes(file.path) + " has a content hash of " +
                           std::to_string(file.content_hash.size()) + " bytes, not " +
                           std::to_string(kHashSize));
      }
      insert->bind_int(1, set_id)
          .bind_borrowed_blob(2, file.path)
          .bind_int(3, file.type)
          .bind_int(4, file.deleted ? 1 : 0)
          .bind_int(5, static_cast<int64_t>(file.size))
          .bind_int(6, file.mode)
          .bind_int(7, file.uid)
          .bind_int(8, file.gid)
          .bind_borrowed_blob(9, file.user_name)
          .bind_borrowed_blob(10, file.group_name)
          .bind_int(11, file.mtime_ns)
          .bind_int(12, file.ctime_ns)
          .bind_int(13, static_cast<int64_t>(file.device))
          .bind_int(14, static_cast<int64_t>(file.inode))
          .bind_int(15, static_cast<int64_t>(file.nlink))
          .bind_int(16, static_cast<int64_t>(file.rdev))
          .bind_borrowed_blob(17, file.link_target)
          .bind_borrowed_blob(18, file.xattrs)
          .bind_borrowed_blob(19, file.extents)
          .bind_borrowed_blob(20, file.content_hash)
          .bind_borrowed_blob(21, file.locator)
          .bind_int(22, static_cast<int64_t>(file.seq));
      int rc = insert->try_step();
      if (rc == SQLITE_CONSTRAINT_PRIMARYKEY) {
        throw CatalogError("set " + std::to_string(set_id) + " already has a version of " +
                           in_quotes(file.path));
      }
      if (rc != SQLITE_DONE) db_->fail(rc);
      insert->reset();
    }
  });
}

void Catalog::set_store_name(int64_t set_id, const std::string& store_name) {
  Database::Operation operation(*db_, "naming the stored data of set " + std::to_string(set_id));
  db_->transaction([&] {
    BackupSet set = require_set(*db_, set_id);
    if (set.state == "expired") throw CatalogError("set " + std::to_string(set_id) + " is expired");
    check_store_name_free(*db_, set.device_id, store_name, set_id);
    auto statement = db_->prepare("UPDATE backup_sets SET store_name = ? WHERE id = ?");
    statement->bind_text(1, store_name).bind_int(2, set_id).run();
  });
}

void Catalog::complete_set(int64_t set_id, uint64_t file_count, uint64_t bytes, uint64_t stored_bytes,
                           uint64_t warnings) {
  Database::Operation operation(*db_, "completing set " + std::to_string(set_id));
  db_->transaction([&] {
    BackupSet set = require_set(*db_, set_id);
    if (set.state != "writing") {
      throw CatalogError("set " + std::to_string(set_id) + " is " + set.state +
                         ", only a set being written can complete");
    }
    auto statement = db_->prepare(
        "UPDATE backup_sets SET state = 'complete', completed_ns = ?,"
        " file_count = ?, bytes = ?, stored_bytes = ?, warnings = ? WHERE id = ?");
    statement->bind_int(1, now_ns())
        .bind_int(2, static_cast<int64_t>(file_count))
        .bind_int(3, static_cast<int64_t>(bytes))
        .bind_int(4, static_cast<int64_t>(stored_bytes))
        .bind_int(5, static_cast<int64_t>(warnings))
        .bind_int(6, set_id)
        .run();
  });
}

void Catalog::discard_set(int64_t set_id) {
  Database::Operation operation(*db_, "discarding set " + std::to_string(set_id));
  db_->transaction([&] {
    require_set(*db_, set_id);
    auto dependents = query_ids(*db_, "SELECT id FROM backup_sets WHERE base_set_id = ? ORDER BY id", set_id);
    if (!dependents.empty()) {
      throw CatalogError("set " + std::to_string(set_id) + " is the base of set " + ids_text(dependents) +
                         "; discard those first");
    }
    // File versions and policy decisions go with the set (ON DELETE CASCADE); jobs forget it (SET NULL).
    auto statement = db_->prepare("DELETE FROM backup_sets WHERE id = ?");
    statement->bind_int(1, set_id).run();
  });
}

void Catalog::expire_set(int64_t set_id) {
  Database::Operation operation(*db_, "expiring set " + std::to_string(set_id));
  db_->transaction([&] {
    BackupSet set = require_set(*db_, set_id);
    std::string id = std::to_string(set_id);
    if (set.state == "expired") throw CatalogError("set " + id + " is already expired");
    if (set.state != "complete")
      throw CatalogError("set " + id + " is still being written; discard it instead");
    if (set.legal_hold) throw CatalogError("set " + id + " is on legal hold and cannot expire");
    // Dependents name the original; they stay restorable while any complete instance of it (the original or
    // a copy) survives, so only the last one is held back.
    const int64_t logical = set.copy_of.value_or(set_id);
    auto dependents = query_ids(
        *db_, "SELECT id FROM backup_sets WHERE base_set_id = ? AND state <> 'expired' ORDER BY id", logical);
    if (!dependents.empty()) {
      auto others = db_->prepare(
          "SELECT count(*) FROM backup_sets WHERE (id = ?1 OR copy_of = ?1) AND id <> ?2 AND state = "
          "'complete'");
      others->bind_int(1, logical).bind_int(2, set_id);
      others->step();
      if (others->int64(0) == 0) {
        std::string what = set.copy_of ? "set " + id + " is the last complete copy of set " +
                                             std::to_string(logical) + ", the base of set "
                                       : "set " + id + " is the base of set ";
        throw CatalogError(what + ids_text(dependents) + " which is not expired; expire those first");
      }
    }
    auto remove_files = db_->prepare("DELETE FROM file_versions WHERE set_id = ?");
    remove_files->bind_int(1, set_id).run();
    auto statement = db_->prepare("UPDATE backup_sets SET state = 'expired', expired_ns = ? WHERE id = ?");
    statement->bind_int(1, now_ns()).bind_int(2, set_id).run();
  });
}

void Catalog::set_legal_hold(int64_t set_id, bool hold) {
  Database::Operation operation(*db_, "setting the legal hold of set " + std::to_string(set_id));
  db_->transaction([&] {
    BackupSet set = require_set(*db_, set_id);
    if (hold && set.state == "expired") {
      throw CatalogError("set " + std::to_string(set_id) +
                         " is expired; its data is gone and cannot be held");
    }
    auto statement = db_->prepare("UPDATE backup_sets SET legal_hold = ? WHERE id = ?");
    statement->bind_int(1, hold ? 1 : 0).bind_int(2, set_id).run();
  });
}

std::optional<BackupSet> Catalog::find_set(int64_t id) {
  Database::Operation operation(*db_, "looking up set " + std::to_string(id));
  return lookup_set(*db_, id);
}

std::vector<BackupSet> Catalog::list_sets() {
  Database::Operation operation(*db_, "listing backup sets");
  auto statement =
      db_->prepare(std::string("SELECT ") + kSetColumns + " FROM backup_sets ORDER BY started_ns, id");
  std::vector<BackupSet> sets;
  while (statement->step()) sets.push_back(read_set(*statement));
  return sets;
}

std::vector<BackupSet> Catalog::sets_in_state(const std::string& state) {
  check_one_of("backup set state", state, kSetStates);
  Database::Operation operation(*db_, "listing " + state + " backup sets");
  auto statement = db_->prepare(std::string("SELECT ") + kSetColumns +
                                " FROM backup_sets WHERE state = ? ORDER BY started_ns, id");
  statement->bind_text(1, state);
  std::vector<BackupSet> sets;
  while (statement->step()) sets.push_back(read_set(*statement));
  return sets;
}

std::vector<BackupSet> Catalog::series_sets(const std::string& series) {
  Database::Operation operation(*db_, "listing the sets of series " + in_quotes(series));
  // One entry per logical set: the original while it is complete, else its newest complete copy. Copies of a
  // complete original never appear, so a backup bases on each logical set once.
  auto statement = db_->prepare(
      std::string("SELECT ") + kSetColumns +
      " FROM backup_sets AS s WHERE series = ? AND state = 'complete' AND (copy_of IS NULL OR ("
      " NOT EXISTS (SELECT 1 FROM backup_sets AS o WHERE o.id = s.copy_of AND o.state = 'complete')"
      " AND NOT EXISTS (SELECT 1 FROM backup_sets AS c WHERE c.copy_of = s.copy_of AND c.state = 'complete'"
      " AND c.id > s.id))) ORDER BY started_ns, id");
  statement->bind_blob(1, series);
  std::vector<BackupSet> sets;
  while (statement->step()) sets.push_back(read_set(*statement));
  return sets;
}

// ----------------------------------------------------------------------------------------------------
// File versions

namespace {

// A set whose versions a reader wants: unknown and expired sets would silently read as empty trees.
void require_readable_set(Database& db, int64_t set_id) {
  BackupSet set = require_set(db, set_id);
  if (set.state == "expired") {
    throw CatalogError("set " + std::to_string(set_id) + " is expired; its file versions are gone");
  }
}

}  // namespace

void Catalog::for_each_file(int64_t set_id, const std::function<void(const FileVersion&)>& fn) {
  Database::Operation operation(*db_, "reading the files of set " + std::to_string(set_id));
  require_readable_set(*db_, set_id);
  auto statement =
      db_->prepare("SELECT " + file_columns("") + " FROM file_versions WHERE set_id = ? ORDER BY path");
  statement->bind_int(1, set_id);
  while (statement->step()) fn(read_file(*statement));
}

void Catalog::for_each_latest(const std::vector<int64_t>& chain, const std::function<void(FileVersion&&)>& fn,
                              FileFields fields) {
  Database::Operation operation(*db_, "reading the tree of sets " + ids_text(chain));
  for (int64_t set_id : chain) require_readable_set(*db_, set_id);
  // One cursor a set, each in primary-key order, i.e. by path bytes, merged here: SQLite would otherwise sort
  // every row of the chain (all columns, blobs too) in a temporary b-tree before the first one comes out,
  // which was most of the time a restore or a no-change backup spent before touching a file.
  struct Cursor {
    StatementLease statement;
    FileVersion head;
    bool live;
  };
  const bool all = fields == FileFields::kAll;
  const std::string query = "SELECT " + (all ? file_columns("") : change_check_columns()) +
                            " FROM file_versions WHERE set_id = ? ORDER BY path";
  auto read = all ? read_file : read_change_check;
  std::vector<Cursor> cursors;
  cursors.reserve(chain.size());
  for (int64_t set_id : chain) {
    Cursor cursor{db_->prepare(query), {}, false};
    cursor.statement->bind_int(1, set_id);
    cursor.live = cursor.statement->step();
    if (cursor.live) cursor.head = read(*cursor.statement);
    cursors.push_back(std::move(cursor));
  }
  auto advance = [&](Cursor& cursor) {
    cursor.live = cursor.statement->step();
    if (cursor.live) cursor.head = read(*cursor.statement);
  };
  for (;;) {
    // The smallest path among the heads; of the sets that hold it, the last in the chain wins.
    Cursor* winner = nullptr;
    for (Cursor& cursor : cursors) {
      if (!cursor.live) continue;
      if (!winner || cursor.head.path <= winner->head.path) winner = &cursor;
    }
    if (!winner) return;
    const std::string& path = winner->head.path;  // the other cursors move on; the winner's head stays
    for (Cursor& cursor : cursors)
      if (cursor.live && &cursor != winner && cursor.head.path == path) advance(cursor);
    FileVersion latest = std::move(winner->head);
    advance(*winner);
    fn(std::move(latest));
  }
}

std::vector<FileVersion> Catalog::path_history(const std::string& path) {
  Database::Operation operation(*db_, "reading the history of " + in_quotes(path));
  auto statement = db_->prepare("SELECT " + file_columns("fv.") +
                                " FROM file_versions AS fv JOIN backup_sets AS s ON s.id = fv.set_id "
                                "WHERE fv.path = ? ORDER BY s.started_ns, s.id");
  statement->bind_blob(1, path);
  std::vector<FileVersion> versions;
  while (statement->step()) versions.push_back(read_file(*statement));
  return versions;
}

// ----------------------------------------------------------------------------------------------------
// Alerts

int64_t Catalog::raise_alert(const std::string& severity, const std::string& source,
                             const std::string& message, const std::string& subject) {
  check_one_of("alert severity", severity, kSeverities);
  check_not_empty("the source of an alert", source);
  check_not_empty("the message of an alert", message);
  Database::Operation operation(*db_, "raising an alert from " + in_quotes(source));
  int64_t id = 0;
  db_->transaction([&] {
    if (!subject.empty()) {
      auto active =
          db_->prepare("SELECT id FROM alerts WHERE subject = ? AND cleared_ns = 0 ORDER BY id LIMIT 1");
      active->bind_text(1, subject);
      if (active->step()) {
        id = active->int64(0);
        return;
      }
    }
    auto statement = db_->prepare(
        "INSERT INTO alerts (time_ns, severity, source, message, subject) VALUES (?, ?, ?, ?, ?)");
    statement->bind_int(1, now_ns())
        .bind_text(2, severity)
        .bind_text(3, source)
        .bind_text(4, message)
        .bind_text(5, subject)
        .run();
    id = db_->last_insert_rowid();
  });
  return id;
}

std::vector<Alert> Catalog::list_alerts(bool include_cleared) {
  Database::Operation operation(*db_, "listing alerts");
  auto statement = db_->prepare(std::string("SELECT ") + kAlertColumns +
                                " FROM alerts WHERE ?1 OR cleared_ns = 0 ORDER BY id DESC");
  statement->bind_int(1, include_cleared ? 1 : 0);
  std::vector<Alert> alerts;
  while (statement->step()) alerts.push_back(read_alert(*statement));
  return alerts;
}

namespace {

// Marks the alert once (the first acknowledgement or clearing keeps its time); unknown ids are an error.
void mark_alert(Database& db, int64_t id, const std::string& column) {
  Database::Operation operation(db, "updating alert " + std::to_string(id));
  db.transaction([&] {
    auto exists = db.prepare("SELECT 1 FROM alerts WHERE id = ?");
    exists->bind_int(1, id);
    if (!exists->step()) throw CatalogError("no alert with id " + std::to_string(id));
    auto statement = db.prepare("UPDATE alerts SET " + column + " = ? WHERE id = ? AND " + column + " = 0");
    statement->bind_int(1, now_ns()).bind_int(2, id).run();
  });
}

}  // namespace

void Catalog::acknowledge_alert(int64_t id) {
  mark_alert(*db_, id, "acknowledged_ns");
}

void Catalog::clear_alert(int64_t id) {
  mark_alert(*db_, id, "cleared_ns");
}

// ----------------------------------------------------------------------------------------------------
// Audit log and policy decisions

void Catalog::audit(const std::string& actor, const std::string& action, const Json& details) {
  check_not_empty("the actor of an audit entry", actor);
  check_not_empty("the action of an audit entry", action);
  Database::Operation operation(*db_, "writing the audit log");
  auto statement =
      db_->prepare("INSERT INTO audit_log (time_ns, actor, action, details) VALUES (?, ?, ?, ?)");
  statement->bind_int(1, now_ns())
      .bind_text(2, actor)
      .bind_text(3, action)
      .bind_text(4, dump_informational(details))
      .run();
}

std::vector<AuditEntry> Catalog::list_audit(size_t limit) {
  Database::Operation operation(*db_, "reading the audit log");
  auto statement =
      db_->prepare("SELECT id, time_ns, actor, action, details FROM audit_log ORDER BY id DESC LIMIT ?");
  statement->bind_int(1, sql_limit(limit));
  std::vector<AuditEntry> entries;
  while (statement->step()) {
    entries.push_back(AuditEntry{statement->int64(0), statement->int64(1), statement->text(2),
                                 statement->text(3), parse_column(statement->text(4), "audit details")});
  }
  return entries;
}

void Catalog::record_decision(int64_t set_id, const std::string& decision, const Json& reasons,
                              const std::string& revision) {
  check_name("policy decision", decision, 32);
  check_not_empty("the policy revision of a decision", revision);
  Database::Operation operation(*db_, "recording a policy decision for set " + std::to_string(set_id));
  auto statement = db_->prepare(
      "INSERT INTO policy_decisions (time_ns, set_id, decision, reasons, revision) VALUES (?, ?, ?, ?, ?)");
  statement->bind_int(1, now_ns())
      .bind_int(2, set_id)
      .bind_text(3, decision)
      .bind_text(4, dump_informational(reasons))
      .bind_text(5, revision);
  int rc = statement->try_step();
  if (rc == SQLITE_CONSTRAINT_FOREIGNKEY)
    throw CatalogError("no backup set with id " + std::to_string(set_id));
  if (rc != SQLITE_DONE) db_->fail(rc);
}

std::vector<PolicyDecision> Catalog::list_decisions(std::optional<int64_t> set_id) {
  Database::Operation operation(*db_, "listing policy decisions");
  auto statement = db_->prepare(
      "SELECT id, time_ns, set_id, decision, reasons, revision FROM policy_decisions "
      "WHERE ?1 IS NULL OR set_id = ?1 ORDER BY id");
  statement->bind_optional_int(1, set_id);
  std::vector<PolicyDecision> decisions;
  while (statement->step()) {
    decisions.push_back(
        PolicyDecision{statement->int64(0), statement->int64(1), statement->int64(2), statement->text(3),
                       parse_column(statement->text(4), "decision reasons"), statement->text(5)});
  }
  return decisions;
}

}  // namespace sbx::catalog
