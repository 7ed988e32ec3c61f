// Exports the dedup storage device plugin.
#include <strongbox/sdk/plugin.hpp>

#include "device.hpp"

SBX_DEFINE_PLUGIN(
    SBX_KIND_STORAGE, "dedup", "1.0.0",
    "deduplicating store: content-defined chunks named by keyed SHA-256, zstd, AES-256-GCM, packs",
    SBX_CAP_DEDUP | SBX_CAP_RANDOM_ACCESS | SBX_CAP_DELETE | SBX_CAP_ENCRYPTION,
    sbx::sdk::storage_vtable<sbx::dedup::DedupDevice>())
