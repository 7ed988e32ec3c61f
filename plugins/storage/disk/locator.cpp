#include "locator.hpp"

#include "set_format.hpp"

namespace sbx::disk {
namespace {

uint32_t locator_check(const uint8_t* bytes, size_t len, std::string_view set_name) {
  uint32_t h = 2166136261u;
  auto mix = [&h](uint8_t b) {
    h ^= b;
    h *= 16777619u;
  };
  for (size_t i = 0; i < len; ++i) mix(bytes[i]);
  for (char c : set_name) mix(static_cast<uint8_t>(c));
  return h;
}

}  // namespace

sdk::Locator encode_locator(const Locator& locator, std::string_view set_name) {
  sdk::Locator out(kLocatorBytes);
  out[0] = kLocatorVersion;
  put_u64(&out[1], locator.frame_offset);
  put_u64(&out[9], locator.frame_index);
  put_u32(&out[17], locator.offset_in_frame);
  put_u32(&out[21], locator_check(out.data(), 21, set_name));
  return out;
}

std::optional<Locator> decode_locator(sbx_bytes raw, std::string_view set_name, std::string* why) {
  if (!raw.data || raw.len == 0) {
    *why = "locator is empty";
    return std::nullopt;
  }
  if (raw.data[0] != kLocatorVersion) {
    *why = "locator has format version " + std::to_string(raw.data[0]) + ", this plugin reads version " +
           std::to_string(kLocatorVersion);
    return std::nullopt;
  }
  if (raw.len != kLocatorBytes) {
    *why = "locator is " + std::to_string(raw.len) + " bytes, version 1 locators are " +
           std::to_string(kLocatorBytes);
    return std::nullopt;
  }
  if (get_u32(raw.data + 21) != locator_check(raw.data, 21, set_name)) {
    *why = "locator check value does not match (garbled, or a locator of another set)";
    return std::nullopt;
  }
  Locator out;
  out.frame_offset = get_u64(raw.data + 1);
  out.frame_index = get_u64(raw.data + 9);
  out.offset_in_frame = get_u32(raw.data + 17);
  return out;
}

}  // namespace sbx::disk
