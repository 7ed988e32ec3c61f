// One dedup store on disk and what every writer, reader, receiver and gc run of it shares.
//
// Layout of DIR:
//   dedup.json            format, domain, chunker sizes, the domain's keys wrapped by the admin's key
//   packs/<xx>/<id>.pack  blobs (pack.hpp)
//   index.db              blob id -> pack, offset, length (index.hpp); rebuilt from packs when needed
//   sets/<name>.manifest  one committed set (records.hpp), a sealed blob
//   sets/<name>.writing   a set being written (removed on commit or abort; left behind by a crash)
//   sessions/<id>.ids     ids a writer or receiver in flight relies on, flock-ed by it while it lives
//   gc.lock               shared by writers around index lookups, exclusive while gc decides what is dead
//   tmp/                  packs and manifests being written
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <strongbox/sdk/plugin.hpp>
#include <vector>

#include "blob.hpp"
#include "common/posix_file.hpp"
#include "index.hpp"
#include "keys.hpp"
#include "pack.hpp"
#include "records.hpp"

namespace sbx::dedup {

struct StoreSettings {
  std::string root;
  std::string key_file;
  std::string domain_from;
  int compression_level = 3;
  uint64_t index_memory_bytes = 64ull << 20;
  uint64_t pack_bytes = 16ull << 20;
  unsigned seal_threads = 2;             // 0: blobs are sealed on the writer's own thread
  unsigned read_threads = 2;             // 0: a restore decodes chunks on the host's own thread
  std::optional<ChunkerParams> chunker;  // for a new store only; an existing store keeps its own
};

StoreSettings parse_store_settings(std::string_view config_json);

class Store {
 public:
  Store(StoreSettings settings, sdk::StoreOpening how);

  const StoreSettings& settings() const { return settings_; }
  // The store's file system is mounted read-only (a write-protected transfer drive, say). It is read through
  // its index opened immutable, or a temporary one built from the packs when that cannot be used; nothing
  // on it is created or changed, and what would write is refused with require_writable's one line.
  bool read_only() const { return read_only_; }
  void require_writable(std::string_view what) const;
  const StoreConfig& config() const { return config_; }
  const PackLayout& layout() const { return layout_; }
  std::string manifest_path(std::string_view set) const {
    return sets_dir() + "/" + std::string(set) + ".manifest";
  }
  std::string writing_path(std::string_view set) const {
    return sets_dir() + "/" + std::string(set) + ".writing";
  }
  std::string sets_dir() const { return settings_.root + "/sets"; }
  std::string sessions_dir() const { return settings_.root + "/sessions"; }
  std::string lock_path() const { return settings_.root + "/gc.lock"; }
  std::string index_path() const { return settings_.root + "/index.db"; }

  std::unique_ptr<ChunkIndex> open_index() const;
  std::unique_ptr<BlobCodec> make_codec() const;
  // The id a set's manifest is sealed under: binds the manifest to the set's name.
  static ChunkId manifest_id(BlobCodec& codec, std::string_view set);
  // Committed sets (names of DIR/sets/*.manifest), sorted.
  std::vector<std::string> committed_sets() const;
  Manifest load_manifest(BlobCodec& codec, std::string_view set) const;
  std::string read_manifest_file(std::string_view set) const;  // the stored bytes, unchecked
  // Indexes packs the index does not know (written by a process that died before indexing them, or lost by
  // a power cut). Returns how many were adopted; damaged ones are skipped and reported by verify.
  size_t adopt_unindexed_packs(ChunkIndex& index) const;

 private:
  std::unique_ptr<ChunkIndex> open_read_only_index() const;

  StoreSettings settings_;
  PackLayout layout_;
  StoreConfig config_;
  bool read_only_ = false;
  mutable std::atomic<bool> warned_read_only_index_{false};  // said once a device, not at every open
};

// Throws SBX_ERR_INVALID_ARGUMENT unless the name is 1-200 characters of A-Z a-z 0-9 . _ - not starting
// with '.'.
void check_set_name(std::string_view name);

// flock on DIR/gc.lock for the lifetime of the object. On a read-only file system the lock file is opened
// read-only, and there is nothing to lock when it is missing (no writer can have made a store there since).
class StoreLock {
 public:
  StoreLock(const std::string& path, bool exclusive);
  ~StoreLock();
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

 private:
  storage::UniqueFd fd_;
};

// The ids one writer or receiver in flight relies on; gc keeps them. Held (flock) while the object lives.
class Session {
 public:
  explicit Session(const Store& store);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;
  // Call while holding the shared StoreLock, so gc sees the ids before it decides.
  void protect(const std::vector<ChunkId>& ids);

 private:
  std::string path_;
  storage::UniqueFd fd_;
};

// The ids of every live session; dead ones (their process is gone) are deleted. Call under the exclusive
// lock.
std::vector<ChunkId> live_session_ids(const Store& store);
// Deletes what writers that died left behind: their session files, and pack files they never finished
// (tmp/, only when a day old: a writer in flight may be writing one). Best effort, and skipped while the
// store is busy (its lock is taken), because it runs as a writer starts, on stores gc never visits, such
// as transfer drives.
void sweep_dead_writers(const Store& store) noexcept;
// The tmp/ part of sweep_dead_writers; gc calls it too.
void remove_unfinished_packs(const Store& store);

// Where a blob is; when the index lacks it, adopts unindexed packs and looks again. Throws
// SBX_ERR_NOT_FOUND when the id is not in the store.
BlobLocation locate_stored(const Store& store, ChunkIndex& index, const ChunkId& id);
// Where a blob is now that the pack the index named for it is gone: packs are adopted again (see
// adopt_unindexed_packs) before the index is asked. Throws SBX_ERR_NOT_FOUND when no pack has it.
BlobLocation relocate_stored(const Store& store, ChunkIndex& index, const ChunkId& id);
// The stored bytes at `where`; when that pack is gone (gc moved the blob since), reads where
// `locate_again` says it is now.
std::string read_located(PackFiles& files, const BlobLocation& where,
                         const std::function<BlobLocation()>& locate_again);
// Reads one blob by id through the index: locate_stored, then read_located.
std::string fetch_stored(const Store& store, ChunkIndex& index, PackFiles& files, const ChunkId& id);

}  // namespace sbx::dedup
