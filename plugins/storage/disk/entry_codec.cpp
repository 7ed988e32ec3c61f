#include "entry_codec.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string_view>
#include <strongbox/sdk/plugin.hpp>

namespace sbx::disk {
namespace {

constexpr int64_t kNanos = 1'000'000'000;
constexpr uint64_t kTarBlock = 512;

std::string_view bytes_view(sbx_bytes b) {
  return sdk::view(b);
}

[[noreturn]] void reject(std::string_view path, const std::string& why) {
  throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "entry '" + printable_path(path) + "': " + why);
}

// libarchive stores C strings; a NUL inside would silently cut the name short.
std::string c_string(sbx_bytes b, std::string_view path, const char* field) {
  std::string_view v = bytes_view(b);
  if (v.find('\0') != std::string_view::npos) reject(path, std::string(field) + " contains a NUL byte");
  return std::string(v);
}

// libarchive's pax writer and reader both use "same sign" timestamps: -1.5 s is (-1 s, 500000000 ns).
void split_time(int64_t ns, int64_t* sec, long* nsec) {
  *sec = ns / kNanos;
  int64_t rem = ns % kNanos;
  *nsec = static_cast<long>(rem < 0 ? -rem : rem);
}

int64_t join_time(int64_t sec, long nsec) {
  int64_t scaled;
  if (__builtin_mul_overflow(sec, kNanos, &scaled))
    return sec < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  int64_t result;
  if (__builtin_add_overflow(scaled, sec < 0 ? -static_cast<int64_t>(nsec) : static_cast<int64_t>(nsec),
                             &result))
    return sec < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  return result;
}

// The name libarchive's pax writer puts after "SCHILY.xattr." (it URL-encodes there too).
std::string url_encoded(std::string_view name) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : name) {
    if (c < 33 || c > 126 || c == '%' || c == '=') {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// libarchive writes every xattr twice, as LIBARCHIVE.xattr.<url-encoded name> and as
// SCHILY.xattr.<url-encoded name> (the one GNU tar restores), and reads the first back decoded and the
// second as it stands. So the list read back holds each name X twice: as X and as url_encoded(X). The
// shortest remaining name is always an original (a twin is never shorter than its original), so taking
// originals shortest first and striking out their twins recovers the list exactly; a reader that already
// yields each name once is unaffected.
std::vector<sdk::Xattr> remove_xattr_twins(std::vector<sdk::Xattr> read) {
  std::stable_sort(read.begin(), read.end(),
                   [](const sdk::Xattr& a, const sdk::Xattr& b) { return a.name.size() < b.name.size(); });
  std::vector<bool> used(read.size(), false);
  std::vector<sdk::Xattr> originals;
  for (size_t i = 0; i < read.size(); ++i) {
    if (used[i]) continue;
    used[i] = true;
    const std::string twin = url_encoded(read[i].name);
    for (size_t j = i + 1; j < read.size(); ++j) {
      if (!used[j] && read[j].name == twin && read[j].value == read[i].value) {
        used[j] = true;
        break;
      }
    }
    bool duplicate = std::any_of(originals.begin(), originals.end(),
                                 [&](const sdk::Xattr& x) { return x.name == read[i].name; });
    if (!duplicate) originals.push_back(std::move(read[i]));
  }
  std::sort(originals.begin(), originals.end(),
            [](const sdk::Xattr& a, const sdk::Xattr& b) { return a.name < b.name; });
  return originals;
}

// The host's extents, checked, sorted, merged where they touch, without empty ones.
std::vector<sbx_extent> host_extents(const sbx_entry& in, std::string_view path) {
  std::vector<sbx_extent> extents;
  uint64_t end = 0;
  for (size_t i = 0; i < in.extent_count; ++i) {
    const sbx_extent& x = in.extents[i];
    if (x.offset < end)
      reject(path, "sparse extent " + std::to_string(i) + " at offset " + std::to_string(x.offset) +
                       " overlaps or precedes the previous one (ends at " + std::to_string(end) + ")");
    if (x.length > in.size || x.offset > in.size - x.length)
      reject(path, "sparse extent " + std::to_string(i) + " (" + std::to_string(x.offset) + "+" +
                       std::to_string(x.length) + ") runs past the file size " + std::to_string(in.size));
    if (x.length == 0) continue;
    if (!extents.empty() && extents.back().offset + extents.back().length == x.offset)
      extents.back().length += x.length;
    else
      extents.push_back(x);
    end = x.offset + x.length;
  }
  return extents;
}

// The sparse map libarchive writes: every data region that does not end the file stretched to a multiple
// of 512 bytes (what GNU tar's reader assumes), merging regions the stretch makes touch.
std::vector<sbx_extent> archive_extents(const std::vector<sbx_extent>& host, uint64_t size) {
  auto stretched_end = [size](const sbx_extent& x) {
    uint64_t end = x.offset + x.length;
    uint64_t rounded = end + (kTarBlock - end % kTarBlock) % kTarBlock;
    return std::min(rounded, size);
  };
  std::vector<sbx_extent> map;
  for (const sbx_extent& x : host) {
    if (!map.empty()) {
      sbx_extent& last = map.back();
      uint64_t end = stretched_end(last);
      if (end >= x.offset) {
        last.length = std::max(end, x.offset + x.length) - last.offset;
        continue;
      }
      last.length = end - last.offset;
    }
    map.push_back(x);
  }
  if (!map.empty()) map.back().length = stretched_end(map.back()) - map.back().offset;
  if (map.empty()) map.push_back({size, 0});  // all hole: one empty region keeps the file sparse
  return map;
}

// Cuts [0, size) at every boundary of both lists.
std::vector<DataPlan::Run> logical_runs(const std::vector<sbx_extent>& host,
                                        const std::vector<sbx_extent>& map, uint64_t size) {
  std::vector<uint64_t> cuts{0, size};
  for (const auto* list : {&host, &map})
    for (const sbx_extent& x : *list) {
      cuts.push_back(x.offset);
      cuts.push_back(x.offset + x.length);
    }
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  std::vector<DataPlan::Run> runs;
  size_t h = 0;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    while (h < host.size() && host[h].offset + host[h].length <= cuts[i]) ++h;
    bool from_host = h < host.size() && host[h].offset <= cuts[i];
    runs.push_back({cuts[i + 1] - cuts[i], from_host});
  }
  return runs;
}

}  // namespace

