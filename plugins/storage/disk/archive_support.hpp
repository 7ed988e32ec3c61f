// Small helpers around libarchive shared by the set writer and reader.
#pragma once

#include <locale.h>

#include <cstddef>
#include <cstdint>

namespace sbx::disk {

// libarchive converts names between the thread's locale and the UTF-8 of pax headers. Under the C locale
// every non-ASCII name would fail that conversion, so while one of these lives the calling thread runs in
// C.UTF-8: valid UTF-8 names are stored as plain pax UTF-8 (what GNU tar expects) and other bytes fall back
// to pax's hdrcharset=BINARY, both round-tripping byte for byte. The host's own locale is restored after.
class Utf8LocaleScope {
 public:
  Utf8LocaleScope();
  ~Utf8LocaleScope();
  Utf8LocaleScope(const Utf8LocaleScope&) = delete;
  Utf8LocaleScope& operator=(const Utf8LocaleScope&) = delete;

  // False when this system has no C.UTF-8 locale; writers then store every name as BINARY.
  static bool available();

 private:
  locale_t previous_ = nullptr;
};

// A read-only run of zero bytes to feed libarchive the holes of sparse files without allocating them.
const uint8_t* zero_bytes();
inline constexpr size_t kZeroBytes = size_t{8} << 20;

}  // namespace sbx::disk
