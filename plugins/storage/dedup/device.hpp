// The dedup storage device: sets as manifests of content-defined, keyed-hash-named chunks in pack files.
// See store.hpp for the layout and DESIGN.md (Storage formats) for the guarantees.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <strongbox/sdk/plugin.hpp>
#include <unordered_set>

#include "reader.hpp"
#include "store.hpp"

namespace sbx::dedup {

struct ChunkIdHash {
  size_t operator()(const ChunkId& id) const noexcept {
    size_t h;
    std::memcpy(&h, id.data(), sizeof h);  // ids are keyed hashes: any 8 bytes are uniform
    return h;
  }
};
using ChunkIdSet = std::unordered_set<ChunkId, ChunkIdHash>;

class DedupDevice : public sdk::DedupStorageDevice {
 public:
  // config_json: {"path": "/abs/dir", "key_file": "/abs/key", "domain_from": "/abs/other-store",
  // "compression_level": 3, "index_memory_mib": 64, "pack_mib": 16, "chunk_avg_kib": 256, "seal_threads": 2,
  // "read_threads": 2}; only "path" is required. chunk_avg_kib applies when the store is created
  // (min = avg/4, max = 4 avg).
  DedupDevice(std::string_view config_json, sdk::StoreOpening how);

  sbx_storage_info info() override;
  std::unique_ptr<sdk::StorageWriter> begin_set(std::string_view set_name) override;
  std::unique_ptr<sdk::StorageReader> open_set(std::string_view set_name) override;
  void delete_set(std::string_view set_name) override;
  void list_sets(const std::function<void(std::string_view)>& fn) override;

  sbx_dedup_info dedup_info() override;
  void set_chunks(std::string_view set_name,
                  const std::function<void(std::string_view id, uint64_t stored_bytes)>& fn) override;
  std::string read_chunk(std::string_view chunk_id) override;
  std::string read_manifest(std::string_view set_name) override;
  std::unique_ptr<sdk::DedupReceiver> begin_receive() override;
  sbx_gc_stats collect_garbage(const std::vector<std::string>& live_sets, bool dry_run) override;
  sbx_verify_stats verify_device(const sbx_verify_options& options, const sdk::DamageFn& damage) override;

 private:
  // The index, codec and open packs the device-level reads (duplication's sending side) reuse from call to
  // call; calls on one device never overlap.
  BlobReaders& readers();

  std::shared_ptr<const Store> store_;
  std::unique_ptr<BlobReaders> readers_;
};

}  // namespace sbx::dedup
