// The sandbox offers only base/string/table/math/utf8 and refuses precompiled chunks.
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <lua.hpp>

#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

const std::vector<SetInfo> kSeries = {full(1, kNov20_2026 - kDay), full(2, kNov20_2026)};

TEST(PolicySandbox, DangerousGlobalsAreAbsent) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, R"(
function expire(series, ctx)
  local report = {}
  for _, name in ipairs({"io", "os", "load", "loadstring", "dofile", "loadfile", "require", "package",
                         "collectgarbage", "debug", "coroutine", "warn", "module", "setfenv", "getfenv"}) do
    report[#report + 1] = name .. "=" .. type(_G[name])
  end
  report[#report + 1] = "string.dump=" .. type(string.dump)
  report[#report + 1] = "math.random=" .. type(math.random)
  report[#report + 1] = "math.randomseed=" .. type(math.randomseed)
  return { [1] = { keep = true, reasons = report } }
end
)");
  auto engine = make_engine(dir);
  const ExpireResult result = engine.evaluate_expire("s", kSeries, kNov20_2026);
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  const ExpireDecision& d = decision_for(result, 1);
  ASSERT_EQ(d.reasons.size(), 18u);
  for (const std::string& r : d.reasons) EXPECT_TRUE(r.ends_with("=nil")) << r;
}

TEST(PolicySandbox, UsingIoFailsClosedWithFileAndLine) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, "function expire(series, ctx)\n  io.open('/etc/passwd')\nend\n");
  auto engine = make_engine(dir);
  const ExpireResult result = engine.evaluate_expire("s", kSeries, kNov20_2026);
  expect_failed_closed(result, kSeries,
                       "default/retention.lua:2: attempt to index a nil value (global 'io')");
  EXPECT_NE(result.traceback.find("stack traceback"), std::string::npos);
  EXPECT_NE(result.traceback.find("default/retention.lua:2"), std::string::npos) << result.traceback;
}

std::string precompiled(const char* source) {
  lua_State* L = luaL_newstate();
  EXPECT_EQ(luaL_loadstring(L, source), LUA_OK);
  std::string out;
  lua_dump(
      L,
      [](lua_State*, const void* p, size_t n, void* ud) {
        static_cast<std::string*>(ud)->append(static_cast<const char*>(p), n);
        return 0;
      },
      &out, 0);
  lua_close(L);
  return out;
}

TEST(PolicySandbox, PrecompiledPolicyIsRefused) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, precompiled("function expire(s, c) return {} end"));
  auto engine = make_engine(dir);
  EXPECT_TRUE(engine.revision().empty());
  ASSERT_TRUE(engine.last_error().has_value());
  EXPECT_NE(engine.last_error()->find("default/retention.lua: precompiled Lua chunks are refused"),
            std::string::npos)
      << *engine.last_error();
  const ExpireResult result = engine.evaluate_expire("s", kSeries, kNov20_2026);
  expect_failed_closed(result, kSeries, "precompiled");
}

TEST(PolicySandbox, PrecompiledLibModuleIsRefused) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, "function expire(s, c) return {} end\n");
  write_file(dir / "lib" / "evil.lua", precompiled("return {}"));
  const CheckResult check = check_policy_dir(dir);
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_NE(check.errors[0].find("lib/evil.lua: precompiled Lua chunks are refused"), std::string::npos)
      << check.errors[0];
}

TEST(PolicySandbox, FinalizersAreRefused) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, R"(
function expire(series, ctx)
  setmetatable({}, { __gc = function() while true do end end })
  return {}
end
)");
  auto engine = make_engine(dir);
  expect_failed_closed(engine.evaluate_expire("s", kSeries, kNov20_2026), kSeries,
                       "__gc metamethods are not allowed");
}

TEST(PolicySandbox, PrintGoesToTheLog) {
  TempDir temp;
  const fs::path dir = make_policy_dir(
      temp, "function expire(series, ctx) print('deciding', #series, ctx.series) return {} end\n");
  std::ostringstream captured;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(captured)));
  {
    auto engine = make_engine(dir);
    EXPECT_FALSE(engine.evaluate_expire("nightly", kSeries, kNov20_2026).failed);
  }
  spdlog::set_default_logger(previous);
  EXPECT_NE(captured.str().find("policy default/retention.lua: deciding\t2\tnightly"), std::string::npos)
      << captured.str();
}

TEST(PolicySandbox, PcallAndXpcallBehaveAsInLua) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, R"(
local function show(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  return table.concat(parts, ",")
end
function expire(series, ctx)
  return { [1] = { keep = true, reasons = {
    show(pcall(function(x, y) return x + y, "ok" end, 2, 3)),
    show(pcall(error, "boom", 0)),
    show(xpcall(function(x, y) return x * y end, print, 6, 7)),
    show(xpcall(function(x) error("bad " .. x, 0) end, function(e) return "handled: " .. e end, "input")),
  } } }
end
)");
  auto engine = make_engine(dir);
  const ExpireResult result = engine.evaluate_expire("s", kSeries, kNov20_2026);
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  EXPECT_EQ(decision_for(result, 1).reasons,
            (std::vector<std::string>{"true,5,ok", "false,boom", "true,42", "false,handled: bad input"}));
}

TEST(PolicySandbox, LibIsReadOnlyAndNamesMissingModules) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, R"(
function expire(series, ctx)
  local ok1, e1 = pcall(function() lib.gfs = {} end)
  local ok2, e2 = pcall(function() return lib.nosuch end)
  return { [1] = { keep = true, reasons = { tostring(ok1), e1, tostring(ok2), e2 } } }
end
)");
  auto engine = make_engine(dir);
  const ExpireResult result = engine.evaluate_expire("s", kSeries, kNov20_2026);
  ASSERT_FALSE(result.failed) << result.error.value_or("");
  const ExpireDecision& d = decision_for(result, 1);
  ASSERT_EQ(d.reasons.size(), 4u);
  EXPECT_EQ(d.reasons[0], "false");
  EXPECT_NE(d.reasons[1].find("lib is read-only"), std::string::npos) << d.reasons[1];
  EXPECT_EQ(d.reasons[2], "false");
  EXPECT_NE(d.reasons[3].find("lib.nosuch: no such module (expected lib/nosuch.lua"), std::string::npos)
      << d.reasons[3];
}

}  // namespace
}  // namespace sbx::policy::testing
