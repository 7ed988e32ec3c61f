// Finding plugins: good ones listed with name, version, kind, ABI and capabilities; a folder with good and
// broken ones; duplicate names; the default folders and STRONGBOX_PLUGIN_PATH.
#include <gmock/gmock.h>
#include <stdlib.h>

#include <fstream>
#include <set>

#include "plugin_test_support.hpp"
#include "strongbox/plugins.hpp"

namespace sbx::plugins {
namespace {

namespace fs = std::filesystem;
using test_support::LogCapture;
using test_support::TempDir;
using test_support::test_plugin;
using test_support::test_plugin_dir;
using ::testing::ElementsAre;

std::vector<std::string> names(const std::vector<PluginInfo>& infos) {
  std::vector<std::string> out;
  for (const auto& info : infos) out.push_back(info.name);
  return out;
}

TEST(PluginsDiscovery, GoodPluginsAreListedWithTheirDescriptors) {
  LogCapture log;
  Registry registry;
  registry.load_file(test_plugin("test-pipe"));
  registry.load_file(test_plugin("test-memory"));
  registry.load_file(test_plugin("test-agent"));
  EXPECT_TRUE(registry.problems().empty());
  EXPECT_TRUE(log.errors().empty());

  const std::vector<PluginInfo> infos = registry.list();
  ASSERT_THAT(names(infos), ElementsAre("test-agent", "test-memory", "test-pipe"));  // by kind, then name

  EXPECT_EQ(infos[1].name, "test-memory");
  EXPECT_EQ(infos[1].version, "1.2.3");
  EXPECT_EQ(infos[1].kind, "storage");
  EXPECT_EQ(infos[1].abi_major, SBX_ABI_MAJOR);
  EXPECT_EQ(infos[1].min_host_minor, SBX_ABI_MINOR);
  EXPECT_EQ(infos[1].capabilities, SBX_CAP_RANDOM_ACCESS | SBX_CAP_DELETE);
  EXPECT_EQ(infos[1].file, test_plugin("test-memory").string());
  EXPECT_EQ(infos[1].description, "sets kept in memory, for the plugin host's tests");

  EXPECT_EQ(to_json(infos[0]), nlohmann::json::parse(R"({
    "name": "test-agent", "version": "0.9.0", "kind": "agent", "abi": "1.)" +
                                                     std::to_string(SBX_ABI_MINOR) + R"(",
    "capabilities": ["incremental", "file-based", "restore"],
    "file": ")" + test_plugin("test-agent").string() +
                                                     R"(",
    "description": "an in-memory file tree, for the plugin host's tests"})"));
  const nlohmann::json implicit = infos[2];
  EXPECT_EQ(implicit["kind"], "transport");
  EXPECT_EQ(implicit["capabilities"], nlohmann::json::array({"listen"}));
}

TEST(PluginsDiscovery, FindMatchesKindAndName) {
  Registry registry;
  registry.load_file(test_plugin("test-memory"));
  ASSERT_TRUE(registry.find(SBX_KIND_STORAGE, "test-memory").has_value());
  EXPECT_EQ(registry.find(SBX_KIND_STORAGE, "test-memory")->version, "1.2.3");
  EXPECT_FALSE(registry.find(SBX_KIND_AGENT, "test-memory").has_value());
  EXPECT_FALSE(registry.find(SBX_KIND_STORAGE, "test-memor").has_value());
}

TEST(PluginsDiscovery, FolderLoadsTheGoodAndReportsEveryBrokenOne) {
  LogCapture log;
  Registry registry;
  registry.load_dir(test_plugin_dir());

  EXPECT_THAT(names(registry.list()), ElementsAre("test-agent", "test-memory", "test-pipe"));

  std::set<fs::path> broken;
  for (const auto& entry : fs::directory_iterator(test_plugin_dir())) {
    if (entry.path().filename().string().starts_with("broken-")) broken.insert(entry.path());
  }
  ASSERT_GE(broken.size(), 15u);
  std::set<fs::path> reported;
  for (const auto& problem : registry.problems()) {
    EXPECT_TRUE(reported.insert(problem.file).second) << "reported twice: " << problem.file;
    EXPECT_THAT(problem.message, ::testing::StartsWith("plugin " + problem.file.string() + " refused: "));
  }
  EXPECT_EQ(reported, broken);
  EXPECT_EQ(log.errors().size(), registry.problems().size());
}

TEST(PluginsDiscovery, FolderSkipsFilesThatAreNotSharedLibraries) {
  TempDir dir;
  fs::copy_file(test_plugin("test-memory"), dir.path() / "memory.so");
  std::ofstream(dir.path() / "README.md") << "not a plugin\n";
  std::ofstream(dir.path() / "memory.so.bak") << "an old copy\n";
  Registry registry;
  registry.load_dir(dir.path());
  EXPECT_THAT(names(registry.list()), ElementsAre("test-memory"));
  EXPECT_TRUE(registry.problems().empty());
}

TEST(PluginsDiscovery, MissingFolderIsNoProblem) {
  TempDir dir;
  Registry registry;
  registry.load_dir(dir.path() / "not-there");
  EXPECT_TRUE(registry.list().empty());
  EXPECT_TRUE(registry.problems().empty());
}

TEST(PluginsDiscovery, FolderThatIsAFileIsAProblem) {
  TempDir dir;
  std::ofstream(dir.path() / "plugins") << "a file\n";
  LogCapture log;
  Registry registry;
  registry.load_dir(dir.path() / "plugins");
  ASSERT_EQ(registry.problems().size(), 1u);
  EXPECT_EQ(registry.problems()[0].message,
            "plugin directory " + (dir.path() / "plugins").string() + " is not a directory");
  EXPECT_EQ(log.errors().size(), 1u);
}

TEST(PluginsDiscovery, SecondPluginWithTheSameNameIsRefusedNamingBothFiles) {
  TempDir dir;
  const fs::path copy = dir.path() / "memory-copy.so";
  fs::copy_file(test_plugin("test-memory"), copy);
  LogCapture log;
  Registry registry;
  registry.load_file(test_plugin("test-memory"));
  registry.load_file(copy);

  EXPECT_THAT(names(registry.list()), ElementsAre("test-memory"));
  EXPECT_EQ(registry.list()[0].file, test_plugin("test-memory").string());
  ASSERT_EQ(registry.problems().size(), 1u);
  EXPECT_EQ(registry.problems()[0].message,
            "plugin " + copy.string() +
                " refused: a storage plugin named 'test-memory' is already loaded from " +
                test_plugin("test-memory").string());
  EXPECT_EQ(log.errors().size(), 1u);
  EXPECT_FALSE(test_support::library_mapped(copy));
  EXPECT_NO_THROW(registry.open_storage("test-memory", {}));
}

TEST(PluginsDiscovery, SameFileTwiceIsADuplicate) {
  Registry registry;
  registry.load_file(test_plugin("test-agent"));
  registry.load_file(test_plugin("test-agent"));
  EXPECT_EQ(registry.list().size(), 1u);
  ASSERT_EQ(registry.problems().size(), 1u);
  EXPECT_EQ(registry.problems()[0].message,
            "plugin " + test_plugin("test-agent").string() +
                " refused: an agent plugin named 'test-agent' is already loaded from " +
                test_plugin("test-agent").string());
  // Still loaded: the first registration holds it.
  EXPECT_TRUE(test_support::library_mapped(test_plugin("test-agent")));
}

TEST(PluginsDiscovery, RelativePathsAreRecordedAbsolute) {
  const fs::path previous = fs::current_path();
  fs::current_path(test_plugin_dir());
  Registry registry;
  registry.load_file("test-memory.so");
  fs::current_path(previous);
  ASSERT_EQ(registry.list().size(), 1u);
  EXPECT_EQ(fs::path(registry.list()[0].file), test_plugin("test-memory"));
}

TEST(PluginsDiscovery, UnknownPluginNamesTheAvailableOnes) {
  Registry registry;
  try {
    registry.open_storage("disk", {});
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_EQ(e.status(), SBX_ERR_NOT_FOUND);
    EXPECT_STREQ(e.what(), "no storage plugin named 'disk' (no storage plugins are loaded)");
  }
  registry.load_dir(test_plugin_dir());
  try {
    registry.open_storage("disk", {});
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_STREQ(e.what(), "no storage plugin named 'disk' (available: test-memory)");
  }
  try {
    registry.open_agent("test-memory", {});
    FAIL() << "expected PluginError";
  } catch (const PluginError& e) {
    EXPECT_STREQ(e.what(), "no agent plugin named 'test-memory' (available: test-agent)");
  }
}

class PluginsDefaultDirs : public ::testing::Test {
 protected:
  void SetUp() override {
    if (const char* value = getenv("STRONGBOX_PLUGIN_PATH")) saved_ = value;
  }
  void TearDown() override {
    if (saved_) {
      setenv("STRONGBOX_PLUGIN_PATH", saved_->c_str(), 1);
    } else {
      unsetenv("STRONGBOX_PLUGIN_PATH");
    }
  }
  static fs::path beside_executable() {
    return (fs::read_symlink("/proc/self/exe").parent_path() / ".." / "lib" / "strongbox" / "plugins")
        .lexically_normal();
  }

