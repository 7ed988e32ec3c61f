#include "index.hpp"

#include <cstring>
#include <strongbox/sdk/plugin.hpp>

namespace sbx::dedup {
namespace {

constexpr const char* kSchema =
    "CREATE TABLE IF NOT EXISTS blobs(id BLOB PRIMARY KEY, pack TEXT NOT NULL, offset INTEGER NOT NULL,"
    " length INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE INDEX IF NOT EXISTS blobs_by_pack ON blobs(pack);"
    "CREATE TABLE IF NOT EXISTS packs(name TEXT PRIMARY KEY, bytes INTEGER NOT NULL) WITHOUT ROWID;";
// Several job processes share one index; a writer waits this long for another's transaction.
constexpr int kBusyTimeoutMs = 120000;
constexpr uint64_t kMarkBatch = 20000;

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

ChunkIndex::ChunkIndex(const std::string& path, uint64_t cache_bytes) : path_(path) {
  if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK)
    fail("cannot open");
  sqlite3_busy_timeout(db_, kBusyTimeoutMs);
  exec("PRAGMA journal_mode=WAL");
  // A lost commit is re-adopted from the pack trailers, so the index need not sync on every commit.
  exec("PRAGMA synchronous=NORMAL");
  const std::string cache =
      "PRAGMA cache_size=-" + std::to_string(std::max<uint64_t>(cache_bytes / 1024, 1024));
  exec(cache.c_str());
  exec(kSchema);
  find_ = prepare("SELECT pack, offset, length FROM blobs WHERE id = ?");
  insert_ = prepare("INSERT OR IGNORE INTO blobs(id, pack, offset, length) VALUES (?, ?, ?, ?)");
}

ChunkIndex::~ChunkIndex() {
  for (auto& [sql, statement] : statements_) sqlite3_finalize(statement);
  sqlite3_close_v2(db_);
}

void ChunkIndex::fail(const std::string& what) {
  std::string message =
      "dedup index " + path_ + ": " + what + ": " + (db_ ? sqlite3_errmsg(db_) : "out of memory");
  int code = db_ ? sqlite3_errcode(db_) : SQLITE_NOMEM;
  sbx_status status = (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) ? SBX_ERR_CORRUPT
                      : code == SQLITE_FULL                             ? SBX_ERR_NO_SPACE
                                                                        : SBX_ERR_IO;
  throw sdk::Error(status, message);
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

std::optional<BlobLocation> ChunkIndex::find(const ChunkId& id) {
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
  sqlite3_stmt* s = prepare("SELECT 1 FROM packs WHERE name = ?");
  Reset reset{s};
  sqlite3_bind_text(s, 1, pack.data(), int(pack.size()), SQLITE_STATIC);
  int rc = sqlite3_step(s);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) fail("cannot look up a pack");
  return rc == SQLITE_ROW;
}

void ChunkIndex::add_pack(const std::string& pack, uint64_t bytes, const std::vector<PackRecord>& records) {
  transaction([&] {
    sqlite3_stmt* add = prepare("INSERT OR REPLACE INTO packs(name, bytes) VALUES (?, ?)");
    Reset reset{add};
    sqlite3_bind_text(add, 1, pack.data(), int(pack.size()), SQLITE_STATIC);
    sqlite3_bind_int64(add, 2, int64_t(bytes));
    if (sqlite3_step(add) != SQLITE_DONE) fail("cannot add pack " + pack);
    for (const auto& r : records) {
      Reset reset_insert{insert_};
      sqlite3_bind_blob(insert_, 1, r.id.data(), int(kIdBytes), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 2, pack.data(), int(pack.size()), SQLITE_STATIC);
      sqlite3_bind_int64(insert_, 3, int64_t(r.offset));
      sqlite3_bind_int64(insert_, 4, int64_t(r.length));
      if (sqlite3_step(insert_) != SQLITE_DONE) fail("cannot add a blob of pack " + pack);
    }
  });
}

void ChunkIndex::remove_pack(const std::string& pack) {
  transaction([&] {
    for (const char* sql : {"DELETE FROM blobs WHERE pack = ?", "DELETE FROM packs WHERE name = ?"}) {
      sqlite3_stmt* s = prepare(sql);
      Reset reset{s};
      sqlite3_bind_text(s, 1, pack.data(), int(pack.size()), SQLITE_STATIC);
      if (sqlite3_step(s) != SQLITE_DONE) fail("cannot remove pack " + pack);
    }
  });
}

std::vector<PackRecord> ChunkIndex::blobs_in(const std::string& pack) {
  sqlite3_stmt* s = prepare("SELECT id, offset, length FROM blobs WHERE pack = ? ORDER BY offset");
  Reset reset{s};
  sqlite3_bind_text(s, 1, pack.data(), int(pack.size()), SQLITE_STATIC);
  std::vector<PackRecord> out;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW)
    out.push_back(
        {column_id(s, 0), uint64_t(sqlite3_column_int64(s, 1)), uint32_t(sqlite3_column_int64(s, 2))});
  if (rc != SQLITE_DONE) fail("cannot list the blobs of pack " + pack);
  return out;
}

