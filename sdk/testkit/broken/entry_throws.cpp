// A C++ plugin whose entry point lets an exception escape instead of returning a descriptor. The loader
// must refuse it with a message, not let the exception (or std::terminate) take the process down.
#include <strongbox/sdk/sbx_plugin.h>

#include <stdexcept>

extern "C" __attribute__((visibility("default"))) const sbx_plugin_descriptor* sbx_plugin_entry(
    const sbx_host_api*) {
  throw std::runtime_error("fixture: entry point failed on purpose");
}