 private:
  std::optional<std::string> saved_;
};

TEST_F(PluginsDefaultDirs, BesideTheExecutableWithoutConfiguration) {
  unsetenv("STRONGBOX_PLUGIN_PATH");
  EXPECT_THAT(Registry::default_dirs(), ElementsAre(beside_executable()));
}

TEST_F(PluginsDefaultDirs, HonoursStrongboxPluginPathInOrder) {
  setenv("STRONGBOX_PLUGIN_PATH", "/opt/vendor/plugins::/srv/more plugins:", 1);
  EXPECT_THAT(Registry::default_dirs(), ElementsAre(beside_executable(), fs::path("/opt/vendor/plugins"),
                                                    fs::path("/srv/more plugins")));
}

TEST_F(PluginsDefaultDirs, PluginPathFoldersAreLoaded) {
  TempDir dir;
  fs::copy_file(test_plugin("test-agent"), dir.path() / "agent.so");
  setenv("STRONGBOX_PLUGIN_PATH", dir.path().c_str(), 1);
  Registry registry;
  for (const auto& folder : Registry::default_dirs()) registry.load_dir(folder);
  EXPECT_TRUE(registry.find(SBX_KIND_AGENT, "test-agent").has_value());
}

}  // namespace
}  // namespace sbx::plugins
