// The disk device's code names the shared storage support (plugins/storage/common) without qualification.
#pragma once

#include "common/crypto.hpp"
#include "common/posix_file.hpp"

namespace sbx::disk {
using namespace sbx::storage;
}  // namespace sbx::disk
