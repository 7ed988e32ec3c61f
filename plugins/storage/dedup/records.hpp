// The dedup device's metadata records (stored as blobs, see blob.hpp).
//
// Entry record: one file-system entry of a set (its sbx_entry fields) and the chunks its data is made of,
// in order.
// Entry group: consecutive entry records of a set, stored as one blob. Alone, a record of a small file costs
// more in blob framing, index row and pack trailer than its compressed bytes; grouped, the framing is paid
// once per group and zstd sees the shared path prefixes. Where a group ends depends only on the entries
// themselves (EntryGroupWriter::add), so a set that holds the same entries as another in the same order (a
// no-change backup, a synthetic full) yields the same groups, which are then stored once.
// Manifest: a set, as its entry groups in order (id and entry count), and every chunk id those entries need
// (each once), so garbage collection and duplication never have to open entry groups.
// Locator: the set's name, the group's position in its manifest and the entry's position in the group. A
// set's name never changes, on its own device or on the devices it is duplicated or transferred to.
#pragma once

#include <string>
#include <string_view>
#include <strongbox/sdk/entry.hpp>
#include <strongbox/sdk/plugin.hpp>
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

using EntryGroup = std::vector<EntryRecord>;

// Builds an entry group's bytes one record at a time.
class EntryGroupWriter {
 public:
  // Adds the record; returns true when the group ends after it.
  bool add(const EntryRecord& record);
  uint32_t entries() const { return entries_; }
  std::string take();  // the group's bytes; the writer starts a new group

 private:
  std::string body_;
  uint32_t entries_ = 0;
};

EntryGroup decode_entry_group(std::string_view bytes, uint32_t expected_entries);  // SBX_ERR_CORRUPT

struct GroupRef {
  ChunkId id;
  uint32_t entries;
};

// A set: its entry groups. The data chunks the set needs are named only by the groups' records, so a set
// whose groups an earlier set made already costs no more than this list (EntryFinder::walk_blobs).
struct Manifest {
  std::vector<GroupRef> groups;  // entry groups, in set order
  uint64_t data_bytes = 0;       // plaintext bytes of the set's entries
  uint64_t entry_count() const;
};

std::string encode_manifest(const Manifest& manifest);
Manifest decode_manifest(std::string_view bytes);  // SBX_ERR_CORRUPT when malformed

struct EntryAddress {
  std::string set;
  uint32_t group;
  uint32_t index;  // in the group
};

sdk::Locator encode_locator(const EntryAddress& address);
// Throws SBX_ERR_INVALID_ARGUMENT when the bytes are not a dedup locator.
EntryAddress decode_locator(std::string_view locator);

}  // namespace sbx::dedup
