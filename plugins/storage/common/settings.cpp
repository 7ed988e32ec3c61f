#include "common/settings.hpp"

#include <sys/stat.h>

#include <cerrno>
#include <strongbox/sdk/plugin.hpp>

#include "common/posix_file.hpp"

namespace sbx::storage {

DeviceConfig::DeviceConfig(std::string_view device, std::string_view config_json,
                           std::initializer_list<const char*> known,
                           std::initializer_list<const char*> required)
    : device_(device) {
  json_ = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (json_.is_discarded()) fail("not valid JSON");
  if (!json_.is_object()) fail("wanted a JSON object, got " + std::string(json_.type_name()));
  std::string known_text;
  for (const char* key : known) known_text += (known_text.empty() ? "" : ", ") + std::string(key);
  for (const auto& item : json_.items()) {
    bool found = false;
    for (const char* key : known) found = found || item.key() == key;
    if (!found) fail("unknown key \"" + item.key() + "\" (known: " + known_text + ")");
  }
  for (const char* key : required)
    if (!json_.contains(key)) fail(std::string("\"") + key + "\" is required");
}

void DeviceConfig::fail(const std::string& why) const {
  throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, device_ + " config: " + why);
}

std::string DeviceConfig::absolute_path(const char* key) const {
  const nlohmann::json& value = json_.at(key);
  if (!value.is_string()) fail(std::string("\"") + key + "\" must be a string, got " + value.dump());
  std::string path = value.get<std::string>();
  if (path.empty() || path.front() != '/')
    fail(std::string("\"") + key + "\" must be an absolute path, got \"" + path + "\"");
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

int64_t DeviceConfig::integer(const char* key, int64_t low, int64_t high) const {
  const nlohmann::json& value = json_.at(key);
  if (!value.is_number_integer() || value.get<int64_t>() < low || value.get<int64_t>() > high)
    fail(std::string("\"") + key + "\" must be an integer from " + std::to_string(low) + " to " +
         std::to_string(high) + ", got " + value.dump());
  return value.get<int64_t>();
}

void make_directory(const std::string& path, std::string_view device) {
  if (::mkdir(path.c_str(), 0700) == 0) return;
  int err = errno;
  std::string who(device);
  if (err == EEXIST) {
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return;
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, who + ": " + path + " exists and is not a directory");
  }
  if (err == ENOENT) {
    std::string parent = path.substr(0, path.find_last_of('/'));
    throw sdk::Error(SBX_ERR_NOT_FOUND, who + ": cannot create " + path + ": parent directory " +
                                            (parent.empty() ? "/" : parent) +
                                            " does not exist (is the file system mounted?)");
  }
  throw_errno(err, who + ": cannot create " + path);
}

void open_store_directory(const std::string& path, std::string_view device, bool may_create) {
  if (may_create) return make_directory(path, device);
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT)
    throw sdk::Error(SBX_ERR_OFFLINE, std::string(device) + ": " + path +
                                          " does not exist (is its drive mounted?); no store was made there");
}

}  // namespace sbx::storage
