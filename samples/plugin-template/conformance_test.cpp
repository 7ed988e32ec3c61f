// Runs the SDK's storage conformance suite against the template-dir plugin built beside this test.
#include <nlohmann/json.hpp>
#include <strongbox/sdk/testkit/storage_conformance.hpp>

namespace {

sbx::testkit::StorageTarget template_dir_target() {
  return {TEMPLATE_DIR_PLUGIN, [](const std::filesystem::path& dir) {
            return nlohmann::json{{"path", (dir / "store").string()}}.dump();
          }};
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(TemplateDir, StorageConformance, ::testing::Values(template_dir_target()));
