// The dedup device's metadata records (stored as blobs, see blob.hpp).
//
// Entry record: one file-system entry of a set (its sbx_entry fields) and the chunks its data is made of,
// in order. Its id is its locator: a set that holds an identical entry (a synthetic full) reuses it.
// Manifest: a set, as the entry record ids in the order the set was written, and every chunk id those
// entries need (each once), so garbage collection and duplication never have to open entry records.
#pragma once

#include <string>
#include <string_view>
#include <strongbox/sdk/entry.hpp>
#include <vector>

#include "keys.hpp"

namespace sbx::dedup {

struct ChunkRef {
  ChunkId id;
  uint32_t length;  // plaintext bytes
};

struct EntryRecord {
  sdk::Entry entry;
  std::vector<ChunkRef> chunks;
};

std::string encode_entry_record(const EntryRecord& record);
EntryRecord decode_entry_record(std::string_view bytes);  // SBX_ERR_CORRUPT when malformed

struct Manifest {
  std::vector<ChunkId> entries;  // entry record ids, in set order
  std::vector<ChunkId> chunks;   // data chunk ids the entries need, each once
  uint64_t data_bytes = 0;       // plaintext bytes of the set's entries
};

std::string encode_manifest(const Manifest& manifest);
Manifest decode_manifest(std::string_view bytes);  // SBX_ERR_CORRUPT when malformed

}  // namespace sbx::dedup
