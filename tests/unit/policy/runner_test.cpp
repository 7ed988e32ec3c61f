// `policy test`: runs *_test.lua files with helpers, fixtures and golden files.
#include <algorithm>

#include "policy_test_support.hpp"

namespace sbx::policy::testing {
namespace {

const TestCaseResult& case_named(const TestReport& report, const std::string& name) {
  auto it = std::find_if(report.cases.begin(), report.cases.end(),
                         [&](const TestCaseResult& c) { return c.name == name; });
  if (it == report.cases.end()) throw std::runtime_error("no test case " + name);
  return *it;
}

TestOptions fast() {
  TestOptions options;
  options.limits = test_limits();
  return options;
}

TEST(PolicyRunner, ShippedPoliciesPassTheirOwnTests) {
  const TestReport report = run_policy_tests(shipped_policies(), fast());
  for (const TestCaseResult& c : report.cases) {
    if (!c.passed) {
      ADD_FAILURE() << c.file << " " << c.name << ": " << c.message << "\n" << c.traceback;
    }
  }
  for (const std::string& e : report.errors) ADD_FAILURE() << e;
  EXPECT_TRUE(report.ok());
  EXPECT_GE(report.files, 3u);
  EXPECT_GE(report.passed, 15u);
  EXPECT_EQ(report.failed, 0u);
}

constexpr std::string_view kPolicy = R"(
function expire(series, ctx)
  local d = {}
  for _, set in ipairs(series) do d[set.id] = { keep = set.id % 2 == 0, reasons = { "parity" } } end
  return d
end
)";

constexpr std::string_view kTests = R"(-- tests of a small policy
function test_passes()
  expect_eq(expire({ { id = 2 } }, {})[2].keep, true)
end

function test_fails_eq()
  expect_eq(1 + 1, 3, "arithmetic")
end

function test_runtime_error()
  local x = nil
  return x.y
end

function test_loops_forever()
  while true do end
end

function test_fixture()
  local series = fixture("series")
  expect_eq(#series, 3)
  expect_eq(series[3].id, 3)
end

function test_golden()
  expect_golden("decisions", expire(fixture("series"), {}))
end

function test_expect_error()
  expect_error(function() error("boom today") end, "boom")
end

function test_expect_error_without_error()
  expect_error(function() end)
end

function test_tables_compare_by_content()
  expect_eq({ a = 1, b = { 2, 3 } }, { b = { 2, 3 }, a = 1.0 })
  expect_eq({ 1, 2 }, { 1, 2, 3 }, "lists differ")
end

function test_frozen_helper()
  local t = freeze({ x = { 1 } })
  expect_error(function() t.x[1] = 2 end, "read-only")
  expect_true(false, "last line")
end

function test_bad_fixture_name()
  fixture("../../etc/passwd")
end
)";

fs::path make_test_dir(const TempDir& temp) {
  const fs::path dir = make_policy_dir(temp, kPolicy);
  write_file(dir / "default" / "retention_test.lua", kTests);
  write_file(dir / "default" / "fixtures" / "series.lua",
             "local s = {}\nfor i = 1, 3 do s[i] = { id = i } end\nreturn s\n");
  return dir;
}

TEST(PolicyRunner, ReportsEachTestWithFileAndLine) {
  TempDir temp;
  const TestReport report = run_policy_tests(make_test_dir(temp), fast());
  EXPECT_FALSE(report.ok());
  EXPECT_EQ(report.files, 1u);
  EXPECT_EQ(report.cases.size(), 11u);
  EXPECT_EQ(report.cases.front().name, "test_passes") << "tests run in file order";

  EXPECT_TRUE(case_named(report, "test_passes").passed);
  EXPECT_TRUE(case_named(report, "test_fixture").passed);
  EXPECT_TRUE(case_named(report, "test_expect_error").passed);

  const TestCaseResult& eq = case_named(report, "test_fails_eq");
  EXPECT_FALSE(eq.passed);
  EXPECT_EQ(eq.file, "default/retention_test.lua");
  EXPECT_EQ(eq.location, "default/retention_test.lua:7");
  EXPECT_EQ(eq.message, "default/retention_test.lua:7: expect_eq failed: expected 3, got 2 (arithmetic)");

  const TestCaseResult& runtime = case_named(report, "test_runtime_error");
  EXPECT_EQ(runtime.location, "default/retention_test.lua:12");
  EXPECT_NE(runtime.message.find("attempt to index a nil value (local 'x')"), std::string::npos);
  EXPECT_NE(runtime.traceback.find("test_runtime_error"), std::string::npos) << runtime.traceback;

  const TestCaseResult& loops = case_named(report, "test_loops_forever");
  EXPECT_NE(loops.message.find("exceeded its instruction budget"), std::string::npos) << loops.message;
  EXPECT_EQ(loops.location, "default/retention_test.lua:16");

  const TestCaseResult& golden = case_named(report, "test_golden");
  EXPECT_NE(golden.message.find("default/fixtures/decisions.golden does not exist"), std::string::npos)
      << golden.message;

  EXPECT_NE(case_named(report, "test_expect_error_without_error").message.find("raised no error"),
            std::string::npos);
  const TestCaseResult& tables = case_named(report, "test_tables_compare_by_content");
  EXPECT_EQ(tables.location, "default/retention_test.lua:39") << tables.message;
  EXPECT_NE(tables.message.find("first difference at line 4: expected `  3,`, got `}`"), std::string::npos)
      << tables.message;
  EXPECT_NE(
      case_named(report, "test_frozen_helper").message.find("expect_true failed: got false (last line)"),
      std::string::npos);
  EXPECT_NE(case_named(report, "test_bad_fixture_name").message.find("fixture: name '../../etc/passwd'"),
            std::string::npos);
  EXPECT_EQ(report.passed, 3u);
  EXPECT_EQ(report.failed, 8u);
}

TEST(PolicyRunner, GoldenFilesAreWrittenOnRequestThenCompared) {
  TempDir temp;
  const fs::path dir = make_test_dir(temp);
  TestOptions update = fast();
  update.update_golden = true;
  const TestReport written = run_policy_tests(dir, update);
  EXPECT_TRUE(case_named(written, "test_golden").passed);
  const fs::path golden = dir / "default" / "fixtures" / "decisions.golden";
  EXPECT_EQ(read_file(golden),
            "{\n"
            "  [1] = {\n"
            "    keep = false,\n"
            "    reasons = {\n"
            "      \"parity\",\n"
            "    },\n"
            "  },\n"
            "  [2] = {\n"
            "    keep = true,\n"
            "    reasons = {\n"
            "      \"parity\",\n"
            "    },\n"
            "  },\n"
            "  [3] = {\n"
            "    keep = false,\n"
            "    reasons = {\n"
            "      \"parity\",\n"
            "    },\n"
            "  },\n"
            "}\n");
  const TestReport compared = run_policy_tests(dir, fast());
  EXPECT_TRUE(case_named(compared, "test_golden").passed);

  std::string edited = read_file(golden);
  edited.replace(edited.find("keep = true"), 11, "keep = false");
  write_file(golden, edited);
  const TestReport after_edit = run_policy_tests(dir, fast());
  const TestCaseResult& changed = case_named(after_edit, "test_golden");
  EXPECT_FALSE(changed.passed);
  EXPECT_NE(changed.message.find(
                "value differs from default/fixtures/decisions.golden, first difference at line 9: "
                "expected `    keep = false,`, got `    keep = true,`"),
            std::string::npos)
      << changed.message;
  EXPECT_EQ(changed.location, "default/retention_test.lua:26");
}

TEST(PolicyRunner, BrokenTestFilesAreReported) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, kPolicy);
  write_file(dir / "default" / "retention_test.lua", "function test_a()\n  expect_eq(1,\nend\n");
  write_file(dir / "lib" / "gfs_extra_test.lua", "-- no tests here\nlocal x = 1\n");
  const TestReport report = run_policy_tests(dir, fast());
  ASSERT_EQ(report.cases.size(), 2u);
  EXPECT_EQ(report.cases[0].file, "default/retention_test.lua");
  EXPECT_EQ(report.cases[0].name, "(load)");
  EXPECT_TRUE(report.cases[0].message.starts_with("default/retention_test.lua:3:"))
      << report.cases[0].message;
  EXPECT_EQ(report.cases[1].message, "lib/gfs_extra_test.lua: defines no test_* functions");
  EXPECT_EQ(report.failed, 2u);
}

