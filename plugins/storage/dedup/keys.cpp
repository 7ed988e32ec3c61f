#include "keys.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <strongbox/sdk/plugin.hpp>

#include "bytes.hpp"
#include "common/posix_file.hpp"

namespace sbx::dedup {
namespace {

constexpr const char* kConfigFile = "dedup.json";
constexpr const char* kFormat = "strongbox-dedup";
// 2: entry records are stored in groups (records.hpp). 3: manifests list only their groups. Stores of an
// older version are not read.
constexpr int kVersion = 3;
constexpr std::string_view kWrapLabel = "strongbox-dedup keys v1";

[[noreturn]] void damaged(const std::string& path, const std::string& why) {
  throw sdk::Error(SBX_ERR_CORRUPT, "dedup device: " + path + " is damaged: " + why);
}

std::string wrap_aad(const std::array<uint8_t, kDomainBytes>& domain) {
  return std::string(kWrapLabel) + std::string(reinterpret_cast<const char*>(domain.data()), domain.size());
}

// nonce | ciphertext of (id key | data key) | tag
std::string wrap_keys(const DomainKeys& keys, const storage::SecretKey& admin_key) {
  uint8_t nonce[storage::kNonceBytes];
  storage::random_bytes(nonce, sizeof nonce);
  uint8_t secret[2 * storage::kKeyBytes];
  std::memcpy(secret, keys.id_key.data(), storage::kKeyBytes);
  std::memcpy(secret + storage::kKeyBytes, keys.data_key.data(), storage::kKeyBytes);
  uint8_t tag[storage::kTagBytes];
  std::string aad = wrap_aad(keys.domain);
  storage::GcmCipher(admin_key).seal(nonce, reinterpret_cast<const uint8_t*>(aad.data()), aad.size(), secret,
                                     sizeof secret, tag);
  std::string out(reinterpret_cast<const char*>(nonce), sizeof nonce);
  out.append(reinterpret_cast<const char*>(secret), sizeof secret);
  out.append(reinterpret_cast<const char*>(tag), sizeof tag);
  return out;
}

void unwrap_keys(std::string_view wrapped, const storage::SecretKey& admin_key, DomainKeys& keys,
                 const std::string& path, const std::string& key_file) {
  if (wrapped.size() != storage::kNonceBytes + 2 * storage::kKeyBytes + storage::kTagBytes)
    damaged(path, "\"keys\" has the wrong length");
  uint8_t nonce[storage::kNonceBytes];
  uint8_t secret[2 * storage::kKeyBytes];
  uint8_t tag[storage::kTagBytes];
  std::memcpy(nonce, wrapped.data(), sizeof nonce);
  std::memcpy(secret, wrapped.data() + sizeof nonce, sizeof secret);
  std::memcpy(tag, wrapped.data() + sizeof nonce + sizeof secret, sizeof tag);
  std::string aad = wrap_aad(keys.domain);
  if (!storage::GcmCipher(admin_key).open(nonce, reinterpret_cast<const uint8_t*>(aad.data()), aad.size(),
                                          secret, sizeof secret, tag))
    throw sdk::Error(SBX_ERR_CRYPTO, "dedup device: the key in " + key_file + " does not open the keys of " +
                                         path + " (wrong key file, or the file is damaged)");
  keys.id_key = storage::SecretKey(secret);
  keys.data_key = storage::SecretKey(secret + storage::kKeyBytes);
  OPENSSL_cleanse(secret, sizeof secret);
}

StoreConfig parse_config(const std::string& path, const std::string& text, const std::string& key_file) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) damaged(path, "not a JSON object");
  try {
    if (j.at("format") != kFormat) damaged(path, "\"format\" is not \"" + std::string(kFormat) + "\"");
    if (j.at("version") != kVersion)
      throw sdk::Error(SBX_ERR_UNSUPPORTED, "dedup device: " + path + " has format version " +
                                                j.at("version").dump() + "; this strongbox reads version " +
                                                std::to_string(kVersion));
    StoreConfig config;
    std::string domain = from_hex(j.at("domain").get<std::string>());
    if (domain.size() != kDomainBytes) damaged(path, "\"domain\" is not 32 hex digits");
    std::memcpy(config.keys.domain.data(), domain.data(), kDomainBytes);
    config.keys.encrypted = j.at("encrypted").get<bool>();
    const auto& chunker = j.at("chunker");
    config.chunker = {chunker.at("min").get<uint32_t>(), chunker.at("avg").get<uint32_t>(),
                      chunker.at("max").get<uint32_t>()};
    Chunker check(config.chunker);  // throws on nonsense sizes
    std::string keys = from_hex(j.at("keys").get<std::string>());
    if (config.keys.encrypted) {
      if (key_file.empty())
        throw sdk::Error(
            SBX_ERR_CRYPTO,
            "dedup device: " + path + " belongs to an encrypted store; give its key file (--key-file)");
      unwrap_keys(keys, storage::load_key_file(key_file), config.keys, path, key_file);
    } else {
      if (!key_file.empty())
        throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                         "dedup device: " + path + " belongs to an unencrypted store; it takes no key file");
      if (keys.size() != 2 * storage::kKeyBytes) damaged(path, "\"keys\" has the wrong length");
      config.keys.id_key = storage::SecretKey(reinterpret_cast<const uint8_t*>(keys.data()));
      config.keys.data_key =
          storage::SecretKey(reinterpret_cast<const uint8_t*>(keys.data()) + storage::kKeyBytes);
    }
    return config;
  } catch (const nlohmann::json::exception& e) {
    damaged(path, e.what());
  } catch (const std::invalid_argument& e) {
    damaged(path, e.what());
  }
}

}  // namespace

