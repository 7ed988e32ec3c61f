// The SDK's transport conformance suite against the built local transport.
#include <string>
#include <strongbox/sdk/testkit/transport_conformance.hpp>

namespace {

sbx::testkit::TransportTarget local_target() {
  return {SBX_TRANSPORT_LOCAL_SO, [](const std::filesystem::path&) { return std::string("{}"); },
          [](int n) { return "conformance-" + std::to_string(n); }, "conformance-nobody-listens-here"};
}

}  // namespace

INSTANTIATE_TEST_SUITE_P(Local, TransportConformance, ::testing::Values(local_target()));
