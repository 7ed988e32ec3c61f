// The Lua sandbox every policy runs in: one fresh lua_State per evaluation.
//
// Lua raises errors with longjmp, which skips C++ destructors. Rules the code of this module follows:
// host code touches the state only through Sandbox::call (protected) or through the non-raising API
// (lua_next, lua_type, lua_to*, lua_raw*), and a lua_CFunction keeps no C++ object with a destructor alive
// across a call that may raise; strings it must hand to Lua go through Sandbox::scratch first.
#pragma once

#include <chrono>
#include <cstdint>
#include <lua.hpp>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "strongbox/policy.hpp"

namespace sbx::policy::detail {

using ModuleMap = std::map<std::string, PolicyFile, std::less<>>;

struct LuaFailure {
  enum class Kind { kError, kInstructionBudget, kDeadline, kMemory };
  Kind kind = Kind::kError;
  std::string message;    // "default/retention.lua:12: attempt to index a nil value" or a budget message
  std::string location;   // "default/retention.lua:12" when known
  std::string traceback;  // "stack traceback:\n\t..." when known
};

class Sandbox {
 public:
  // label names the policy in budget messages ("policy default/retention.lua exceeded ..."). Throws
  // PolicyError when the state cannot be created within the limits.
  Sandbox(const SandboxLimits& limits, std::string label);
  ~Sandbox();
  Sandbox(const Sandbox&) = delete;
  Sandbox& operator=(const Sandbox&) = delete;

  static Sandbox& from(lua_State* L);

  lua_State* state() const { return L_; }
  const std::string& label() const { return label_; }
  const SandboxLimits& limits() const { return limits_; }

  // Modules reachable as lib.<name>, loaded on first use. Must outlive the sandbox.
  void set_modules(const ModuleMap* modules) { modules_ = modules; }
  const PolicyFile* find_module(std::string_view name) const;

  // Runs fn in protected mode with a traceback message handler; fn finds `ud` as light userdata at
  // index 1. On success fn's nresults results are left on the stack.
  std::optional<LuaFailure> call(lua_CFunction fn, void* ud, int nresults);

  std::optional<LuaFailure> compile(const PolicyFile& file);   // syntax only
  std::optional<LuaFailure> run_file(const PolicyFile& file);  // compile and run the top level
  // Whether the global `name` is a function; false on any failure.
  bool has_global_function(const char* name);

  bool tripped() const { return trip_ != Trip::kNone; }
  // A protected call inside Lua (pcall, xpcall) returned `status`: memory exhaustion trips the sandbox.
  void note_status(int status);
  // Raises the trip error again; for C functions that caught an error after the sandbox tripped.
  [[noreturn]] void raise_trip(lua_State* L);

  // Host data for extensions (the test runner's helpers).
  void* host_data = nullptr;
  // Staging area for strings a lua_CFunction passes to Lua after its C++ locals are gone.
  std::string scratch;

 private:
  enum class Trip { kNone, kInstructions, kDeadline, kMemory };

  static void* allocate(void* ud, void* ptr, std::size_t osize, std::size_t nsize) noexcept;
  static void count_hook(lua_State* L, lua_Debug* ar);
  static void closing_hook(lua_State* L, lua_Debug* ar);
  static int message_handler(lua_State* L);
  void trip(Trip reason, lua_State* L, lua_Debug* ar);
  void close();
  LuaFailure trip_failure() const;

  SandboxLimits limits_;
  std::string label_;
  lua_State* L_ = nullptr;
  const ModuleMap* modules_ = nullptr;
  std::size_t used_bytes_ = 0;
  std::uint64_t executed_ = 0;
  int hook_interval_ = 1000;
  std::chrono::steady_clock::time_point deadline_;
  Trip trip_ = Trip::kNone;
  std::string trip_location_;
  std::string traceback_;
  std::string error_location_;
};

// Loads a policy file as a text chunk named after its relative path; pushes the function or an error
// message and returns the lua_load status. A UTF-8 byte order mark is skipped; precompiled chunks are
// refused.
int load_text_chunk(lua_State* L, const PolicyFile& file);

// Replaces the table on top of the stack by a read-only proxy; nested tables become proxies too.
// Protected code only (allocates).
void freeze_top(lua_State* L);
bool is_frozen(lua_State* L, int idx);  // never raises
// If the value at idx is a frozen proxy, pushes the table behind it and returns true. Never raises.
bool push_frozen_target(lua_State* L, int idx);

// Canonical, deterministic text of a Lua value (a Lua literal; tables sorted by key, one entry per line).
// Sees through frozen proxies. Never raises; on an unserializable value returns false and sets error.
bool canonical_text(lua_State* L, int idx, std::string& out, std::string& error);

// "64 MiB", "1536 bytes".
std::string format_bytes(std::size_t bytes);
// ctx.now_iso and friends: seconds since the epoch as 2026-11-22T10:00:00Z.
std::string iso8601(std::int64_t seconds);

}  // namespace sbx::policy::detail
