// `cmake --install --component sdk` gives a complete, self-describing CMake package.
#include <strongbox/sdk/sbx_common.h>

#include <fstream>
#include <sstream>
#include <strongbox/sdk/testkit/support.hpp>

#include "install_harness.hpp"

namespace sdk_install_test {
namespace {

std::string read_text(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(SdkInstallLayout, InstallsHeadersAndPackageFiles) {
  sbx::testkit::TempDir tmp("sbx-sdk-layout");
  fs::path prefix = tmp / "prefix";
  ASSERT_NO_FATAL_FAILURE(install_sdk(prefix));
  fs::path include = prefix / "include" / "strongbox" / "sdk";
  for (const char* header :
       {"sbx_common.h", "sbx_entry.h", "sbx_storage.h", "sbx_agent.h", "sbx_transport.h", "sbx_plugin.h",
        "plugin.hpp", "entry.hpp", "testkit/fake_host.hpp", "testkit/support.hpp",
        "testkit/storage_conformance.hpp", "testkit/agent_conformance.hpp",
        "testkit/transport_conformance.hpp", "testkit/transport_handles.hpp"})
    EXPECT_TRUE(fs::is_regular_file(include / header)) << "not installed: " << (include / header);
  for (const char* file : {"strongbox-sdkConfig.cmake", "strongbox-sdkConfigVersion.cmake",
                           "strongbox-sdkTargets.cmake", "StrongboxPluginHelpers.cmake"})
    EXPECT_TRUE(fs::is_regular_file(package_dir(prefix) / file))
        << "not installed: " << (package_dir(prefix) / file);

  // Only the SDK: no executables, plugins or folder READMEs come with the sdk component.
  for (const auto& entry : fs::recursive_directory_iterator(prefix)) {
    if (!entry.is_regular_file()) continue;
    std::string rel = fs::relative(entry.path(), prefix).string();
    bool header = rel.rfind("include/strongbox/sdk/", 0) == 0 &&
                  (entry.path().extension() == ".h" || entry.path().extension() == ".hpp");
    bool package = entry.path().parent_path() == package_dir(prefix);
    EXPECT_TRUE(header || package) << "unexpected file in the sdk component: " << rel;
  }
}

TEST(SdkInstallLayout, PackageVersionIsTheAbiVersion) {
  sbx::testkit::TempDir tmp("sbx-sdk-version");
  fs::path prefix = tmp / "prefix";
  ASSERT_NO_FATAL_FAILURE(install_sdk(prefix));
  std::string version = read_text(package_dir(prefix) / "strongbox-sdkConfigVersion.cmake");
  std::string want =
      "set(PACKAGE_VERSION \"" + std::to_string(SBX_ABI_MAJOR) + "." + std::to_string(SBX_ABI_MINOR) + "\")";
  EXPECT_NE(version.find(want), std::string::npos) << "wanted " << want << " in the version file";
}

// A consumer asking for this ABI major gets the targets and the helper; one asking for another is refused.
TEST(SdkInstallLayout, ConsumerFindsTheSdkAndAnotherMajorIsRefused) {
  sbx::testkit::TempDir tmp("sbx-sdk-consumer");
  fs::path prefix = tmp / "prefix";
  ASSERT_NO_FATAL_FAILURE(install_sdk(prefix));
  fs::path project = tmp / "consumer";
  fs::create_directories(project);
  std::ofstream(project / "CMakeLists.txt") << R"(cmake_minimum_required(VERSION 3.25)
project(consumer LANGUAGES CXX)
find_package(strongbox-sdk ${WANT} REQUIRED COMPONENTS testkit)
foreach(t strongbox::sdk strongbox::testkit)
  if(NOT TARGET ${t})
    message(FATAL_ERROR "missing target ${t}")
  endif()
endforeach()
if(NOT COMMAND strongbox_add_plugin)
  message(FATAL_ERROR "missing function strongbox_add_plugin")
endif()
strongbox_add_plugin(consumer_plugin SOURCES plugin.cpp)
get_target_property(type consumer_plugin TYPE)
get_target_property(prefix consumer_plugin PREFIX)
get_target_property(visibility consumer_plugin CXX_VISIBILITY_PRESET)
message(STATUS "consumer_plugin: ${type} prefix='${prefix}' visibility=${visibility} sdk=${strongbox-sdk_DIR}")
)";
  std::ofstream(project / "plugin.cpp") << "#include <strongbox/sdk/plugin.hpp>\n";

  std::string abi = std::to_string(SBX_ABI_MAJOR) + ".0";
  auto args = configure_args(project, tmp / "build-ok", prefix);
  args.push_back("-DWANT=" + abi);
  RunResult ok = run_ok(args);
  EXPECT_NE(ok.output.find("consumer_plugin: MODULE_LIBRARY prefix='' visibility=hidden sdk=" +
                           package_dir(prefix).string()),
            std::string::npos)
      << ok.output;

  args = configure_args(project, tmp / "build-next-major", prefix);
  args.push_back("-DWANT=" + std::to_string(SBX_ABI_MAJOR + 1) + ".0");
  RunResult refused = run(args);
  EXPECT_NE(refused.exit_code, 0) << "an SDK of ABI major " << SBX_ABI_MAJOR
                                  << " satisfied a request for major " << SBX_ABI_MAJOR + 1;
  EXPECT_NE(refused.output.find("strongbox-sdk"), std::string::npos) << refused.output;
}

}  // namespace
}  // namespace sdk_install_test
