#include "index.hpp"

#include <cstdio>
#include <cstring>
#include <strongbox/sdk/plugin.hpp>

#include "common/posix_file.hpp"

namespace sbx::dedup {
namespace {

// Blobs name their pack by a small integer: a pack name is 64 hex characters, and in a row per blob it made
// up most of the index's size. There is no by-pack index: it held a second copy of every id, as large as the
// table; the few by-pack questions (gc's sweep, verify) are answered by one scan in pack order or from the
// pack's own trailer. Pack numbers are never reused (AUTOINCREMENT), so a row that outlived its pack can
// never come to point into another one.
constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS pack_files(pack_id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL UNIQUE, bytes INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS blob_rows(id BLOB PRIMARY KEY, pack_id INTEGER NOT NULL,"
    " offset INTEGER NOT NULL, length INTEGER NOT NULL) WITHOUT ROWID;";
// The second format had a by-pack index and reusable pack numbers; converted in place when opened.
constexpr const char* kConvertSecondFormat =
    "DROP INDEX blob_rows_by_pack;"
    "CREATE TABLE pack_files_numbered(pack_id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL UNIQUE, bytes INTEGER NOT NULL);"
    "INSERT INTO pack_files_numbered SELECT pack_id, name, bytes FROM pack_files;"
    "DROP TABLE pack_files;"
    "ALTER TABLE pack_files_numbered RENAME TO pack_files;";
// The first format (pack names in every row), converted in place when an index of it is opened.
constexpr const char* kConvertFirstFormat =
    "INSERT OR IGNORE INTO pack_files(name, bytes) SELECT name, bytes FROM packs;"
    "INSERT OR IGNORE INTO blob_rows(id, pack_id, offset, length)"
    " SELECT b.id, p.pack_id, b.offset, b.length FROM blobs b JOIN pack_files p ON p.name = b.pack;"
    "DROP TABLE blobs;"
    "DROP TABLE packs;";
constexpr const char* kFindSql =
    "SELECT p.name, b.offset, b.length FROM blob_rows b JOIN pack_files p ON p.pack_id = b.pack_id"
    " WHERE b.id = ?";
// Several job processes share one index; a writer waits this long for another's transaction.
constexpr int kBusyTimeoutMs = 120000;
constexpr uint64_t kMarkBatch = 20000;
constexpr unsigned kLookupsPerRead = 1024;

std::string cache_pragma(uint64_t cache_bytes) {
  return "PRAGMA cache_size=-" + std::to_string(std::max<uint64_t>(cache_bytes / 1024, 1024));
}

ChunkId column_id(sqlite3_stmt* statement, int column) {
  ChunkId id{};
  const void* blob = sqlite3_column_blob(statement, column);
  if (blob && sqlite3_column_bytes(statement, column) == int(kIdBytes))
    std::memcpy(id.data(), blob, kIdBytes);
  return id;
}

struct Reset {
  sqlite3_stmt* statement;
  ~Reset() {
    sqlite3_reset(statement);
    sqlite3_clear_bindings(statement);
  }
};

}  // namespace

ChunkIndex::ChunkIndex(const std::string& path, uint64_t cache_bytes, Access access)
    : path_(path), access_(access) {
  try {
    if (access == Access::kImmutable)
      open_immutable(cache_bytes);
    else
      open(cache_bytes);
  } catch (...) {
    // No destructor runs for a constructor that throws; a damaged index must not stay open.
    close();
    throw;
  }
}

void ChunkIndex::open(uint64_t cache_bytes) {
  if (sqlite3_open_v2(path_.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    fail("cannot open");
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  exec("PRAGMA journal_mode=WAL");
  // A lost commit is re-adopted from the pack trailers, so the index need not sync on every commit.
  exec("PRAGMA synchronous=NORMAL");
  exec(cache_pragma(cache_bytes).c_str());
  // Only a new or older-format index needs the write lock here; every other open is a plain read.
  if (needs_conversion())
    transaction([&] {
      if (schema_has("index", "blob_rows_by_pack")) exec(kConvertSecondFormat);
      exec(kSchema);
      if (schema_has("table", "blobs")) exec(kConvertFirstFormat);
    });
  find_ = prepare(kFindSql);
  // An id already indexed keeps its first location, unless that row lost its pack (an index damaged or
  // restored from an older copy): then the new copy takes its place, or the id could never be found again.
  insert_ = prepare(
      "INSERT INTO blob_rows(id, pack_id, offset, length) VALUES (?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
      " pack_id = excluded.pack_id, offset = excluded.offset, length = excluded.length"
      " WHERE NOT EXISTS (SELECT 1 FROM pack_files p WHERE p.pack_id = blob_rows.pack_id)");
  opened_ = true;
}

bool ChunkIndex::needs_conversion() {
  return !schema_has("table", "blob_rows") || schema_has("table", "blobs") ||
         schema_has("index", "blob_rows_by_pack");
}

void ChunkIndex::open_immutable(uint64_t cache_bytes) {
  // A URI, because immutability is a URI parameter; its path escapes what URIs give a meaning.
  std::string uri = "file:";
  for (char c : path_) {
    if (c == '%' || c == '?' || c == '#') {
      char escaped[4];
      std::snprintf(escaped, sizeof escaped, "%%%02X", static_cast<unsigned char>(c));
      uri += escaped;
    } else {
      uri += c;
    }
  }
  uri += "?immutable=1";
  if (sqlite3_open_v2(uri.c_str(), &db_, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    fail("cannot open");
  exec(cache_pragma(cache_bytes).c_str());
  // An older format is converted in place, which a read-only file system does not allow: the opener builds
  // a temporary index from the packs instead, as for a damaged one.
  if (needs_conversion())
    throw sdk::Error(SBX_ERR_CORRUPT, "dedup index " + path_ +
                                          " is of an older format, which is converted only where it can be "
                                          "written");
  find_ = prepare(kFindSql);
  opened_ = true;
}

ChunkIndex::~ChunkIndex() {
  close();
}

void ChunkIndex::close() noexcept {
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  statements_.clear();
  sqlite3_close_v2(db_);
  db_ = nullptr;
}

void ChunkIndex::fail(const std::string& what) {
  std::string message =
      "dedup index " + path_ + ": " + what + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
  int code = db_ ? sqlite3_errcode(db_) : SQLITE_NOMEM;
  sbx_status status = (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) ? SBX_ERR_CORRUPT
                      : code == SQLITE_FULL                             ? SBX_ERR_NO_SPACE
                                                                        : SBX_ERR_IO;
  // Damage found while opening is handled by the opener at once; damage found later, by the next open (a
  // read-only store's opener always checks, and a temporary index is thrown away anyway).
  if (status == SBX_ERR_CORRUPT && opened_ && access_ == Access::kReadWrite && !path_.empty())
    message += mark_for_rebuild(message);
  throw sdk::Error(status, message);
}

std::string ChunkIndex::mark_for_rebuild(const std::string& message) noexcept {
  try {
    const std::string marker = rebuild_marker(path_);
    const size_t slash = marker.find_last_of('/');
    storage::write_file_atomically(marker.substr(0, slash), marker.substr(slash + 1), message + "\n", false);
    return "; the index will be set aside and rebuilt from the packs when the device is next opened";
  } catch (const std::exception& e) {
    return std::string("; marking it for a rebuild failed too (") + e.what() +
           "): move it aside by hand and it is rebuilt from the packs";
  }
}

void ChunkIndex::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    std::string why = error ? error : "";
    sqlite3_free(error);
    fail(std::string("cannot run ") + std::string(sql).substr(0, 40) + " (" + why + ")");
  }
}

void ChunkIndex::exec_noexcept(const char* sql) noexcept {
  sqlite3_exec(db_, sql, nullptr, nullptr, nullptr);
}

sqlite3_stmt* ChunkIndex::prepare(const char* sql) {
  // Every caller passes a string literal: its address names the statement, so each is prepared once.
  if (auto it = statements_.find(sql); it != statements_.end()) return it->second;
  sqlite3_stmt* statement = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr) != SQLITE_OK)
    fail(std::string("cannot prepare ") + sql);
  statements_.emplace(sql, statement);
  return statement;
}

bool ChunkIndex::schema_has(const char* type, const char* name) {
  sqlite3_stmt* s = prepare("SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?");
  Reset reset{s};
  sqlite3_bind_text(s, 1, type, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail("cannot read the schema");
  return rc == SQLITE_ROW;
}

int64_t ChunkIndex::put_pack(const std::string& pack, uint64_t bytes) {
  sqlite3_stmt* add = prepare(
      "INSERT INTO pack_files(name, bytes) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET bytes = "
      "excluded.bytes"
      " RETURNING pack_id");
  Reset reset{add};
  sqlite3_bind_text(add, 1, pack.data(), int(pack.size()), SQLITE_STATIC);
  sqlite3_bind_int64(add, 2, int64_t(bytes));
  if (sqlite3_step(add) != SQLITE_ROW) fail("cannot add pack " + pack);
  return sqlite3_column_int64(add, 0);
}

std::optional<int64_t> ChunkIndex::pack_id_of(const std::string& pack) {
  sqlite3_stmt* s = prepare("SELECT pack_id FROM pack_files WHERE name = ?");
  Reset reset{s};
  sqlite3_bind_text(s, 1, pack.data(), int(pack.size()), SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail("cannot look up pack " + pack);
  return sqlite3_column_int64(s, 0);
}

void ChunkIndex::end_read() noexcept {
  if (!in_read_) return;
  exec_noexcept("COMMIT");
  in_read_ = false;
}

std::optional<BlobLocation> ChunkIndex::find(const ChunkId& id) {
  if (read_scopes_ > 0 && !in_read_) {
    exec("BEGIN");
    in_read_ = true;
    lookups_in_read_ = 0;
  }
  struct EndReadEvery {
    ChunkIndex& index;
    ~EndReadEvery() {
      if (index.in_read_ && ++index.lookups_in_read_ >= kLookupsPerRead) index.end_read();
    }
  } end_read_every{*this};
  Reset reset{find_};
  sqlite3_bind_blob(find_, 1, id.data(), int(kIdBytes), SQLITE_STATIC);
  int rc = sqlite3_step(find_);
  if (rc == SQLITE_DONE) return std::nullopt;
  if (rc != SQLITE_ROW) fail("cannot look up a blob");
  BlobLocation where;
  where.pack.assign(reinterpret_cast<const char*>(sqlite3_column_text(find_, 0)),
                    sqlite3_column_bytes(find_, 0));
  where.offset = uint64_t(sqlite3_column_int64(find_, 1));
  where.length = uint32_t(sqlite3_column_int64(find_, 2));
  return where;
}

bool ChunkIndex::has_pack(const std::string& pack) {
  return pack_id_of(pack).has_value();
}

void ChunkIndex::add_pack(const std::string& pack, uint64_t bytes, const std::vector<PackRecord>& records) {
  transaction([&] {
    const int64_t pack_id = put_pack(pack, bytes);
    for (const auto& r : records) {
      Reset reset_insert{insert_};
      sqlite3_bind_blob(insert_, 1, r.id.data(), int(kIdBytes), SQLITE_STATIC);
      sqlite3_bind_int64(insert_, 2, pack_id);
      sqlite3_bind_int64(insert_, 3, int64_t(r.offset));
      sqlite3_bind_int64(insert_, 4, int64_t(r.length));
      if (sqlite3_step(insert_) != SQLITE_DONE) fail("cannot add a blob of pack " + pack);
    }
  });
}

void ChunkIndex::remove_pack(const std::string& pack) {
  end_read();
  sqlite3_stmt* s = prepare("DELETE FROM pack_files WHERE name = ?");
  Reset reset{s};
  sqlite3_bind_text(s, 1, pack.data(), int(pack.size()), SQLITE_STATIC);
  if (sqlite3_step(s) != SQLITE_DONE) fail("cannot remove pack " + pack);
}

void ChunkIndex::forget_packs(const std::vector<std::string>& packs) {
  transaction([&] {
    sqlite3_stmt* s = prepare("DELETE FROM pack_files WHERE name = ?");
    for (const auto& pack : packs) {
      Reset reset{s};
      sqlite3_bind_text(s, 1, pack.data(), int(pack.size()), SQLITE_STATIC);
      if (sqlite3_step(s) != SQLITE_DONE) fail("cannot forget pack " + pack);
    }
  });
}

std::unordered_map<std::string, PackUse> ChunkIndex::use_by_pack() {
  sqlite3_stmt* s = prepare(
      "SELECT p.name, u.blobs, u.bytes FROM (SELECT pack_id, count(*) AS blobs, sum(length) AS bytes"
      " FROM blob_rows GROUP BY pack_id) u JOIN pack_files p ON p.pack_id = u.pack_id");
  Reset reset{s};
  std::unordered_map<std::string, PackUse> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    out.emplace(
        std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), sqlite3_column_bytes(s, 0)),
        PackUse{uint64_t(sqlite3_column_int64(s, 1)), uint64_t(sqlite3_column_int64(s, 2))});
  if (rc != SQLITE_DONE) fail("cannot sum the blobs of each pack");
  return out;
}

std::vector<PackRecord> ChunkIndex::indexed_in(const std::string& pack,
                                               const std::vector<PackRecord>& trailer) {
  std::vector<PackRecord> out;
  for (const auto& r : trailer)
    if (auto where = find(r.id); where && where->pack == pack && where->offset == r.offset) out.push_back(r);
  return out;
}

void ChunkIndex::for_each_pack_with_blobs(const PackBlobsFn& fn,
                                          const std::function<void(const ChunkId&)>& orphan) {
  struct PackFile {
    int64_t pack_id;
    std::string name;
    uint64_t bytes;
  };
  std::vector<PackFile> packs;
  {
    sqlite3_stmt* s = prepare("SELECT pack_id, name, bytes FROM pack_files ORDER BY pack_id");
    Reset reset{s};
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
      packs.push_back(
          {sqlite3_column_int64(s, 0),
           std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 1)), sqlite3_column_bytes(s, 1)),
           uint64_t(sqlite3_column_int64(s, 2))});
    if (rc != SQLITE_DONE) fail("cannot list packs");
  }
  // One pass over the rows in pack order (SQLite sorts within the cache budget, spilling to temporary files),
  // merged with the pack list: only one pack's rows are held at a time.
  sqlite3_stmt* s = prepare("SELECT pack_id, id, offset, length FROM blob_rows ORDER BY pack_id, offset");
  Reset reset{s};
  size_t next = 0;
  std::vector<PackRecord> rows;
  auto finish_packs_before = [&](int64_t pack_id) {
    while (next < packs.size() && packs[next].pack_id < pack_id) {
      fn(packs[next].name, packs[next].bytes, rows);
      rows.clear();
      ++next;
    }
  };
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    const int64_t pack_id = sqlite3_column_int64(s, 0);
    finish_packs_before(pack_id);
    PackRecord row{column_id(s, 1), uint64_t(sqlite3_column_int64(s, 2)),
                   uint32_t(sqlite3_column_int64(s, 3))};
    if (next < packs.size() && packs[next].pack_id == pack_id)
      rows.push_back(row);
    else
      orphan(row.id);
  }
  if (rc != SQLITE_DONE) fail("cannot list blobs by pack");
  finish_packs_before(INT64_MAX);
}

