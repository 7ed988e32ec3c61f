#include "frame_reader.hpp"

#include <algorithm>
#include <cstring>

#include "common_names.hpp"
#include "set_format.hpp"

namespace sbx::disk {

FrameReader::FrameReader(int fd, std::string path, std::string set_name, uint64_t file_size,
                         const SecretKey* master_key)
    : fd_(fd),
      path_(std::move(path)),
      set_name_(std::move(set_name)),
      file_size_(file_size),
      dctx_(ZSTD_createDCtx()) {
  if (!dctx_) throw sdk::Error(SBX_ERR_INTERNAL, "cannot create a zstd decompression context");
  input_capacity_ = kMaxSyscallBytes;
  input_.reset(new uint8_t[input_capacity_]);
  if (!master_key) return;

  uint8_t header[kEncryptedHeaderBytes];
  size_t n = pread_full(fd_, header, sizeof header, 0, path_);
  if (n < sizeof header) {
    header_problem_ = "set file " + path_ + " is truncated: " + std::to_string(n) +
                      " bytes, shorter than its " + std::to_string(sizeof header) + "-byte header";
  } else if (std::memcmp(header, kEncryptedMagic, sizeof kEncryptedMagic) != 0) {
    header_problem_ =
        "set file " + path_ + " does not start with SBXDISK1 (damaged header, or not an encrypted set)";
  } else if (get_u32(header + 8) != kEncryptedVersion) {
    header_problem_ = "set file " + path_ + " has format version " + std::to_string(get_u32(header + 8)) +
                      ", this plugin reads version " + std::to_string(kEncryptedVersion);
  } else if (get_u32(header + 12) != 0) {
    header_problem_ = "set file " + path_ + " has unknown header flags " +
                      std::to_string(get_u32(header + 12)) + " (damaged header?)";
  } else {
    std::memcpy(file_id_, header + 16, kFileIdBytes);
    cipher_ = std::make_unique<GcmCipher>(derive_file_key(*master_key, file_id_));
  }
}

FrameReader::~FrameReader() {
  ZSTD_freeDCtx(dctx_);
}

void FrameReader::damaged(uint64_t offset, const std::string& reason) {
  std::string message = "frame at offset " + std::to_string(offset) + ": " + reason;
  damaged_[offset] = message;
  throw FrameDamage(message);
}

FrameReader::Frame FrameReader::load(uint64_t offset, uint64_t index) {
  if (have_cached_ && cached_.offset == offset && cached_.index == index) return cached_;
  auto bad = damaged_.find(offset);
  if (bad != damaged_.end()) throw FrameDamage(bad->second);
  have_cached_ = false;
  try {
    if (cipher_) {
      load_sealed(offset, index);
    } else if (header_problem_) {
      throw FrameDamage(*header_problem_);
    } else {
      load_plain(offset);
    }
  } catch (const sdk::Error& e) {
    // A read error (bad sector, vanished NFS server) costs the entries of this frame, not the whole restore.
    throw FrameDamage("frame at offset " + std::to_string(offset) + ": " + e.what(), e.status());
  }
  cached_.index = index;
  have_cached_ = true;
  return cached_;
}

void FrameReader::ensure_content_capacity(size_t wanted, size_t keep, uint64_t offset) {
  if (wanted <= content_capacity_) return;
  if (wanted > kMaxFrameContent + ZSTD_DStreamOutSize())
    damaged(offset, "decompresses to more than " + std::to_string(kMaxFrameContent) + " bytes");
  size_t capacity = std::max<size_t>(content_capacity_ * 2, size_t{8} << 20);
  capacity = std::max(capacity, wanted);
  std::unique_ptr<uint8_t[]> grown(new uint8_t[capacity]);
  if (keep > 0) std::memcpy(grown.get(), content_.get(), keep);
  content_ = std::move(grown);
  content_capacity_ = capacity;
}

void FrameReader::load_plain(uint64_t offset) {
  if (offset >= file_size_)
    damaged(offset, "beyond the end of the set file (" + std::to_string(file_size_) + " bytes); truncated?");
  size_t produced = 0;
  size_t reset = ZSTD_DCtx_reset(dctx_, ZSTD_reset_session_only);
  if (ZSTD_isError(reset)) damaged(offset, std::string("zstd: ") + ZSTD_getErrorName(reset));
  uint64_t pos = offset;
  for (;;) {
    if (pos < input_offset_ || pos >= input_offset_ + input_len_) {
      input_len_ = 0;
      size_t n = pos < file_size_ ? pread_full(fd_, input_.get(), input_capacity_, pos, path_) : 0;
      if (n == 0)
        damaged(offset,
                "truncated: the set file ends at " + std::to_string(file_size_) + " inside the frame");
      input_offset_ = pos;
      input_len_ = n;
    }
    size_t skip = static_cast<size_t>(pos - input_offset_);
    ZSTD_inBuffer in{input_.get() + skip, input_len_ - skip, 0};
    ensure_content_capacity(produced + ZSTD_DStreamOutSize(), produced, offset);
    ZSTD_outBuffer out{content_.get(), content_capacity_, produced};
    size_t ret = ZSTD_decompressStream(dctx_, &out, &in);
    pos += in.pos;
    produced = out.pos;
    if (ZSTD_isError(ret)) damaged(offset, std::string("zstd: ") + ZSTD_getErrorName(ret));
    if (ret == 0) break;
  }
  cached_ = Frame{offset, 0, pos, content_.get(), produced};
}

void FrameReader::load_sealed(uint64_t offset, uint64_t index) {
  if (offset >= file_size_)
    damaged(offset, "beyond the end of the set file (" + std::to_string(file_size_) + " bytes); truncated?");
  if (offset < kEncryptedHeaderBytes) damaged(offset, "inside the set file header");
  uint8_t header[kRecordHeaderBytes];
  if (pread_full(fd_, header, sizeof header, offset, path_) < sizeof header)
    damaged(offset, "truncated: the set file ends inside the record header");
  const uint64_t length = get_u32(header);
  const uint64_t limit = ZSTD_compressBound(kMaxFrameContent);
  if (length > limit)
    damaged(offset,
            "record length " + std::to_string(length) + " exceeds the limit of " + std::to_string(limit));
  const uint64_t end = offset + kRecordHeaderBytes + length + kTagBytes;
  if (end > file_size_)
    damaged(offset, "truncated: the record needs " + std::to_string(end) + " bytes, the set file has " +
                        std::to_string(file_size_));
  const size_t body = static_cast<size_t>(length) + kTagBytes;
  if (body > input_capacity_) {
    input_.reset(new uint8_t[body]);
    input_capacity_ = body;
  }
  input_len_ = 0;  // the buffer now holds a record, not read-ahead of a plain file
  if (pread_full(fd_, input_.get(), body, offset + kRecordHeaderBytes, path_) < body)
    damaged(offset, "truncated while reading the record");

  uint8_t nonce[kNonceBytes];
  std::memcpy(nonce, header + 4, kNonceBytes);
  uint8_t tag[kTagBytes];
  std::memcpy(tag, input_.get() + length, kTagBytes);
  const std::string aad = record_aad(file_id_, index, set_name_);
  if (!cipher_->open(nonce, reinterpret_cast<const uint8_t*>(aad.data()), aad.size(), input_.get(), length,
                     tag))
    damaged(offset, "authentication failed (the frame was altered, moved or belongs to another set)");

  size_t reset = ZSTD_DCtx_reset(dctx_, ZSTD_reset_session_only);
  if (ZSTD_isError(reset)) damaged(offset, std::string("zstd: ") + ZSTD_getErrorName(reset));
  ZSTD_inBuffer in{input_.get(), static_cast<size_t>(length), 0};
  size_t produced = 0;
  for (;;) {
    ensure_content_capacity(produced + ZSTD_DStreamOutSize(), produced, offset);
    ZSTD_outBuffer out{content_.get(), content_capacity_, produced};
    size_t ret = ZSTD_decompressStream(dctx_, &out, &in);
    produced = out.pos;
    if (ZSTD_isError(ret)) damaged(offset, std::string("zstd: ") + ZSTD_getErrorName(ret));
    if (ret == 0) break;
    if (in.pos == in.size && out.pos < out.size) damaged(offset, "zstd frame is incomplete");
  }
  if (in.pos != in.size) damaged(offset, "unexpected bytes after the zstd frame in the record");
  cached_ = Frame{offset, index, end, content_.get(), produced};
}

}  // namespace sbx::disk
