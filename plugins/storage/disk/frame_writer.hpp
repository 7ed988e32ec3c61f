// Turns the tar stream of a set into zstd frames in a file (sealed with AES-256-GCM when a key is given).
// See set_format.hpp for the layout.
#pragma once

#include <zstd.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "common_names.hpp"

namespace sbx::disk {

struct CompressionSettings {
  int level = 1;
  size_t frame_bytes = 0;
  int workers = 0;  // zstd worker threads; 0 compresses on the calling thread
};

class FrameWriter {
 public:
  // Takes the open, empty file; with a master key, writes the encrypted-file header at once.
  FrameWriter(UniqueFd fd, std::string path, std::string set_name, const CompressionSettings& settings,
              const SecretKey* master_key);
  ~FrameWriter();
  FrameWriter(const FrameWriter&) = delete;
  FrameWriter& operator=(const FrameWriter&) = delete;

  void append(const uint8_t* data, size_t len);
  // Called before an entry's header: ends the current frame once it holds frame_bytes.
  void end_frame_if_full();
  // Ends the last frame, fsyncs and closes the file.
  void finish();

  // Where the next tar byte lands: the current frame's file offset and index, and how many tar bytes the
  // frame already holds. Every earlier frame is complete on disk, so the offset is final.
  uint64_t frame_offset() const { return file_bytes_; }
  uint64_t frame_index() const { return frames_; }
  size_t frame_fill() const { return fill_; }
  uint64_t file_bytes() const { return file_bytes_; }

 private:
  void compress(const uint8_t* data, size_t len, ZSTD_EndDirective mode);
  void end_frame();
  void write_record();

  UniqueFd fd_;
  std::string path_;
  std::string set_name_;
  CompressionSettings settings_;
  size_t hard_limit_;
  ZSTD_CCtx* cctx_ = nullptr;
  std::unique_ptr<uint8_t[]> out_;
  size_t out_capacity_ = 0;
  size_t out_len_ = 0;
  size_t fill_ = 0;
  uint64_t frames_ = 0;
  uint64_t file_bytes_ = 0;
  std::unique_ptr<GcmCipher> cipher_;
  uint8_t file_id_[kFileIdBytes] = {};
  uint8_t nonce_prefix_[kNonceBytes - 8] = {};
};

}  // namespace sbx::disk
