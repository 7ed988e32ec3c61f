// A blob is what the dedup device stores for a chunk, an entry group or a manifest:
//
//   flags (1: bit 0 compressed with zstd, bit 1 encrypted) | type (1) | plain length (4, LE) | nonce (12) |
//   payload | tag (16)
//
// Encrypted: payload and tag are AES-256-GCM under the domain's data key with a random nonce; the additional
// data is the first 6 bytes and the blob's id, so a blob cannot be passed off as another. Unencrypted: the
// payload is the (compressed) plaintext and the tag the first 16 bytes of HMAC-SHA256(id key, header, id,
// nonce, payload). Either way a flipped bit anywhere is caught when the blob is opened.
#pragma once

#include <zstd.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "keys.hpp"

namespace sbx::dedup {

// 1 was a single entry record (store version 1).
enum class BlobType : uint8_t { data = 0, manifest = 2, entries = 3 };

inline constexpr size_t kBlobHeaderBytes = 6;
inline constexpr size_t kBlobOverhead = kBlobHeaderBytes + storage::kNonceBytes + storage::kTagBytes;

// One per thread: holds the cipher, the zstd contexts and an HMAC state.
class BlobCodec {
 public:
  BlobCodec(const DomainKeys& keys, int compression_level);
  ~BlobCodec();
  BlobCodec(const BlobCodec&) = delete;
  BlobCodec& operator=(const BlobCodec&) = delete;

  std::string seal(BlobType type, const ChunkId& id, std::string_view plain);
  // Throws sdk::Error(SBX_ERR_CORRUPT) naming `what` when the blob is damaged or not of `type`.
  std::string open(std::string_view stored, const ChunkId& id, BlobType type, const std::string& what);
  // Checks the blob's tag against its id without decompressing; throws like open().
  void authenticate(std::string_view stored, const ChunkId& id, const std::string& what);
  // The id the plaintext has under the domain's id key.
  ChunkId id_of(std::string_view plain) { return hasher_.id_of(plain.data(), plain.size()); }

 private:
  // Checks header and tag; returns the payload (decrypted when encrypted), the flags and the plain length.
  std::string unseal(std::string_view stored, const ChunkId& id, std::optional<BlobType> type,
                     const std::string& what, uint8_t& flags, uint32_t& plain_len);

  const DomainKeys& keys_;
  int level_;
  std::unique_ptr<storage::GcmCipher> cipher_;
  ChunkHasher hasher_;
  ZSTD_CCtx* cctx_ = nullptr;
  ZSTD_DCtx* dctx_ = nullptr;
  storage::RandomPool nonces_;  // a codec is used by one thread at a time
  std::string scratch_;         // seal's working buffer, as large as the largest blob sealed so far
};

}  // namespace sbx::dedup
