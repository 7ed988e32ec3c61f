#include <strongbox/net.hpp>

#include <bit>
#include <cstring>

namespace sbx::net {
namespace {

constexpr uint8_t kEntryCodecVersion = 1;

class Out {
 public:
  void u8(uint8_t v) { s.push_back(char(v)); }
  void u32(uint32_t v) { raw(&v, 4); }
  void u64(uint64_t v) { raw(&v, 8); }
  void i64(int64_t v) { raw(&v, 8); }
  void bytes(sbx_bytes b) {
    u32(uint32_t(b.len));
    if (b.len) s.append(reinterpret_cast<const char*>(b.data), b.len);
  }
  std::string s;

 private:
  // The project only targets little-endian hosts (x86-64, aarch64); static_assert keeps that honest.
  void raw(const void* p, size_t n) { s.append(static_cast<const char*>(p), n); }
};
static_assert(std::endian::native == std::endian::little, "entry codec assumes a little-endian host");

class In {
 public:
  // `record` names what is being decoded ("entry record") for the truncation message.
  In(std::string_view d, const char* record) : d_(d), record_(record) {}
  uint8_t u8() { return uint8_t(take(1)[0]); }
  uint32_t u32() { return fixed<uint32_t>(); }
  uint64_t u64() { return fixed<uint64_t>(); }
  int64_t i64() { return fixed<int64_t>(); }
  std::string bytes() {
    uint32_t n = u32();
    return std::string(take(n));
  }
  bool done() const { return pos_ == d_.size(); }

 private:
  template <class T>
  T fixed() {
    T v;
    std::memcpy(&v, take(sizeof v).data(), sizeof v);
    return v;
  }
  std::string_view take(size_t n) {
    if (n > d_.size() - pos_) throw ProtocolError(std::string("truncated ") + record_);
    auto v = d_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  std::string_view d_;
  const char* record_;
  size_t pos_ = 0;
};

void put_xattrs(Out& o, const sbx_xattr* xattrs, size_t count) {
  o.u32(uint32_t(count));
  for (size_t i = 0; i < count; ++i) {
    o.bytes(xattrs[i].name);
    o.bytes(xattrs[i].value);
  }
}

void put_extents(Out& o, const sbx_extent* extents, size_t count) {
  o.u32(uint32_t(count));
  for (size_t i = 0; i < count; ++i) {
    o.u64(extents[i].offset);
    o.u64(extents[i].length);
  }
}

std::vector<sdk::Xattr> get_xattrs(In& in) {
  uint32_t n = in.u32();
  std::vector<sdk::Xattr> out;
  for (uint32_t i = 0; i < n; ++i) {
    sdk::Xattr x;
    x.name = in.bytes();
    x.value = in.bytes();
    out.push_back(std::move(x));
  }
  return out;
}

std::vector<sbx_extent> get_extents(In& in) {
  uint32_t n = in.u32();
  std::vector<sbx_extent> out;
  for (uint32_t i = 0; i < n; ++i) {
    sbx_extent x;
    x.offset = in.u64();
    x.length = in.u64();
    out.push_back(x);
  }
  return out;
}

}  // namespace

std::string encode_entry(const sbx_entry& e) {
  Out o;
  o.s.reserve(128 + e.path.len + e.link_target.len);
  o.u8(kEntryCodecVersion);
  o.u32(e.type);
  o.bytes(e.path);
  o.bytes(e.link_target);
  o.u64(e.size);
  o.u32(e.mode);
  o.u32(e.uid);
  o.u32(e.gid);
  o.bytes(e.user_name);
  o.bytes(e.group_name);
  o.i64(e.mtime_ns);
  o.i64(e.ctime_ns);
  o.i64(e.atime_ns);
  o.u64(e.device);
  o.u64(e.inode);
  o.u64(e.nlink);
  o.u64(e.rdev);
  put_xattrs(o, e.xattrs, e.xattr_count);
  put_extents(o, e.extents, e.extent_count);
  return std::move(o.s);
}

void decode_entry(std::string_view bytes, sdk::Entry& e) {
  In in(bytes, "entry record");
  uint8_t version = in.u8();
  if (version != kEntryCodecVersion) throw ProtocolError("entry record version " + std::to_string(version) + " is unknown");
  e.type = in.u32();
  if (e.type < SBX_ENTRY_FILE || e.type > SBX_ENTRY_BLOCK_DEVICE) throw ProtocolError("entry record has unknown type " + std::to_string(e.type));
  e.path = in.bytes();
  e.link_target = in.bytes();
  e.size = in.u64();
  e.mode = in.u32();
  e.uid = in.u32();
  e.gid = in.u32();
  e.user_name = in.bytes();
  e.group_name = in.bytes();
  e.mtime_ns = in.i64();
  e.ctime_ns = in.i64();
  e.atime_ns = in.i64();
  e.device = in.u64();
  e.inode = in.u64();
  e.nlink = in.u64();
  e.rdev = in.u64();
  e.xattrs = get_xattrs(in);
  e.extents = get_extents(in);
  if (!in.done()) throw ProtocolError("entry record has trailing bytes");
  if (e.path.empty()) throw ProtocolError("entry record has an empty path");
}

std::string encode_xattrs(const sbx_xattr* xattrs, size_t count) {
  if (count == 0) return {};
  Out o;
  put_xattrs(o, xattrs, count);
  return std::move(o.s);
}

std::vector<sdk::Xattr> decode_xattrs(std::string_view bytes) {
  if (bytes.empty()) return {};
  In in(bytes, "xattr record");
  auto out = get_xattrs(in);
  if (!in.done()) throw ProtocolError("xattr record has trailing bytes");
  return out;
}

std::string encode_extents(const sbx_extent* extents, size_t count) {
  if (count == 0) return {};
  Out o;
  put_extents(o, extents, count);
  return std::move(o.s);
}

std::vector<sbx_extent> decode_extents(std::string_view bytes) {
  if (bytes.empty()) return {};
  In in(bytes, "extent record");
  auto out = get_extents(in);
  if (!in.done()) throw ProtocolError("extent record has trailing bytes");
  return out;
}

}  // namespace sbx::net
