// AES-256-GCM at rest for storage devices (OpenSSL EVP only).
//
// The admin's key never encrypts data directly: each set file gets its own key, HKDF-SHA256(master key,
// salt = the file's random 16-byte id). Nonces are then a per-file counter, unique by construction, so no
// nonce can repeat under one key however many sets a device holds.
#pragma once

#include <openssl/evp.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace sbx::storage {

inline constexpr size_t kKeyBytes = 32;
inline constexpr size_t kFileIdBytes = 16;
inline constexpr size_t kNonceBytes = 12;
inline constexpr size_t kTagBytes = 16;

// 32 secret bytes, wiped when destroyed.
class SecretKey {
 public:
  SecretKey() = default;
  explicit SecretKey(const uint8_t* bytes);
  SecretKey(const SecretKey& other) : SecretKey(other.bytes_.data()) {}
  SecretKey& operator=(const SecretKey& other);
  ~SecretKey();
  const uint8_t* data() const { return bytes_.data(); }

 private:
  std::array<uint8_t, kKeyBytes> bytes_{};
};

// Reads a key file holding 32 raw bytes or 64 hex characters (optionally followed by one newline).
SecretKey load_key_file(const std::string& path);

// A public fingerprint of the key: the first 16 hex digits of SHA-256 over a value derived from the key, so
// device.json can tell a wrong key from a right one without revealing anything usable.
std::string key_id(const SecretKey& key);

// The key that encrypts one set file.
SecretKey derive_file_key(const SecretKey& master, const uint8_t (&file_id)[kFileIdBytes]);

void random_bytes(uint8_t* out, size_t len);

// random_bytes drawn 4 KiB at a time, for the many small draws of blob nonces: OpenSSL checks for a fork with
// a getpid system call on every draw, which was one system call per blob. A fork empties every pool
// (pthread_atfork), so a child never hands out the bytes its parent holds too. One thread per pool.
class RandomPool {
 public:
  void draw(uint8_t* out, size_t len);

 private:
  std::array<uint8_t, 4096> pool_{};
  size_t used_ = sizeof pool_;
  uint64_t generation_ = 0;  // the fork generation pool_ was filled in
};

// AES-256-GCM bound to a key (a context for each direction, keyed once); seal/open work in place on `data`.
class GcmCipher {
 public:
  explicit GcmCipher(const SecretKey& key);
  ~GcmCipher();
  GcmCipher(const GcmCipher&) = delete;
  GcmCipher& operator=(const GcmCipher&) = delete;

  void seal(const uint8_t (&nonce)[kNonceBytes], const uint8_t* aad, size_t aad_len, uint8_t* data,
            size_t len, uint8_t (&tag)[kTagBytes]);
  // False when the tag does not verify (wrong key, or the data, nonce or AAD were altered).
  bool open(const uint8_t (&nonce)[kNonceBytes], const uint8_t* aad, size_t aad_len, uint8_t* data,
            size_t len, const uint8_t (&tag)[kTagBytes]);

 private:
  EVP_CIPHER_CTX* context(bool seal);

  SecretKey key_;
  EVP_CIPHER_CTX* seal_ctx_ = nullptr;
  EVP_CIPHER_CTX* open_ctx_ = nullptr;
};

}  // namespace sbx::storage
