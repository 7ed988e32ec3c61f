// The storage adapter against test-memory: a set round trip by locator, device info, errors that carry the
// plugin's own message, abort on a writer never committed, hostile names.
#include <gmock/gmock.h>

#include <strongbox/sdk/entry.hpp>

#include "plugin_test_support.hpp"
#include "strongbox/plugins.hpp"

namespace sbx::plugins {
namespace {

using test_support::LogCapture;
using test_support::test_plugin;
using ::testing::ElementsAre;

class PluginsStorage : public ::testing::Test {
 protected:
  void SetUp() override { registry_.load_file(test_plugin("test-memory")); }

  std::unique_ptr<StorageDevice> open(const nlohmann::json& config = nlohmann::json::object()) {
    return registry_.open_storage("test-memory", config);
  }

  static sdk::Entry file(const std::string& path, uint64_t size) {
    sdk::Entry entry;
    entry.type = SBX_ENTRY_FILE;
    entry.path = path;
    entry.size = size;
    entry.mode = 0640;
    entry.mtime_ns = 1'700'000'000'123'456'789;
    entry.xattrs = {{"user.note", "kept"}};
    return entry;
  }

  // Writes one entry and returns its locator.
  static std::string put(StorageWriter& writer, const sdk::Entry& entry, const std::string& data) {
    writer.write_entry(entry.as_c());
    writer.write_data(data.substr(0, data.size() / 2));
    writer.write_data(data.substr(data.size() / 2));
    return writer.end_entry();
  }

  Registry registry_;
};

// Collects what a reader delivers.
struct Collected {
  std::vector<sdk::Entry> entries;
  std::vector<std::string> data;
  std::vector<std::pair<size_t, std::string>> errors;

  sbx_entry_sink sink() {
    sbx_entry_sink sink{};
    sink.struct_size = sizeof sink;
    sink.ctx = this;
    sink.on_entry = [](void* ctx, const sbx_entry* entry) noexcept {
      auto* self = static_cast<Collected*>(ctx);
      self->entries.push_back(sdk::Entry::from(*entry));
      self->data.emplace_back();
      return SBX_OK;
    };
    sink.on_data = [](void* ctx, sbx_bytes bytes) noexcept {
      static_cast<Collected*>(ctx)->data.back().append(sdk::view(bytes));
      return SBX_OK;
    };
    sink.on_entry_end = [](void*) noexcept { return SBX_OK; };
    sink.on_entry_error = [](void* ctx, size_t index, sbx_status, sbx_str message) noexcept {
      static_cast<Collected*>(ctx)->errors.emplace_back(index, std::string(sdk::view(message)));
      return SBX_OK;
    };
    return sink;
  }
};

TEST_F(PluginsStorage, SetRoundTripsByLocator) {
  auto device = open();
  EXPECT_EQ(device->plugin().name, "test-memory");
  auto writer = device->begin_set("nightly-1");
  const std::string a = put(*writer, file("etc/a.conf", 11), "hello world");
  const std::string b = put(*writer, file("etc/b.conf", 4), "abcd");
  EXPECT_EQ(a.size(), 8u);
  EXPECT_NE(a, b);
  const sbx_set_stats stats = writer->commit();
  EXPECT_EQ(stats.struct_size, sizeof(sbx_set_stats));
  EXPECT_EQ(stats.entries, 2u);
  EXPECT_EQ(stats.stored_bytes, 15u);
  EXPECT_THAT(device->list_sets(), ElementsAre("nightly-1"));

  auto reader = device->open_set("nightly-1");
  const std::string bogus = "not a locator";
  const sbx_bytes locators[] = {sdk::make_bytes(b), sdk::make_bytes(bogus), sdk::make_bytes(a)};
  Collected got;
  const sbx_entry_sink sink = got.sink();
  reader->read_entries(locators, sink);
  ASSERT_EQ(got.entries.size(), 2u);
  EXPECT_EQ(got.entries[0].path, "etc/b.conf");
  EXPECT_EQ(got.data[0], "abcd");
  EXPECT_EQ(got.entries[1].path, "etc/a.conf");
  EXPECT_EQ(got.data[1], "hello world");
  EXPECT_EQ(got.entries[1].mode, 0640u);
  EXPECT_EQ(got.entries[1].mtime_ns, 1'700'000'000'123'456'789);
  EXPECT_EQ(got.entries[1].xattrs, (std::vector<sdk::Xattr>{{"user.note", "kept"}}));
  EXPECT_THAT(got.errors, ElementsAre(std::pair<size_t, std::string>(1, "locator is not 8 bytes")));
}

// test-memory leaves open_or_create empty, as a plugin built for ABI 1.1 does: the host opens it with open,
// which makes its store, so `devices add` works with such a plugin as before.
TEST_F(PluginsStorage, AddingADeviceOfAnAbi11PluginUsesItsOpen) {
  auto device = registry_.open_or_create_storage("test-memory", nlohmann::json::object());
  ASSERT_NE(device, nullptr);
  device->begin_set("first")->commit();
  EXPECT_THAT(device->list_sets(), ElementsAre("first"));
}

TEST_F(PluginsStorage, InfoReportsCapacityAndUse) {
  auto device = open({{"capacity", 100}});
  sbx_storage_info info = device->info();
  EXPECT_EQ(info.struct_size, sizeof(sbx_storage_info));
  EXPECT_EQ(info.total_bytes, 100u);
  EXPECT_EQ(info.free_bytes, 100u);
  EXPECT_EQ(info.online, 1u);
  auto writer = device->begin_set("s");
  put(*writer, file("f", 30), std::string(30, 'x'));
  writer->commit();
  info = device->info();
  EXPECT_EQ(info.used_bytes, 30u);
  EXPECT_EQ(info.free_bytes, 70u);
}

TEST_F(PluginsStorage, ErrorCarriesThePluginsMessage) {
  auto device = open();
  try {
    device->open_set("no-such-set");
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SBX_ERR_NOT_FOUND);
    EXPECT_STREQ(e.what(), "test-memory: open set 'no-such-set': no set named 'no-such-set'");
  }
  try {
    device->delete_set("gone");
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_STREQ(e.what(), "test-memory: delete set 'gone': no set named 'gone'");
  }
}

TEST_F(PluginsStorage, FailedOpenCarriesThePluginsMessage) {
  try {
    open({{"fail_open", "key file /etc/strongbox/k unreadable"}});
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SBX_ERR_PERMISSION);
    EXPECT_STREQ(e.what(), "test-memory: open device: key file /etc/strongbox/k unreadable");
  }
}

