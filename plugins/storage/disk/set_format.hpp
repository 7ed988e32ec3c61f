// The on-disk format of a set, shared by the writer and the reader.
//
// DIR/sets/<name>.tar.zst      a pax tar stream cut into independent zstd frames (content checksums on):
//                              `zstd -d < x.tar.zst | tar x` restores it.
// DIR/sets/<name>.tar.zst.enc  the same frames, each sealed with AES-256-GCM:
//                              header  "SBXDISK1" | u32 version | u32 reserved (0) | file id [16]
//                              record  u32 ciphertext length | nonce [12] | ciphertext | tag [16]
//                              (one record per zstd frame; integers little-endian; AAD = file id |
//                              u64 frame index | set name, so records cannot be moved or swapped).
// DIR/sets/.<name>.partial     a set being written; renamed to one of the above by commit.
//
// A new frame starts before an entry's header once the current frame holds frame_bytes of tar stream, and
// in the middle of anything once it holds 2 * frame_bytes, so a reader never holds more than that.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common_names.hpp"

namespace sbx::disk {

inline constexpr std::string_view kPlainSuffix = ".tar.zst";
inline constexpr std::string_view kEncryptedSuffix = ".tar.zst.enc";
inline constexpr std::string_view kPartialSuffix = ".partial";
inline constexpr size_t kMaxSetNameBytes = 200;

inline constexpr size_t kMinFrameBytes = size_t{1} << 10;
inline constexpr size_t kMaxFrameBytes = size_t{64} << 20;
inline constexpr size_t kDefaultFrameBytes = size_t{4} << 20;
// What a reader accepts from one frame, whatever frame_bytes the writer used.
inline constexpr size_t kMaxFrameContent = 2 * kMaxFrameBytes;

inline constexpr char kEncryptedMagic[8] = {'S', 'B', 'X', 'D', 'I', 'S', 'K', '1'};
inline constexpr uint32_t kEncryptedVersion = 1;
inline constexpr size_t kEncryptedHeaderBytes = 8 + 4 + 4 + kFileIdBytes;
inline constexpr size_t kRecordHeaderBytes = 4 + kNonceBytes;

inline void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
inline uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(p[i]) << (8 * i);
  return v;
}
inline uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(p[i]) << (8 * i);
  return v;
}

// Additional authenticated data of the record of frame `index` in set `set_name`.
inline std::string record_aad(const uint8_t (&file_id)[kFileIdBytes], uint64_t index,
                              std::string_view set_name) {
  std::string aad(kFileIdBytes + 8, '\0');
  std::memcpy(aad.data(), file_id, kFileIdBytes);
  put_u64(reinterpret_cast<uint8_t*>(aad.data()) + kFileIdBytes, index);
  aad.append(set_name);
  return aad;
}

// Throws sdk::Error(INVALID_ARGUMENT) unless `name` can name a set: 1-200 bytes, no '/', no NUL, not
// starting with '.' (those are the device's own files).
void check_set_name(std::string_view name);

}  // namespace sbx::disk