std::string printable_path(std::string_view path) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : path) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

DataPlan encode_entry(const sbx_entry& in, archive_entry* out) {
  std::string_view raw_path = bytes_view(in.path);
  if (in.struct_size < sizeof(sbx_entry))
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "entry '" + printable_path(raw_path) + "': struct_size " +
                                                   std::to_string(in.struct_size) +
                                                   " is smaller than sbx_entry (" +
                                                   std::to_string(sizeof(sbx_entry)) + ")");
  std::string path = c_string(in.path, raw_path, "path");
  if (path.empty()) reject(raw_path, "path is empty");
  if (in.type == SBX_ENTRY_DIRECTORY) {
    while (path.size() > 1 && path.back() == '/') path.pop_back();
  }

  DataPlan plan;
  archive_entry_copy_pathname(out, path.c_str());
  archive_entry_set_perm(out, static_cast<mode_t>(in.mode & 07777));
  switch (in.type) {
    case SBX_ENTRY_FILE:
      archive_entry_set_filetype(out, AE_IFREG);
      if (in.size > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
        reject(raw_path, "size " + std::to_string(in.size) + " is too large");
      // Before the sparse map: libarchive drops extents that end past the size it knows.
      archive_entry_set_size(out, static_cast<la_int64_t>(in.size));
      plan.logical_bytes = in.size;
      if (in.extent_count > 0) {
        if (!in.extents) reject(raw_path, "extent_count is set but extents is NULL");
        plan.sparse = true;
        std::vector<sbx_extent> host = host_extents(in, raw_path);
        std::vector<sbx_extent> map = archive_extents(host, in.size);
        for (const sbx_extent& x : host) plan.data_bytes += x.length;
        for (const sbx_extent& x : map)
          archive_entry_sparse_add_entry(out, static_cast<la_int64_t>(x.offset),
                                         static_cast<la_int64_t>(x.length));
        plan.runs = logical_runs(host, map, in.size);
      } else {
        plan.data_bytes = in.size;
      }
      break;
    case SBX_ENTRY_DIRECTORY:
      archive_entry_set_filetype(out, AE_IFDIR);
      break;
    case SBX_ENTRY_SYMLINK: {
      std::string target = c_string(in.link_target, raw_path, "symlink target");
      if (target.empty()) reject(raw_path, "symlink target is empty");
      archive_entry_set_filetype(out, AE_IFLNK);
      archive_entry_copy_symlink(out, target.c_str());
      break;
    }
    case SBX_ENTRY_HARDLINK: {
      std::string target = c_string(in.link_target, raw_path, "hard link target");
      if (target.empty()) reject(raw_path, "hard link target is empty");
      archive_entry_set_filetype(out, AE_IFREG);
      archive_entry_copy_hardlink(out, target.c_str());
      archive_entry_set_size(out, 0);
      break;
    }
    case SBX_ENTRY_FIFO:
      archive_entry_set_filetype(out, AE_IFIFO);
      break;
    case SBX_ENTRY_CHAR_DEVICE:
    case SBX_ENTRY_BLOCK_DEVICE:
      archive_entry_set_filetype(out, in.type == SBX_ENTRY_CHAR_DEVICE ? AE_IFCHR : AE_IFBLK);
      archive_entry_set_rdev(out, static_cast<dev_t>(in.rdev));
      break;
    default:
      reject(raw_path, "unknown entry type " + std::to_string(in.type));
  }

  archive_entry_set_uid(out, in.uid);
  archive_entry_set_gid(out, in.gid);
  std::string user = c_string(in.user_name, raw_path, "user name");
  std::string group = c_string(in.group_name, raw_path, "group name");
  if (!user.empty()) archive_entry_copy_uname(out, user.c_str());
  if (!group.empty()) archive_entry_copy_gname(out, group.c_str());

  int64_t sec;
  long nsec;
  split_time(in.mtime_ns, &sec, &nsec);
  archive_entry_set_mtime(out, sec, nsec);
  if (in.ctime_ns != 0) {
    split_time(in.ctime_ns, &sec, &nsec);
    archive_entry_set_ctime(out, sec, nsec);
  }
  if (in.atime_ns != 0) {
    split_time(in.atime_ns, &sec, &nsec);
    archive_entry_set_atime(out, sec, nsec);
  }

  if (in.xattr_count > 0 && !in.xattrs) reject(raw_path, "xattr_count is set but xattrs is NULL");
  for (size_t i = 0; i < in.xattr_count; ++i) {
    std::string name = c_string(in.xattrs[i].name, raw_path, "xattr name");
    if (name.empty()) reject(raw_path, "xattr " + std::to_string(i) + " has an empty name");
    archive_entry_xattr_add_entry(out, name.c_str(), in.xattrs[i].value.data, in.xattrs[i].value.len);
  }
  return plan;
}

