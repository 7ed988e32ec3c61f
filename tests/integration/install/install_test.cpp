// An installed strongbox (cmake --install) finds its plugins and default policies relative to itself.
#include "../cli/harness.hpp"

#include <sys/wait.h>

#include <cstdlib>

namespace fs = std::filesystem;
using namespace sbx::test;

namespace {

int run_shell(const std::string& command) { return std::system(command.c_str()); }

RunResult run_installed(const fs::path& binary, const std::vector<std::string>& args) {
  // The harness runs the build tree's binary; this one runs the installed copy.
  TempDir io;
  std::string cmd = "'" + binary.string() + "'";
  for (const auto& a : args) cmd += " '" + a + "'";
  cmd += " >'" + (io / "out").string() + "' 2>'" + (io / "err").string() + "'";
  RunResult r;
  int status = std::system(cmd.c_str());
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.out = read_file(io / "out");
  r.err = read_file(io / "err");
  return r;
}

}  // namespace

TEST(InstallLayout, InstalledBinaryFindsItsPluginsAndPolicies) {
  TempDir dir;
  fs::path prefix = dir / "prefix";
  ASSERT_EQ(run_shell(std::string(SBX_CMAKE_COMMAND) + " --install '" + SBX_BUILD_DIR + "' --prefix '" +
                      prefix.string() + "' >/dev/null"),
            0);
  fs::path binary = prefix / "bin" / "strongbox";
  ASSERT_TRUE(fs::exists(binary));
  ASSERT_TRUE(fs::exists(prefix / "lib" / "strongbox" / "plugins" / "sbx_storage_disk.so"));
  ASSERT_TRUE(fs::exists(prefix / "share" / "strongbox" / "policies" / "default" / "retention.lua"));
  EXPECT_FALSE(fs::exists(prefix / "lib" / "strongbox" / "test-plugins")) << "test plugins must not be installed";

  auto list = run_installed(binary, {"--json", "plugins", "list"});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  for (const char* name : {"\"disk\"", "\"files\"", "\"local\""}) EXPECT_NE(list.out.find(name), std::string::npos) << list.out;
  EXPECT_EQ(list.out.find(SBX_BUILD_DIR), std::string::npos) << "the installed binary loaded plugins from the build tree";

  fs::path site = dir / "site";
  write_file(dir / "data" / "hello.txt", "installed");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"init", site.string()},
           {"--site", site.string(), "backup", (dir / "data").string()},
           {"--site", site.string(), "restore", "--to", (dir / "out").string()},
           {"--site", site.string(), "verify"}}) {
    auto r = run_installed(binary, args);
    EXPECT_EQ(r.exit_code, 0) << args[0] << ": " << r.err;
  }
  EXPECT_EQ(read_file(dir / "out" / fs::relative(dir / "data" / "hello.txt", "/")), "installed");
}
