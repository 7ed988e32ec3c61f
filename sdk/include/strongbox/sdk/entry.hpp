// strongbox SDK: an owning C++ form of sbx_entry, and conversions both ways. Header-only.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sbx_entry.h"

namespace sbx::sdk {

inline std::string_view view(sbx_str s) { return {s.data ? s.data : "", s.len}; }
inline std::string_view view(sbx_bytes b) {
  return {b.data ? reinterpret_cast<const char*>(b.data) : "", b.len};
}
inline sbx_str make_str(std::string_view s) { return {s.data(), s.size()}; }
inline sbx_bytes make_bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

struct Xattr {
  std::string name;
  std::string value;
  bool operator==(const Xattr&) const = default;
};

// An entry that owns its bytes. as_c() lends it to C code.
struct Entry {
  uint32_t type = SBX_ENTRY_FILE;
  std::string path;
  std::string link_target;
  uint64_t size = 0;
  uint32_t mode = 0;
  uint32_t uid = 0;
  uint32_t gid = 0;
  std::string user_name;
  std::string group_name;
  int64_t mtime_ns = 0;
  int64_t ctime_ns = 0;
  int64_t atime_ns = 0;
  uint64_t device = 0;
  uint64_t inode = 0;
  uint64_t nlink = 0;
  uint64_t rdev = 0;
  std::vector<Xattr> xattrs;
  std::vector<sbx_extent> extents;

  static Entry from(const sbx_entry& e) {
    Entry out;
    out.type = e.type;
    out.path.assign(view(e.path));
    out.link_target.assign(view(e.link_target));
    out.size = e.size;
    out.mode = e.mode;
    out.uid = e.uid;
    out.gid = e.gid;
    out.user_name.assign(view(e.user_name));
    out.group_name.assign(view(e.group_name));
    out.mtime_ns = e.mtime_ns;
    out.ctime_ns = e.ctime_ns;
    out.atime_ns = e.atime_ns;
    out.device = e.device;
    out.inode = e.inode;
    out.nlink = e.nlink;
    out.rdev = e.rdev;
    for (size_t i = 0; i < e.xattr_count; ++i)
      out.xattrs.push_back({std::string(view(e.xattrs[i].name)), std::string(view(e.xattrs[i].value))});
    out.extents.assign(e.extents, e.extents + e.extent_count);
    return out;
  }

  // Bytes of data that travel for this entry: the extents' total for a sparse file, else the size.
  uint64_t data_length() const {
    if (type != SBX_ENTRY_FILE) return 0;
    if (extents.empty()) return size;
    uint64_t total = 0;
    for (const auto& x : extents) total += x.length;
    return total;
  }
  bool sparse() const { return type == SBX_ENTRY_FILE && !extents.empty(); }

  // The returned sbx_entry points into this object; it stays valid while the Entry is unchanged.
  const sbx_entry& as_c() const {
    xattr_views_.clear();
    for (const auto& x : xattrs) xattr_views_.push_back({make_bytes(x.name), make_bytes(x.value)});
    c_ = sbx_entry{};
    c_.struct_size = sizeof(sbx_entry);
    c_.type = type;
    c_.path = make_bytes(path);
    c_.link_target = make_bytes(link_target);
    c_.size = size;
    c_.mode = mode;
    c_.uid = uid;
    c_.gid = gid;
    c_.user_name = make_bytes(user_name);
    c_.group_name = make_bytes(group_name);
    c_.mtime_ns = mtime_ns;
    c_.ctime_ns = ctime_ns;
    c_.atime_ns = atime_ns;
    c_.device = device;
    c_.inode = inode;
    c_.nlink = nlink;
    c_.rdev = rdev;
    c_.xattrs = xattr_views_.data();
    c_.xattr_count = xattr_views_.size();
    c_.extents = extents.data();
    c_.extent_count = extents.size();
    return c_;
  }

 private:
  mutable std::vector<sbx_xattr> xattr_views_;
  mutable sbx_entry c_{};
};

}  // namespace sbx::sdk