void ChunkIndex::move_blobs(const std::string& from, const std::string& to, uint64_t to_bytes,
                            const std::vector<PackRecord>& records) {
  transaction([&] {
    sqlite3_stmt* add = prepare("INSERT OR REPLACE INTO packs(name, bytes) VALUES (?, ?)");
    {
      Reset reset{add};
      sqlite3_bind_text(add, 1, to.data(), int(to.size()), SQLITE_STATIC);
      sqlite3_bind_int64(add, 2, int64_t(to_bytes));
      if (sqlite3_step(add) != SQLITE_DONE) fail("cannot add pack " + to);
    }
    sqlite3_stmt* move =
        prepare("UPDATE blobs SET pack = ?, offset = ?, length = ? WHERE id = ? AND pack = ?");
    for (const auto& r : records) {
      Reset reset{move};
      sqlite3_bind_text(move, 1, to.data(), int(to.size()), SQLITE_STATIC);
      sqlite3_bind_int64(move, 2, int64_t(r.offset));
      sqlite3_bind_int64(move, 3, int64_t(r.length));
      sqlite3_bind_blob(move, 4, r.id.data(), int(kIdBytes), SQLITE_STATIC);
      sqlite3_bind_text(move, 5, from.data(), int(from.size()), SQLITE_STATIC);
      if (sqlite3_step(move) != SQLITE_DONE) fail("cannot move a blob to pack " + to);
    }
    for (const char* sql : {"DELETE FROM blobs WHERE pack = ?", "DELETE FROM packs WHERE name = ?"}) {
      sqlite3_stmt* s = prepare(sql);
      Reset reset{s};
      sqlite3_bind_text(s, 1, from.data(), int(from.size()), SQLITE_STATIC);
      if (sqlite3_step(s) != SQLITE_DONE) fail("cannot remove pack " + from);
    }
  });
}

void ChunkIndex::remove_blobs(const std::vector<ChunkId>& ids) {
  transaction([&] {
    sqlite3_stmt* s = prepare("DELETE FROM blobs WHERE id = ?");
    for (const auto& id : ids) {
      Reset reset{s};
      sqlite3_bind_blob(s, 1, id.data(), int(kIdBytes), SQLITE_STATIC);
      if (sqlite3_step(s) != SQLITE_DONE) fail("cannot remove a blob");
    }
  });
}

void ChunkIndex::for_each_pack(const std::function<void(const std::string&, uint64_t)>& fn) {
  sqlite3_stmt* s = prepare("SELECT name, bytes FROM packs ORDER BY name");
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
  sqlite3_stmt* s = prepare("SELECT id, pack, offset, length FROM blobs");
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
  return single_number(prepare("SELECT count(*) FROM blobs"));
}
uint64_t ChunkIndex::pack_bytes() {
  return single_number(prepare("SELECT coalesce(sum(bytes), 0) FROM packs"));
}
uint64_t ChunkIndex::pack_count() {
  return single_number(prepare("SELECT count(*) FROM packs"));
}

void ChunkIndex::mark_begin() {
  exec("CREATE TEMP TABLE IF NOT EXISTS marks(id BLOB PRIMARY KEY) WITHOUT ROWID");
  exec("DELETE FROM temp.marks");
  mark_ = prepare("INSERT OR IGNORE INTO temp.marks(id) VALUES (?)");
  exec("BEGIN");
  marking_in_transaction_ = true;
  marks_pending_ = 0;
}

void ChunkIndex::mark(const ChunkId& id) {
  Reset reset{mark_};
  sqlite3_bind_blob(mark_, 1, id.data(), int(kIdBytes), SQLITE_STATIC);
  if (sqlite3_step(mark_) != SQLITE_DONE) fail("cannot mark a blob");
  if (++marks_pending_ >= kMarkBatch) {
    exec("COMMIT");
    exec("BEGIN");
    marks_pending_ = 0;
  }
}

void ChunkIndex::mark_commit() {
  if (marking_in_transaction_) exec("COMMIT");
  marking_in_transaction_ = false;
}

std::vector<ChunkId> ChunkIndex::unmarked() {
  sqlite3_stmt* s = prepare("SELECT id FROM blobs WHERE id NOT IN (SELECT id FROM temp.marks)");
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
