// Every kind of invalid stage refuses the whole plan (fail closed) with a message naming the stage and field.
#include <cctype>

#include "stages_test_support.hpp"

namespace sbx::policy::testing {
namespace {

struct InvalidCase {
  const char* title;
  const char* returned;  // Lua expression stages() returns
  std::vector<std::string> needles;
};

void PrintTo(const InvalidCase& c, std::ostream* os) {
  *os << c.title;
}

// A valid first stage, so the refusals below also show one bad entry drops the good ones.
#define GOOD "{ name = 'good', to = 'disk2', retention = { days = 1 } }, "

const InvalidCase kCases[] = {
    {"duplicate name",
     "{ " GOOD "{ name = 'good', to = 'tape2', retention = { days = 1 } } }",
     {"stage 2 (\"good\"): name \"good\" is already used by stage 1"}},
    {"missing name", "{ { to = 'disk2', retention = { days = 1 } } }", {"stage 1: name is missing"}},
    {"name with a space",
     "{ { name = 'a b', to = 'disk2', retention = { days = 1 } } }",
     {"stage 1: name \"a b\" must be 1 to 64 letters"}},
    {"name too long",
     "{ { name = string.rep('n', 65), to = 'disk2', retention = { days = 1 } } }",
     {"stage 1: name \"nnnn", "must be 1 to 64"}},
    {"name not a string",
     "{ { name = 42, to = 'disk2', retention = { days = 1 } } }",
     {"stage 1: name must be a string, got a number"}},
    {"missing to",
     "{ " GOOD "{ name = 'x', retention = { days = 1 } } }",
     {"stage 2 (\"x\"): to is missing"}},
    {"unknown device",
     "{ { name = 'x', to = 'disk9', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): to \"disk9\" names no device of this site", "\"disk1\", \"disk2\""}},
    {"unknown pool",
     "{ { name = 'x', to = 'pool:vault', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): to \"pool:vault\" names no pool of this site (pools: \"tapes\")"}},
    {"pool without name",
     "{ { name = 'x', to = 'pool:', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): to \"pool:\" names no pool"}},
    {"pool named as a device",
     "{ { name = 'x', to = 'tapes', retention = { days = 1 } } }",
     {"to \"tapes\" names no device", "pool:NAME"}},
    {"empty to",
     "{ { name = 'x', to = '', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): to must name a device"}},
    {"to not a string",
     "{ { name = 'x', to = { 'disk2' }, retention = { days = 1 } } }",
     {"stage 1 (\"x\"): to must be a device name or \"pool:NAME\", got a list"}},
    {"negative after",
     "{ { name = 'x', to = 'disk2', after = -1, retention = { days = 1 } } }",
     {"stage 1 (\"x\"): after must not be negative, got -1"}},
    {"after over 366 days",
     "{ { name = 'x', to = 'disk2', after = 366 * 86400 + 1, retention = { days = 1 } } }",
     {"stage 1 (\"x\"): after is 31622401 seconds, more than 366 days"}},
    {"after text over 366 days",
     "{ { name = 'x', to = 'disk2', after = '53w', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): after \"53w\" is more than 366 days"}},
    {"after huge text",
     "{ { name = 'x', to = 'disk2', after = '99999999999999999999s', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): after \"99999999999999999999s\" is more than 366 days"}},
    {"after unknown unit",
     "{ { name = 'x', to = 'disk2', after = '4x', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): after \"4x\" is not a duration: unknown unit"}},
    {"after without unit",
     "{ { name = 'x', to = 'disk2', after = '4', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): after \"4\" is not a duration: number 4 has no unit"}},
    {"after units out of order",
     "{ { name = 'x', to = 'disk2', after = '30m1h', retention = { days = 1 } } }",
     {"after \"30m1h\" is not a duration: units must each appear once, largest first"}},
    {"after negative text",
     "{ { name = 'x', to = 'disk2', after = '-4h', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): after \"-4h\" must not be negative"}},
    {"after empty text",
     "{ { name = 'x', to = 'disk2', after = '', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): after \"\" is an empty duration"}},
    {"after fraction",
     "{ { name = 'x', to = 'disk2', after = 1.5, retention = { days = 1 } } }",
     {"stage 1 (\"x\"): after must be whole seconds, got 1.5"}},
    {"after boolean",
     "{ { name = 'x', to = 'disk2', after = true, retention = { days = 1 } } }",
     {"stage 1 (\"x\"): after must be a number of seconds or a duration such as \"4h\", got a boolean"}},
    {"after infinite",
     "{ { name = 'x', to = 'disk2', after = math.huge, retention = { days = 1 } } }",
     {"default/stages.lua: stages(set, ctx) returned a value the engine cannot read: [1].after is not a "
      "finite "
      "number"}},
    {"window hour out of range",
     "{ { name = 'x', to = 'disk2', window = '25:00-06:00', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): window \"25:00-06:00\" is not HH:MM-HH:MM"}},
    {"window minute out of range",
     "{ { name = 'x', to = 'disk2', window = '22:60-06:00', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): window \"22:60-06:00\" is not HH:MM-HH:MM"}},
    {"window one time",
     "{ { name = 'x', to = 'disk2', window = '22:00', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): window \"22:00\" is not HH:MM-HH:MM"}},
    {"window short hour",
     "{ { name = 'x', to = 'disk2', window = '9:00-17:00', retention = { days = 1 } } }",
     {"window \"9:00-17:00\" is not HH:MM-HH:MM"}},
    {"window starting at 24",
     "{ { name = 'x', to = 'disk2', window = '24:00-06:00', retention = { days = 1 } } }",
     {"window \"24:00-06:00\" is not HH:MM-HH:MM"}},
    {"window empty",
     "{ { name = 'x', to = 'disk2', window = '06:00-06:00', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): window \"06:00-06:00\" starts and ends at the same time"}},
    {"window not a string",
     "{ { name = 'x', to = 'disk2', window = 2200, retention = { days = 1 } } }",
     {"stage 1 (\"x\"): window must be \"HH:MM-HH:MM\", got a number"}},
    {"window with control bytes",
     "{ { name = 'x', to = 'disk2', window = '22:00-06:00\\n', retention = { days = 1 } } }",
     {"window \"22:00-06:00\\x0a\" is not HH:MM-HH:MM"}},
    {"from a later stage",
     "{ { name = 'a', to = 'disk2', from = 'b', retention = { days = 1 } }, "
     "{ name = 'b', to = 'tape2', retention = { days = 1 } } }",
     {"stage 1 (\"a\"): from \"b\" names a later stage"}},
    {"from in a cycle",
     "{ { name = 'a', to = 'disk2', from = 'b', retention = { days = 1 } }, "
     "{ name = 'b', to = 'tape2', from = 'a', retention = { days = 1 } } }",
     {"stage 1 (\"a\"): from \"b\" names a later stage; a stage copies the original set or an earlier "
      "stage"}},
    {"from itself",
     "{ { name = 'a', to = 'disk2', from = 'a', retention = { days = 1 } } }",
     {"stage 1 (\"a\"): from \"a\" names the stage itself"}},
    {"from unknown",
     "{ " GOOD "{ name = 'x', to = 'tape2', from = 'goood', retention = { days = 1 } } }",
     {"stage 2 (\"x\"): from \"goood\" names no stage of this plan"}},
    {"from not a string",
     "{ { name = 'x', to = 'disk2', from = 1, retention = { days = 1 } } }",
     {"stage 1 (\"x\"): from must name an earlier stage, got a number"}},
    {"missing retention", "{ { name = 'x', to = 'disk2' } }", {"stage 1 (\"x\"): retention is missing"}},
    {"retention both",
     "{ { name = 'x', to = 'disk2', retention = { days = 3, until_copied = true } } }",
     {"stage 1 (\"x\"): retention gives both days and until_copied"}},
    {"retention empty",
     "{ { name = 'x', to = 'disk2', retention = {} } }",
     {"stage 1 (\"x\"): retention must give days = N or until_copied = true"}},
    {"retention zero days",
     "{ { name = 'x', to = 'disk2', retention = { days = 0 } } }",
     {"stage 1 (\"x\"): retention days must be 1 to 36500, got 0"}},
    {"retention negative days",
     "{ { name = 'x', to = 'disk2', retention = { days = -3 } } }",
     {"stage 1 (\"x\"): retention days must be 1 to 36500, got -3"}},
    {"retention too many days",
     "{ { name = 'x', to = 'disk2', retention = { days = 36501 } } }",
     {"stage 1 (\"x\"): retention days must be 1 to 36500, got 36501"}},
    {"retention fractional days",
     "{ { name = 'x', to = 'disk2', retention = { days = 1.5 } } }",
     {"stage 1 (\"x\"): retention days must be a whole number of days, got 1.5"}},
    {"retention days as text",
     "{ { name = 'x', to = 'disk2', retention = { days = '30' } } }",
     {"stage 1 (\"x\"): retention days must be a whole number of days, got a string"}},
    {"retention until_copied false",
     "{ { name = 'x', to = 'disk2', retention = { until_copied = false } } }",
     {"stage 1 (\"x\"): retention until_copied must be true", "got false"}},
    {"retention unknown field",
     "{ { name = 'x', to = 'disk2', retention = { weeks = 2 } } }",
     {"stage 1 (\"x\"): retention has unknown field \"weeks\""}},
    {"retention not a table",
     "{ { name = 'x', to = 'disk2', retention = 30 } }",
     {"stage 1 (\"x\"): retention must be {days = N} or {until_copied = true}, got a number"}},
    {"until_copied without a copy",
     "{ " GOOD "{ name = 'x', to = 'disk2', retention = { until_copied = true } } }",
     {"stage 2 (\"x\"): retention until_copied needs a later stage with from = \"x\""}},
    {"unknown field",
     "{ { name = 'x', to = 'disk2', tO = 'disk1', retention = { days = 1 } } }",
     {"stage 1 (\"x\"): has unknown field \"tO\" (expected name, to, after, window, from, retention)"}},
    {"stage not a table",
     "{ " GOOD "'disk2' }",
     {"stage 2: must be a table {name = , to = , ...}, got a string"}},
    {"named fields instead of a list",
     "{ good = { name = 'good', to = 'disk2', retention = { days = 1 } } }",
     {"default/stages.lua: stages must be a list of stage tables, got a table with named fields"}},
    {"a string instead of a list",
     "'disk2'",
     {"default/stages.lua: stages must be a list of stage tables, got a string"}},
    {"nil instead of a list",
     "nil",
     {"default/stages.lua: stages(set, ctx) returned nil; return a list of stages ({} for none)"}},
    {"list with a hole",
     "{ [1] = { name = 'a', to = 'disk2', retention = { days = 1 } }, [3] = {} }",
     {"returned a value the engine cannot read: the returned value mixes list items with named fields"}},
    {"function inside",
     "{ { name = 'x', to = 'disk2', retention = { days = function() end } } }",
     {"returned a value the engine cannot read: [1].retention.days is a function"}},
    {"coroutine inside",
     "{ { name = 'x', to = coroutine and coroutine.create(print) or print, retention = { days = 1 } } }",
     {"returned a value the engine cannot read: [1].to is a"}},
    {"too many stages",
     "(function() local t = {} for i = 1, 33 do t[i] = { name = 's' .. i, to = 'disk2', retention = { days = "
     "1 } } "
     "end return t end)()",
     {"default/stages.lua: 33 stages; a plan may hold at most 32"}},
    {"nested too deeply",
     "(function() local t = {} local cur = t for i = 1, 40 do cur.x = {} cur = cur.x end "
     "return { { name = 'x', to = 'disk2', retention = t } } end)()",
     {"[1].retention.x.x", "is nested deeper than 32 levels"}},
};

