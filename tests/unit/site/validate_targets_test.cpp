// Where a backup goes and who takes it: exactly one of device/pool, both must exist; the agent must be
// loaded.
#include "site_test_util.hpp"

namespace sbx::site::testing {
namespace {

using ValidateTargets = SiteTest;

TEST_F(ValidateTargets, ExactlyOneTarget) {
  Json none = minimal();
  none.erase("device");
  EXPECT_DEFINITION_ERROR(validate(none),
                          "definition 'web': needs exactly one target: \"device\": NAME or \"pool\"");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "pool", "fast")), "needs exactly one target");
}

TEST_F(ValidateTargets, UnknownDeviceOrPool) {
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "device", "disk9")),
                          "definition 'web': device: no device named 'disk9' (see `strongbox devices list`)");
  Json pooled = minimal();
  pooled.erase("device");
  pooled["pool"] = "fast";
  EXPECT_DEFINITION_ERROR(validate(pooled), "definition 'web': pool: no pool named 'fast'");
  catalog->add_pool("fast", "disk");
  EXPECT_EQ(validate(pooled)["pool"], "fast");
  EXPECT_FALSE(validate(pooled).contains("device"));
}

TEST_F(ValidateTargets, RemovedDeviceIsUnknown) {
  catalog->remove_device("disk2");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "device", "disk2")), "no device named 'disk2'");
}

TEST_F(ValidateTargets, WrongTypes) {
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "device", 1)), "device: must be a string, not number");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "device", "")), "device: must not be empty");
}

TEST_F(ValidateTargets, AgentMustBeALoadedAgentPlugin) {
  EXPECT_EQ(validate(minimal())["agent"], "files");
  EXPECT_EQ(validate(with(minimal(), "agent", "files"))["agent"], "files");
  EXPECT_DEFINITION_ERROR(
      validate(with(minimal(), "agent", "oracle")),
      "definition 'web': agent: no agent plugin named 'oracle' is loaded (loaded agents: files");
  // A storage plugin is not an agent.
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "agent", "disk")), "no agent plugin named 'disk'");
}

TEST_F(ValidateTargets, VerifyDefinitions) {
  Json verify = {{"kind", "verify"}, {"device", "disk1"}};
  Json canonical = validate(verify);
  EXPECT_EQ(canonical["kind"], "verify");
  EXPECT_EQ(canonical["device"], "disk1");
  EXPECT_FALSE(canonical.contains("sources"));
  EXPECT_EQ(validate({{"kind", "verify"}, {"all", true}})["all"], true);
  EXPECT_DEFINITION_ERROR(validate({{"kind", "verify"}}), "a verify definition needs exactly one of");
  EXPECT_DEFINITION_ERROR(validate({{"kind", "verify"}, {"all", true}, {"device", "disk1"}}),
                          "needs exactly one of");
  EXPECT_DEFINITION_ERROR(validate({{"kind", "verify"}, {"all", false}}), "all: must be true");
  EXPECT_DEFINITION_ERROR(validate({{"kind", "verify"}, {"device", "nope"}}),
                          "device: no device named 'nope'");
  EXPECT_DEFINITION_ERROR(validate({{"kind", "verify"}, {"device", "disk1"}, {"sources", {"/x"}}}),
                          "unknown key 'sources'");
}

}  // namespace
}  // namespace sbx::site::testing
