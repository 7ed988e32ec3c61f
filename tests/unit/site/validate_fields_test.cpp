// The remaining fields: unknown keys, kind, priority, retries, retention policy, encryption, names, shape.
#include "site_test_util.hpp"

namespace sbx::site::testing {
namespace {

using ValidateFields = SiteTest;

TEST_F(ValidateFields, UnknownKeysNamed) {
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "sorces", {"/x"})),
                          "definition 'web': unknown key 'sorces' (known keys: kind, agent, sources");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "retries", {{"attempts", 2}, {"delay", "1m"}})),
                          "retries: unknown key 'delay'");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "bad\nkey", 1)), "unknown key 'bad\\x0akey'");
}

TEST_F(ValidateFields, SpecAndNameShape) {
  EXPECT_DEFINITION_ERROR(validate(Json::array()), "definition 'web': must be a JSON object, not array");
  EXPECT_DEFINITION_ERROR(validate(minimal(), "my web"), "invalid definition name 'my web'");
  EXPECT_DEFINITION_ERROR(validate(minimal(), ""), "invalid definition name ''");
  EXPECT_DEFINITION_ERROR(validate(minimal(), std::string(65, 'w')), "invalid definition name");
}

TEST_F(ValidateFields, Kind) {
  EXPECT_EQ(validate(minimal())["kind"], "backup");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "kind", "restore")),
                          "kind: 'restore' is not one of: backup, verify");
}

TEST_F(ValidateFields, Priority) {
  EXPECT_EQ(validate(minimal())["priority"], 50);
  EXPECT_EQ(validate(with(minimal(), "priority", 0))["priority"], 0);
  EXPECT_EQ(validate(with(minimal(), "priority", 100))["priority"], 100);
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "priority", 101)),
                          "priority: must be a whole number from 0 to 100, not 101");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "priority", -1)), "not -1");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "priority", 50.5)), "not 50.5");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "priority", "high")), "not string");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "priority", true)), "not boolean");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "priority", 18446744073709551615ull)),
                          "not 18446744073709551615");
}

TEST_F(ValidateFields, Retries) {
  EXPECT_EQ(validate(minimal())["retries"], (Json{{"attempts", 3}, {"backoff", "5m"}}));
  EXPECT_EQ(validate(with(minimal(), "retries", {{"attempts", 1}}))["retries"],
            (Json{{"attempts", 1}, {"backoff", "5m"}}));
  EXPECT_EQ(validate(with(minimal(), "retries", {{"backoff", "90s"}}))["retries"]["backoff"], "1m30s");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "retries", {{"attempts", 0}})),
                          "retries.attempts: must be a whole number from 1 to 100, not 0");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "retries", {{"backoff", "5 minutes"}})),
                          "retries.backoff: ");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "retries", 3)),
                          "retries: must be a JSON object, not number");
}

TEST_F(ValidateFields, RetentionPolicyDirectory) {
  EXPECT_EQ(validate(minimal())["retention"], "default");
  EXPECT_EQ(validate(with(minimal(), "retention", "tenants/acme"))["retention"], "tenants/acme");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "retention", "tenants/globex")),
                          "retention: no policy directory " + (policies / "tenants" / "globex").string());
  for (const char* bad : {"../etc", "tenants/../default", "/etc", "lib", "tenants/", "tenants/a/b"}) {
    EXPECT_DEFINITION_ERROR(validate(with(minimal(), "retention", bad)), "is not a policy directory name");
  }
  std::filesystem::remove_all(policies / "default");
  EXPECT_DEFINITION_ERROR(validate(minimal()), "retention: no policy directory");
}

TEST_F(ValidateFields, EncryptionRequiredNeedsEncryptingTargets) {
  EXPECT_EQ(validate(minimal())["encryption"], "none");
  EXPECT_DEFINITION_ERROR(
      validate(with(minimal(), "encryption", "required")),
      "definition 'web': encryption: is \"required\", but device 'disk1' has no key_file");
  EXPECT_EQ(validate(with(with(minimal(), "encryption", "required"), "device", "vault"))["encryption"],
            "required");

  catalog->add_pool("safe", "disk");
  catalog->add_pool_member("safe", "vault");
  catalog->add_pool_member("safe", "disk2");
  Json pooled = with(minimal(), "encryption", "required");
  pooled.erase("device");
  pooled["pool"] = "safe";
  EXPECT_DEFINITION_ERROR(validate(pooled), "device 'disk2' (in pool 'safe') has no key_file");
  catalog->remove_pool_member("safe", "disk2");
  EXPECT_NO_THROW(validate(pooled));

  Json staged = with(with(minimal(), "encryption", "required"), "device", "vault");
  staged["stages"] = {{{"name", "tape"}, {"to", "tape1"}, {"retention", {{"days", 9}}}}};
  EXPECT_DEFINITION_ERROR(validate(staged), "device 'tape1' (stage 'tape') has no key_file");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "encryption", "yes")),
                          "encryption: 'yes' is not one of: none, required");
}

}  // namespace
}  // namespace sbx::site::testing
