// The SDK's agent conformance suite, run against the files agent loaded from its .so.
#include <strongbox/sdk/testkit/agent_conformance.hpp>

namespace {

std::string plugin_path() { return std::string(SBX_BUILD_DIR) + "/lib/strongbox/plugins/sbx_agent_files.so"; }

std::string empty_config(const std::filesystem::path&) { return "{}"; }

}  // namespace

INSTANTIATE_TEST_SUITE_P(Files, AgentConformance,
                         ::testing::Values(sbx::testkit::AgentTarget{plugin_path(), empty_config}));
