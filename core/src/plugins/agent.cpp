// Agent and AgentRestore: C++ calls through an agent plugin's vtable.
#include "internal.hpp"

namespace sbx::plugins {

using detail::call_plugin;
using detail::call_plugin_void;
using detail::check;
using detail::fail;
using detail::in_quotes;
using detail::to_str;

detail::AgentHandle::~AgentHandle() {
  if (agent) call_plugin_void([&] { plugin->agent.close(agent); });
}

// ----------------------------------------------------------------------------------------------- restore
AgentRestore::AgentRestore(std::shared_ptr<detail::AgentHandle> agent, sbx_agent_restore* restore)
    : agent_(std::move(agent)), restore_(restore) {}

AgentRestore::~AgentRestore() {
  if (restore_) call_plugin_void([&] { agent_->plugin->agent.abort_restore(restore_); });
}

namespace {
void require_open_restore(const detail::LoadedPlugin& plugin, sbx_agent_restore* restore,
                          std::string_view what) {
  if (!restore) fail(plugin, SBX_ERR_INVALID_ARGUMENT, what, "the restore was already finished");
}
}  // namespace

void AgentRestore::restore_entry(const sbx_entry& entry) {
  const detail::LoadedPlugin& plugin = *agent_->plugin;
  entry_path_ = detail::entry_path(entry);
  const std::string what = "restore entry " + in_quotes(entry_path_);
  require_open_restore(plugin, restore_, what);
  detail::check_entry(plugin, what, entry);
  check(plugin, what, call_plugin([&] { return plugin.agent.restore_entry(restore_, &entry); }));
}

void AgentRestore::restore_data(std::string_view data) {
  const detail::LoadedPlugin& plugin = *agent_->plugin;
  const auto result = call_plugin([&] {
    if (!restore_) return SBX_ERR_INVALID_ARGUMENT;
    return plugin.agent.restore_data(restore_, detail::to_bytes(data));
  });
  // The message is built only on failure: restore_data runs once per data block.
  if (result.status != SBX_OK) {
    const std::string what = "restore data of " + in_quotes(entry_path_);
    require_open_restore(plugin, restore_, what);
    check(plugin, what, result);
  }
}

void AgentRestore::restore_entry_end() {
  const detail::LoadedPlugin& plugin = *agent_->plugin;
  const std::string what = "end restored entry " + in_quotes(entry_path_);
  require_open_restore(plugin, restore_, what);
  check(plugin, what, call_plugin([&] { return plugin.agent.restore_entry_end(restore_); }));
}

void AgentRestore::finish() {
  const detail::LoadedPlugin& plugin = *agent_->plugin;
  require_open_restore(plugin, restore_, "finish restore");
  // finish_restore frees the handle whatever it returns, so it must not be aborted afterwards.
  sbx_agent_restore* restore = std::exchange(restore_, nullptr);
  check(plugin, "finish restore", call_plugin([&] { return plugin.agent.finish_restore(restore); }));
}

// ------------------------------------------------------------------------------------------------- agent
Agent::Agent(std::shared_ptr<detail::AgentHandle> agent) : agent_(std::move(agent)) {}
Agent::~Agent() = default;

const PluginInfo& Agent::plugin() const {
  return agent_->plugin->info;
}

void Agent::backup(std::string_view job_json, const sbx_backup_sink& sink) {
  const detail::LoadedPlugin& plugin = *agent_->plugin;
  if (sink.struct_size < detail::kBackupSinkV1Size || !sink.check || !sink.on_entry || !sink.on_data ||
      !sink.on_entry_end || !sink.on_warning) {
    fail(plugin, SBX_ERR_INVALID_ARGUMENT, "backup", "the host passed an incomplete sbx_backup_sink");
  }
  check(plugin, "backup",
        call_plugin([&] { return plugin.agent.backup(agent_->agent, to_str(job_json), &sink); }));
}

std::unique_ptr<AgentRestore> Agent::begin_restore(std::string_view options_json) {
  const detail::LoadedPlugin& plugin = *agent_->plugin;
  if (!plugin.has(SBX_CAP_RESTORE))
    fail(plugin, SBX_ERR_UNSUPPORTED, "begin restore", "this agent cannot restore");
  sbx_agent_restore* restore = nullptr;
  check(plugin, "begin restore", call_plugin([&] {
          return plugin.agent.begin_restore(agent_->agent, to_str(options_json), &restore);
        }));
  if (!restore) fail(plugin, SBX_ERR_INTERNAL, "begin restore", "returned success but no restore handle");
  try {
    return std::unique_ptr<AgentRestore>(new AgentRestore(agent_, restore));
  } catch (...) {
    call_plugin_void([&] { plugin.agent.abort_restore(restore); });
    throw;
  }
}

// ---------------------------------------------------------------------------------------------- registry
std::unique_ptr<Agent> Registry::open_agent(std::string_view name, const nlohmann::json& config) const {
  auto handle = std::make_shared<detail::AgentHandle>(require(SBX_KIND_AGENT, name));
  const detail::LoadedPlugin& plugin = *handle->plugin;
  const std::string text = detail::config_text(plugin, config, "open agent");
  // Taken only on success: a failing plugin may have written anything to *out.
  sbx_agent* agent = nullptr;
  check(plugin, "open agent", call_plugin([&] { return plugin.agent.open(to_str(text), &agent); }));
  if (!agent) fail(plugin, SBX_ERR_INTERNAL, "open agent", "returned success but no agent");
  handle->agent = agent;
  return std::unique_ptr<Agent>(new Agent(std::move(handle)));
}

}  // namespace sbx::plugins
