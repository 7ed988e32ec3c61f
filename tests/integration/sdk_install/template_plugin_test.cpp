// samples/plugin-template, built out of tree against the installed SDK as a third party would build it,
// loads through the fake host, exports only its entry point and passes the storage conformance suite.
// Set SBX_KEEP_TEST_DIR=1 to keep the install prefix and the build (with the plugin) after the test.
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <strongbox/sdk/entry.hpp>
#include <strongbox/sdk/testkit/fake_host.hpp>
#include <strongbox/sdk/testkit/support.hpp>

#include "install_harness.hpp"

namespace sdk_install_test {
namespace {

using sbx::testkit::FakeHost;

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every strong symbol the plugin exports; weak and unique ones are template instances the C++ runtime
// headers give default visibility, which hidden-visibility builds cannot and need not hide.
std::vector<std::string> strong_exports(const fs::path& so) {
  RunResult r = run_ok({"nm", "-D", "--defined-only", so.string()});
  std::vector<std::string> names;
  std::istringstream lines(r.output);
  std::string address, type, name;
  while (lines >> address >> type >> name)
    if (type != "W" && type != "w" && type != "V" && type != "v" && type != "u") names.push_back(name);
  return names;
}

// Writes one entry, commits, reads it back, and checks a refusal carries a message: the smallest proof the
// built library is a working storage plugin, independent of the conformance binary.
void smoke_test(const sbx::testkit::LoadedPlugin& plugin, const fs::path& store) {
  const sbx_storage_vtable* vt = plugin.storage();
  std::string config = R"({"path":")" + store.string() + R"("})";
  sbx_storage_device* device = nullptr;
  ASSERT_NE(vt->open_or_create, nullptr) << "the template is an ABI 1.2 plugin";
  ASSERT_EQ(vt->open({config.data(), config.size()}, &device), SBX_ERR_OFFLINE) << "open made a store";
  ASSERT_EQ(vt->open_or_create({config.data(), config.size()}, &device), SBX_OK) << FakeHost::last_error();

  sbx::sdk::Entry entry;
  entry.type = SBX_ENTRY_FILE;
  entry.path = "etc/motd";
  entry.mode = 0644;
  std::string data = "welcome to strongbox\n";
  entry.size = data.size();
  sbx_storage_writer* writer = nullptr;
  std::string set = "smoke";
  ASSERT_EQ(vt->begin_set(device, {set.data(), set.size()}, &writer), SBX_OK) << FakeHost::last_error();
  ASSERT_EQ(vt->write_entry(writer, &entry.as_c()), SBX_OK) << FakeHost::last_error();
  ASSERT_EQ(vt->write_data(writer, sbx::sdk::make_bytes(data)), SBX_OK) << FakeHost::last_error();
  uint8_t locator[SBX_LOCATOR_MAX];
  size_t locator_len = 0;
  ASSERT_EQ(vt->end_entry(writer, locator, &locator_len), SBX_OK) << FakeHost::last_error();
  ASSERT_EQ(vt->commit_set(writer, nullptr), SBX_OK) << FakeHost::last_error();

  struct Collected {
    std::string path, data;
  } got;
  sbx_entry_sink sink{};
  sink.struct_size = sizeof sink;
  sink.ctx = &got;
  sink.on_entry = [](void* ctx, const sbx_entry* e) {
    static_cast<Collected*>(ctx)->path.assign(sbx::sdk::view(e->path));
    return SBX_OK;
  };
  sink.on_data = [](void* ctx, sbx_bytes d) {
    static_cast<Collected*>(ctx)->data.append(sbx::sdk::view(d));
    return SBX_OK;
  };
  sink.on_entry_end = [](void*) { return SBX_OK; };
  sink.on_entry_error = [](void*, size_t, sbx_status, sbx_str) { return SBX_OK; };
  sbx_storage_reader* reader = nullptr;
  ASSERT_EQ(vt->open_set(device, {set.data(), set.size()}, &reader), SBX_OK) << FakeHost::last_error();
  sbx_bytes loc{locator, locator_len};
  EXPECT_EQ(vt->read_entries(reader, &loc, 1, &sink), SBX_OK) << FakeHost::last_error();
  vt->close_reader(reader);
  EXPECT_EQ(got.path, "etc/motd");
  EXPECT_EQ(got.data, data);

  FakeHost::clear_error();
  std::string missing = "never-written";
  EXPECT_EQ(vt->open_set(device, {missing.data(), missing.size()}, &reader), SBX_ERR_NOT_FOUND);
  EXPECT_NE(FakeHost::last_error().find("never-written"), std::string::npos) << FakeHost::last_error();
  vt->close(device);
}

TEST(SdkInstall, TemplatePluginBuildsOutOfTreeLoadsAndPassesConformance) {
  sbx::testkit::TempDir tmp("sbx-sdk-install");
  const char* keep_env = std::getenv("SBX_KEEP_TEST_DIR");
  const bool keep = keep_env && *keep_env && std::string(keep_env) != "0";
  if (keep) tmp.keep();
  fs::path prefix = tmp / "prefix";
  fs::path build = tmp / "build";
  ASSERT_NO_FATAL_FAILURE(install_sdk(prefix));

  auto configure = configure_args(fs::path(SBX_SOURCE_DIR) / "samples" / "plugin-template", build, prefix);
  configure.push_back("-DTEMPLATE_DIR_BUILD_TESTS=ON");
  // Third parties may build with warnings as errors; the SDK's headers must not stop them.
  configure.push_back("-DCMAKE_CXX_FLAGS=-Wall -Wextra -Werror");
  RunResult configured = run(configure);
  ASSERT_EQ(configured.exit_code, 0) << describe(configure, configured);
  std::string cache = read_text(build / "CMakeCache.txt");
  EXPECT_NE(cache.find("strongbox-sdk_DIR:PATH=" + package_dir(prefix).string()), std::string::npos)
      << "the sample found an SDK other than the one just installed";

  std::vector<std::string> compile{SBX_CMAKE_COMMAND, "--build", build.string(), "--parallel", "2"};
  RunResult built = run(compile);
  ASSERT_EQ(built.exit_code, 0) << describe(compile, built);

  fs::path so = build / "sbx_storage_template_dir.so";
  ASSERT_TRUE(fs::is_regular_file(so)) << "the build made no " << so;
  std::cout << "[ sdk_install ] template-dir plugin built at " << so.string()
            << (keep ? "" : " (removed after the test; SBX_KEEP_TEST_DIR=1 keeps it)") << std::endl;
  ::testing::Test::RecordProperty("template_plugin", so.string());

  EXPECT_EQ(strong_exports(so), std::vector<std::string>{"sbx_plugin_entry"})
      << "a plugin must export its entry point and nothing else of its own";

  {
    std::optional<sbx::testkit::LoadedPlugin> plugin;
    try {
      plugin.emplace(sbx::testkit::load_plugin_file(so.string()));
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    const sbx_plugin_descriptor& d = plugin->descriptor();
    for (const auto& problem : sbx::testkit::descriptor_problems(d, SBX_KIND_STORAGE))
      ADD_FAILURE() << problem;
    EXPECT_STREQ(d.name, "template-dir");
    EXPECT_EQ(d.capabilities, SBX_CAP_RANDOM_ACCESS | SBX_CAP_DELETE);
    ASSERT_NO_FATAL_FAILURE(smoke_test(*plugin, tmp / "store"));
  }

  // The core loads it like any plugin: found through STRONGBOX_PLUGIN_PATH, listed, and usable as a device.
  setenv("STRONGBOX_PLUGIN_PATH", build.c_str(), 1);
  const std::string strongbox = (fs::path(SBX_BUILD_DIR) / "bin" / "strongbox").string();
  std::vector<std::string> list{strongbox, "--json", "plugins", "list"};
  RunResult listed = run(list);
  EXPECT_EQ(listed.exit_code, 0) << describe(list, listed);
  EXPECT_NE(listed.output.find("\"name\":\"template-dir\""), std::string::npos) << listed.output;
  fs::path site = tmp / "site";
  std::vector<std::vector<std::string>> steps = {
      {strongbox, "init", site.string()},
      {strongbox, "--site", site.string(), "devices", "add", "third-party", "--type", "template-dir",
       "--path", (tmp / "third-party-store").string()},
      {strongbox, "--site", site.string(), "backup",
       (fs::path(SBX_SOURCE_DIR) / "samples" / "plugin-template").string(), "--device", "third-party"},
      {strongbox, "--site", site.string(), "verify"},
  };
  for (const auto& step : steps) {
    RunResult r = run(step);
    EXPECT_EQ(r.exit_code, 0) << describe(step, r);
  }
  unsetenv("STRONGBOX_PLUGIN_PATH");

  std::vector<std::string> conformance{(build / "template_dir_conformance").string(), "--gtest_brief=1"};
  RunResult checked = run(conformance);
  EXPECT_EQ(checked.exit_code, 0) << describe(conformance, checked);
  EXPECT_NE(checked.output.find("[  PASSED  ]"), std::string::npos) << checked.output;
  EXPECT_EQ(checked.output.find("FAILED"), std::string::npos) << checked.output;
}

}  // namespace
}  // namespace sdk_install_test
