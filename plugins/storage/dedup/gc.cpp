// Garbage collection: mark every blob a manifest or a writer in flight needs, then sweep the rest.
//
// Marking reads manifests without any lock. The decision is taken under the exclusive store lock, which
// writers take shared around each lookup-and-protect step: there, the sessions of writers in flight and
// manifests committed meanwhile are marked too, and the dead rows leave the index. A writer that looks up an
// id afterwards no longer finds it and stores it anew, so no writer can come to rely on a blob being swept.
// Pack files are deleted or rewritten after the lock is released; a reader that meets a rewritten pack looks
// its blob up again (fetch_stored).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <set>

#include "bytes.hpp"
#include "device.hpp"
#include "entry_finder.hpp"

namespace sbx::dedup {
namespace {

// A pack is rewritten when at least this share of its bytes is dead; below it the copy costs more than it
// frees.
constexpr double kRewriteDeadShare = 0.2;

// What the sweep does with a pack of `pack_bytes` whose remaining rows are `live` (none: null), and the bytes
// that frees: all of them for a pack nothing lives in; for a rewrite, the dead bytes, since the new pack
// holds the live blobs with a trailer row each (8 bytes of magic, 44 per row, 44 of footer).
struct SweepPlan {
  enum Action { keep, rewrite, remove } action;
  uint64_t bytes_freed;
};
SweepPlan plan_sweep(uint64_t pack_bytes, const PackUse* live) {
  if (!live || live->blobs == 0) return {SweepPlan::remove, pack_bytes};
  const uint64_t overhead = 8 + 44 + 44 * live->blobs;
  const uint64_t dead = pack_bytes > live->bytes + overhead ? pack_bytes - live->bytes - overhead : 0;
  if (dead == 0 || double(dead) < kRewriteDeadShare * double(pack_bytes)) return {SweepPlan::keep, 0};
  return {SweepPlan::rewrite, dead};
}

}  // namespace

sbx_gc_stats DedupDevice::collect_garbage(const std::vector<std::string>& live_sets, bool dry_run) {
  const Store& store = *store_;
  store.require_writable("collect garbage");
  storage::UniqueFd run_lock =
      storage::open_or_throw(store.settings().root + "/gc.run", O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (::flock(run_lock.get(), LOCK_EX | LOCK_NB) != 0)
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                     "another gc is running on this device; try again when it ends");

  sbx_gc_stats stats{};
  stats.struct_size = sizeof stats;
  auto index = store.open_index();
  index->sync_every_commit();
  auto codec = store.make_codec();
  PackFiles files(store.layout());
  EntryFinder finder(store, *codec,
                     [&](const ChunkId& id) { return fetch_stored(store, *index, files, id); });
  if (!dry_run) store.adopt_unindexed_packs(*index);
  const std::set<std::string> live(live_sets.begin(), live_sets.end());
  std::set<std::string> marked;
  auto mark_set = [&](const std::string& set) {
    Manifest manifest;
    try {
      manifest = store.load_manifest(*codec, set);
    } catch (const sdk::Error& e) {
      if (e.status() == SBX_ERR_NOT_FOUND) return;  // deleted meanwhile
      throw sdk::Error(e.status(), "gc stopped before deleting anything: the manifest of set \"" + set +
                                       "\" cannot be read, so what it needs is unknown (" + e.what() + ")");
    }
    try {
      // A group marked before (by an earlier set) had its chunks marked then.
      finder.walk_blobs(
          manifest, [&](const GroupRef& group) { return index->mark(group.id); },
          [&](const ChunkId& id) { index->mark(id); });
    } catch (const sdk::Error& e) {
      throw sdk::Error(e.status(), "gc stopped before deleting anything: an entry group of set \"" + set +
                                       "\" cannot be read, so what it needs is unknown (" + e.what() + ")");
    }
    marked.insert(set);
    if (live.count(set))
      ++stats.sets_marked;
    else
      ++stats.sets_unknown;
  };

  index->mark_begin();
  for (const auto& set : store.committed_sets()) mark_set(set);
  std::vector<ChunkId> dead;
  std::map<std::string, PackUse> dead_by_pack;
  {
    StoreLock exclusive(store.lock_path(), true);
    // Sets before sessions: a group a session marked first would not be walked for its set's chunks.
    for (const auto& set : store.committed_sets())
      if (!marked.count(set)) mark_set(set);
    for (const auto& id : live_session_ids(store)) index->mark(id);
    index->mark_commit();
    dead = index->unmarked();
    for (const auto& id : dead)
      if (auto where = index->find(id)) {
        PackUse& in_pack = dead_by_pack[where->pack];
        ++in_pack.blobs;
        in_pack.bytes += where->length;
      }
    stats.chunks_freed = dead.size();
    if (!dry_run) index->remove_blobs(dead);
  }
  stats.chunks_live = index->blob_count() - (dry_run ? dead.size() : 0);
  if (dry_run) {
    // What the sweep below would free, by the same rule: a dead blob in a pack kept as it is frees nothing.
    const auto use = index->use_by_pack();
    index->for_each_pack([&](const std::string& pack, uint64_t bytes) {
      auto used = use.find(pack);
      PackUse live = used == use.end() ? PackUse{} : used->second;
      if (auto gone = dead_by_pack.find(pack); gone != dead_by_pack.end()) {
        live.blobs -= std::min(live.blobs, gone->second.blobs);
        live.bytes -= std::min(live.bytes, gone->second.bytes);
      }
      stats.bytes_freed += plan_sweep(bytes, &live).bytes_freed;
    });
    stats.bytes_after = index->pack_bytes() - std::min(index->pack_bytes(), stats.bytes_freed);
    return stats;
  }

  // Sweep: every pack whose bytes are not all live; also blobs never indexed (duplicates written by two
  // writers at once, or by a writer that died) count as dead.
  stats.bytes_freed = 0;
  // The pack list comes first: a pack a writer adds after it is not swept this time, and a listed pack's
  // rows were committed with it, so the use figures below count them.
  std::vector<std::pair<std::string, uint64_t>> packs;
  index->for_each_pack([&](const std::string& pack, uint64_t bytes) { packs.emplace_back(pack, bytes); });
  const auto use = index->use_by_pack();
  for (const auto& [pack, bytes] : packs) {
    const std::string path = store.layout().pack_path(pack);
    const std::string dir = path.substr(0, path.find_last_of('/'));
    auto used = use.find(pack);
    const SweepPlan plan = plan_sweep(bytes, used == use.end() ? nullptr : &used->second);
    if (plan.action == SweepPlan::remove) {
      if (::unlink(path.c_str()) != 0 && errno != ENOENT)
        storage::throw_errno(errno, "cannot delete " + path);
      storage::fsync_directory(dir);
      index->remove_pack(pack);
      ++stats.packs_deleted;
      stats.bytes_freed += bytes;
      continue;
    }
    if (plan.action == SweepPlan::keep) continue;
    // A pack whose trailer cannot be read, or does not list every row pointing into it, is left as it is
    // for verify to report: rewriting it could only lose what the index still points at.
    std::vector<PackRecord> rows;
    try {
      rows = index->indexed_in(pack, read_pack_trailer(path));
      if (rows.size() != used->second.blobs)
        throw sdk::Error(SBX_ERR_CORRUPT, "the index points at " + std::to_string(used->second.blobs) +
                                              " blobs in it, its trailer has " + std::to_string(rows.size()) +
                                              " of them");
    } catch (const sdk::Error& e) {
      sdk::log(SBX_LOG_WARN, "gc left pack " + pack + " as it is (run verify): " + e.what());
      continue;
    }
    PackBuilder builder(store.layout());
    for (const auto& r : rows) builder.add(r.id, read_blob(path, r.offset, r.length));
    std::vector<PackRecord> records;
    uint64_t new_bytes = 0;
    std::string new_pack = builder.finish(records, new_bytes);
    index->move_blobs(pack, new_pack, new_bytes, records);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) storage::throw_errno(errno, "cannot delete " + path);
    storage::fsync_directory(dir);
    ++stats.packs_rewritten;
    stats.bytes_freed += bytes - std::min(bytes, new_bytes);
  }
  // Packs of writers that died before indexing them were adopted above and swept with the rest; what is
  // left in tmp/ is from writers that died mid-pack.
  remove_unfinished_packs(store);
  stats.bytes_after = index->pack_bytes();
  return stats;
}

}  // namespace sbx::dedup
