// The files agent plugin: backs up directory trees of the local file system and restores them.
// Full, incremental and differential runs walk the same way; the host's check() decides per entry whether
// its data travels, so a no-change incremental reads no file data.
#include <memory>
#include <nlohmann/json.hpp>
#include <string_view>

#include "backup_job.hpp"
#include "disk_restore.hpp"
#include "strongbox/sdk/plugin.hpp"
#include "tree_walker.hpp"

namespace sbx::files {

class FilesAgent : public sbx::sdk::Agent {
 public:
  // The agent has no settings yet; an empty config or a JSON object is accepted.
  explicit FilesAgent(std::string_view config_json) {
    if (config_json.find_first_not_of(" \t\r\n") == std::string_view::npos) return;
    nlohmann::json config;
    try {
      config = nlohmann::json::parse(config_json);
    } catch (const nlohmann::json::parse_error& e) {
      throw sbx::sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                            std::string("files agent config is not valid JSON: ") + e.what());
    }
    if (!config.is_object() && !config.is_null())
      throw sbx::sdk::Error(SBX_ERR_INVALID_ARGUMENT, "files agent config must be a JSON object");
  }

  void backup(std::string_view job_json, const sbx_backup_sink& sink) override {
    BackupJob job = BackupJob::parse(job_json);
    BackupRun run(job, sink);
    run.run();
  }

  std::unique_ptr<sbx::sdk::AgentRestore> begin_restore(std::string_view options_json) override {
    return std::make_unique<DiskRestore>(options_json);
  }
};

}  // namespace sbx::files

SBX_DEFINE_PLUGIN(SBX_KIND_AGENT, "files", "1.0.0",
                  "backs up and restores directory trees of the local file system",
                  SBX_CAP_INCREMENTAL | SBX_CAP_FILE_BASED | SBX_CAP_RESTORE,
                  sbx::sdk::agent_vtable<sbx::files::FilesAgent>())
