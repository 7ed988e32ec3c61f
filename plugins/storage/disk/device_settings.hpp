// What a disk device was configured with, shared (read-only) by the device and its writers and readers.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "common_names.hpp"
#include "frame_writer.hpp"

namespace sbx::disk {

struct DeviceSettings {
  std::string root;      // DIR
  std::string sets_dir;  // DIR/sets
  std::string key_file;  // "" when unencrypted
  CompressionSettings compression;
  std::shared_ptr<const SecretKey> key;  // null when unencrypted

  std::string final_path(std::string_view set_name) const {
    return sets_dir + "/" + std::string(set_name) + std::string(key ? ".tar.zst.enc" : ".tar.zst");
  }
  std::string partial_path(std::string_view set_name) const {
    return sets_dir + "/." + std::string(set_name) + ".partial";
  }
};

// Parses the device's config JSON; throws sdk::Error(INVALID_ARGUMENT) naming the offending key.
DeviceSettings parse_device_settings(std::string_view config_json);

}  // namespace sbx::disk
