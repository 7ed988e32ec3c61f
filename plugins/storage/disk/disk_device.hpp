// The disk storage device: sets as tar+zstd files in one directory.
//
// Layout of DIR:
//   device.json   {"format":"strongbox-disk","version":1,"encrypted":bool,"key_id":"<16 hex>"}; written
//                 once, crash-safely, when the device is first opened
//   sets/         one file per set (set_format.hpp)
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <strongbox/sdk/plugin.hpp>

#include "device_settings.hpp"

namespace sbx::disk {

class DiskDevice : public sdk::StorageDevice {
 public:
  // config_json: {"path": "/abs/dir", "key_file": "/abs/key", "compression_level": 1, "frame_bytes":
  // 4194304}; only "path" is required. Creates DIR (not its parents) and the layout when missing.
  DiskDevice(std::string_view config_json, sdk::StoreOpening how);

  sbx_storage_info info() override;
  std::unique_ptr<sdk::StorageWriter> begin_set(std::string_view set_name) override;
  std::unique_ptr<sdk::StorageReader> open_set(std::string_view set_name) override;
  void delete_set(std::string_view set_name) override;
  void list_sets(const std::function<void(std::string_view)>& fn) override;

 private:
  void open_layout(sdk::StoreOpening how);

  DeviceSettings settings_;
};

}  // namespace sbx::disk
