// test-image-agent: stands for an agent whose sets are disk images, not trees of files. It declares no
// SBX_CAP_FILE_BASED, which is all the synthesize refusal test needs; it backs up one opaque image entry.
#include <string>
#include <strongbox/sdk/plugin.hpp>

namespace {

using sbx::sdk::Error;

class ImageAgent : public sbx::sdk::Agent {
 public:
  explicit ImageAgent(std::string_view) {}

  void backup(std::string_view, const sbx_backup_sink& sink) override {
    const std::string image(4096, '\0');
    sbx::sdk::Entry entry;
    entry.type = SBX_ENTRY_FILE;
    entry.path = "disk0.img";
    entry.size = image.size();
    entry.mode = 0600;
    sbx::sdk::check_sink(sink.on_entry(sink.ctx, &entry.as_c()), "on_entry");
    sbx::sdk::check_sink(sink.on_data(sink.ctx, sbx::sdk::make_bytes(image)), "on_data");
    sbx::sdk::check_sink(sink.on_entry_end(sink.ctx), "on_entry_end");
  }

  std::unique_ptr<sbx::sdk::AgentRestore> begin_restore(std::string_view) override {
    throw Error(SBX_ERR_UNSUPPORTED, "test-image-agent does not restore");
  }
};

}  // namespace

SBX_DEFINE_PLUGIN(SBX_KIND_AGENT, "test-image-agent", "0.1.0",
                  "an image agent without file-based sets, for tests", SBX_CAP_INCREMENTAL,
                  sbx::sdk::agent_vtable<ImageAgent>())
