// The agent adapter against test-agent: backup through a host sink (skip, warnings, refusal), restore with
// finish and with abort, errors carrying the plugin's message.
#include <gmock/gmock.h>

#include <map>
#include <optional>
#include <strongbox/sdk/entry.hpp>

#include "plugin_test_support.hpp"
#include "strongbox/plugins.hpp"

namespace sbx::plugins {
namespace {

using test_support::test_plugin;
using ::testing::ElementsAre;
using ::testing::Pair;

// Records a backup; skips the paths in `unchanged`; refuses everything with `refuse` if set.
struct BackupRecorder {
  std::map<std::string, std::string> files;
  std::vector<std::string> checked;
  std::vector<std::string> warnings;
  std::vector<std::string> unchanged;
  sbx_status refuse = SBX_OK;
  std::string current;

  sbx_backup_sink sink() {
    sbx_backup_sink sink{};
    sink.struct_size = sizeof sink;
    sink.ctx = this;
    sink.check = [](void* ctx, const sbx_entry* entry) noexcept {
      auto* self = static_cast<BackupRecorder*>(ctx);
      const std::string path(sdk::view(entry->path));
      self->checked.push_back(path);
      if (self->refuse != SBX_OK) return self->refuse;
      return std::find(self->unchanged.begin(), self->unchanged.end(), path) != self->unchanged.end()
                 ? SBX_SKIP
                 : SBX_OK;
    };
    sink.on_entry = [](void* ctx, const sbx_entry* entry) noexcept {
      auto* self = static_cast<BackupRecorder*>(ctx);
      self->current = std::string(sdk::view(entry->path));
      self->files[self->current];
      return SBX_OK;
    };
    sink.on_data = [](void* ctx, sbx_bytes data) noexcept {
      auto* self = static_cast<BackupRecorder*>(ctx);
      self->files[self->current].append(sdk::view(data));
      return SBX_OK;
    };
    sink.on_entry_end = [](void*) noexcept { return SBX_OK; };
    sink.on_warning = [](void* ctx, sbx_bytes path, sbx_str message) noexcept {
      static_cast<BackupRecorder*>(ctx)->warnings.push_back(std::string(sdk::view(path)) + ": " +
                                                            std::string(sdk::view(message)));
    };
    return sink;
  }
};

class PluginsAgent : public ::testing::Test {
 protected:
  void SetUp() override { registry_.load_file(test_plugin("test-agent")); }
  Registry registry_;
};

TEST_F(PluginsAgent, BackupSendsFilesSkipsUnchangedAndWarns) {
  auto agent = registry_.open_agent(
      "test-agent",
      {{"files", {{"a.txt", "alpha"}, {"b.txt", "beta"}, {"secret", "x"}}}, {"unreadable", {"secret"}}});
  EXPECT_EQ(agent->plugin().kind, "agent");
  BackupRecorder recorder;
  recorder.unchanged = {"b.txt"};
  agent->backup(R"({"sources":["/"],"level":"incremental"})", recorder.sink());
  EXPECT_THAT(recorder.checked, ElementsAre("a.txt", "b.txt"));
  EXPECT_THAT(recorder.files, ElementsAre(Pair("a.txt", "alpha")));
  EXPECT_THAT(recorder.warnings, ElementsAre("secret: permission denied"));
}

TEST_F(PluginsAgent, BadJobCarriesThePluginsMessage) {
  auto agent = registry_.open_agent("test-agent", nlohmann::json::object());
  BackupRecorder recorder;
  try {
    agent->backup(R"({"level":"weekly"})", recorder.sink());
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SBX_ERR_INVALID_ARGUMENT);
    EXPECT_STREQ(e.what(), "test-agent: backup: job level 'weekly' is not full, incremental or differential");
  }
}

TEST_F(PluginsAgent, HostRefusalStopsTheBackup) {
  auto agent = registry_.open_agent("test-agent", {{"files", {{"a", "1"}, {"b", "2"}}}});
  BackupRecorder recorder;
  recorder.refuse = SBX_ERR_CANCELLED;
  try {
    agent->backup(R"({"level":"full"})", recorder.sink());
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SBX_ERR_CANCELLED);
    EXPECT_STREQ(e.what(), "test-agent: backup: check was refused by the host");
  }
  EXPECT_THAT(recorder.checked, ElementsAre("a"));
}

TEST_F(PluginsAgent, IncompleteSinkIsRejectedBeforeThePluginSeesIt) {
  auto agent = registry_.open_agent("test-agent", nlohmann::json::object());
  BackupRecorder recorder;
  sbx_backup_sink sink = recorder.sink();
  sink.on_warning = nullptr;
  EXPECT_THROW(agent->backup(R"({"level":"full"})", sink), PluginError);
  sink = recorder.sink();
  sink.struct_size = 8;
  EXPECT_THROW(agent->backup(R"({"level":"full"})", sink), PluginError);
}

sdk::Entry file(const std::string& path) {
  sdk::Entry entry;
  entry.type = SBX_ENTRY_FILE;
  entry.path = path;
  return entry;
}

