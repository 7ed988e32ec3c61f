// Exports the disk storage device plugin.
#include <strongbox/sdk/plugin.hpp>

#include "disk_device.hpp"

SBX_DEFINE_PLUGIN(SBX_KIND_STORAGE, "disk", "1.0.0",
                  "backup sets as pax tar in zstd frames on a file system, optionally AES-256-GCM encrypted",
                  SBX_CAP_RANDOM_ACCESS | SBX_CAP_DELETE | SBX_CAP_ENCRYPTION,
                  sbx::sdk::storage_vtable<sbx::disk::DiskDevice>())
