// Where an entry lives in a set file. Version 1 (25 bytes, integers little-endian):
//   u8 version (1) | u64 frame file offset | u64 frame index | u32 header offset in the frame's tar bytes |
//   u32 check (FNV-1a over the preceding bytes and the set name)
// The check turns a garbled locator, or one of another set, into a clear error instead of a wrong entry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <strongbox/sdk/plugin.hpp>

namespace sbx::disk {

inline constexpr uint8_t kLocatorVersion = 1;
inline constexpr size_t kLocatorBytes = 25;

struct Locator {
  uint64_t frame_offset = 0;
  uint64_t frame_index = 0;
  uint32_t offset_in_frame = 0;
};

sdk::Locator encode_locator(const Locator& locator, std::string_view set_name);
// Returns the locator, or nullopt with `why` set to a one-line reason.
std::optional<Locator> decode_locator(sbx_bytes raw, std::string_view set_name, std::string* why);

}  // namespace sbx::disk