TEST_F(PluginsAgent, FinishedRestoreIsVisible) {
  auto agent = registry_.open_agent("test-agent", nlohmann::json::object());
  auto restore = agent->begin_restore(R"({"target":"/"})");
  restore->restore_entry(file("r.txt").as_c());
  restore->restore_data("re");
  restore->restore_data("stored");
  restore->restore_entry_end();
  restore->finish();
  BackupRecorder recorder;
  agent->backup(R"({"level":"full"})", recorder.sink());
  EXPECT_THAT(recorder.files, ElementsAre(Pair("r.txt", "restored")));
  EXPECT_THROW(restore->finish(), PluginError);
}

TEST_F(PluginsAgent, UnfinishedRestoreIsAborted) {
  auto agent = registry_.open_agent("test-agent", nlohmann::json::object());
  {
    auto restore = agent->begin_restore(R"({"target":"/"})");
    restore->restore_entry(file("r.txt").as_c());
    restore->restore_data("partial");
  }
  BackupRecorder recorder;
  agent->backup(R"({"level":"full"})", recorder.sink());
  EXPECT_TRUE(recorder.files.empty());
}

TEST_F(PluginsAgent, RestoreErrorNamesTheEntry) {
  auto agent = registry_.open_agent("test-agent", nlohmann::json::object());
  auto restore = agent->begin_restore(R"({"target":"/"})");
  sdk::Entry dir = file("var/lib");
  dir.type = SBX_ENTRY_DIRECTORY;
  try {
    restore->restore_entry(dir.as_c());
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SBX_ERR_UNSUPPORTED);
    EXPECT_STREQ(
        e.what(),
        "test-agent: restore entry 'var/lib': test-agent restores regular files only, not 'var/lib'");
  }
}

TEST_F(PluginsAgent, BadRestoreOptionsCarryThePluginsMessage) {
  auto agent = registry_.open_agent("test-agent", nlohmann::json::object());
  try {
    agent->begin_restore("[1,2]");
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_STREQ(e.what(), "test-agent: begin restore: restore options is not a JSON object");
  }
}

// The restore path the jobs module drives: a storage reader's sink feeds an agent restore. A failure inside
// the nested agent call must come out with the agent's message, and the storage call with its own.
struct RestoreFeeder {
  AgentRestore* restore;
  std::optional<PluginError> failure;

  template <class Call>
  sbx_status guarded(Call&& call) noexcept {
    try {
      call();
      return SBX_OK;
    } catch (const PluginError& e) {
      failure = e;
      return e.status();
    }
  }

  sbx_entry_sink sink() {
    sbx_entry_sink sink{};
    sink.struct_size = sizeof sink;
    sink.ctx = this;
    sink.on_entry = [](void* ctx, const sbx_entry* entry) noexcept {
      auto* self = static_cast<RestoreFeeder*>(ctx);
      return self->guarded([&] { self->restore->restore_entry(*entry); });
    };
    sink.on_data = [](void* ctx, sbx_bytes data) noexcept {
      auto* self = static_cast<RestoreFeeder*>(ctx);
      return self->guarded([&] { self->restore->restore_data(sdk::view(data)); });
    };
    sink.on_entry_end = [](void* ctx) noexcept {
      auto* self = static_cast<RestoreFeeder*>(ctx);
      return self->guarded([&] { self->restore->restore_entry_end(); });
    };
    sink.on_entry_error = [](void*, size_t, sbx_status, sbx_str) noexcept { return SBX_OK; };
    return sink;
  }
};

TEST_F(PluginsAgent, RestoreFedFromAStorageReaderKeepsEachPluginsMessage) {
  registry_.load_file(test_plugin("test-memory"));
  auto device = registry_.open_storage("test-memory", nlohmann::json::object());
  auto writer = device->begin_set("s");
  sdk::Entry good = file("etc/hosts");
  good.size = 9;
  writer->write_entry(good.as_c());
  writer->write_data("127.0.0.1");
  const std::string good_locator = writer->end_entry();
  sdk::Entry dir = file("etc");
  dir.type = SBX_ENTRY_DIRECTORY;
  writer->write_entry(dir.as_c());
  const std::string dir_locator = writer->end_entry();
  writer->commit();

  auto agent = registry_.open_agent("test-agent", nlohmann::json::object());
  auto restore = agent->begin_restore(R"({"target":"/"})");
  RestoreFeeder feeder{restore.get(), std::nullopt};
  const sbx_entry_sink sink = feeder.sink();
  auto reader = device->open_set("s");

  const sbx_bytes first[] = {sdk::make_bytes(good_locator)};
  reader->read_entries(first, sink);
  EXPECT_FALSE(feeder.failure.has_value());

  const sbx_bytes second[] = {sdk::make_bytes(dir_locator)};
  try {
    reader->read_entries(second, sink);
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SBX_ERR_UNSUPPORTED);
    EXPECT_STREQ(e.what(), "test-memory: read entries of set 's': on_entry was refused by the host");
  }
  ASSERT_TRUE(feeder.failure.has_value());
  EXPECT_STREQ(feeder.failure->what(),
               "test-agent: restore entry 'etc': test-agent restores regular files only, not 'etc'");

  restore->finish();
  BackupRecorder recorder;
  agent->backup(R"({"level":"full"})", recorder.sink());
  EXPECT_THAT(recorder.files, ElementsAre(Pair("etc/hosts", "127.0.0.1")));
}

}  // namespace
}  // namespace sbx::plugins
