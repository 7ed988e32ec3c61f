// Each deliberately broken plugin is refused with exactly one problem and one error line naming the file,
// what was wanted and what was found; the library is unloaded and the host goes on working.
#include <gmock/gmock.h>

#include <cstddef>
#include <fstream>

#include "plugin_test_support.hpp"
#include "strongbox/plugins.hpp"

namespace sbx::plugins {
namespace {

using test_support::LogCapture;
using test_support::TempDir;
using test_support::test_plugin;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// Loads one file, expects exactly one refusal whose reason matches, and checks the host still works.
template <class ReasonMatcher>
void expect_refused(const std::filesystem::path& file, ReasonMatcher reason) {
  LogCapture log;
  Registry registry;
  registry.load_file(file);

  EXPECT_TRUE(registry.list().empty());
  ASSERT_EQ(registry.problems().size(), 1u);
  const Registry::Problem& problem = registry.problems()[0];
  EXPECT_EQ(problem.file, file);
  const std::string prefix = "plugin " + file.string() + " refused: ";
  ASSERT_THAT(problem.message, StartsWith(prefix));
  EXPECT_THAT(problem.message.substr(prefix.size()), reason);
  EXPECT_EQ(problem.message.find('\n'), std::string::npos);
  EXPECT_EQ(log.errors(), std::vector<std::string>{problem.message});
  EXPECT_FALSE(test_support::library_mapped(file)) << "a refused plugin must not stay loaded";

  // The process and the registry survive: a good plugin still loads and works afterwards.
  registry.load_file(test_plugin("test-memory"));
  ASSERT_EQ(registry.list().size(), 1u);
  EXPECT_TRUE(registry.open_storage("test-memory", nlohmann::json::object())->list_sets().empty());
  EXPECT_EQ(registry.problems().size(), 1u);
}

void expect_plugin_refused(const std::string& plugin, const std::string& reason) {
  expect_refused(test_plugin(plugin), ::testing::Eq(reason));
}

TEST(PluginsBroken, MissingEntrySymbol) {
  expect_plugin_refused("broken-no-entry",
                        "no exported symbol 'sbx_plugin_entry' (wanted a strongbox plugin; is it built with "
                        "SBX_DEFINE_PLUGIN and default visibility for the entry?)");
}

TEST(PluginsBroken, EntryReturnsNull) {
  expect_plugin_refused("broken-null-entry", "sbx_plugin_entry returned NULL, wanted a descriptor");
}

TEST(PluginsBroken, EntryThrows) {
  expect_plugin_refused("broken-entry-throws",
                        "sbx_plugin_entry threw an exception: fixture: entry point failed on purpose");
}

TEST(PluginsBroken, WrongAbiMajor) {
  expect_plugin_refused("broken-abi-major", "built for ABI major 2, this strongbox has 1");
}

TEST(PluginsBroken, NeedsNewerHostMinor) {
  expect_plugin_refused("broken-host-minor", "needs a host with ABI 1." + std::to_string(SBX_ABI_MINOR + 1) +
                                                 " or newer, this strongbox has 1." +
                                                 std::to_string(SBX_ABI_MINOR));
}

TEST(PluginsBroken, TooSmallDescriptor) {
  expect_plugin_refused("broken-small-descriptor",
                        "descriptor has struct_size " +
                            std::to_string(offsetof(sbx_plugin_descriptor, capabilities)) + ", ABI 1." +
                            std::to_string(SBX_ABI_MINOR) + " needs at least " +
                            std::to_string(sizeof(sbx_plugin_descriptor)));
}

TEST(PluginsBroken, UnknownKind) {
  expect_plugin_refused("broken-unknown-kind",
                        "unknown plugin kind 77, wanted 1 (storage), 2 (agent) or 3 (transport)");
}

TEST(PluginsBroken, TapeKindWithoutVtable) {
  expect_plugin_refused("broken-tape-kind", "kind 'tape' has no vtable in ABI 1." +
                                                std::to_string(SBX_ABI_MINOR) +
                                                ", this strongbox cannot drive tape plugins yet");
}

TEST(PluginsBroken, InvalidName) {
  expect_plugin_refused("broken-bad-name",
                        "invalid plugin name 'Broken Name!', wanted 1-64 characters of a-z 0-9 _ -");
}

TEST(PluginsBroken, EmptyVersion) {
  expect_plugin_refused("broken-empty-version",
                        "invalid plugin version '', wanted 1-32 characters of A-Z a-z 0-9 . - + _ ~");
}

TEST(PluginsBroken, UnknownCapabilityBit) {
  expect_plugin_refused("broken-unknown-capability", "unknown capability bits 0x10000000000, ABI 1." +
                                                         std::to_string(SBX_ABI_MINOR) + " defines 0xfff");
}

TEST(PluginsBroken, NullVtable) {
  expect_plugin_refused("broken-null-vtable", "descriptor has no vtable, wanted an sbx_storage_vtable");
}

TEST(PluginsBroken, TooSmallVtable) {
  expect_plugin_refused("broken-small-vtable",
                        "sbx_storage_vtable has struct_size " +
                            std::to_string(offsetof(sbx_storage_vtable, list_sets)) +
                            ", ABI 1.0 needs at least " +
                            std::to_string(offsetof(sbx_storage_vtable, list_sets) + sizeof(void*)));
}

TEST(PluginsBroken, MissingRequiredCallback) {
  expect_plugin_refused("broken-missing-callback", "missing required callback 'read_entries'");
}

TEST(PluginsBroken, CapabilityWithoutItsCallback) {
  expect_plugin_refused("broken-missing-delete", "missing required callback 'delete_set'");
}

TEST(PluginsBroken, UnresolvedSymbol) {
  expect_refused(test_plugin("broken-undefined-symbol"),
                 ::testing::AllOf(StartsWith("cannot load it: "), HasSubstr("undefined symbol"),
                                  HasSubstr("sbx_fixture_symbol_no_library_defines")));
}

TEST(PluginsBroken, NotAnElfFile) {
  TempDir dir;
  const auto file = dir.path() / "garbage.so";
  std::ofstream(file) << "#!/bin/sh\necho this is not a shared library, whatever its name says\n";
  expect_refused(file, ::testing::AllOf(StartsWith("cannot load it: "), HasSubstr("invalid ELF header")));
}

TEST(PluginsBroken, EmptyFile) {
  TempDir dir;
  const auto file = dir.path() / "empty.so";
  std::ofstream{file};
  expect_refused(file, ::testing::AllOf(StartsWith("cannot load it: "), HasSubstr("file too short")));
}

TEST(PluginsBroken, MissingFile) {
  TempDir dir;
  expect_refused(dir.path() / "nothing-here.so", ::testing::Eq("cannot read it: No such file or directory"));
}

TEST(PluginsBroken, DirectoryNamedLikeALibrary) {
  TempDir dir;
  std::filesystem::create_directory(dir.path() / "folder.so");
  expect_refused(dir.path() / "folder.so", ::testing::Eq("it is a directory, wanted a shared library"));
}

}  // namespace
}  // namespace sbx::plugins
