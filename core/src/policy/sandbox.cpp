#include "sandbox.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace sbx::policy::detail {
namespace {

using Clock = std::chrono::steady_clock;

// Registry key of the table marking lib modules being loaded (cycle detection).
const char kModulesLoadingKey = 0;

// Pattern matching and a few table functions loop in C, where the count hook cannot interrupt them. Their
// worst-case work is estimated up front and refused past these bounds (about a second of CPU).
constexpr double kMaxPatternSteps = 1e8;
constexpr double kMaxPlainFindSteps = 2e9;

// Skips a character set starting at p[i] == '[' as lstrlib's classEnd does (the first character after '['
// or '[^' never closes it); returns the index after ']' or npos for a malformed set.
std::size_t skip_set(std::string_view p, std::size_t i) {
  ++i;
  if (i < p.size() && p[i] == '^') ++i;
  do {
    if (i >= p.size()) return std::string_view::npos;
    if (p[i++] == '%') ++i;
  } while (i < p.size() && p[i] != ']');
  return i < p.size() ? i + 1 : std::string_view::npos;
}

// Work of a Lua pattern on a subject of n bytes: every start position, times the ways the
// repetition items (*, +, -, %b, back-references) can split the subject, times 2 per optional item.
// Returns a negative number for patterns lstrlib will reject anyway.
double pattern_cost(std::string_view p, double n) {
  std::size_t i = 0;
  if (!p.empty() && p[0] == '^') i = 1;
  int repeats = 0;
  int optionals = 0;
  while (i < p.size()) {
    const char c = p[i];
    if (c == '(' || c == ')') {
      ++i;
      continue;
    }
    if (c == '$' && i + 1 == p.size()) break;
    if (c == '%') {
      if (i + 1 >= p.size()) return -1;
      const char e = p[i + 1];
      if (e == 'b') {  // %bxy scans to the balancing y: linear per attempt, like a repetition
        if (i + 4 > p.size()) return -1;
        ++repeats;
        i += 4;
        continue;
      }
      if (e == 'f') {  // frontier: a zero-width test, never repeated
        if (i + 2 >= p.size() || p[i + 2] != '[') return -1;
        i = skip_set(p, i + 2);
        if (i == std::string_view::npos) return -1;
        continue;
      }
      if (e >= '0' && e <= '9') {  // back-reference: compares a capture's length at each attempt
        ++repeats;
        i += 2;
        continue;
      }
      i += 2;
    } else if (c == '[') {
      i = skip_set(p, i);
      if (i == std::string_view::npos) return -1;
    } else {
      ++i;
    }
    if (i < p.size()) {
      const char q = p[i];
      if (q == '*' || q == '+' || q == '-') {
        ++repeats;
        ++i;
      } else if (q == '?') {
        ++optionals;
        ++i;
      }
    }
  }
  double cost = n + 1;
  for (int k = 1; k <= repeats && cost <= kMaxPatternSteps; ++k) cost *= (n + k) / k;
  for (int k = 0; k < optionals && cost <= kMaxPatternSteps; ++k) cost *= 2;
  return cost;
}

bool has_pattern_specials(std::string_view p) {
  return p.find_first_of("^$*+?.([%-") != std::string_view::npos;
}

// string.find / match / gmatch / gsub with the cost check; upvalue 1 is the original function.
int guarded_pattern_function(lua_State* L) {
  std::size_t n = 0;
  std::size_t m = 0;
  luaL_checklstring(L, 1, &n);
  const char* pattern = luaL_checklstring(L, 2, &m);
  const char* name = lua_tostring(L, lua_upvalueindex(2));
  const bool plain_find = std::strcmp(name, "find") == 0 &&
                          (lua_toboolean(L, 4) || !has_pattern_specials(std::string_view(pattern, m)));
  if (plain_find) {
    const double steps = static_cast<double>(n) * static_cast<double>(m);
    if (steps > kMaxPlainFindSteps) {
      return luaL_error(L,
                        "string.find: searching a %d-byte string in a %d-byte subject is more work than the "
                        "policy sandbox allows",
                        static_cast<int>(std::min<std::size_t>(m, INT32_MAX)),
                        static_cast<int>(std::min<std::size_t>(n, INT32_MAX)));
    }
  } else {
    const double steps = pattern_cost(std::string_view(pattern, m), static_cast<double>(n));
    if (steps > kMaxPatternSteps) {
      return luaL_error(
          L,
          "string.%s: pattern '%s' could backtrack too long on a %d-byte subject for the policy "
          "sandbox; use fewer repetition items (* + - ?) or a shorter subject",
          name, pattern, static_cast<int>(std::min<std::size_t>(n, INT32_MAX)));
    }
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// string.rep("", huge) loops in C without allocating anything; answer it directly.
int guarded_rep(lua_State* L) {
  std::size_t l = 0;
  std::size_t lsep = 0;
  luaL_checklstring(L, 1, &l);
  const lua_Integer n = luaL_checkinteger(L, 2);
  luaL_optlstring(L, 3, "", &lsep);
  if (n <= 0 || l + lsep == 0) {
    lua_pushliteral(L, "");
    return 1;
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

lua_Integer max_table_shift(lua_State* L) {
  return std::max<lua_Integer>(lua_Integer{1} << 24,
                               static_cast<lua_Integer>(Sandbox::from(L).limits().memory_bytes / 16));
}

// table.insert(t, pos, v) and table.remove(t, pos) shift #t - pos elements in C; a __len metamethod can
// claim any length, so the shift is bounded by what a real table within the memory cap could hold.
int guarded_table_shift(lua_State* L) {
  if (lua_type(L, 1) == LUA_TTABLE) {
    const bool is_insert = lua_toboolean(L, lua_upvalueindex(2));
    if (!is_insert || lua_gettop(L) == 3) {
      const lua_Integer len = luaL_len(L, 1);
      const lua_Integer pos = luaL_optinteger(L, 2, len);
      const lua_Unsigned shift = static_cast<lua_Unsigned>(len) - static_cast<lua_Unsigned>(pos);
      if (len > pos && shift > static_cast<lua_Unsigned>(max_table_shift(L))) {
        return luaL_error(L, "table.%s: shifting %I elements is more than the policy sandbox allows",
                          is_insert ? "insert" : "remove", static_cast<lua_Integer>(shift));
      }
    }
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

int guarded_table_move(lua_State* L) {
  const lua_Integer first = luaL_checkinteger(L, 2);
  const lua_Integer last = luaL_checkinteger(L, 3);
  if (last >= first && static_cast<lua_Unsigned>(last) - static_cast<lua_Unsigned>(first) >=
                           static_cast<lua_Unsigned>(max_table_shift(L))) {
    return luaL_error(
        L, "table.move: moving %I elements is more than the policy sandbox allows",
        static_cast<lua_Integer>(static_cast<lua_Unsigned>(last) - static_cast<lua_Unsigned>(first)));
  }
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

// print writes to the log instead of stdout.
int sandbox_print(lua_State* L) {
  constexpr std::size_t kMaxLine = 4096;
  const int n = lua_gettop(L);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; ++i) {
    if (i > 1) luaL_addchar(&b, '\t');
    luaL_tolstring(L, i, nullptr);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  std::size_t len = 0;
  const char* text = lua_tolstring(L, -1, &len);
  spdlog::info("policy {}: {}", Sandbox::from(L).label(), std::string_view(text, std::min(len, kMaxLine)));
  return 0;
}

// pcall and xpcall as in lbaselib, except that nothing caught after the sandbox tripped (instruction
// budget, deadline, memory) is swallowed: the error continues to the host.
int sandbox_pcall(lua_State* L) {
  luaL_checkany(L, 1);
  lua_pushboolean(L, 1);
  lua_insert(L, 1);
  const int status = lua_pcall(L, lua_gettop(L) - 2, LUA_MULTRET, 0);
  Sandbox& sandbox = Sandbox::from(L);
  sandbox.note_status(status);
  if (sandbox.tripped()) sandbox.raise_trip(L);
  if (status != LUA_OK) {
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
  }
  return lua_gettop(L);
}

// Message handler of xpcall around the script's own handler. An error raised by the count hook reaches the
// handler while Lua has hooks switched off, so once the sandbox has tripped no script code may run here.
int xpcall_message_handler(lua_State* L) {
  if (Sandbox::from(L).tripped()) return 1;
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, 1);
  return 1;
}

int sandbox_xpcall(lua_State* L) {
  const int n = lua_gettop(L);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  lua_pushvalue(L, 2);
  lua_pushcclosure(L, xpcall_message_handler, 1);
  lua_replace(L, 2);
  lua_pushboolean(L, 1);
  lua_pushvalue(L, 1);
  lua_rotate(L, 3, 2);
  const int status = lua_pcall(L, n - 2, LUA_MULTRET, 2);
  Sandbox& sandbox = Sandbox::from(L);
  sandbox.note_status(status);
  if (sandbox.tripped()) sandbox.raise_trip(L);
  if (status != LUA_OK) {
    lua_pushboolean(L, 0);
    lua_pushvalue(L, -2);
    return 2;
  }
  return lua_gettop(L) - 2;
}

// next, rawget and rawlen see through frozen proxies; rawset refuses them.
int sandbox_next(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 2);
  if (push_frozen_target(L, 1)) lua_replace(L, 1);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

int sandbox_rawget(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  lua_settop(L, 2);
  if (push_frozen_target(L, 1)) lua_replace(L, 1);
  lua_rawget(L, 1);
  return 1;
}

int sandbox_rawlen(lua_State* L) {
  const int t = lua_type(L, 1);
  luaL_argexpected(L, t == LUA_TTABLE || t == LUA_TSTRING, 1, "table or string");
  lua_settop(L, 1);
  if (t == LUA_TTABLE && push_frozen_target(L, 1)) lua_replace(L, 1);
  lua_pushinteger(L, static_cast<lua_Integer>(lua_rawlen(L, 1)));
  return 1;
}

int sandbox_rawset(lua_State* L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checkany(L, 2);
  luaL_checkany(L, 3);
  if (is_frozen(L, 1))
    return luaL_error(L, "rawset: attempt to modify a read-only table (policy inputs are frozen)");
  lua_settop(L, 3);
  lua_rawset(L, 1);
  return 1;
}

// Finalizers (__gc) run with debug hooks switched off, outside the instruction budget, so policies may not
// define them.
int sandbox_setmetatable(lua_State* L) {
  const int t = lua_type(L, 2);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_argexpected(L, t == LUA_TNIL || t == LUA_TTABLE, 2, "nil or table");
  if (t == LUA_TTABLE) {
    lua_pushliteral(L, "__gc");
    const bool has_gc = lua_rawget(L, 2) != LUA_TNIL;
    lua_pop(L, 1);
    if (has_gc) {
      return luaL_error(L,
                        "setmetatable: __gc metamethods are not allowed in policies (finalizers would run "
                        "outside the instruction budget)");
    }
  }
  if (luaL_getmetafield(L, 1, "__metatable") != LUA_TNIL) {
    return luaL_error(L, "cannot change a protected metatable");
  }
  lua_settop(L, 2);
  lua_setmetatable(L, 1);
  return 1;
}

// lib.<name>: loads lib/<name>.lua on first use and caches the table it returns.
int lib_index(lua_State* L) {
  if (lua_type(L, 2) != LUA_TSTRING) {
    return luaL_error(L, "lib: module names are strings, got a %s", luaL_typename(L, 2));
  }
  std::size_t len = 0;
  const char* name = lua_tolstring(L, 2, &len);
  const PolicyFile* file = Sandbox::from(L).find_module(std::string_view(name, len));
  if (file == nullptr) {
    return luaL_error(L, "lib.%s: no such module (expected lib/%s.lua in the policy folder)", name, name);
  }
  lua_rawgetp(L, LUA_REGISTRYINDEX, &kModulesLoadingKey);
  const int loading = lua_gettop(L);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, loading) != LUA_TNIL) {
    return luaL_error(L, "lib.%s: circular dependency between lib modules, or %s failed to load earlier",
                      name, file->relative_path.c_str());
  }
  lua_pop(L, 1);
  lua_pushvalue(L, 2);
  lua_pushboolean(L, 1);
  lua_rawset(L, loading);
  if (load_text_chunk(L, *file) != LUA_OK) return lua_error(L);
  lua_call(L, 0, 1);
  if (lua_type(L, -1) != LUA_TTABLE) {
    return luaL_error(L, "%s must return its module table, got %s", file->relative_path.c_str(),
                      luaL_typename(L, -1));
  }
  lua_pushvalue(L, 2);
  lua_pushnil(L);
  lua_rawset(L, loading);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, -2);
  lua_rawset(L, 1);
  return 1;
}

int lib_newindex(lua_State* L) {
  return luaL_error(L, "lib is read-only: its modules are the files in lib/");
}

void wrap_field(lua_State* L, int table, const char* field, lua_CFunction wrapper, bool flag_upvalue,
                bool flag) {
  lua_getfield(L, table, field);
  if (flag_upvalue) {
    lua_pushboolean(L, flag);
  } else {
    lua_pushstring(L, field);
  }
  lua_pushcclosure(L, wrapper, 2);
  lua_setfield(L, table, field);
}

int open_sandbox_libs(lua_State* L) {
  static const luaL_Reg kLibs[] = {{LUA_GNAME, luaopen_base},
                                   {LUA_STRLIBNAME, luaopen_string},
                                   {LUA_TABLIBNAME, luaopen_table},
                                   {LUA_MATHLIBNAME, luaopen_math},
                                   {LUA_UTF8LIBNAME, luaopen_utf8}};
  for (const luaL_Reg& lib : kLibs) {
    luaL_requiref(L, lib.name, lib.func, 1);
    lua_pop(L, 1);
  }
  // Loading code, touching the collector and warnings stay outside; math.random would make decisions
  // unrepeatable.
  for (const char* name : {"dofile", "loadfile", "load", "collectgarbage", "warn"}) {
    lua_pushnil(L);
    lua_setglobal(L, name);
  }
  static const luaL_Reg kReplaced[] = {{"print", sandbox_print},   {"pcall", sandbox_pcall},
                                       {"xpcall", sandbox_xpcall}, {"next", sandbox_next},
                                       {"rawget", sandbox_rawget}, {"rawset", sandbox_rawset},
                                       {"rawlen", sandbox_rawlen}, {"setmetatable", sandbox_setmetatable}};
  for (const luaL_Reg& f : kReplaced) {
    lua_pushcfunction(L, f.func);
    lua_setglobal(L, f.name);
  }

  lua_getglobal(L, LUA_STRLIBNAME);
  const int string_table = lua_gettop(L);
  lua_pushnil(L);
  lua_setfield(L, string_table, "dump");
  for (const char* name : {"find", "match", "gmatch", "gsub"}) {
    wrap_field(L, string_table, name, guarded_pattern_function, false, false);
  }
  wrap_field(L, string_table, "rep", guarded_rep, false, false);
  lua_pop(L, 1);

  lua_getglobal(L, LUA_MATHLIBNAME);
  lua_pushnil(L);
  lua_setfield(L, -2, "random");
  lua_pushnil(L);
  lua_setfield(L, -2, "randomseed");
  lua_pop(L, 1);

  lua_getglobal(L, LUA_TABLIBNAME);
  const int table_table = lua_gettop(L);
  wrap_field(L, table_table, "insert", guarded_table_shift, true, true);
  wrap_field(L, table_table, "remove", guarded_table_shift, true, false);
  wrap_field(L, table_table, "move", guarded_table_move, false, false);
  lua_pop(L, 1);

  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &kModulesLoadingKey);
  lua_newtable(L);
  lua_createtable(L, 0, 3);
  lua_pushcfunction(L, lib_index);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, lib_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushliteral(L, "lib");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_setglobal(L, "lib");
  return 0;
}

int panic(lua_State* L) {
  const char* msg = lua_tostring(L, -1);
  spdlog::critical("unprotected error in the policy sandbox: {}", msg ? msg : "(no message)");
  std::abort();
}

struct RunFileArgs {
  const PolicyFile* file;
  bool run;
};

int run_file_protected(lua_State* L) {
  const auto* args = static_cast<const RunFileArgs*>(lua_touserdata(L, 1));
  if (load_text_chunk(L, *args->file) != LUA_OK) return lua_error(L);
  if (args->run) lua_call(L, 0, 0);
  return 0;
}

int has_global_function_protected(lua_State* L) {
  const char* name = static_cast<const char*>(lua_touserdata(L, 1));
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushstring(L, name);
  const bool is_function = lua_rawget(L, -2) == LUA_TFUNCTION;
  lua_pushboolean(L, is_function);
  return 1;
}

// "file.lua:12: message" -> "file.lua:12"
std::string location_prefix(std::string_view message) {
  const std::size_t lua_ext = message.find(".lua:");
  if (lua_ext == std::string_view::npos) return {};
  std::size_t end = lua_ext + 5;
  const std::size_t digits = end;
  while (end < message.size() && message[end] >= '0' && message[end] <= '9') ++end;
  if (end == digits || end >= message.size() || message[end] != ':') return {};
  if (message.substr(0, lua_ext).find_first_of(" \n") != std::string_view::npos) return {};
  return std::string(message.substr(0, end));
}

}  // namespace

Sandbox::Sandbox(const SandboxLimits& limits, std::string label) : limits_(limits), label_(std::move(label)) {
  deadline_ = Clock::now() + limits_.wall_clock;
  hook_interval_ = static_cast<int>(std::clamp<std::uint64_t>(limits_.instructions, 1, 1000));
  L_ = lua_newstate(&Sandbox::allocate, this);
  if (L_ == nullptr) {
    throw PolicyError("policy " + label_ + ": cannot create a Lua state within the memory cap of " +
                      format_bytes(limits_.memory_bytes));
  }
  *static_cast<Sandbox**>(lua_getextraspace(L_)) = this;
  lua_atpanic(L_, &panic);
  lua_sethook(L_, &Sandbox::count_hook, LUA_MASKCOUNT, hook_interval_);
  if (auto failure = call(&open_sandbox_libs, nullptr, 0)) {
    close();
    throw PolicyError("policy " + label_ + ": cannot set up the sandbox: " + failure->message);
  }
}

Sandbox::~Sandbox() {
  close();
}

void Sandbox::close() {
  if (L_ == nullptr) return;
  // Nothing may run unbudgeted while the state closes.
  lua_sethook(L_, &Sandbox::closing_hook, LUA_MASKCOUNT, 1);
  lua_close(L_);
  L_ = nullptr;
}

Sandbox& Sandbox::from(lua_State* L) {
  return **static_cast<Sandbox**>(lua_getextraspace(L));
}

const PolicyFile* Sandbox::find_module(std::string_view name) const {
  if (modules_ == nullptr) return nullptr;
  auto it = modules_->find(name);
  return it == modules_->end() ? nullptr : &it->second;
}

void* Sandbox::allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) noexcept {
  auto* self = static_cast<Sandbox*>(ud);
  const std::size_t old = ptr != nullptr ? osize : 0;
  if (nsize == 0) {
    std::free(ptr);
    self->used_bytes_ -= old;
    return nullptr;
  }
  // Lua assumes shrinking never fails, so only growth is refused. Refusing does not trip the sandbox by
  // itself: Lua collects garbage and retries; only a failure it reports as LUA_ERRMEM does.
  if (nsize > old && self->used_bytes_ + (nsize - old) > self->limits_.memory_bytes) return nullptr;
  void* block = std::realloc(ptr, nsize);
  if (block == nullptr) return nullptr;
  self->used_bytes_ = self->used_bytes_ - old + nsize;
  return block;
}

void Sandbox::count_hook(lua_State* L, lua_Debug* ar) {
  Sandbox& self = from(L);
  if (self.trip_ == Trip::kNone) {
    self.executed_ += static_cast<std::uint64_t>(self.hook_interval_);
    if (self.executed_ >= self.limits_.instructions) {
      self.trip(Trip::kInstructions, L, ar);
    } else if (Clock::now() >= self.deadline_) {
      self.trip(Trip::kDeadline, L, ar);
    } else {
      return;
    }
  }
  self.raise_trip(L);
}

void Sandbox::closing_hook(lua_State* L, lua_Debug*) {
  lua_pushliteral(L, "policy sandbox is closing");
  lua_error(L);
}

void Sandbox::trip(Trip reason, lua_State* L, lua_Debug* ar) {
  trip_ = reason;
  if (ar != nullptr && lua_getinfo(L, "Sl", ar) != 0 && ar->currentline > 0) {
    char where[LUA_IDSIZE + 32];
    std::snprintf(where, sizeof where, "%s:%d", ar->short_src, ar->currentline);
    trip_location_ = where;
  }
  // Every further instruction, including those of error handlers and pcall callers, raises again.
  lua_sethook(L, &Sandbox::count_hook, LUA_MASKCOUNT, 1);
}

void Sandbox::note_status(int status) {
  if (status == LUA_ERRMEM && trip_ == Trip::kNone) trip(Trip::kMemory, L_, nullptr);
}

void Sandbox::raise_trip(lua_State* L) {
  switch (trip_) {
    case Trip::kInstructions:
      lua_pushliteral(L, "instruction budget exceeded");
      break;
    case Trip::kDeadline:
      lua_pushliteral(L, "wall-clock deadline exceeded");
      break;
    case Trip::kMemory:
    case Trip::kNone:
      lua_pushliteral(L, "memory cap exceeded");
      break;
  }
  lua_error(L);
  std::abort();  // lua_error does not return
}

int Sandbox::message_handler(lua_State* L) {
  Sandbox& self = from(L);
  if (lua_type(L, 1) != LUA_TSTRING) {
    if (lua_type(L, 1) == LUA_TNUMBER) {
      lua_tostring(L, 1);
    } else if (self.tripped()) {
      // Hooks are off while an error raised by the hook is handled: no __tostring may run now.
      lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
      lua_replace(L, 1);
    } else if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING) {
      lua_replace(L, 1);
    } else {
      lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
      lua_replace(L, 1);
    }
  }
  lua_settop(L, 1);
  lua_Debug ar;
  for (int level = 1; lua_getstack(L, level, &ar) != 0; ++level) {
    if (lua_getinfo(L, "Sl", &ar) != 0 && ar.currentline > 0) {
      char where[LUA_IDSIZE + 32];
      std::snprintf(where, sizeof where, "%s:%d", ar.short_src, ar.currentline);
      self.error_location_ = where;
      break;
    }
  }
  luaL_traceback(L, L, nullptr, 1);
  self.traceback_ = lua_tostring(L, -1);
  lua_pop(L, 1);
  return 1;
}

