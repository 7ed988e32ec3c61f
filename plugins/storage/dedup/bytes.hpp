// Little-endian encoding of the dedup device's binary records, with bounds-checked parsing: a damaged or
// hostile record makes the parser throw SBX_ERR_CORRUPT, never read past its end.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <strongbox/sdk/plugin.hpp>

namespace sbx::dedup {

inline void put_u32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = char(v >> (8 * i));
  out.append(b, 4);
}
inline void put_u64(std::string& out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = char(v >> (8 * i));
  out.append(b, 8);
}
inline void put_bytes(std::string& out, std::string_view bytes) {
  put_u32(out, uint32_t(bytes.size()));
  out.append(bytes);
}
inline uint32_t get_u32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(uint8_t(p[i])) << (8 * i);
  return v;
}
inline uint64_t get_u64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(uint8_t(p[i])) << (8 * i);
  return v;
}

class ByteReader {
 public:
  ByteReader(std::string_view data, std::string what) : data_(data), what_(std::move(what)) {}
  uint32_t u32() { return get_u32(take(4).data()); }
  uint64_t u64() { return get_u64(take(8).data()); }
  std::string_view bytes() { return take(u32()); }
  std::string_view take(size_t n) {
    if (n > data_.size() - pos_) throw sdk::Error(SBX_ERR_CORRUPT, what_ + " is truncated or damaged");
    std::string_view out = data_.substr(pos_, n);
    pos_ += n;
    return out;
  }
  bool done() const { return pos_ == data_.size(); }
  void expect_done() {
    if (!done()) throw sdk::Error(SBX_ERR_CORRUPT, what_ + " has trailing bytes: damaged");
  }

 private:
  std::string_view data_;
  size_t pos_ = 0;
  std::string what_;
};

std::string to_hex(std::string_view bytes);
// Empty on malformed input.
std::string from_hex(std::string_view hex);

}  // namespace sbx::dedup