void ChunkIndex::sync_every_commit() {
  exec("PRAGMA synchronous=FULL");
}

void ChunkIndex::move_blobs(const std::string& from, const std::string& to, uint64_t to_bytes,
                            const std::vector<PackRecord>& records) {
  transaction([&] {
    const auto from_id = pack_id_of(from);
    const int64_t to_id = put_pack(to, to_bytes);
    if (!from_id) return;  // nothing points into `from` any more
    sqlite3_stmt* move =
        prepare("UPDATE blob_rows SET pack_id = ?, offset = ?, length = ? WHERE id = ? AND pack_id = ?");
    for (const auto& r : records) {
      Reset reset{move};
      sqlite3_bind_int64(move, 1, to_id);
      sqlite3_bind_int64(move, 2, int64_t(r.offset));
      sqlite3_bind_int64(move, 3, int64_t(r.length));
      sqlite3_bind_blob(move, 4, r.id.data(), int(kIdBytes), SQLITE_STATIC);
      sqlite3_bind_int64(move, 5, *from_id);
      if (sqlite3_step(move) != SQLITE_DONE) fail("cannot move a blob to pack " + to);
    }
    remove_pack(from);
  });
}

void ChunkIndex::remove_blobs(const std::vector<ChunkId>& ids) {
  transaction([&] {
    sqlite3_stmt* s = prepare("DELETE FROM blob_rows WHERE id = ?");
    for (const auto& id : ids) {
      Reset reset{s};
      sqlite3_bind_blob(s, 1, id.data(), int(kIdBytes), SQLITE_STATIC);
      if (sqlite3_step(s) != SQLITE_DONE) fail("cannot remove a blob");
    }
  });
}

