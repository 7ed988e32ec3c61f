// Where each blob lives: SQLite tables (index.db in the store) from blob id to pack, offset and length.
//
// SQLite keeps the index on disk and only a page cache in memory, so memory follows the configured budget
// (PRAGMA cache_size), never the store's size; WAL lets several job processes look up and add at once. The
// index is derived data: packs are durable before their rows are added, and every row can be rebuilt from
// the pack trailers (adopt_pack), so losing the last commits to a power cut only means re-adopting.
#pragma once

#include <sqlite3.h>

#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "pack.hpp"

namespace sbx::dedup {

// How much of a pack the index still points at.
struct PackUse {
  uint64_t blobs = 0;
  uint64_t bytes = 0;
};

struct BlobLocation {
  std::string pack;
  uint64_t offset = 0;
  uint32_t length = 0;
};

class ChunkIndex {
 public:
  // kImmutable: the index of a store on a read-only file system, opened as SQLite's immutable file (no lock,
  // no WAL, no journal): nothing of it can change while it is read, and nothing is written.
  enum class Access { kReadWrite, kImmutable };
  // An empty path: a private temporary index, deleted when it closes.
  ChunkIndex(const std::string& path, uint64_t cache_bytes, Access access = Access::kReadWrite);
  ~ChunkIndex();
  bool read_only() const { return access_ == Access::kImmutable; }
  // Left beside an index found damaged after it opened (a page SQLite calls malformed): the job that found it
  // fails, and the next open sets the index aside and rebuilds it from the packs (Store::open_index).
  static std::string rebuild_marker(const std::string& index_path) { return index_path + ".needs-rebuild"; }
  ChunkIndex(const ChunkIndex&) = delete;
  ChunkIndex& operator=(const ChunkIndex&) = delete;

  // Every later commit of this connection reaches the disk before it returns. Writers leave that to the
  // pack trailers (a lost commit is adopted again); gc needs it, because it deletes a pack once its rows
  // moved, and a move lost after the delete would point live rows at the deleted pack.
  void sync_every_commit();
  std::optional<BlobLocation> find(const ChunkId& id);
  bool has_pack(const std::string& pack);
  // Adds a written pack and its blobs (an id already indexed keeps its first location).
  void add_pack(const std::string& pack, uint64_t bytes, const std::vector<PackRecord>& records);
  // Forgets a pack no row points into (see use_by_pack).
  void remove_pack(const std::string& pack);
  // Forgets packs whose files are gone, in one transaction; rows pointing into them stay until a copy of
  // their blob is added (add_pack), or gc drops them.
  void forget_packs(const std::vector<std::string>& packs);
  // Per pack, the rows that point into it; a pack no row points into is absent.
  std::unordered_map<std::string, PackUse> use_by_pack();
  // The records of `pack`'s trailer the index points at (a blob stored twice is indexed in one pack only).
  std::vector<PackRecord> indexed_in(const std::string& pack, const std::vector<PackRecord>& trailer);
  // Every pack with the rows that point into it, by offset; rows whose pack the index lost go to `orphan`.
  // Neither function may use this index.
  using PackBlobsFn =
      std::function<void(const std::string& pack, uint64_t bytes, const std::vector<PackRecord>& rows)>;
  void for_each_pack_with_blobs(const PackBlobsFn& fn, const std::function<void(const ChunkId&)>& orphan);
  // Moves rows to another pack (a pack rewritten by gc) in one transaction, adding the new pack.
  void move_blobs(const std::string& from, const std::string& to, uint64_t to_bytes,
                  const std::vector<PackRecord>& records);
  void remove_blobs(const std::vector<ChunkId>& ids);
  void for_each_pack(const std::function<void(const std::string& pack, uint64_t bytes)>& fn);
  void for_each_blob(const std::function<void(const ChunkId& id, const BlobLocation& where)>& fn);
  uint64_t blob_count();
  uint64_t pack_bytes();
  uint64_t pack_count();

  // Garbage collection's mark table (a temporary table in this connection).
  void mark_begin();
  bool mark(const ChunkId& id);  // false when it was marked already
  void mark_commit();            // flushes marks in batches; call before unmarked()
  std::vector<ChunkId> unmarked();
  uint64_t marked_count();

  // Lookups while a ReadScope lives share one read transaction: alone, each takes and drops SQLite's read
  // lock (two fcntl calls and an fstat), most of what a lookup of a cached page costs. The transaction ends
  // every kLookupsPerRead lookups, before any write of this connection, at end_read() (call it before
  // waiting, so a reader never holds back the WAL's checkpoints for long) and with the scope.
  class ReadScope {
   public:
    explicit ReadScope(ChunkIndex& index) : index_(index) { ++index_.read_scopes_; }
    ~ReadScope() {
      if (--index_.read_scopes_ == 0) index_.end_read();
    }
    ReadScope(const ReadScope&) = delete;
    ReadScope& operator=(const ReadScope&) = delete;

   private:
    ChunkIndex& index_;
  };
  void end_read() noexcept;

  template <class Fn>
  void transaction(Fn&& fn) {
    end_read();
    // gc keeps its marks in an open transaction. It is committed here and opened again afterwards, so the
    // write runs on its own (adopting a pack the marking found unindexed), and the marking then reads a
    // snapshot that has what writers indexed meanwhile.
    const bool marking = marking_in_transaction_;
    if (marking) {
      exec("COMMIT");
      marks_pending_ = 0;
    }
    exec("BEGIN IMMEDIATE");
    try {
      fn();
      exec("COMMIT");
    } catch (...) {
      exec_noexcept("ROLLBACK");
      if (marking) exec_noexcept("BEGIN");
      throw;
    }
    if (marking) exec("BEGIN");
  }

 private:
  void open(uint64_t cache_bytes);
  void open_immutable(uint64_t cache_bytes);
  bool needs_conversion();  // a new index, or one of an older format
  void close() noexcept;
  bool schema_has(const char* type, const char* name);
  int64_t put_pack(const std::string& pack, uint64_t bytes);  // adds or updates; returns its pack_id
  std::optional<int64_t> pack_id_of(const std::string& pack);
  void exec(const char* sql);
  void exec_noexcept(const char* sql) noexcept;
  sqlite3_stmt* prepare(const char* sql);
  [[noreturn]] void fail(const std::string& what);
  // Records that this index must be rebuilt; returns what the error message should add.
  std::string mark_for_rebuild(const std::string& message) noexcept;

  std::string path_;
  Access access_ = Access::kReadWrite;
  sqlite3* db_ = nullptr;
  bool opened_ = false;
  std::unordered_map<const char*, sqlite3_stmt*> statements_;
  sqlite3_stmt* find_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* mark_ = nullptr;
  bool marking_in_transaction_ = false;
  unsigned read_scopes_ = 0;
  bool in_read_ = false;
  unsigned lookups_in_read_ = 0;
  uint64_t marks_pending_ = 0;
};

}  // namespace sbx::dedup