LuaFailure Sandbox::trip_failure() const {
  LuaFailure failure;
  std::string what;
  switch (trip_) {
    case Trip::kInstructions:
      failure.kind = LuaFailure::Kind::kInstructionBudget;
      what = "exceeded its instruction budget (" + std::to_string(limits_.instructions) + " instructions)";
      break;
    case Trip::kDeadline:
      failure.kind = LuaFailure::Kind::kDeadline;
      what = "exceeded its wall-clock deadline (" + std::to_string(limits_.wall_clock.count()) + " ms)";
      break;
    case Trip::kMemory:
    case Trip::kNone:
      failure.kind = LuaFailure::Kind::kMemory;
      what = "exceeded its memory cap (" + format_bytes(limits_.memory_bytes) + ")";
      break;
  }
  failure.message = "policy " + label_ + " " + what;
  failure.location = trip_location_;
  if (!trip_location_.empty()) failure.message += " at " + trip_location_;
  failure.traceback = traceback_;
  return failure;
}

std::optional<LuaFailure> Sandbox::call(lua_CFunction fn, void* ud, int nresults) {
  if (trip_ == Trip::kNone && Clock::now() >= deadline_) trip(Trip::kDeadline, L_, nullptr);
  if (trip_ != Trip::kNone) return trip_failure();
  lua_State* L = L_;
  if (!lua_checkstack(L, 3 + nresults)) {
    LuaFailure failure;
    failure.message = "policy " + label_ + ": Lua stack exhausted";
    return failure;
  }
  const int base = lua_gettop(L);
  traceback_.clear();
  error_location_.clear();
  lua_pushcfunction(L, &Sandbox::message_handler);
  lua_pushcfunction(L, fn);
  lua_pushlightuserdata(L, ud);
  const int status = lua_pcall(L, 1, nresults, base + 1);
  note_status(status);
  if (status == LUA_OK && trip_ == Trip::kNone) {
    lua_remove(L, base + 1);
    return std::nullopt;
  }
  std::string message;
  if (status != LUA_OK && lua_type(L, -1) == LUA_TSTRING) {
    std::size_t len = 0;
    const char* text = lua_tolstring(L, -1, &len);
    message.assign(text, len);
  } else if (status != LUA_OK) {
    message = "(error object is not a string)";
  }
  lua_settop(L, base);
  if (trip_ != Trip::kNone) return trip_failure();
  LuaFailure failure;
  failure.message = std::move(message);
  failure.location = location_prefix(failure.message);
  if (failure.location.empty()) failure.location = error_location_;
  failure.traceback = traceback_;
  return failure;
}