class StagesInvalid : public ::testing::TestWithParam<InvalidCase> {};

TEST_P(StagesInvalid, WholePlanIsRefusedNamingStageAndField) {
  const InvalidCase& c = GetParam();
  TempDir temp;
  const std::string lua = std::string("function stages(set, ctx)\n  return ") + c.returned + "\nend\n";
  auto engine = make_engine(make_stages_dir(temp, lua));
  ASSERT_FALSE(engine.last_error().has_value()) << engine.last_error().value_or("");
  const StagePlan plan = engine.evaluate_stages(nightly_set(), d2d2t_definition(), site_devices(), kNowNs);
  EXPECT_TRUE(plan.refused());
  EXPECT_TRUE(plan.entries.empty());
  ASSERT_EQ(plan.errors.size(), 1u) << joined(plan.errors);
  const std::string& error = plan.errors.front();
  EXPECT_TRUE(error.starts_with("default/stages.lua: ")) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos) << "one line: " << error;
  for (const std::string& needle : c.needles) {
    EXPECT_NE(error.find(needle), std::string::npos) << "missing `" << needle << "` in: " << error;
  }
  EXPECT_EQ(plan.revision, engine.revision()) << "a refusal records the revision too";
}

INSTANTIATE_TEST_SUITE_P(Cases, StagesInvalid, ::testing::ValuesIn(kCases),
                         [](const ::testing::TestParamInfo<InvalidCase>& info) {
                           std::string name;
                           for (const char* p = info.param.title; *p != '\0'; ++p) {
                             const char ch = *p;
                             name += (std::isalnum(static_cast<unsigned char>(ch)) != 0) ? ch : '_';
                           }
                           return name;
                         });

