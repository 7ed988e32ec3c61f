// Reading a set back: entry records and their data chunks, fetched from packs, decrypted and decompressed.
//
// One thread that decodes a chunk and then waits while the host writes it leaves each side idle half the
// time. With read_threads > 0 a planner thread decodes entry groups ahead of the host and worker threads
// decode the chunks they name, inside a bounded window; the host still receives everything in set order.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <strongbox/sdk/plugin.hpp>
#include <vector>

#include "entry_finder.hpp"
#include "store.hpp"

namespace sbx::dedup {

// What one thread needs to read blobs: its own codec and open pack files, and an index connection unless it
// is handed locations by a thread that has one.
struct BlobReaders {
  explicit BlobReaders(const Store& store, bool with_index = true);
  // The stored (sealed) bytes of a blob; needs the index.
  std::string fetch(const ChunkId& id);
  // Fetched, authenticated and opened; `what` names the blob in errors.
  std::string open(const ChunkId& id, BlobType type, const std::string& what);

  const Store& store;
  std::unique_ptr<ChunkIndex> index;  // null without one
  std::unique_ptr<BlobCodec> codec;
  PackFiles files;
  EntryFinder entries;  // needs the index
};

class SetReader : public sdk::StorageReader {
 public:
  SetReader(std::shared_ptr<const Store> store, unsigned threads);
  ~SetReader() override;
  void read_entries(std::span<const sbx_bytes> locators, const sbx_entry_sink& sink) override;

 private:
  class Pipeline;
  void read_inline(std::span<const sbx_bytes> locators, const sbx_entry_sink& sink);

  std::shared_ptr<const Store> store_;
  const unsigned threads_;
  // [0] plans (or reads inline) and alone looks blobs up, so the index's page cache stays within its one
  // budget; [1..] decode the chunks it located.
  std::vector<std::unique_ptr<BlobReaders>> readers_;
};

}  // namespace sbx::dedup
