#include "posix_io.hpp"

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/xattr.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

namespace sbx::files {

std::string errno_text(int error) {
  char buffer[256];
  // GNU strerror_r may return a static string instead of filling the buffer.
  return strerror_r(error, buffer, sizeof buffer);
}

std::string printable(std::string_view bytes) {
  static const char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (unsigned char c : bytes) {
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

int64_t to_ns(const struct timespec& ts) {
  int64_t ns = 0;
  if (__builtin_mul_overflow(static_cast<int64_t>(ts.tv_sec), int64_t{1000000000}, &ns) ||
      __builtin_add_overflow(ns, static_cast<int64_t>(ts.tv_nsec), &ns))
    return ts.tv_sec < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  return ns;
}

ssize_t pread_full(int fd, char* buffer, size_t count, uint64_t offset) {
  constexpr size_t kMaxSyscall = size_t{1} << 20;
  size_t done = 0;
  while (done < count) {
    size_t want = std::min(count - done, kMaxSyscall);
    ssize_t got = ::pread(fd, buffer + done, want, static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return static_cast<ssize_t>(done);
}

int open_at(int dir_fd, const char* name, int flags) {
  for (;;) {
    int fd = ::openat(dir_fd, name, flags);
    if (fd >= 0) return fd;
    if (errno == EINTR) continue;
    if (errno == EPERM && (flags & O_NOATIME)) {
      flags &= ~O_NOATIME;
      continue;
    }
    return -1;
  }
}

namespace {

// Runs an xattr call that fills a buffer, growing the buffer while the attribute grows under us.
// Returns 0 with `out` filled, or an errno.
template <class Call>
int fill_xattr_buffer(Call call, std::string& out) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    ssize_t needed = call(nullptr, 0);
    if (needed < 0) return errno;
    out.resize(static_cast<size_t>(needed));
    if (needed == 0) return 0;
    ssize_t got = call(out.data(), out.size());
    if (got >= 0) {
      out.resize(static_cast<size_t>(got));
      return 0;
    }
    if (errno != ERANGE) return errno;
  }
  return ERANGE;
}

}  // namespace

int read_xattrs(int fd, const char* path, std::vector<sbx::sdk::Xattr>& out) {
  out.clear();
  std::string names;
  int error = fill_xattr_buffer(
      [&](char* buffer, size_t size) {
        return fd >= 0 ? ::flistxattr(fd, buffer, size) : ::llistxattr(path, buffer, size);
      },
      names);
  if (error == ENOTSUP) return 0;
  if (error != 0) return error;
  for (size_t start = 0; start < names.size();) {
    size_t end = names.find('\0', start);
    if (end == std::string::npos) end = names.size();
    std::string name = names.substr(start, end - start);
    start = end + 1;
    if (name.empty()) continue;
    std::string value;
    error = fill_xattr_buffer(
        [&](char* buffer, size_t size) {
          return fd >= 0 ? ::fgetxattr(fd, name.c_str(), buffer, size)
                         : ::lgetxattr(path, name.c_str(), buffer, size);
        },
        value);
    // Removed between list and get: it is simply not there any more.
    if (error == ENODATA) continue;
    if (error != 0) return error;
    out.push_back({std::move(name), std::move(value)});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return 0;
}

std::optional<std::vector<sbx_extent>> find_data_extents(int fd, uint64_t size) {
  std::vector<sbx_extent> extents;
  uint64_t position = 0;
  while (position < size) {
    off_t data = ::lseek(fd, static_cast<off_t>(position), SEEK_DATA);
    if (data < 0) {
      if (errno == ENXIO) break;  // only hole from here to the end
      return std::nullopt;
    }
    if (static_cast<uint64_t>(data) >= size) break;
    off_t hole = ::lseek(fd, data, SEEK_HOLE);
    if (hole < 0) return std::nullopt;
    uint64_t end = std::min<uint64_t>(static_cast<uint64_t>(hole), size);
    if (end <= static_cast<uint64_t>(data)) return std::nullopt;  // a file system that contradicts itself
    extents.push_back({static_cast<uint64_t>(data), end - static_cast<uint64_t>(data)});
    position = end;
  }
  if (extents.empty()) return std::vector<sbx_extent>{{size, 0}};
  if (extents.size() == 1 && extents[0].offset == 0 && extents[0].length == size)
    return std::vector<sbx_extent>{};
  return extents;
}

namespace {

template <class Record, class Lookup>
std::string lookup_name(Lookup lookup, const char* (*name_of)(const Record&)) {
  long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
  size_t size = hint > 0 ? static_cast<size_t>(hint) : 1024;
  for (; size <= (size_t{1} << 20); size *= 2) {
    std::vector<char> buffer(size);
    Record record;
    Record* found = nullptr;
    int error = lookup(&record, buffer.data(), buffer.size(), &found);
    if (error == ERANGE) continue;
    if (error != 0 || !found) return {};
    return name_of(record);
  }
  return {};
}

}  // namespace

const std::string& NameCache::user(uid_t uid) {
  auto it = users_.find(uid);
  if (it != users_.end()) return it->second;
  std::string name = lookup_name<struct passwd>(
      [uid](struct passwd* record, char* buffer, size_t size, struct passwd** found) {
        return getpwuid_r(uid, record, buffer, size, found);
      },
      [](const struct passwd& record) -> const char* { return record.pw_name ? record.pw_name : ""; });
  return users_.emplace(uid, std::move(name)).first->second;
}

const std::string& NameCache::group(gid_t gid) {
  auto it = groups_.find(gid);
  if (it != groups_.end()) return it->second;
  std::string name = lookup_name<struct group>(
      [gid](struct group* record, char* buffer, size_t size, struct group** found) {
        return getgrgid_r(gid, record, buffer, size, found);
      },
      [](const struct group& record) -> const char* { return record.gr_name ? record.gr_name : ""; });
  return groups_.emplace(gid, std::move(name)).first->second;
}

}  // namespace sbx::files