TEST_F(PluginsStorage, FullDeviceFailsTheWriteNamingTheEntry) {
  auto device = open({{"capacity", 4}});
  auto writer = device->begin_set("s");
  writer->write_entry(file("big.bin", 5).as_c());
  try {
    writer->write_data("hello");
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SBX_ERR_NO_SPACE);
    EXPECT_STREQ(
        e.what(),
        "test-memory: write data of 'big.bin' to set 's': memory device full: capacity 4 bytes, 0 in use");
  }
}

TEST_F(PluginsStorage, WriterNeverCommittedIsAborted) {
  auto device = open();
  {
    auto writer = device->begin_set("half");
    put(*writer, file("f", 3), "abc");
  }
  EXPECT_TRUE(device->list_sets().empty());
  auto writer = device->begin_set("half");
  writer->commit();
  EXPECT_THAT(device->list_sets(), ElementsAre("half"));
}

TEST_F(PluginsStorage, WriterIsSpentAfterCommit) {
  auto device = open();
  auto writer = device->begin_set("once");
  writer->commit();
  try {
    writer->write_entry(file("late", 0).as_c());
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SBX_ERR_INVALID_ARGUMENT);
    EXPECT_STREQ(
        e.what(),
        "test-memory: write entry 'late' to set 'once': the writer of set 'once' was already committed or "
        "failed to commit");
  }
  EXPECT_THROW(writer->commit(), PluginError);
}

TEST_F(PluginsStorage, FailedCommitSpendsTheWriter) {
  auto device = open();
  auto writer = device->begin_set("s");
  writer->write_entry(file("open-entry", 0).as_c());
  try {
    writer->commit();  // the entry was never ended
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_STREQ(e.what(), "test-memory: commit set 's': the last entry was not ended");
  }
  EXPECT_THROW(writer->end_entry(), PluginError);
  EXPECT_TRUE(device->list_sets().empty());
}

TEST_F(PluginsStorage, DeleteRemovesTheSet) {
  auto device = open();
  device->begin_set("a")->commit();
  device->begin_set("b")->commit();
  device->delete_set("a");
  EXPECT_THAT(device->list_sets(), ElementsAre("b"));
}

TEST_F(PluginsStorage, HostileTextIsEscapedInMessages) {
  auto device = open();
  try {
    device->open_set("evil\nname\xff\x01");
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos);
    EXPECT_EQ(message,
              "test-memory: open set 'evil\\x0aname\\xff\\x01': no set named 'evil\\x0aname\\xff\\x01'");
    EXPECT_NO_THROW(nlohmann::json(message).dump());
  }
  // Valid UTF-8 stays readable.
  try {
    device->open_set("Übersicht");
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_STREQ(e.what(), "test-memory: open set 'Übersicht': no set named 'Übersicht'");
  }
}

TEST_F(PluginsStorage, IncompleteSinkIsRejectedBeforeThePluginSeesIt) {
  auto device = open();
  device->begin_set("s")->commit();
  auto reader = device->open_set("s");
  Collected got;
  sbx_entry_sink sink = got.sink();
  sink.on_entry_error = nullptr;
  EXPECT_THROW(reader->read_entries({}, sink), PluginError);
}

TEST_F(PluginsStorage, PluginLogsGoThroughSpdlogWithItsName) {
  LogCapture log;
  open({{"capacity", 7}});
  EXPECT_THAT(log.lines(spdlog::level::info),
              ::testing::Contains("test-memory: opened a memory device with capacity 7"));
}

TEST_F(PluginsStorage, InvalidUtf8ConfigIsRefusedBeforeThePlugin) {
  try {
    open({{"path", "\xff"}});
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SBX_ERR_INVALID_ARGUMENT);
    EXPECT_THAT(e.what(),
                ::testing::StartsWith("test-memory: open device: cannot pass the configuration on: "));
  }
}

}  // namespace
}  // namespace sbx::plugins
