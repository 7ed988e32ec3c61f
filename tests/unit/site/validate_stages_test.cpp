// stages: the copy graph a definition asks for; targets exist, "from" names an earlier stage, retention is
// fixed days or until-copied.
#include "site_test_util.hpp"

namespace sbx::site::testing {
namespace {

using ValidateStages = SiteTest;

Json stage(const std::string& name, const std::string& to) {
  return {{"name", name}, {"to", to}, {"retention", {{"days", 30}}}};
}

TEST_F(ValidateStages, CanonicalForm) {
  catalog->add_pool("offsite", "disk");
  Json first = stage("second-disk", "disk2");
  first["after"] = "360m";
  first["retention"] = {{"until_copied", true}};
  Json second = stage("archive", "pool:offsite");
  second["from"] = "second-disk";
  second["window"] = "22:00-06:00";
  Json spec = validate(with(with(minimal(), "stages", {first, second}), "time_zone", "Europe/Berlin"));
  EXPECT_EQ(spec["stages"], (Json{{{"name", "second-disk"},
                                   {"to", "disk2"},
                                   {"after", "6h"},
                                   {"retention", {{"until_copied", true}}}},
                                  {{"name", "archive"},
                                   {"to", "pool:offsite"},
                                   {"after", "0s"},
                                   {"from", "second-disk"},
                                   {"window", "22:00-06:00"},
                                   {"retention", {{"days", 30}}}}}));
  EXPECT_EQ(validate(minimal())["stages"], Json::array());
}

TEST_F(ValidateStages, TargetsMustExist) {
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({stage("copy", "disk9")}))),
                          "definition 'web': stages[0].to: no device named 'disk9'");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({stage("copy", "pool:none")}))),
                          "stages[0].to: no pool named 'none'");
  Json no_to = stage("copy", "disk2");
  no_to.erase("to");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({no_to}))),
                          "stages[0].to: is required");
}

TEST_F(ValidateStages, FromMustNameAnEarlierStage) {
  Json first = stage("a", "disk2");
  first["from"] = "b";
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", {first, stage("b", "tape1")})),
                          "stages[0].from: no earlier stage named 'b'");
  Json self = stage("a", "disk2");
  self["from"] = "a";
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({self}))),
                          "stages[0].from: no earlier stage named 'a'");
}

TEST_F(ValidateStages, NamesAreValidAndUnique) {
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", {stage("a", "disk2"), stage("a", "tape1")})),
                          "stages[1].name: stage 'a' is listed twice");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({stage("to tape", "tape1")}))),
                          "stages[0].name: invalid stage name 'to tape'");
  Json unnamed = stage("x", "disk2");
  unnamed.erase("name");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({unnamed}))),
                          "stages[0].name: is required");
}

TEST_F(ValidateStages, Retention) {
  Json s = stage("a", "disk2");
  s.erase("retention");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({s}))),
                          "stages[0].retention: is required");
  s["retention"] = {{"days", 0}};
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({s}))),
                          "stages[0].retention.days: must be a whole number from 1 to 36500, not 0");
  s["retention"] = {{"days", 1.5}};
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({s}))), "not 1.5");
  s["retention"] = {{"until_copied", false}};
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({s}))),
                          "stages[0].retention.until_copied: must be true");
  s["retention"] = {{"days", 3}, {"until_copied", true}};
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({s}))),
                          "stages[0].retention: must be exactly one of");
  s["retention"] = {{"weeks", 3}};
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({s}))),
                          "stages[0].retention: unknown key 'weeks'");
  s["retention"] = "30d";
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({s}))),
                          "stages[0].retention: must be a JSON object, not string");
}

TEST_F(ValidateStages, AfterAndWindow) {
  Json s = stage("a", "disk2");
  s["after"] = "soon";
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({s}))), "stages[0].after: ");
  s["after"] = "1h";
  s["window"] = "22:00";
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({s}))),
                          "stages[0].window: expected HH:MM-HH:MM");
  s["window"] = "25:00-06:00";
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", Json::array({s}))),
                          "stages[0].window: hour 25 is out of range");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", "disk2")), "stages: must be a list, not string");
  EXPECT_DEFINITION_ERROR(validate(with(minimal(), "stages", {stage("a", "disk2"), 3})),
                          "stages[1]: must be a JSON object, not number");
}

}  // namespace
}  // namespace sbx::site::testing
