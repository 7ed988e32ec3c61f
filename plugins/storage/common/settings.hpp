// Reading a storage device's config JSON and preparing its directory, with one-line errors that name the
// device kind and the offending key.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace sbx::storage {

class DeviceConfig {
 public:
  // Parses config_json; throws sdk::Error(INVALID_ARGUMENT) "<device> config: ..." unless it is a JSON object
  // whose keys are all in `known` and which has every key in `required`.
  DeviceConfig(std::string_view device, std::string_view config_json,
               std::initializer_list<const char*> known, std::initializer_list<const char*> required);
  bool has(const char* key) const { return json_.contains(key); }
  std::string absolute_path(const char* key) const;  // trailing slashes removed
  int64_t integer(const char* key, int64_t low, int64_t high) const;
  [[noreturn]] void fail(const std::string& why) const;

 private:
  std::string device_;
  nlohmann::json json_;
};

// Creates `path` (never its parents: a missing mount point must not turn into a directory on the root disk);
// an existing directory is fine. Errors start with `device`.
void make_directory(const std::string& path, std::string_view device);
// A store's top directory: made when the store may be made, else SBX_ERR_OFFLINE where it does not exist (a
// drive that is not mounted), so nothing is written there.
void open_store_directory(const std::string& path, std::string_view device, bool may_create);

}  // namespace sbx::storage
