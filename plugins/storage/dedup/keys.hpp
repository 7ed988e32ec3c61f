// The dedup domain's secrets and the store's config file.
//
// A domain is the set of stores that share chunk ids: the id key (chunk id = HMAC-SHA256(id key, data)) and
// the data key (AES-256-GCM of every stored blob). Both are random, made when the first store of the domain
// is created, and kept in that store's dedup.json wrapped (AES-256-GCM) by the key the admin holds; a store
// joins an existing domain by unwrapping the other store's keys with the same admin key. Without a key file
// a store is unencrypted: the keys are kept in the clear and only integrity tags protect the blobs.
#pragma once

#include <array>
#include <memory>
#include <string>

#include "chunker.hpp"
#include "common/crypto.hpp"

namespace sbx::dedup {

inline constexpr size_t kIdBytes = 32;
inline constexpr size_t kDomainBytes = 16;
using ChunkId = std::array<uint8_t, kIdBytes>;

struct DomainKeys {
  std::array<uint8_t, kDomainBytes> domain{};
  storage::SecretKey id_key;
  storage::SecretKey data_key;
  bool encrypted = false;
};

struct StoreConfig {
  DomainKeys keys;
  ChunkerParams chunker{};
};

// Reads DIR/dedup.json. key_file "" for an unencrypted store; a wrong key or a mismatch (encrypted store,
// no key given, or the reverse) throws sdk::Error with a message naming the fix.
StoreConfig load_store_config(const std::string& dir, const std::string& key_file);
// Writes DIR/dedup.json crash-safely (never replacing an existing one); returns what the store then holds.
// domain_from: the directory of a store of the domain to join, "" for a new domain.
StoreConfig create_store_config(const std::string& dir, const std::string& key_file,
                                const std::string& domain_from, const ChunkerParams& chunker);

// HMAC-SHA256 under the id key; one per thread (not thread-safe).
class ChunkHasher {
 public:
  explicit ChunkHasher(const storage::SecretKey& id_key);
  ~ChunkHasher();
  ChunkHasher(const ChunkHasher&) = delete;
  ChunkHasher& operator=(const ChunkHasher&) = delete;
  ChunkId id_of(const void* data, size_t len);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

inline std::string_view id_view(const ChunkId& id) {
  return {reinterpret_cast<const char*>(id.data()), id.size()};
}
ChunkId id_from(std::string_view bytes);  // throws SBX_ERR_INVALID_ARGUMENT unless kIdBytes long

}  // namespace sbx::dedup
