// The "alerts" configuration: what it accepts and the one-line errors for what it refuses.
#include "alerts_test_util.hpp"

namespace sbx::alerts {
namespace {

using Json = nlohmann::json;

std::string error_of(const Json& config) {
  try {
    parse_delivery_config(config);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(AlertConfig, ReadsEveryKey) {
  auto config = parse_delivery_config(Json::parse(
      R"({"command": ["/usr/local/bin/page", "--team", "ops"], "webhook": "https://hooks.example/x",
                      "timeout": 2500})"));
  EXPECT_EQ(config.command_argv, (std::vector<std::string>{"/usr/local/bin/page", "--team", "ops"}));
  EXPECT_EQ(config.webhook_url, "https://hooks.example/x");
  EXPECT_EQ(config.timeout_ms, 2500);
  EXPECT_EQ(parse_delivery_config(Json::parse(R"({"timeout": "1m"})")).timeout_ms, 60000);
  EXPECT_EQ(parse_delivery_config(Json::parse(R"({"timeout": "1500ms"})")).timeout_ms, 1500);
  auto defaults = parse_delivery_config(Json::object());
  EXPECT_TRUE(defaults.command_argv.empty());
  EXPECT_TRUE(defaults.webhook_url.empty());
  EXPECT_EQ(defaults.timeout_ms, 5000);
}

TEST(AlertConfig, RefusesHostileAndMistypedInput) {
  EXPECT_EQ(error_of(Json::array()), "the alerts configuration must be a JSON object, not array");
  EXPECT_EQ(
      error_of(Json::parse(R"({"command": "mail -s alert ops"})")),
      "alerts.command must be an array of strings, the program and its arguments (no shell is used), not "
      "string");
  EXPECT_EQ(error_of(Json::parse(R"({"command": []})")),
            "alerts.command is an empty array; name at least the program");
  EXPECT_EQ(error_of(Json::parse(R"({"command": ["/bin/x", 3]})")),
            "alerts.command[1] must be a string, not number");
  EXPECT_EQ(error_of(Json::parse(R"({"command": [""]})")), "alerts.command[0], the program, is empty");
  EXPECT_EQ(error_of(Json{{"command", {std::string("/bin/x\0y", 8)}}}),
            "alerts.command[0] contains a NUL byte");
  EXPECT_EQ(error_of(Json::parse(R"({"webhook": "ftp://example.org/x"})")),
            "alerts.webhook 'ftp://example.org/x' is not an http:// or https:// URL with a host");
  EXPECT_EQ(error_of(Json::parse(R"({"webhook": "127.0.0.1:8080/hook"})")),
            "alerts.webhook '127.0.0.1:8080/hook' is not an http:// or https:// URL with a host");
  EXPECT_EQ(error_of(Json::parse(R"({"webhook": "http://"})")),
            "alerts.webhook 'http://' is not an http:// or https:// URL with a host");
  EXPECT_EQ(error_of(Json::parse(R"({"webhook": 8080})")),
            "alerts.webhook must be an http:// or https:// URL string, not number");
  EXPECT_EQ(error_of(Json::parse(R"({"timeout": 0})")),
            "alerts.timeout must be between 1 ms and 10 minutes, not 0 ms");
  EXPECT_EQ(error_of(Json::parse(R"({"timeout": -5})")),
            "alerts.timeout must be between 1 ms and 10 minutes, not -5 ms");
  EXPECT_EQ(error_of(Json::parse(R"({"timeout": "1d"})")),
            "alerts.timeout must be between 1 ms and 10 minutes, not 86400000 ms");
  EXPECT_EQ(error_of(Json::parse(R"({"timeout": 2.5})")),
            "alerts.timeout must be whole milliseconds or a duration such as \"5s\", not 2.5");
  EXPECT_TRUE(error_of(Json::parse(R"({"timeout": "soon"})")).starts_with("alerts.timeout: "))
      << error_of(Json::parse(R"({"timeout": "soon"})"));
  EXPECT_EQ(error_of(Json::parse(R"({"webhok": "http://127.0.0.1/"})")),
            "alerts has no setting 'webhok' (known: command, webhook, timeout)");
}

TEST(AlertConfig, DelivererRefusesANonPositiveTimeout) {
  DeliveryConfig config;
  config.timeout_ms = 0;
  EXPECT_THROW(Deliverer{config}, ConfigError);
}

}  // namespace
}  // namespace sbx::alerts
