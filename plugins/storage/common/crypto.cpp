#include "common/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/kdf.h>
#include <openssl/params.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <mutex>
#include <string_view>

#include "common/posix_file.hpp"

namespace sbx::storage {
namespace {

constexpr std::string_view kKeyIdInfo = "strongbox-disk key id v1";
constexpr std::string_view kFileKeyInfo = "strongbox-disk file key v1";
// EVP update calls take an int length.
constexpr size_t kMaxEvpChunk = size_t{1} << 30;

[[noreturn]] void throw_openssl(const std::string& what) {
  unsigned long code = ERR_get_error();
  char buf[256] = "unknown OpenSSL error";
  if (code != 0) ERR_error_string_n(code, buf, sizeof buf);
  ERR_clear_error();
  throw sdk::Error(SBX_ERR_CRYPTO, what + ": " + buf);
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void hkdf_sha256(const uint8_t* ikm, size_t ikm_len, const uint8_t* salt, size_t salt_len,
                 std::string_view info, uint8_t* out, size_t out_len) {
  EVP_KDF* kdf = EVP_KDF_fetch(nullptr, "HKDF", nullptr);
  if (!kdf) throw_openssl("cannot load HKDF");
  EVP_KDF_CTX* ctx = EVP_KDF_CTX_new(kdf);
  EVP_KDF_free(kdf);
  if (!ctx) throw_openssl("cannot create HKDF context");
  OSSL_PARAM params[5];
  size_t n = 0;
  params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, const_cast<char*>("SHA256"), 0);
  params[n++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, const_cast<uint8_t*>(ikm), ikm_len);
  params[n++] =
      OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, const_cast<char*>(info.data()), info.size());
  if (salt_len > 0)
    params[n++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, const_cast<uint8_t*>(salt), salt_len);
  params[n] = OSSL_PARAM_construct_end();
  int ok = EVP_KDF_derive(ctx, out, out_len, params);
  EVP_KDF_CTX_free(ctx);
  if (ok != 1) throw_openssl("HKDF failed");
}

}  // namespace

SecretKey::SecretKey(const uint8_t* bytes) {
  std::memcpy(bytes_.data(), bytes, kKeyBytes);
}

SecretKey& SecretKey::operator=(const SecretKey& other) {
  std::memcpy(bytes_.data(), other.bytes_.data(), kKeyBytes);
  return *this;
}

SecretKey::~SecretKey() {
  OPENSSL_cleanse(bytes_.data(), bytes_.size());
}

SecretKey load_key_file(const std::string& path) {
  std::string content = read_small_file(path, 1024);
  struct Wipe {
    std::string& s;
    ~Wipe() { OPENSSL_cleanse(s.data(), s.size()); }
  } wipe{content};

  uint8_t raw[kKeyBytes];
  if (content.size() == kKeyBytes) {
    std::memcpy(raw, content.data(), kKeyBytes);
  } else {
    std::string_view hex = content;
    if (!hex.empty() && hex.back() == '\n') hex.remove_suffix(1);
    bool ok = hex.size() == 2 * kKeyBytes;
    for (size_t i = 0; ok && i < kKeyBytes; ++i) {
      int hi = hex_value(hex[2 * i]);
      int lo = hex_value(hex[2 * i + 1]);
      ok = hi >= 0 && lo >= 0;
      raw[i] = static_cast<uint8_t>(hi << 4 | lo);
    }
    if (!ok) {
      OPENSSL_cleanse(raw, sizeof raw);
      throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                       "key file " + path +
                           ": wanted 32 raw bytes or 64 hex digits (plus an optional newline), found " +
                           std::to_string(content.size()) + " bytes that are neither");
    }
  }
  SecretKey key(raw);
  OPENSSL_cleanse(raw, sizeof raw);

  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    sdk::log(SBX_LOG_WARN, "key file " + path + " is readable by group or others; chmod 600 it");
  return key;
}

std::string key_id(const SecretKey& key) {
  uint8_t derived[32];
  hkdf_sha256(key.data(), kKeyBytes, nullptr, 0, kKeyIdInfo, derived, sizeof derived);
  uint8_t digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  int ok = EVP_Digest(derived, sizeof derived, digest, &digest_len, EVP_sha256(), nullptr);
  OPENSSL_cleanse(derived, sizeof derived);
  if (ok != 1) throw_openssl("SHA-256 failed");
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (size_t i = 0; i < 8; ++i) {
    id += kHex[digest[i] >> 4];
    id += kHex[digest[i] & 15];
  }
  return id;
}

SecretKey derive_file_key(const SecretKey& master, const uint8_t (&file_id)[kFileIdBytes]) {
  uint8_t derived[kKeyBytes];
  hkdf_sha256(master.data(), kKeyBytes, file_id, kFileIdBytes, kFileKeyInfo, derived, sizeof derived);
  SecretKey key(derived);
  OPENSSL_cleanse(derived, sizeof derived);
  return key;
}