void ChunkIndex::for_each_pack(const std::function<void(const std::string&, uint64_t)>& fn) {
  sqlite3_stmt* s = prepare("SELECT name, bytes FROM pack_files ORDER BY name");
  Reset reset{s};
  std::vector<std::pair<std::string, uint64_t>> packs;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    packs.emplace_back(
        std::string(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)), sqlite3_column_bytes(s, 0)),
        uint64_t(sqlite3_column_int64(s, 1)));
  if (rc != SQLITE_DONE) fail("cannot list packs");
  for (const auto& [name, bytes] : packs) fn(name, bytes);
}

void ChunkIndex::for_each_blob(const std::function<void(const ChunkId&, const BlobLocation&)>& fn) {
  sqlite3_stmt* s = prepare(
      "SELECT b.id, p.name, b.offset, b.length FROM blob_rows b JOIN pack_files p ON p.pack_id = b.pack_id");
  Reset reset{s};
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    BlobLocation where;
    where.pack.assign(reinterpret_cast<const char*>(sqlite3_column_text(s, 1)), sqlite3_column_bytes(s, 1));
    where.offset = uint64_t(sqlite3_column_int64(s, 2));
    where.length = uint32_t(sqlite3_column_int64(s, 3));
    fn(column_id(s, 0), where);
  }
  if (rc != SQLITE_DONE) fail("cannot list blobs");
}

