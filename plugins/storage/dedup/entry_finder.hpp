// Entry records by locator: the locator names a set, a group of its manifest and a record of the group.
//
// The finder keeps the group lists of the manifests it opened and the group it opened last, because its
// callers (a restore, a synthetic full) ask for the records of one group one after the other.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "records.hpp"
#include "store.hpp"

namespace sbx::dedup {

class EntryFinder {
 public:
  // `fetch` returns the stored bytes of a blob.
  using FetchFn = std::function<std::string(const ChunkId&)>;
  EntryFinder(const Store& store, BlobCodec& codec, FetchFn fetch)
      : store_(store), codec_(codec), fetch_(std::move(fetch)) {}

  // The group the address names. Throws SBX_ERR_NOT_FOUND when the store has no such set or the set no such
  // entry.
  GroupRef group_of(const EntryAddress& address);
  // The group's records, fetched and opened unless it is the group held.
  std::shared_ptr<const EntryGroup> open_group(const GroupRef& group);
  // The record at `locator` (sharing ownership of its group).
  std::shared_ptr<const EntryRecord> find(std::string_view locator);
  // The blobs a set needs, in set order: each group goes to `group`; when that returns true the group is
  // opened and the data chunk ids its records name go to `chunk` (an id shared by entries comes once for
  // each).
  void walk_blobs(const Manifest& manifest, const std::function<bool(const GroupRef&)>& group,
                  const std::function<void(const ChunkId&)>& chunk);

 private:
  const Store& store_;
  BlobCodec& codec_;
  FetchFn fetch_;
  std::map<std::string, std::vector<GroupRef>, std::less<>> groups_by_set_;
  ChunkId held_id_{};
  std::shared_ptr<const EntryGroup> held_;
};

}  // namespace sbx::dedup
