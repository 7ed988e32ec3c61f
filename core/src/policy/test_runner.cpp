// `strongbox policy test DIR`: runs *_test.lua files, one fresh sandbox per test function.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <system_error>

#include "repo_internal.hpp"

namespace sbx::policy {
namespace {

namespace fs = std::filesystem;
using detail::LuaFailure;
using detail::Sandbox;

constexpr std::size_t kMaxShownValue = 300;

struct TestHost {
  fs::path dir;
  std::string folder;  // folder of the test file, relative to dir: "default", "lib", "tenants/acme"
  bool update_golden = false;
  PolicyFile fixture;  // the fixture being loaded
};

TestHost& host_of(lua_State* L) {
  return *static_cast<TestHost*>(Sandbox::from(L).host_data);
}

// Raises "file:line: <scratch>" where file:line is the caller of the helper.
int raise_scratch(lua_State* L) {
  Sandbox& sandbox = Sandbox::from(L);
  luaL_where(L, 1);
  lua_pushlstring(L, sandbox.scratch.data(), sandbox.scratch.size());
  lua_concat(L, 2);
  return lua_error(L);
}

bool valid_fixture_name(std::string_view name) {
  if (name.empty() || name.find("..") != std::string_view::npos) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

std::string shorten(std::string text) {
  if (text.size() > kMaxShownValue) {
    text.resize(kMaxShownValue);
    text += "...";
  }
  return text;
}

std::string value_text(lua_State* L, int idx) {
  std::string text;
  std::string error;
  if (!detail::canonical_text(L, idx, text, error)) {
    return std::string("(") + lua_typename(L, lua_type(L, idx)) + ")";
  }
  return text;
}

std::vector<std::string_view> lines_of(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = text.find('\n', start);
    lines.push_back(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return lines;
}

// "expected X, got Y", or the first differing line of two multi-line texts.
std::string describe_difference(const std::string& expected, const std::string& actual) {
  if (expected.find('\n') == std::string::npos && actual.find('\n') == std::string::npos) {
    return "expected " + shorten(expected) + ", got " + shorten(actual);
  }
  const auto want = lines_of(expected);
  const auto got = lines_of(actual);
  std::size_t line = 0;
  while (line < want.size() && line < got.size() && want[line] == got[line]) ++line;
  const std::string w = line < want.size() ? std::string(want[line]) : std::string("(end)");
  const std::string g = line < got.size() ? std::string(got[line]) : std::string("(end)");
  return "first difference at line " + std::to_string(line + 1) + ": expected `" + shorten(w) + "`, got `" +
         shorten(g) + "`";
}

bool values_equal(lua_State* L, int a, int b) {
  if (lua_type(L, a) == LUA_TTABLE && lua_type(L, b) == LUA_TTABLE) {
    std::string ta;
    std::string tb;
    std::string error;
    if (detail::canonical_text(L, a, ta, error) && detail::canonical_text(L, b, tb, error)) return ta == tb;
  }
  return lua_rawequal(L, a, b) != 0;
}

void eq_message(lua_State* L, std::string& out) {
  std::string what = describe_difference(value_text(L, 2), value_text(L, 1));
  out = "expect_eq failed: " + what;
  if (lua_type(L, 3) == LUA_TSTRING) out += std::string(" (") + lua_tostring(L, 3) + ")";
}

// expect_eq(actual, expected [, message])
int expect_eq(lua_State* L) {
  luaL_checkany(L, 2);
  luaL_optstring(L, 3, nullptr);
  if (values_equal(L, 1, 2)) return 0;
  eq_message(L, Sandbox::from(L).scratch);
  return raise_scratch(L);
}

void true_message(lua_State* L, std::string& out) {
  out = "expect_true failed: got " + shorten(value_text(L, 1));
  if (lua_type(L, 2) == LUA_TSTRING) out += std::string(" (") + lua_tostring(L, 2) + ")";
}

// expect_true(value [, message])
int expect_true(lua_State* L) {
  luaL_checkany(L, 1);
  luaL_optstring(L, 2, nullptr);
  if (lua_toboolean(L, 1)) return 0;
  true_message(L, Sandbox::from(L).scratch);
  return raise_scratch(L);
}

void error_message(lua_State* L, bool raised, std::string& out) {
  if (!raised) {
    out = "expect_error failed: the function raised no error";
  } else {
    std::string got = value_text(L, -1);
    if (lua_type(L, -1) != LUA_TSTRING) got = "(error object is a " + got + ")";
    out =
        "expect_error failed: the error `" + shorten(got) + "` does not contain `" + lua_tostring(L, 2) + "`";
  }
  if (lua_type(L, 3) == LUA_TSTRING) out += std::string(" (") + lua_tostring(L, 3) + ")";
}

// expect_error(function [, text the error must contain [, message]])
int expect_error(lua_State* L) {
  luaL_checktype(L, 1, LUA_TFUNCTION);
  luaL_optstring(L, 2, nullptr);
  luaL_optstring(L, 3, nullptr);
  lua_settop(L, 3);
  lua_pushvalue(L, 1);
  const int status = lua_pcall(L, 0, 0, 0);
  Sandbox& sandbox = Sandbox::from(L);
  sandbox.note_status(status);
  if (sandbox.tripped()) sandbox.raise_trip(L);
  if (status != LUA_OK) {
    if (lua_type(L, 2) != LUA_TSTRING) return 0;
    if (lua_type(L, -1) == LUA_TSTRING) {
      std::size_t hay_len = 0;
      std::size_t needle_len = 0;
      const char* hay = lua_tolstring(L, -1, &hay_len);
      const char* needle = lua_tolstring(L, 2, &needle_len);
      if (std::string_view(hay, hay_len).find(std::string_view(needle, needle_len)) !=
          std::string_view::npos) {
        return 0;
      }
    }
  }
  error_message(L, status != LUA_OK, sandbox.scratch);
  return raise_scratch(L);
}

bool read_fixture(TestHost& host, const char* name, std::string& error) {
  try {
    host.fixture.relative_path = host.folder + "/fixtures/" + name + ".lua";
    std::ifstream in(host.dir / host.fixture.relative_path, std::ios::binary);
    if (!in) {
      error = "fixture('" + std::string(name) + "'): cannot read " + host.fixture.relative_path;
      return false;
    }
    std::ostringstream content;
    content << in.rdbuf();
    host.fixture.source = std::move(content).str();
    return true;
  } catch (const std::exception& e) {
    error = "fixture('" + std::string(name) + "'): " + e.what();
    return false;
  }
}

// fixture(name): the table returned by <folder>/fixtures/<name>.lua
int fixture(lua_State* L) {
  std::size_t len = 0;
  const char* name = luaL_checklstring(L, 1, &len);
  Sandbox& sandbox = Sandbox::from(L);
  TestHost& host = host_of(L);
  if (!valid_fixture_name(std::string_view(name, len))) {
    return luaL_error(L, "fixture: name '%s' may only use letters, digits, '_', '-' and '.'", name);
  }
  if (!read_fixture(host, name, sandbox.scratch)) return raise_scratch(L);
  if (detail::load_text_chunk(L, host.fixture) != LUA_OK) return lua_error(L);
  lua_call(L, 0, 1);
  if (lua_type(L, -1) != LUA_TTABLE) {
    return luaL_error(L, "fixture '%s' must return a table, got %s", name, luaL_typename(L, -1));
  }
  return 1;
}

bool compare_golden(lua_State* L, TestHost& host, const char* name, std::string& message) {
  try {
    std::string text;
    std::string error;
    if (!detail::canonical_text(L, 2, text, error)) {
      message = "expect_golden('" + std::string(name) + "'): " + error;
      return false;
    }
    text += '\n';
    const std::string relative = host.folder + "/fixtures/" + name + ".golden";
    const fs::path path = host.dir / relative;
    if (host.update_golden) {
      fs::create_directories(path.parent_path());
      const fs::path temp = path.string() + ".tmp";
      {
        std::ofstream out(temp, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out.flush()) {
          message = "expect_golden('" + std::string(name) + "'): cannot write " + relative;
          return false;
        }
      }
      fs::rename(temp, path);
      spdlog::info("policy test: wrote {}", relative);
      return true;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      message = "expect_golden('" + std::string(name) + "'): " + relative +
                " does not exist; run `strongbox policy test --update-golden` to create it";
      return false;
    }
    std::ostringstream content;
    content << in.rdbuf();
    const std::string expected = std::move(content).str();
    if (expected == text) return true;
    message = "expect_golden('" + std::string(name) + "'): value differs from " + relative + ", " +
              describe_difference(expected, text) +
              " (review, then run `strongbox policy test --update-golden` to accept)";
    return false;
  } catch (const std::exception& e) {
    message = "expect_golden('" + std::string(name) + "'): " + e.what();
    return false;
  }
}

// expect_golden(name, value): canonical text of value equals <folder>/fixtures/<name>.golden
int expect_golden(lua_State* L) {
  std::size_t len = 0;
  const char* name = luaL_checklstring(L, 1, &len);
  luaL_checkany(L, 2);
  if (!valid_fixture_name(std::string_view(name, len))) {
    return luaL_error(L, "expect_golden: name '%s' may only use letters, digits, '_', '-' and '.'", name);
  }
  if (compare_golden(L, host_of(L), name, Sandbox::from(L).scratch)) return 0;
  return raise_scratch(L);
}

// freeze(table): a read-only view, as policies receive their inputs.
int freeze(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  detail::freeze_top(L);
  return 1;
}

int install_helpers(lua_State* L) {
  static const luaL_Reg kHelpers[] = {{"expect_eq", expect_eq},         {"expect_true", expect_true},
                                      {"expect_error", expect_error},   {"fixture", fixture},
                                      {"expect_golden", expect_golden}, {"freeze", freeze}};
  for (const luaL_Reg& helper : kHelpers) {
    lua_pushcfunction(L, helper.func);
    lua_setglobal(L, helper.name);
  }
  return 0;
}

int push_globals(lua_State* L) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  return 1;
}

int call_test(lua_State* L) {
  const auto* name = static_cast<const std::string*>(lua_touserdata(L, 1));
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushlstring(L, name->data(), name->size());
  if (lua_rawget(L, -2) != LUA_TFUNCTION) return luaL_error(L, "%s is no longer a function", name->c_str());
  lua_call(L, 0, 0);
  return 0;
}

struct TestFile {
  const PolicyFile* test = nullptr;
  const PolicyFile* policy = nullptr;  // the policy under test, if any
  std::string folder;
};

struct TestFunction {
  std::string name;
  int line = 0;
};

// A sandbox holding the helpers, lib, the policy under test and the test file.
std::optional<LuaFailure> prepare(Sandbox& sandbox, TestHost& host, const TestFile& file,
                                  const detail::ModuleMap& modules) {
  sandbox.host_data = &host;
  sandbox.set_modules(&modules);
  if (auto failure = sandbox.call(&install_helpers, nullptr, 0)) return failure;
  if (file.policy != nullptr) {
    if (auto failure = sandbox.run_file(*file.policy)) return failure;
  }
  return sandbox.run_file(*file.test);
}

std::vector<TestFunction> list_tests(Sandbox& sandbox) {
  std::vector<TestFunction> tests;
  if (sandbox.call(&push_globals, nullptr, 1)) return tests;
  lua_State* L = sandbox.state();
  const int globals = lua_gettop(L);
  lua_pushnil(L);
  while (lua_next(L, globals) != 0) {
    if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TFUNCTION) {
      std::size_t len = 0;
      const char* key = lua_tolstring(L, -2, &len);
      const std::string_view name(key, len);
      if (name.starts_with("test_")) {
        lua_Debug ar;
        lua_pushvalue(L, -1);
        lua_getinfo(L, ">S", &ar);
        tests.push_back({std::string(name), ar.linedefined});
      }
    }
    lua_pop(L, 1);
  }
  lua_settop(L, globals - 1);
  std::sort(tests.begin(), tests.end(), [](const TestFunction& a, const TestFunction& b) {
    return a.line != b.line ? a.line < b.line : a.name < b.name;
  });
  return tests;
}

TestCaseResult failed_case(const TestFile& file, std::string name, const LuaFailure& failure) {
  TestCaseResult result;
  result.file = file.test->relative_path;
  result.name = std::move(name);
  result.passed = false;
  result.location = failure.location;
  result.message = detail::failure_line(failure, file.test->relative_path);
  result.traceback = failure.traceback;
  return result;
}

void run_file_tests(const TestFile& file, const detail::ModuleMap& modules, const fs::path& dir,
                    const TestOptions& options, TestReport& report) {
  auto add = [&](TestCaseResult result) {
    (result.passed ? report.passed : report.failed) += 1;
    report.cases.push_back(std::move(result));
  };
  auto load_failure = [&](const LuaFailure& failure) { add(failed_case(file, "(load)", failure)); };

  TestHost host{dir, file.folder, options.update_golden, {}};
  std::vector<TestFunction> tests;
  try {
    Sandbox sandbox(options.limits, file.test->relative_path);
    if (auto failure = prepare(sandbox, host, file, modules)) return load_failure(*failure);
    tests = list_tests(sandbox);
  } catch (const std::exception& e) {
    return load_failure(LuaFailure{LuaFailure::Kind::kError, e.what(), {}, {}});
  }
  if (tests.empty()) {
    return load_failure(LuaFailure{
        LuaFailure::Kind::kError, file.test->relative_path + ": defines no test_* functions", {}, {}});
  }
  for (const TestFunction& test : tests) {
    try {
      Sandbox sandbox(options.limits, file.test->relative_path);
      std::optional<LuaFailure> failure = prepare(sandbox, host, file, modules);
      if (!failure) failure = sandbox.call(&call_test, const_cast<std::string*>(&test.name), 0);
      if (failure) {
        add(failed_case(file, test.name, *failure));
      } else {
        add(TestCaseResult{file.test->relative_path, test.name, true, {}, {}, {}});
      }
    } catch (const std::exception& e) {
      add(failed_case(file, test.name, LuaFailure{LuaFailure::Kind::kError, e.what(), {}, {}}));
    }
  }
}

}  // namespace

TestReport run_policy_tests(const fs::path& dir, const TestOptions& options) {
  TestReport report;
  std::vector<detail::FolderProblem> problems;
  const std::vector<PolicyFile> files = detail::scan_lua_files(dir, problems);
  const detail::Layout layout = detail::make_layout(files, problems);
  report.errors = detail::sorted_texts(std::move(problems));

  std::map<std::string_view, const PolicyFile*> by_path;
  for (const PolicyFile& file : files) by_path.emplace(file.relative_path, &file);
  auto find = [&](const std::string& path) -> const PolicyFile* {
    auto it = by_path.find(path);
    return it == by_path.end() ? nullptr : it->second;
  };

  for (const PolicyFile& file : files) {
    if (!detail::is_test_file(file.relative_path)) continue;
    if (("/" + file.relative_path).find("/fixtures/") != std::string::npos) continue;
    TestFile test;
    test.test = &file;
    const std::size_t slash = file.relative_path.rfind('/');
    test.folder = slash == std::string::npos ? std::string(".") : file.relative_path.substr(0, slash);
    const std::string base = file.relative_path.substr(slash == std::string::npos ? 0 : slash + 1);
    const std::string policy_name =
        base.substr(0, base.size() - std::string_view("_test.lua").size()) + ".lua";
    if (test.folder != "lib") {
      test.policy = find(test.folder + "/" + policy_name);
      if (test.policy == nullptr && test.folder.starts_with("tenants/"))
        test.policy = find("default/" + policy_name);
    }
    ++report.files;
    run_file_tests(test, layout.modules, dir, options, report);
  }
  return report;
}

}  // namespace sbx::policy