TEST(PolicyRunner, TenantTestsUseTheDefaultPolicyUnlessOverridden) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, kPolicy);
  write_file(dir / "tenants" / "acme" / "retention_test.lua",
             "function test_default_policy_is_under_test()\n  expect_eq(expire({ { id = 4 } }, {})[4].keep, "
             "true)\nend\n");
  write_file(dir / "tenants" / "globex" / "retention.lua",
             "function expire() return { [4] = { keep = false } } end\n");
  write_file(dir / "tenants" / "globex" / "retention_test.lua",
             "function test_override_is_under_test()\n  expect_eq(expire({}, {})[4].keep, false)\nend\n");
  const TestReport report = run_policy_tests(dir, fast());
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.passed, 2u);
}

TEST(PolicyRunner, LibAndCalendarAreAvailableToTests) {
  TempDir temp;
  const fs::path dir = make_policy_dir(temp, kPolicy);
  write_file(dir / "lib" / "calendar_extra_test.lua",
             "function test_day()\n  expect_eq(lib.calendar.day_key(0), '1970-01-01')\nend\n");
  const TestReport report = run_policy_tests(dir, fast());
  EXPECT_TRUE(report.ok()) << (report.cases.empty() ? "" : report.cases[0].message);
}

TEST(PolicyRunner, MissingFolder) {
  TempDir temp;
  const TestReport report = run_policy_tests(temp.path() / "absent", fast());
  EXPECT_FALSE(report.ok());
  ASSERT_EQ(report.errors.size(), 1u);
}

}  // namespace
}  // namespace sbx::policy::testing
