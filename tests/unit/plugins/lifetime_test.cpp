// A library stays loaded while any object from it lives, whatever order the objects and the Registry die
// in; it is unloaded once the last one is gone.
#include <gmock/gmock.h>

#include <strongbox/sdk/entry.hpp>

#include "plugin_test_support.hpp"
#include "strongbox/plugins.hpp"

namespace sbx::plugins {
namespace {

using test_support::library_mapped;
using test_support::test_plugin;

std::unique_ptr<Registry> registry_with(const std::string& plugin) {
  auto registry = std::make_unique<Registry>();
  registry->load_file(test_plugin(plugin));
  return registry;
}

TEST(PluginsLifetime, DeviceOutlivesTheRegistry) {
  const auto file = test_plugin("test-memory");
  ASSERT_FALSE(library_mapped(file));
  auto registry = registry_with("test-memory");
  auto device = registry->open_storage("test-memory", nlohmann::json::object());
  registry.reset();
  ASSERT_TRUE(library_mapped(file));

  auto writer = device->begin_set("after-registry");
  sdk::Entry entry;
  entry.path = "f";
  entry.size = 2;
  writer->write_entry(entry.as_c());
  writer->write_data("ok");
  writer->end_entry();
  writer->commit();
  EXPECT_THAT(device->list_sets(), ::testing::ElementsAre("after-registry"));
  EXPECT_EQ(device->plugin().name, "test-memory");

  writer.reset();
  device.reset();
  EXPECT_FALSE(library_mapped(file));
}

TEST(PluginsLifetime, WriterAndReaderOutliveTheirDevice) {
  const auto file = test_plugin("test-memory");
  auto registry = registry_with("test-memory");
  auto device = registry->open_storage("test-memory", nlohmann::json::object());
  device->begin_set("old")->commit();
  auto reader = device->open_set("old");
  auto writer = device->begin_set("new");
  device.reset();
  registry.reset();
  ASSERT_TRUE(library_mapped(file));

  writer->commit();  // the plugin's writer refers to its device, which must still be open
  sbx_entry_sink sink{sizeof(sbx_entry_sink),
                      nullptr,
                      [](void*, const sbx_entry*) noexcept { return SBX_OK; },
                      [](void*, sbx_bytes) noexcept { return SBX_OK; },
                      [](void*) noexcept { return SBX_OK; },
                      [](void*, size_t, sbx_status, sbx_str) noexcept { return SBX_OK; }};
  reader->read_entries({}, sink);

  writer.reset();
  ASSERT_TRUE(library_mapped(file));
  reader.reset();
  EXPECT_FALSE(library_mapped(file));
}

TEST(PluginsLifetime, RestoreOutlivesAgentAndRegistry) {
  const auto file = test_plugin("test-agent");
  auto registry = registry_with("test-agent");
  auto agent = registry->open_agent("test-agent", nlohmann::json::object());
  auto restore = agent->begin_restore("{}");
  agent.reset();
  registry.reset();
  ASSERT_TRUE(library_mapped(file));
  sdk::Entry entry;
  entry.path = "x";
  restore->restore_entry(entry.as_c());
  restore->restore_entry_end();
  restore->finish();
  restore.reset();
  EXPECT_FALSE(library_mapped(file));
}

TEST(PluginsLifetime, ConnectionsOutliveListenerTransportAndRegistry) {
  const auto file = test_plugin("test-pipe");
  auto registry = registry_with("test-pipe");
  auto transport = registry->open_transport("test-pipe", nlohmann::json::object());
  auto listener = transport->listen("lifetime");
  auto client = transport->connect("lifetime", 1000);
  auto server = listener->accept(1000);
  ASSERT_NE(server, nullptr);
  listener.reset();
  transport.reset();
  registry.reset();
  ASSERT_TRUE(library_mapped(file));

  client->send("still here");
  client->shutdown();
  uint8_t buffer[32];
  const size_t n = server->recv(buffer, sizeof buffer, 1000);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(buffer), n), "still here");
  client.reset();
  server.reset();
  EXPECT_FALSE(library_mapped(file));
}

}  // namespace
}  // namespace sbx::plugins
