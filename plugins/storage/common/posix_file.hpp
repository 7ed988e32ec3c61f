// Thin, checked wrappers over the POSIX calls storage devices make. Every failure throws sdk::Error with
// a status that matches errno and a message naming the file.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <strongbox/sdk/plugin.hpp>
#include <utility>

namespace sbx::storage {

// Large reads and writes are split so a single syscall never moves more than this; keeps latency of
// signals and cancellation bounded and avoids the 2 GiB per-call limit of Linux.
inline constexpr size_t kMaxSyscallBytes = size_t{1} << 20;

sbx_status status_from_errno(int err);
[[noreturn]] void throw_errno(int err, const std::string& what);

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  void reset() noexcept;
  // Closes and reports a failing close (which on NFS can be the first sign of a lost write).
  void close_checked(const std::string& path);

 private:
  int fd_ = -1;
};

UniqueFd open_or_throw(const std::string& path, int flags, mode_t mode = 0);
void write_all(int fd, const void* data, size_t len, const std::string& path);
// Reads up to len bytes at offset; returns fewer only at end of file.
size_t pread_full(int fd, void* data, size_t len, uint64_t offset, const std::string& path);
void fsync_or_throw(int fd, const std::string& path);
void fsync_directory(const std::string& dir);
uint64_t file_size(int fd, const std::string& path);

// Moves `from` to `to` unless `to` exists; returns 0, or the errno (EEXIST when `to` exists). Works on file
// systems without RENAME_NOREPLACE or hard links (FAT, exFAT), where it checks and then renames.
int rename_without_replacing(const std::string& from, const std::string& to);
// Writes `content` to `path` so that a crash leaves either the old file or the new one: temp file, fsync,
// rename, fsync of the directory. With no_replace, an existing `path` is kept and false is returned.
bool write_file_atomically(const std::string& dir, const std::string& name, const std::string& content,
                           bool no_replace);
std::string read_small_file(const std::string& path, size_t max_bytes);

}  // namespace sbx::storage
