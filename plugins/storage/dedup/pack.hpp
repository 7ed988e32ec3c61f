// Pack files: many blobs in one file, so a store of millions of chunks is thousands of files.
//
//   "SBXPACK1" | blob | blob | ... | trailer: per blob id (32) offset (8) length (4) | blob count (4) |
//   SHA-256 of the trailer records (32) | "SBXPEND1"
//
// A pack is written blob by blob to DIR/tmp, fsynced, renamed to DIR/packs/<2 hex>/<32 hex>.pack and the
// directory fsynced: a pack either exists complete or not at all. The trailer makes a pack self-describing,
// so the index (index.hpp) can always be rebuilt from the packs.
#pragma once

#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <vector>

#include "common/posix_file.hpp"
#include "keys.hpp"

namespace sbx::dedup {

struct PackRecord {
  ChunkId id;
  uint64_t offset;
  uint32_t length;
};

struct PackLayout {
  std::string root;  // the store directory
  std::string pack_path(std::string_view pack) const;
  std::string packs_dir() const { return root + "/packs"; }
  std::string tmp_dir() const { return root + "/tmp"; }
};

class PackBuilder {
 public:
  explicit PackBuilder(const PackLayout& layout);
  ~PackBuilder();  // removes the temporary file of a pack never finished
  PackBuilder(const PackBuilder&) = delete;
  PackBuilder& operator=(const PackBuilder&) = delete;
  void add(const ChunkId& id, std::string_view stored);
  uint64_t bytes() const { return size_; }
  bool empty() const { return records_.empty(); }
  // Writes the pack durably; returns its name (32 hex digits) and fills its blobs and file size. The builder
  // is empty afterwards.
  std::string finish(std::vector<PackRecord>& records_out, uint64_t& file_bytes);

 private:
  static constexpr size_t kWriteBytes = 256u << 10;
  void write_pending();

  const PackLayout& layout_;
  std::string name_;      // chosen when the first blob arrives
  std::string tmp_path_;  // DIR/tmp/<name>.pack.tmp
  storage::UniqueFd fd_;  // open while blobs are added
  std::string pending_;   // added and not yet written
  uint64_t size_ = 0;
  std::vector<PackRecord> records_;
};

// Reads and checks a pack's trailer; throws SBX_ERR_CORRUPT naming the file when it is damaged.
std::vector<PackRecord> read_pack_trailer(const std::string& path, uint64_t* file_bytes = nullptr);
// Every pack file under DIR/packs, as names.
std::vector<std::string> list_packs(const PackLayout& layout);
// The names in a directory (not "." and ".."); none when it does not exist.
std::vector<std::string> list_directory(const std::string& path);
// The stored bytes of one blob; throws SBX_ERR_NOT_FOUND when the pack file is gone.
std::string read_blob(const std::string& pack_path, uint64_t offset, uint32_t length);

// Pack files kept open while many blobs are read (restore, duplication, verify): opening a file per blob
// would cost more than reading it. A file gc deletes meanwhile stays readable through its open descriptor.
class PackFiles {
 public:
  explicit PackFiles(const PackLayout& layout) : layout_(layout) {}
  std::string read(const std::string& pack, uint64_t offset, uint32_t length);

 private:
  static constexpr size_t kOpenPacks = 32;
  const PackLayout& layout_;
  struct OpenPack {
    std::string name;
    storage::UniqueFd fd;
    uint64_t bytes;  // packs are never changed once written
  };
  std::list<OpenPack> open_;  // most recently used first
};

}  // namespace sbx::dedup
