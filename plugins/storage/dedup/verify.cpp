// verify: packs against the index, manifests against the index, and (with a read-data share) blobs opened,
// decrypted and rehashed. Every damaged blob is reported once per set entry it breaks.
#include <functional>
#include <map>
#include <set>

#include "bytes.hpp"
#include "device.hpp"
#include "entry_finder.hpp"

namespace sbx::dedup {
namespace {

bool selected(const ChunkId& id, const sbx_verify_options& options) {
  if (options.read_data_percent >= 100) return true;
  if (options.read_data_percent == 0) return false;
  uint64_t h = 0;
  std::memcpy(&h, id.data() + 8, sizeof h);
  h ^= options.seed * 0x9e3779b97f4a7c15ull;
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ull;
  h ^= h >> 32;
  return h % 100 < options.read_data_percent;
}

std::string short_id(const ChunkId& id) {
  return to_hex(id_view(id)).substr(0, 16);
}

}  // namespace

sbx_verify_stats DedupDevice::verify_device(const sbx_verify_options& options, const sdk::DamageFn& damage) {
  const Store& store = *store_;
  sbx_verify_stats stats{};
  stats.struct_size = sizeof stats;
  auto index = store.open_index();
  auto codec = store.make_codec();
  PackFiles files(store.layout());
  auto report = [&](std::string_view set, std::string_view locator, std::string_view path,
                    const std::string& problem) {
    ++stats.problems;
    damage(set, locator, path, problem);
  };
  store.adopt_unindexed_packs(*index);

  // Blob id -> what is wrong with it.
  std::map<ChunkId, std::string> damaged;
  std::set<std::string> packs_on_disk;
  for (const auto& pack : list_packs(store.layout())) packs_on_disk.insert(pack);

  // 1. Packs: the trailer must be intact and agree with every index row that points into the pack.
  auto check_pack = [&](const std::string& pack, uint64_t bytes, const std::vector<PackRecord>& rows) {
    ++stats.packs_checked;
    const std::string path = store.layout().pack_path(pack);
    if (!packs_on_disk.count(pack)) {
      report("", "", "", "pack " + pack + " is missing (" + std::to_string(rows.size()) + " blobs)");
      for (const auto& r : rows) damaged[r.id] = "its pack " + pack + " is missing";
      return;
    }
    std::map<ChunkId, PackRecord> trailer;
    try {
      uint64_t file_bytes = 0;
      for (const auto& r : read_pack_trailer(path, &file_bytes)) trailer[r.id] = r;
      if (file_bytes != bytes)
        report("", "", "",
               "pack " + pack + " has " + std::to_string(file_bytes) + " bytes, the index recorded " +
                   std::to_string(bytes));
    } catch (const sdk::Error& e) {
      report("", "", "", e.what());
      return;  // the blobs themselves are checked by reading them
    }
    for (const auto& r : rows) {
      auto it = trailer.find(r.id);
      if (it == trailer.end() || it->second.offset != r.offset || it->second.length != r.length) {
        damaged[r.id] = "the index and pack " + pack + " disagree about it";
        continue;
      }
      ++stats.chunks_checked;
    }
  };
  index->for_each_pack_with_blobs(check_pack, [&](const ChunkId& id) {
    damaged[id] = "the index names a pack for it that it no longer has";
  });

  // 2. Data: open (decrypt, decompress) and rehash the selected share of blobs.
  if (options.read_data_percent > 0) {
    std::vector<std::pair<ChunkId, BlobLocation>> chosen;
    index->for_each_blob([&](const ChunkId& id, const BlobLocation& where) {
      if (selected(id, options) && !damaged.count(id)) chosen.emplace_back(id, where);
    });
    for (const auto& [id, where] : chosen) {
      try {
        std::string stored = files.read(where.pack, where.offset, where.length);
        ++stats.chunks_read;
        stats.bytes_read += stored.size();
        if (stored.size() < kBlobHeaderBytes) throw sdk::Error(SBX_ERR_CORRUPT, "truncated");
        BlobType type = BlobType(uint8_t(stored[1]));
        if (type != BlobType::data && type != BlobType::entries)
          throw sdk::Error(SBX_ERR_CORRUPT, "unknown blob type");
        std::string plain = codec->open(stored, id, type, "blob " + short_id(id));
        if (codec->id_of(plain) != id)
          throw sdk::Error(SBX_ERR_CORRUPT, "blob " + short_id(id) + " does not hash to its id");
      } catch (const sdk::Error& e) {
        damaged[id] = e.what();
      }
    }
  }
  stats.damaged_chunks = damaged.size();

  // 3. Sets: each manifest must open, and its groups and the chunks they name must be in the index and not
  // damaged; damage is reported per entry.
  EntryFinder finder(store, *codec,
                     [&](const ChunkId& id) { return fetch_stored(store, *index, files, id); });
  ChunkIdSet sound_groups;  // opened, and every chunk they name is sound
  std::set<ChunkId> reported;
  auto problem_of = [&](const ChunkId& id) -> std::string {
    if (auto it = damaged.find(id); it != damaged.end()) return it->second;
    if (!index->find(id)) return "blob " + short_id(id) + " is missing from the store";
    return "";
  };
  for (const auto& set : store.committed_sets()) {
    ++stats.sets_checked;
    Manifest manifest;
    try {
      manifest = store.load_manifest(*codec, set);
    } catch (const sdk::Error& e) {
      report(set, "", "", std::string("the set's manifest is damaged: ") + e.what());
      continue;
    }
    for (uint32_t g = 0; g < manifest.groups.size(); ++g) {
      const GroupRef& group = manifest.groups[g];
      if (sound_groups.count(group.id)) continue;  // checked for an earlier set, which shares it
      auto each_locator = [&](const std::function<void(const std::string&, uint32_t)>& fn) {
        for (uint32_t i = 0; i < group.entries; ++i) {
          sdk::Locator locator = encode_locator({set, g, i});
          fn(std::string(locator.begin(), locator.end()), i);
        }
      };
      const std::string group_damage = problem_of(group.id);
      if (!group_damage.empty()) {
        each_locator([&](const std::string& locator, uint32_t) {
          report(set, locator, "", "the entry's metadata is damaged: " + group_damage);
        });
        reported.insert(group.id);
        continue;
      }
      std::shared_ptr<const EntryGroup> records;
      try {
        records = finder.open_group(group);
      } catch (const sdk::Error& e) {
        const std::string why = e.what();
        each_locator([&](const std::string& locator, uint32_t) {
          report(set, locator, "", "the entry's metadata cannot be read: " + why);
        });
        continue;
      }
      bool sound = true;
      each_locator([&](const std::string& locator, uint32_t i) {
        for (const auto& chunk : (*records)[i].chunks) {
          const std::string chunk_damage = problem_of(chunk.id);
          if (chunk_damage.empty()) continue;
          report(set, locator, (*records)[i].entry.path,
                 "data chunk " + short_id(chunk.id) + ": " + chunk_damage);
          reported.insert(chunk.id);
          sound = false;
        }
      });
      if (sound) sound_groups.insert(group.id);
    }
  }
  // Damaged blobs no set needs are garbage, but still worth a line: the disk under the store is failing.
  for (const auto& [id, why] : damaged)
    if (!reported.count(id)) report("", "", "", "blob " + short_id(id) + ", which no set needs: " + why);
  return stats;
}

}  // namespace sbx::dedup
