// Loads one frame of a set file at a time: reads it, checks it (GCM tag, zstd content checksum) and
// decompresses it whole, so no byte reaches a caller before its frame has been verified.
#pragma once

#include <strongbox/sdk/sbx_common.h>
#include <zstd.h>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "common_names.hpp"

namespace sbx::disk {

// A frame that cannot be read; what() is "frame at offset N: <reason>". status is SBX_ERR_CORRUPT for
// damaged or missing bytes and SBX_ERR_IO when the file could not be read.
class FrameDamage : public std::runtime_error {
 public:
  explicit FrameDamage(const std::string& message, sbx_status status = SBX_ERR_CORRUPT)
      : std::runtime_error(message), status_(status) {}
  sbx_status status() const { return status_; }

 private:
  sbx_status status_;
};

class FrameReader {
 public:
  struct Frame {
    uint64_t offset = 0;
    uint64_t index = 0;
    uint64_t next_offset = 0;  // file offset of the following frame
    const uint8_t* data = nullptr;
    size_t size = 0;
  };

  // `fd` stays owned by the caller. With a master key the file is an encrypted set; a damaged header is
  // recorded (header_problem) rather than thrown, so every entry can be reported.
  FrameReader(int fd, std::string path, std::string set_name, uint64_t file_size,
              const SecretKey* master_key);
  ~FrameReader();
  FrameReader(const FrameReader&) = delete;
  FrameReader& operator=(const FrameReader&) = delete;

  // The frame at `offset`, which must be frame number `index`. The data stays valid until the next load.
  // Throws FrameDamage; a damaged frame is remembered and not read again.
  Frame load(uint64_t offset, uint64_t index);

  uint64_t file_size() const { return file_size_; }
  const std::optional<std::string>& header_problem() const { return header_problem_; }

 private:
  void load_plain(uint64_t offset);
  void load_sealed(uint64_t offset, uint64_t index);
  void ensure_content_capacity(size_t wanted, size_t keep, uint64_t offset);
  [[noreturn]] void damaged(uint64_t offset, const std::string& reason);

  int fd_;
  std::string path_;
  std::string set_name_;
  uint64_t file_size_;
  ZSTD_DCtx* dctx_ = nullptr;
  std::unique_ptr<GcmCipher> cipher_;
  uint8_t file_id_[kFileIdBytes] = {};
  std::optional<std::string> header_problem_;

  // Decompressed bytes of the cached frame.
  std::unique_ptr<uint8_t[]> content_;
  size_t content_capacity_ = 0;
  Frame cached_;
  bool have_cached_ = false;

  // Compressed bytes read ahead from the file (plain sets), so the tail of one read that belongs to the
  // next frame is not read twice.
  std::unique_ptr<uint8_t[]> input_;
  size_t input_capacity_ = 0;
  uint64_t input_offset_ = 0;
  size_t input_len_ = 0;

  std::map<uint64_t, std::string> damaged_;
};

}  // namespace sbx::disk
