#include "entry_finder.hpp"

#include <unistd.h>

namespace sbx::dedup {

GroupRef EntryFinder::group_of(const EntryAddress& address) {
  auto it = groups_by_set_.find(address.set);
  if (it == groups_by_set_.end()) {
    if (::access(store_.manifest_path(address.set).c_str(), F_OK) != 0)
      throw sdk::Error(SBX_ERR_NOT_FOUND, "the entry's set \"" + address.set + "\" is not on this device");
    it = groups_by_set_.emplace(address.set, store_.load_manifest(codec_, address.set).groups).first;
  }
  const auto& groups = it->second;
  if (address.group >= groups.size() || address.index >= groups[address.group].entries)
    throw sdk::Error(SBX_ERR_NOT_FOUND, "set \"" + address.set + "\" has no entry at the locator's place");
  return groups[address.group];
}

std::shared_ptr<const EntryGroup> EntryFinder::open_group(const GroupRef& group) {
  if (!held_ || held_id_ != group.id) {
    held_.reset();
    held_ = std::make_shared<const EntryGroup>(decode_entry_group(
        codec_.open(fetch_(group.id), group.id, BlobType::entries, "an entry group"), group.entries));
    held_id_ = group.id;
  }
  return held_;
}

std::shared_ptr<const EntryRecord> EntryFinder::find(std::string_view locator) {
  const EntryAddress address = decode_locator(locator);
  std::shared_ptr<const EntryGroup> group = open_group(group_of(address));
  return std::shared_ptr<const EntryRecord>(group, &(*group)[address.index]);
}

void EntryFinder::walk_blobs(const Manifest& manifest, const std::function<bool(const GroupRef&)>& group,
                             const std::function<void(const ChunkId&)>& chunk) {
  for (const auto& ref : manifest.groups) {
    if (!group(ref)) continue;
    for (const auto& record : *open_group(ref))
      for (const auto& c : record.chunks) chunk(c.id);
  }
}

}  // namespace sbx::dedup
