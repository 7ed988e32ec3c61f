#include "records.hpp"

#include <cstring>

#include "bytes.hpp"
#include "store.hpp"

namespace sbx::dedup {
namespace {

constexpr uint32_t kEntryRecordVersion = 1;
constexpr uint32_t kEntryGroupVersion = 1;
constexpr uint32_t kManifestVersion = 3;
constexpr uint8_t kLocatorVersion = 2;

// Group sizes (bench/dedup-linux-source.sh, admin guide): about 32 entries on average keep the framing of a
// group near 5 bytes an entry, while a change to one file rewrites only the ~32 records around it. The
// limits bound what one group costs to hold in memory when read back.
constexpr uint64_t kGroupAverageEntries = 32;
constexpr size_t kGroupMaxEntries = 256;
constexpr size_t kGroupMaxBytes = 1u << 20;

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

bool EntryGroupWriter::add(const EntryRecord& record) {
  put_bytes(body_, encode_entry_record(record));
  ++entries_;
  if (entries_ >= kGroupMaxEntries || body_.size() >= kGroupMaxBytes) return true;
  // Content-defined: FNV-1a of the path, then a finalizer so the low bits depend on every byte.
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : record.entry.path) h = (h ^ c) * 0x100000001b3ull;
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  return h % kGroupAverageEntries == 0;
}

std::string EntryGroupWriter::take() {
  std::string out;
  out.reserve(8 + body_.size());
  put_u32(out, kEntryGroupVersion);
  put_u32(out, entries_);
  out += body_;
  body_.clear();
  entries_ = 0;
  return out;
}

EntryGroup decode_entry_group(std::string_view bytes, uint32_t expected_entries) {
  ByteReader in(bytes, "an entry group");
  if (in.u32() != kEntryGroupVersion)
    throw sdk::Error(SBX_ERR_CORRUPT, "an entry group has an unknown version");
  if (in.u32() != expected_entries)
    throw sdk::Error(SBX_ERR_CORRUPT, "an entry group does not hold as many entries as its manifest says");
  EntryGroup group;
  group.reserve(std::min<size_t>(expected_entries, bytes.size() / 4));
  for (uint32_t i = 0; i < expected_entries; ++i) group.push_back(decode_entry_record(in.bytes()));
  in.expect_done();
  return group;
}

uint64_t Manifest::entry_count() const {
  uint64_t n = 0;
  for (const auto& g : groups) n += g.entries;
  return n;
}

std::string encode_manifest(const Manifest& m) {
  std::string out;
  out.reserve(32 + m.groups.size() * (kIdBytes + 4));
  put_u32(out, kManifestVersion);
  put_u64(out, m.data_bytes);
  put_u64(out, m.groups.size());
  for (const auto& g : m.groups) {
    put_id(out, g.id);
    put_u32(out, g.entries);
  }
  return out;
}

Manifest decode_manifest(std::string_view bytes) {
  ByteReader in(bytes, "a manifest");
  if (in.u32() != kManifestVersion) throw sdk::Error(SBX_ERR_CORRUPT, "a manifest has an unknown version");
  Manifest m;
  m.data_bytes = in.u64();
  uint64_t groups = in.u64();
  if (groups > bytes.size() / (kIdBytes + 4))
    throw sdk::Error(SBX_ERR_CORRUPT, "a manifest has a damaged count");
  m.groups.reserve(groups);
  for (uint64_t i = 0; i < groups; ++i) {
    GroupRef g;
    g.id = get_id(in);
    g.entries = in.u32();
    if (g.entries == 0) throw sdk::Error(SBX_ERR_CORRUPT, "a manifest names an empty entry group");
    m.groups.push_back(g);
  }
  in.expect_done();
  return m;
}

sdk::Locator encode_locator(const EntryAddress& address) {
  std::string out(1, char(kLocatorVersion));
  put_u32(out, address.group);
  put_u32(out, address.index);
  out.append(address.set);
  return sdk::Locator(out.begin(), out.end());
}

EntryAddress decode_locator(std::string_view locator) {
  constexpr size_t kFixed = 1 + 4 + 4;
  const sdk::Error malformed(SBX_ERR_INVALID_ARGUMENT, "the locator is not one of a dedup device");
  if (locator.size() <= kFixed || uint8_t(locator[0]) != kLocatorVersion) throw malformed;
  EntryAddress address{std::string(locator.substr(kFixed)), get_u32(locator.data() + 1),
                       get_u32(locator.data() + 5)};
  try {
    check_set_name(address.set);
  } catch (const sdk::Error&) {
    throw malformed;
  }
  return address;
}

}  // namespace sbx::dedup
