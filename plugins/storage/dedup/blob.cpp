#include "blob.hpp"

#include <cstring>
#include <strongbox/sdk/plugin.hpp>

#include "bytes.hpp"

namespace sbx::dedup {
namespace {

constexpr uint8_t kCompressed = 1;
constexpr uint8_t kEncrypted = 2;
// Blobs are at most one chunk (the chunker's max is 64 MiB) or one record; anything larger is damage.
constexpr uint32_t kMaxPlainBytes = 256u << 20;

[[noreturn]] void corrupt(const std::string& what, const std::string& why) {
  throw sdk::Error(SBX_ERR_CORRUPT, what + " is damaged: " + why);
}

}  // namespace

BlobCodec::BlobCodec(const DomainKeys& keys, int compression_level)
    : keys_(keys),
      level_(compression_level),
      cipher_(keys.encrypted ? std::make_unique<storage::GcmCipher>(keys.data_key) : nullptr),
      hasher_(keys.id_key),
      cctx_(ZSTD_createCCtx()),
      dctx_(ZSTD_createDCtx()) {
  if (!cctx_ || !dctx_) throw sdk::Error(SBX_ERR_INTERNAL, "dedup device: cannot create zstd contexts");
}

BlobCodec::~BlobCodec() {
  ZSTD_freeCCtx(cctx_);
  ZSTD_freeDCtx(dctx_);
}

std::string BlobCodec::seal(BlobType type, const ChunkId& id, std::string_view plain) {
  if (plain.size() > kMaxPlainBytes)
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "dedup device: blob too large");
  // Sealed in a scratch buffer that only ever grows (so it is zero-filled once, not at every blob) and
  // copied out at its final size: the returned blob carries no compress-bound slack into the pack queue.
  const size_t bound =
      kBlobHeaderBytes + storage::kNonceBytes + ZSTD_compressBound(plain.size()) + storage::kTagBytes;
  if (scratch_.size() < bound) scratch_.resize(bound);
  uint8_t flags = keys_.encrypted ? kEncrypted : 0;
  size_t payload_at = kBlobHeaderBytes + storage::kNonceBytes;
  char* const sealed = scratch_.data();
  size_t payload_len =
      ZSTD_compressCCtx(cctx_, sealed + payload_at, bound - payload_at, plain.data(), plain.size(), level_);
  if (ZSTD_isError(payload_len) || payload_len >= plain.size()) {
    // Incompressible data is kept as it is: smaller, and no decompression on restore.
    std::memcpy(sealed + payload_at, plain.data(), plain.size());
    payload_len = plain.size();
  } else {
    flags |= kCompressed;
  }
  sealed[0] = char(flags);
  sealed[1] = char(type);
  for (int i = 0; i < 4; ++i) sealed[2 + i] = char(uint32_t(plain.size()) >> (8 * i));
  uint8_t nonce[storage::kNonceBytes];
  nonces_.draw(nonce, sizeof nonce);
  std::memcpy(sealed + kBlobHeaderBytes, nonce, sizeof nonce);
  uint8_t aad[kBlobHeaderBytes + kIdBytes];
  std::memcpy(aad, sealed, kBlobHeaderBytes);
  std::memcpy(aad + kBlobHeaderBytes, id.data(), kIdBytes);
  uint8_t tag[storage::kTagBytes];
  auto* payload = reinterpret_cast<uint8_t*>(sealed + payload_at);
  if (cipher_) {
    cipher_->seal(nonce, aad, sizeof aad, payload, payload_len, tag);
  } else {
    std::string tagged(reinterpret_cast<const char*>(aad), sizeof aad);
    tagged.append(reinterpret_cast<const char*>(nonce), sizeof nonce);
    tagged.append(reinterpret_cast<const char*>(payload), payload_len);
    ChunkId mac = hasher_.id_of(tagged.data(), tagged.size());
    std::memcpy(tag, mac.data(), sizeof tag);
  }
  std::memcpy(sealed + payload_at + payload_len, tag, sizeof tag);
  return std::string(sealed, payload_at + payload_len + sizeof tag);
}

std::string BlobCodec::unseal(std::string_view stored, const ChunkId& id, std::optional<BlobType> type,
                              const std::string& what, uint8_t& flags, uint32_t& plain_len) {
  if (stored.size() < kBlobOverhead) corrupt(what, "shorter than a blob header");
  flags = uint8_t(stored[0]);
  if (flags & ~(kCompressed | kEncrypted)) corrupt(what, "unknown flags");
  if (bool(flags & kEncrypted) != keys_.encrypted)
    corrupt(what, keys_.encrypted ? "stored unencrypted in an encrypted store"
                                  : "encrypted in an unencrypted store");
  if (type && uint8_t(stored[1]) != uint8_t(*type)) corrupt(what, "holds another kind of blob than expected");
  plain_len = get_u32(stored.data() + 2);
  if (plain_len > kMaxPlainBytes) corrupt(what, "implausible length");
  uint8_t nonce[storage::kNonceBytes];
  std::memcpy(nonce, stored.data() + kBlobHeaderBytes, sizeof nonce);
  const size_t payload_at = kBlobHeaderBytes + storage::kNonceBytes;
  const size_t payload_len = stored.size() - kBlobOverhead;
  uint8_t tag[storage::kTagBytes];
  std::memcpy(tag, stored.data() + payload_at + payload_len, sizeof tag);
  uint8_t aad[kBlobHeaderBytes + kIdBytes];
  std::memcpy(aad, stored.data(), kBlobHeaderBytes);
  std::memcpy(aad + kBlobHeaderBytes, id.data(), kIdBytes);
  std::string payload(stored.substr(payload_at, payload_len));
  if (cipher_) {
    if (!cipher_->open(nonce, aad, sizeof aad, reinterpret_cast<uint8_t*>(payload.data()), payload.size(),
                       tag))
      corrupt(what, "authentication failed (AES-256-GCM tag)");
  } else {
    std::string tagged(reinterpret_cast<const char*>(aad), sizeof aad);
    tagged.append(reinterpret_cast<const char*>(nonce), sizeof nonce);
    tagged += payload;
    ChunkId mac = hasher_.id_of(tagged.data(), tagged.size());
    if (std::memcmp(mac.data(), tag, sizeof tag) != 0) corrupt(what, "integrity tag mismatch");
  }
  return payload;
}

void BlobCodec::authenticate(std::string_view stored, const ChunkId& id, const std::string& what) {
  uint8_t flags = 0;
  uint32_t plain_len = 0;
  unseal(stored, id, std::nullopt, what, flags, plain_len);
}

std::string BlobCodec::open(std::string_view stored, const ChunkId& id, BlobType type,
                            const std::string& what) {
  uint8_t flags = 0;
  uint32_t plain_len = 0;
  std::string payload = unseal(stored, id, type, what, flags, plain_len);
  if (!(flags & kCompressed)) {
    if (payload.size() != plain_len) corrupt(what, "length mismatch");
    return payload;
  }
  std::string plain(plain_len, '\0');
  size_t got = ZSTD_decompressDCtx(dctx_, plain.data(), plain.size(), payload.data(), payload.size());
  if (ZSTD_isError(got) || got != plain_len)
    corrupt(what, "zstd data does not decompress to its recorded length");
  return plain;
}

}  // namespace sbx::dedup
