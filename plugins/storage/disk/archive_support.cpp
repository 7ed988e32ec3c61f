#include "archive_support.hpp"

namespace sbx::disk {
namespace {

// Freed when the library unloads. The host unloads a plugin only after every object from it is gone, so no
// thread can be inside a Utf8LocaleScope then.
class OwnedLocale {
 public:
  OwnedLocale() : handle_(newlocale(LC_ALL_MASK, "C.UTF-8", static_cast<locale_t>(nullptr))) {}
  ~OwnedLocale() {
    if (handle_) freelocale(handle_);
  }
  OwnedLocale(const OwnedLocale&) = delete;
  OwnedLocale& operator=(const OwnedLocale&) = delete;
  locale_t get() const { return handle_; }

 private:
  locale_t handle_;
};

locale_t utf8_locale() {
  static const OwnedLocale locale;
  return locale.get();
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
