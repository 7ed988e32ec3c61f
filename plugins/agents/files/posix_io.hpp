// Small POSIX helpers for the files agent: an owning fd, EINTR-safe capped I/O, timestamps, extended
// attributes, sparse-file extents and cached user/group names.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "strongbox/sdk/entry.hpp"

namespace sbx::files {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Both stats describe one file: same device, inode and file type.
inline bool same_file(const struct stat& a, const struct stat& b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && (a.st_mode & S_IFMT) == (b.st_mode & S_IFMT);
}

// strerror text for an errno value, thread-safe.
std::string errno_text(int error);

// Bytes as text fit for a one-line message: control bytes, backslashes and bytes >= 0x7f become \xNN.
std::string printable(std::string_view bytes);

// Nanoseconds since the epoch, saturated to the int64_t range.
int64_t to_ns(const struct timespec& ts);

// pread that retries EINTR and never asks the kernel for more than 1 MiB at once (large reads have returned
// short counts on some systems). Returns the bytes read, fewer than `count` only at end of file, or -1
// with errno set.
ssize_t pread_full(int fd, char* buffer, size_t count, uint64_t offset);

// openat with the given flags, retried on EINTR; when O_NOATIME is refused (EPERM: not the file's owner)
// it is retried without it.
int open_at(int dir_fd, const char* name, int flags);

// Reads the extended attributes of an open file (fd >= 0) or of `path` without following a final symlink.
// Returns 0, or the errno that stopped the read. A file system without xattr support yields an empty list.
int read_xattrs(int fd, const char* path, std::vector<sbx::sdk::Xattr>& out);

// Data regions of a file holding `size` bytes, found with SEEK_DATA/SEEK_HOLE. An empty result means
// dense (one region covers the whole file); a file that is all hole gets one zero-length extent at `size`
// so it still reads as sparse. nullopt when the file system cannot report holes.
std::optional<std::vector<sbx_extent>> find_data_extents(int fd, uint64_t size);

// Looks user and group names up once per id; an id without a name maps to "".
class NameCache {
 public:
  const std::string& user(uid_t uid);
  const std::string& group(gid_t gid);

 private:
  std::unordered_map<uid_t, std::string> users_;
  std::unordered_map<gid_t, std::string> groups_;
};

}  // namespace sbx::files
