// test-agent: a valid agent plugin over an in-memory tree of regular files, the good control for the loader
// tests. Config: {"files": {"path": "content", ...}, "unreadable": ["path", ...]}. A backup sends the files
// (unreadable ones become warnings); a restore writes into the same tree, visible once finished, so a
// backup after a restore shows what arrived.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <strongbox/sdk/plugin.hpp>
#include <vector>

namespace {

using sbx::sdk::Error;

nlohmann::json parse_object(std::string_view text, const char* what) {
  nlohmann::json json;
  try {
    json = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error(SBX_ERR_INVALID_ARGUMENT, std::string(what) + " is not JSON: " + e.what());
  }
  if (!json.is_object()) throw Error(SBX_ERR_INVALID_ARGUMENT, std::string(what) + " is not a JSON object");
  return json;
}

using Tree = std::map<std::string, std::string>;

class TreeRestore : public sbx::sdk::AgentRestore {
 public:
  explicit TreeRestore(Tree& tree) : tree_(tree) {}

  void restore_entry(const sbx_entry& entry) override {
    if (entry.type != SBX_ENTRY_FILE) {
      throw Error(SBX_ERR_UNSUPPORTED, "test-agent restores regular files only, not '" +
                                           std::string(sbx::sdk::view(entry.path)) + "'");
    }
    current_ = std::string(sbx::sdk::view(entry.path));
    staged_[current_].clear();
  }
  void restore_data(std::string_view data) override { staged_[current_].append(data); }
  void restore_entry_end() override { current_.clear(); }
  void finish() override {
    for (auto& [path, content] : staged_) tree_[path] = std::move(content);
    sbx::sdk::log(SBX_LOG_INFO, "restored " + std::to_string(staged_.size()) + " files");
  }
  void abort() noexcept override {}

 private:
  Tree& tree_;
  Tree staged_;
  std::string current_;
};

class TreeAgent : public sbx::sdk::Agent {
 public:
  explicit TreeAgent(std::string_view config_json) {
    const nlohmann::json config = parse_object(config_json, "configuration");
    if (config.contains("files")) tree_ = config["files"].get<Tree>();
    if (config.contains("unreadable")) unreadable_ = config["unreadable"].get<std::vector<std::string>>();
  }

  void backup(std::string_view job_json, const sbx_backup_sink& sink) override {
    const nlohmann::json job = parse_object(job_json, "job");
    const std::string level = job.value("level", "");
    if (level != "full" && level != "incremental" && level != "differential") {
      throw Error(SBX_ERR_INVALID_ARGUMENT,
                  "job level '" + level + "' is not full, incremental or differential");
    }
    for (const auto& [path, content] : tree_) {
      if (std::find(unreadable_.begin(), unreadable_.end(), path) != unreadable_.end()) {
        sink.on_warning(sink.ctx, sbx::sdk::make_bytes(path), sbx::sdk::make_str("permission denied"));
        continue;
      }
      sbx::sdk::Entry entry;
      entry.type = SBX_ENTRY_FILE;
      entry.path = path;
      entry.size = content.size();
      entry.mode = 0644;
      entry.mtime_ns = 1'700'000'000'000'000'000;
      if (sbx::sdk::check_sink(sink.check(sink.ctx, &entry.as_c()), "check") == SBX_SKIP) continue;
      sbx::sdk::check_sink(sink.on_entry(sink.ctx, &entry.as_c()), "on_entry");
      if (!content.empty())
        sbx::sdk::check_sink(sink.on_data(sink.ctx, sbx::sdk::make_bytes(content)), "on_data");
      sbx::sdk::check_sink(sink.on_entry_end(sink.ctx), "on_entry_end");
    }
  }

  std::unique_ptr<sbx::sdk::AgentRestore> begin_restore(std::string_view options_json) override {
    parse_object(options_json, "restore options");
    return std::make_unique<TreeRestore>(tree_);
  }

 private:
  Tree tree_;
  std::vector<std::string> unreadable_;
};

}  // namespace

SBX_DEFINE_PLUGIN(SBX_KIND_AGENT, "test-agent", "0.9.0",
                  "an in-memory file tree, for the plugin host's tests",
                  SBX_CAP_INCREMENTAL | SBX_CAP_FILE_BASED | SBX_CAP_RESTORE,
                  sbx::sdk::agent_vtable<TreeAgent>())