std::optional<LuaFailure> Sandbox::compile(const PolicyFile& file) {
  RunFileArgs args{&file, false};
  return call(&run_file_protected, &args, 0);
}

std::optional<LuaFailure> Sandbox::run_file(const PolicyFile& file) {
  RunFileArgs args{&file, true};
  return call(&run_file_protected, &args, 0);
}

bool Sandbox::has_global_function(const char* name) {
  if (call(&has_global_function_protected, const_cast<char*>(name), 1)) return false;
  const bool result = lua_toboolean(L_, -1) != 0;
  lua_pop(L_, 1);
  return result;
}

int load_text_chunk(lua_State* L, const PolicyFile& file) {
  std::string_view source = file.source;
  if (source.starts_with("\xEF\xBB\xBF")) source.remove_prefix(3);
  if (source.starts_with(LUA_SIGNATURE)) {
    lua_pushfstring(L, "%s: precompiled Lua chunks are refused; policies must be Lua source text",
                    file.relative_path.c_str());
    return LUA_ERRSYNTAX;
  }
  const char* chunk_name = lua_pushfstring(L, "@%s", file.relative_path.c_str());
  const int status = luaL_loadbufferx(L, source.data(), source.size(), chunk_name, "t");
  lua_remove(L, -2);
  return status;
}

std::string format_bytes(std::size_t bytes) {
  constexpr std::size_t kMiB = std::size_t{1} << 20;
  constexpr std::size_t kKiB = std::size_t{1} << 10;
  if (bytes >= kMiB && bytes % kMiB == 0) return std::to_string(bytes / kMiB) + " MiB";
  if (bytes >= kKiB && bytes % kKiB == 0) return std::to_string(bytes / kKiB) + " KiB";
  return std::to_string(bytes) + " bytes";
}

std::string iso8601(std::int64_t seconds) {
  using namespace std::chrono;
  const sys_seconds tp{std::chrono::seconds{seconds}};
  const sys_days day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02ld:%02ld:%02ldZ", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<long>(hms.hours().count()), static_cast<long>(hms.minutes().count()),
                static_cast<long>(hms.seconds().count()));
  return buf;
}

}  // namespace sbx::policy::detail