void random_bytes(uint8_t* out, size_t len) {
  if (RAND_bytes(out, static_cast<int>(len)) != 1) throw_openssl("cannot get random bytes");
}

namespace {

std::atomic<uint64_t> g_fork_generation{1};

uint64_t fork_generation() {
  static std::once_flag registered;
  std::call_once(registered, [] {
    pthread_atfork(nullptr, nullptr, [] { g_fork_generation.fetch_add(1, std::memory_order_relaxed); });
  });
  return g_fork_generation.load(std::memory_order_relaxed);
}

}  // namespace

void RandomPool::draw(uint8_t* out, size_t len) {
  if (len > pool_.size()) return random_bytes(out, len);
  const uint64_t generation = fork_generation();
  if (generation != generation_ || pool_.size() - used_ < len) {
    random_bytes(pool_.data(), pool_.size());
    used_ = 0;
    generation_ = generation;
  }
  std::memcpy(out, pool_.data() + used_, len);
  // Bytes handed out are not kept.
  OPENSSL_cleanse(pool_.data() + used_, len);
  used_ += len;
}

GcmCipher::GcmCipher(const SecretKey& key) : key_(key) {}

GcmCipher::~GcmCipher() {
  EVP_CIPHER_CTX_free(seal_ctx_);
  EVP_CIPHER_CTX_free(open_ctx_);
}

EVP_CIPHER_CTX* GcmCipher::context(bool seal) {
  // Fetched once: EVP_aes_256_gcm() looks the implementation up again on every init, and a context given
  // the key once keeps its key schedule, so each blob only sets its nonce.
  // Freed when the plugin is unloaded (or at exit), before OpenSSL cleans up.
  static const struct Fetched {
    EVP_CIPHER* cipher = EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
    ~Fetched() { EVP_CIPHER_free(cipher); }
  } fetched;
  EVP_CIPHER* const aes_gcm = fetched.cipher;
  EVP_CIPHER_CTX*& ctx = seal ? seal_ctx_ : open_ctx_;
  if (ctx) return ctx;
  if (!aes_gcm) throw_openssl("AES-256-GCM is unavailable in OpenSSL");
  ctx = EVP_CIPHER_CTX_new();
  if (!ctx) throw_openssl("cannot create cipher context");
  if (EVP_CipherInit_ex(ctx, aes_gcm, nullptr, key_.data(), nullptr, seal ? 1 : 0) != 1)
    throw_openssl("AES-256-GCM setup failed");
  return ctx;
}

void GcmCipher::seal(const uint8_t (&nonce)[kNonceBytes], const uint8_t* aad, size_t aad_len, uint8_t* data,
                     size_t len, uint8_t (&tag)[kTagBytes]) {
  EVP_CIPHER_CTX* ctx = context(true);
  int out_len = 0;
  if (EVP_EncryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
      EVP_EncryptUpdate(ctx, nullptr, &out_len, aad, static_cast<int>(aad_len)) != 1)
    throw_openssl("AES-256-GCM setup failed");
  for (size_t done = 0; done < len;) {
    size_t chunk = std::min(len - done, kMaxEvpChunk);
    if (EVP_EncryptUpdate(ctx, data + done, &out_len, data + done, static_cast<int>(chunk)) != 1)
      throw_openssl("AES-256-GCM encryption failed");
    done += chunk;
  }
  if (EVP_EncryptFinal_ex(ctx, nullptr, &out_len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, kTagBytes, tag) != 1)
    throw_openssl("AES-256-GCM finalisation failed");
}

bool GcmCipher::open(const uint8_t (&nonce)[kNonceBytes], const uint8_t* aad, size_t aad_len, uint8_t* data,
                     size_t len, const uint8_t (&tag)[kTagBytes]) {
  EVP_CIPHER_CTX* ctx = context(false);
  int out_len = 0;
  if (EVP_DecryptInit_ex(ctx, nullptr, nullptr, nullptr, nonce) != 1 ||
      EVP_DecryptUpdate(ctx, nullptr, &out_len, aad, static_cast<int>(aad_len)) != 1)
    throw_openssl("AES-256-GCM setup failed");
  for (size_t done = 0; done < len;) {
    size_t chunk = std::min(len - done, kMaxEvpChunk);
    if (EVP_DecryptUpdate(ctx, data + done, &out_len, data + done, static_cast<int>(chunk)) != 1)
      throw_openssl("AES-256-GCM decryption failed");
    done += chunk;
  }
  if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, kTagBytes, const_cast<uint8_t*>(tag)) != 1)
    throw_openssl("AES-256-GCM tag setup failed");
  int ok = EVP_DecryptFinal_ex(ctx, nullptr, &out_len);
  ERR_clear_error();
  return ok == 1;
}

}  // namespace sbx::storage