sdk::Entry decode_entry(archive_entry* in) {
  sdk::Entry e;
  const char* path = archive_entry_pathname(in);
  if (!path || !*path) throw sdk::Error(SBX_ERR_CORRUPT, "tar entry has no path");
  e.path = path;

  const char* hardlink = archive_entry_hardlink(in);
  if (hardlink) {
    e.type = SBX_ENTRY_HARDLINK;
    e.link_target = hardlink;
  } else {
    switch (archive_entry_filetype(in)) {
      case AE_IFREG:
        e.type = SBX_ENTRY_FILE;
        break;
      case AE_IFDIR:
        e.type = SBX_ENTRY_DIRECTORY;
        while (e.path.size() > 1 && e.path.back() == '/') e.path.pop_back();
        break;
      case AE_IFLNK: {
        e.type = SBX_ENTRY_SYMLINK;
        const char* target = archive_entry_symlink(in);
        e.link_target = target ? target : "";
        break;
      }
      case AE_IFIFO:
        e.type = SBX_ENTRY_FIFO;
        break;
      case AE_IFCHR:
        e.type = SBX_ENTRY_CHAR_DEVICE;
        e.rdev = archive_entry_rdev(in);
        break;
      case AE_IFBLK:
        e.type = SBX_ENTRY_BLOCK_DEVICE;
        e.rdev = archive_entry_rdev(in);
        break;
      default:
        throw sdk::Error(SBX_ERR_CORRUPT, "tar entry '" + printable_path(e.path) +
                                              "' has unsupported file type 0" +
                                              std::to_string(archive_entry_filetype(in)));
    }
  }

  e.mode = archive_entry_perm(in) & 07777;
  e.uid = static_cast<uint32_t>(archive_entry_uid(in));
  e.gid = static_cast<uint32_t>(archive_entry_gid(in));
  if (const char* u = archive_entry_uname(in)) e.user_name = u;
  if (const char* g = archive_entry_gname(in)) e.group_name = g;
  e.mtime_ns = join_time(archive_entry_mtime(in), archive_entry_mtime_nsec(in));
  if (archive_entry_ctime_is_set(in))
    e.ctime_ns = join_time(archive_entry_ctime(in), archive_entry_ctime_nsec(in));
  if (archive_entry_atime_is_set(in))
    e.atime_ns = join_time(archive_entry_atime(in), archive_entry_atime_nsec(in));

  if (e.type == SBX_ENTRY_FILE) {
    la_int64_t size = archive_entry_size(in);
    if (size < 0)
      throw sdk::Error(SBX_ERR_CORRUPT, "tar entry '" + printable_path(e.path) + "' has a negative size");
    e.size = static_cast<uint64_t>(size);
    int count = archive_entry_sparse_reset(in);
    la_int64_t offset = 0, length = 0;
    uint64_t end = 0;
    for (int i = 0; i < count && archive_entry_sparse_next(in, &offset, &length) == ARCHIVE_OK; ++i) {
      if (offset < 0 || length < 0 || static_cast<uint64_t>(offset) < end ||
          static_cast<uint64_t>(length) > e.size || static_cast<uint64_t>(offset) > e.size - length)
        throw sdk::Error(SBX_ERR_CORRUPT, "tar entry '" + printable_path(e.path) + "' has a bad sparse map");
      if (length == 0) continue;
      e.extents.push_back({static_cast<uint64_t>(offset), static_cast<uint64_t>(length)});
      end = static_cast<uint64_t>(offset + length);
    }
    if (count > 0 && e.extents.empty()) e.extents.push_back({e.size, 0});
  }

  std::vector<sdk::Xattr> xattrs;
  int count = archive_entry_xattr_reset(in);
  for (int i = 0; i < count; ++i) {
    const char* name = nullptr;
    const void* value = nullptr;
    size_t size = 0;
    if (archive_entry_xattr_next(in, &name, &value, &size) != ARCHIVE_OK || !name) break;
    xattrs.push_back({name, std::string(static_cast<const char*>(value), value ? size : 0)});
  }
  e.xattrs = remove_xattr_twins(std::move(xattrs));
  return e;
}

}  // namespace sbx::disk