std::string to_hex(std::string_view bytes) {
  static const char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(digits[c >> 4]);
    out.push_back(digits[c & 15]);
  }
  return out;
}

std::string from_hex(std::string_view hex) {
  auto value = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  if (hex.size() % 2) return "";
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = value(hex[i]), lo = value(hex[i + 1]);
    if (hi < 0 || lo < 0) return "";
    out.push_back(char(hi * 16 + lo));
  }
  return out;
}

StoreConfig load_store_config(const std::string& dir, const std::string& key_file) {
  const std::string path = dir + "/" + kConfigFile;
  return parse_config(path, storage::read_small_file(path, 1 << 16), key_file);
}

StoreConfig create_store_config(const std::string& dir, const std::string& key_file,
                                const std::string& domain_from, const ChunkerParams& chunker) {
  StoreConfig config;
  if (!domain_from.empty()) {
    config = load_store_config(domain_from, key_file);
  } else {
    storage::random_bytes(config.keys.domain.data(), kDomainBytes);
    uint8_t secret[storage::kKeyBytes];
    storage::random_bytes(secret, sizeof secret);
    config.keys.id_key = storage::SecretKey(secret);
    storage::random_bytes(secret, sizeof secret);
    config.keys.data_key = storage::SecretKey(secret);
    OPENSSL_cleanse(secret, sizeof secret);
    config.keys.encrypted = !key_file.empty();
    config.chunker = chunker;
  }
  std::string keys;
  if (config.keys.encrypted) {
    keys = wrap_keys(config.keys, storage::load_key_file(key_file));
  } else {
    keys.assign(reinterpret_cast<const char*>(config.keys.id_key.data()), storage::kKeyBytes);
    keys.append(reinterpret_cast<const char*>(config.keys.data_key.data()), storage::kKeyBytes);
  }
  nlohmann::json j = {
      {"format", kFormat},
      {"version", kVersion},
      {"domain",
       to_hex(std::string_view(reinterpret_cast<const char*>(config.keys.domain.data()), kDomainBytes))},
      {"encrypted", config.keys.encrypted},
      {"chunker",
       {{"min", config.chunker.min_size},
        {"avg", config.chunker.avg_size},
        {"max", config.chunker.max_size}}},
      {"keys", to_hex(keys)}};
  if (!storage::write_file_atomically(dir, kConfigFile, j.dump(2) + "\n", /*no_replace=*/true))
    return load_store_config(dir, key_file);  // another process created the store first
  return config;
}

struct ChunkHasher::State {
  EVP_MAC* mac = nullptr;
  EVP_MAC_CTX* ctx = nullptr;
  ~State() {
    EVP_MAC_CTX_free(ctx);
    EVP_MAC_free(mac);
  }
};

ChunkHasher::ChunkHasher(const storage::SecretKey& id_key) : state_(std::make_unique<State>()) {
  state_->mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
  if (state_->mac) state_->ctx = EVP_MAC_CTX_new(state_->mac);
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  if (!state_->ctx || !EVP_MAC_init(state_->ctx, id_key.data(), storage::kKeyBytes, params))
    throw sdk::Error(SBX_ERR_CRYPTO, "dedup device: cannot set up HMAC-SHA256");
}

ChunkHasher::~ChunkHasher() = default;

ChunkId ChunkHasher::id_of(const void* data, size_t len) {
  ChunkId id;
  size_t out_len = 0;
  // init with no key restarts the MAC under the key given at construction.
  if (!EVP_MAC_init(state_->ctx, nullptr, 0, nullptr) ||
      !EVP_MAC_update(state_->ctx, static_cast<const unsigned char*>(data), len) ||
      !EVP_MAC_final(state_->ctx, id.data(), &out_len, id.size()) || out_len != id.size())
    throw sdk::Error(SBX_ERR_CRYPTO, "dedup device: HMAC-SHA256 failed");
  return id;
}

ChunkId id_from(std::string_view bytes) {
  if (bytes.size() != kIdBytes)
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "a chunk id has " + std::to_string(kIdBytes) + " bytes, got " +
                                                   std::to_string(bytes.size()));
  ChunkId id;
  std::memcpy(id.data(), bytes.data(), kIdBytes);
  return id;
}

}  // namespace sbx::dedup
