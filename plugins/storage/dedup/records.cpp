#include "records.hpp"

#include <cstring>

#include "bytes.hpp"

namespace sbx::dedup {
namespace {

constexpr uint32_t kEntryRecordVersion = 1;
constexpr uint32_t kManifestVersion = 1;

void put_id(std::string& out, const ChunkId& id) {
  out.append(reinterpret_cast<const char*>(id.data()), id.size());
}
ChunkId get_id(ByteReader& in) {
  ChunkId id;
  std::memcpy(id.data(), in.take(kIdBytes).data(), kIdBytes);
  return id;
}

}  // namespace

std::string encode_entry_record(const EntryRecord& record) {
  const sdk::Entry& e = record.entry;
  std::string out;
  out.reserve(128 + e.path.size() + record.chunks.size() * (kIdBytes + 4));
  put_u32(out, kEntryRecordVersion);
  put_u32(out, e.type);
  put_bytes(out, e.path);
  put_bytes(out, e.link_target);
  put_u64(out, e.size);
  put_u32(out, e.mode);
  put_u32(out, e.uid);
  put_u32(out, e.gid);
  put_bytes(out, e.user_name);
  put_bytes(out, e.group_name);
  put_u64(out, uint64_t(e.mtime_ns));
  put_u64(out, uint64_t(e.ctime_ns));
  put_u64(out, uint64_t(e.atime_ns));
  put_u64(out, e.device);
  put_u64(out, e.inode);
  put_u64(out, e.nlink);
  put_u64(out, e.rdev);
  put_u32(out, uint32_t(e.xattrs.size()));
  for (const auto& x : e.xattrs) {
    put_bytes(out, x.name);
    put_bytes(out, x.value);
  }
  put_u32(out, uint32_t(e.extents.size()));
  for (const auto& x : e.extents) {
    put_u64(out, x.offset);
    put_u64(out, x.length);
  }
  put_u32(out, uint32_t(record.chunks.size()));
  for (const auto& c : record.chunks) {
    put_id(out, c.id);
    put_u32(out, c.length);
  }
  return out;
}

EntryRecord decode_entry_record(std::string_view bytes) {
  ByteReader in(bytes, "an entry record");
  if (in.u32() != kEntryRecordVersion)
    throw sdk::Error(SBX_ERR_CORRUPT, "an entry record has an unknown version");
  EntryRecord r;
  sdk::Entry& e = r.entry;
  e.type = in.u32();
  e.path = in.bytes();
  e.link_target = in.bytes();
  e.size = in.u64();
  e.mode = in.u32();
  e.uid = in.u32();
  e.gid = in.u32();
  e.user_name = in.bytes();
  e.group_name = in.bytes();
  e.mtime_ns = int64_t(in.u64());
  e.ctime_ns = int64_t(in.u64());
  e.atime_ns = int64_t(in.u64());
  e.device = in.u64();
  e.inode = in.u64();
  e.nlink = in.u64();
  e.rdev = in.u64();
  // Counts are checked against the bytes left before anything is reserved: a damaged count cannot make the
  // parser allocate gigabytes.
  uint32_t xattrs = in.u32();
  if (xattrs > bytes.size() / 8)
    throw sdk::Error(SBX_ERR_CORRUPT, "an entry record has a damaged xattr count");
  for (uint32_t i = 0; i < xattrs; ++i) {
    sdk::Xattr x;
    x.name = in.bytes();
    x.value = in.bytes();
    e.xattrs.push_back(std::move(x));
  }
  uint32_t extents = in.u32();
  if (extents > bytes.size() / 16)
    throw sdk::Error(SBX_ERR_CORRUPT, "an entry record has a damaged extent count");
  for (uint32_t i = 0; i < extents; ++i) {
    sbx_extent x;
    x.offset = in.u64();
    x.length = in.u64();
    e.extents.push_back(x);
  }
  uint32_t chunks = in.u32();
  if (chunks > bytes.size() / (kIdBytes + 4))
    throw sdk::Error(SBX_ERR_CORRUPT, "an entry record has a damaged chunk count");
  r.chunks.reserve(chunks);
  uint64_t total = 0;
  for (uint32_t i = 0; i < chunks; ++i) {
    ChunkRef c;
    c.id = get_id(in);
    c.length = in.u32();
    total += c.length;
    r.chunks.push_back(c);
  }
  in.expect_done();
  if (total != e.data_length())
    throw sdk::Error(SBX_ERR_CORRUPT, "an entry record's chunks do not add up to its data length");
  return r;
}

std::string encode_manifest(const Manifest& m) {
  std::string out;
  out.reserve(32 + (m.entries.size() + m.chunks.size()) * kIdBytes);
  put_u32(out, kManifestVersion);
  put_u64(out, m.data_bytes);
  put_u64(out, m.entries.size());
  for (const auto& id : m.entries) put_id(out, id);
  put_u64(out, m.chunks.size());
  for (const auto& id : m.chunks) put_id(out, id);
  return out;
}

Manifest decode_manifest(std::string_view bytes) {
  ByteReader in(bytes, "a manifest");
  if (in.u32() != kManifestVersion) throw sdk::Error(SBX_ERR_CORRUPT, "a manifest has an unknown version");
  Manifest m;
  m.data_bytes = in.u64();
  for (auto* list : {&m.entries, &m.chunks}) {
    uint64_t count = in.u64();
    if (count > bytes.size() / kIdBytes) throw sdk::Error(SBX_ERR_CORRUPT, "a manifest has a damaged count");
    list->reserve(count);
    for (uint64_t i = 0; i < count; ++i) list->push_back(get_id(in));
  }
  in.expect_done();
  return m;
}

}  // namespace sbx::dedup
