#include "set_format.hpp"

#include <strongbox/sdk/plugin.hpp>

#include "entry_codec.hpp"

namespace sbx::disk {

void check_set_name(std::string_view name) {
  auto bad = [&](const std::string& why) {
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "set name '" + printable_path(name) + "' " + why);
  };
  if (name.empty()) bad("is empty");
  if (name.size() > kMaxSetNameBytes)
    bad("is " + std::to_string(name.size()) + " bytes long, at most " + std::to_string(kMaxSetNameBytes) +
        " are allowed");
  if (name.front() == '.') bad("starts with '.' (reserved for the device's own files)");
  if (name.find('/') != std::string_view::npos) bad("contains '/'");
  if (name.find('\0') != std::string_view::npos) bad("contains a NUL byte");
}

}  // namespace sbx::disk
