#include "archive_support.hpp"

namespace sbx::disk {
namespace {

locale_t utf8_locale() {
  // Never freed: a thread may still be inside a scope while the plugin is unloaded at exit.
  static const locale_t locale = newlocale(LC_ALL_MASK, "C.UTF-8", static_cast<locale_t>(nullptr));
  return locale;
}

// In .bss, so its pages cost nothing unless read; libarchive skips hole bytes without reading them.
uint8_t zeros[kZeroBytes];

}  // namespace

Utf8LocaleScope::Utf8LocaleScope() {
  if (locale_t utf8 = utf8_locale()) previous_ = uselocale(utf8);
}

Utf8LocaleScope::~Utf8LocaleScope() {
  if (previous_) uselocale(previous_);
}

bool Utf8LocaleScope::available() {
  return utf8_locale() != static_cast<locale_t>(nullptr);
}

const uint8_t* zero_bytes() {
  return zeros;
}

}  // namespace sbx::disk