namespace {
uint64_t single_number(sqlite3_stmt* s) {
  Reset reset{s};
  if (sqlite3_step(s) != SQLITE_ROW) return 0;
  return uint64_t(sqlite3_column_int64(s, 0));
}
}  // namespace

uint64_t ChunkIndex::blob_count() {
  return single_number(prepare("SELECT count(*) FROM blob_rows"));
}
uint64_t ChunkIndex::pack_bytes() {
  return single_number(prepare("SELECT coalesce(sum(bytes), 0) FROM pack_files"));
}
uint64_t ChunkIndex::pack_count() {
  return single_number(prepare("SELECT count(*) FROM pack_files"));
}

void ChunkIndex::mark_begin() {
  end_read();
  exec("CREATE TEMP TABLE IF NOT EXISTS marks(id BLOB PRIMARY KEY) WITHOUT ROWID");
  exec("DELETE FROM temp.marks");
  mark_ = prepare("INSERT OR IGNORE INTO temp.marks(id) VALUES (?)");
  exec("BEGIN");
  marking_in_transaction_ = true;
  marks_pending_ = 0;
}

bool ChunkIndex::mark(const ChunkId& id) {
  Reset reset{mark_};
  sqlite3_bind_blob(mark_, 1, id.data(), int(kIdBytes), SQLITE_STATIC);
  if (sqlite3_step(mark_) != SQLITE_DONE) fail("cannot mark a blob");
  const bool added = sqlite3_changes(db_) > 0;
  if (++marks_pending_ >= kMarkBatch) {
    exec("COMMIT");
    exec("BEGIN");
    marks_pending_ = 0;
  }
  return added;
}

void ChunkIndex::mark_commit() {
  if (marking_in_transaction_) exec("COMMIT");
  marking_in_transaction_ = false;
}

std::vector<ChunkId> ChunkIndex::unmarked() {
  sqlite3_stmt* s = prepare("SELECT id FROM blob_rows WHERE id NOT IN (SELECT id FROM temp.marks)");
  Reset reset{s};
  std::vector<ChunkId> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) out.push_back(column_id(s, 0));
  if (rc != SQLITE_DONE) fail("cannot find unmarked blobs");
  return out;
}

uint64_t ChunkIndex::marked_count() {
  return single_number(prepare("SELECT count(*) FROM temp.marks"));
}

}  // namespace sbx::dedup