TEST(StagesInvalidAll, EveryBadStageIsReported) {
  TempDir temp;
  auto engine = make_engine(make_stages_dir(temp, R"lua(
function stages(set, ctx)
  return {
    { name = "a", to = "disk9", retention = { days = 1 } },
    { name = "b", to = "disk2", window = "late", retention = { days = 0 } },
    { name = "c", to = "disk2", retention = { days = 1 } },
  }
end
)lua"));
  const StagePlan plan = engine.evaluate_stages(nightly_set(), d2d2t_definition(), site_devices(), kNowNs);
  EXPECT_TRUE(plan.entries.empty());
  ASSERT_EQ(plan.errors.size(), 3u) << joined(plan.errors);
  EXPECT_NE(plan.errors[0].find("stage 1 (\"a\"): to"), std::string::npos) << plan.errors[0];
  EXPECT_NE(plan.errors[1].find("stage 2 (\"b\"): window"), std::string::npos) << plan.errors[1];
  EXPECT_NE(plan.errors[2].find("stage 2 (\"b\"): retention days"), std::string::npos) << plan.errors[2];
}

TEST(StagesInvalidAll, UnknownNamesAreShownSafely) {
  TempDir temp;
  auto engine = make_engine(make_stages_dir(temp, R"lua(
function stages(set, ctx)
  return { { name = "x", to = "disk\0\27[31m" .. string.rep("z", 200), retention = { days = 1 } } }
end
)lua"));
  const StagePlan plan = engine.evaluate_stages(nightly_set(), d2d2t_definition(), site_devices(), kNowNs);
  expect_refused(plan, {"to \"disk\\x00\\x1b[31mzzz", "zzz...\" names no device"});
  EXPECT_LT(plan.errors.front().size(), 300u);
}

TEST(StagesInvalidAll, InvalidInputsAreRefused) {
  auto engine = make_engine(shipped_policies());
  expect_refused(engine.evaluate_stages(json::array(), d2d2t_definition(), site_devices(), kNowNs),
                 {"invalid input for staging", "set must be a JSON object, got array"});
  expect_refused(engine.evaluate_stages(nightly_set(), json("nightly"), site_devices(), kNowNs),
                 {"definition spec must be a JSON object or null, got string"});
  expect_refused(
      engine.evaluate_stages(nightly_set(), d2d2t_definition(), json{{"devices", json::array()}}, kNowNs),
      {"devices must be a JSON object keyed by name, got array"});
  json tenant_number = nightly_set();
  tenant_number["tenant"] = 7;
  expect_refused(engine.evaluate_stages(tenant_number, d2d2t_definition(), site_devices(), kNowNs),
                 {"set tenant must be a string"});
}

TEST(StagesInvalidAll, NoDevicesKnownMeansNoTarget) {
  auto engine = make_engine(shipped_policies());
  const StagePlan plan = engine.evaluate_stages(nightly_set(), d2d2t_definition(), nullptr, kNowNs);
  EXPECT_TRUE(plan.entries.empty());
  ASSERT_EQ(plan.errors.size(), 2u) << joined(plan.errors);
  EXPECT_NE(
      plan.errors[0].find("stage 1 (\"disk2\"): to \"disk2\" names no device of this site (devices: none"),
      std::string::npos)
      << plan.errors[0];
  EXPECT_NE(
      plan.errors[1].find("stage 2 (\"tape\"): to \"pool:tapes\" names no pool of this site (pools: none)"),
      std::string::npos)
      << plan.errors[1];
}

}  // namespace
}  // namespace sbx::policy::testing
