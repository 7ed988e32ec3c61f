// The retention hook: expire(series, ctx) plus the invariants no policy can override.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <numeric>
#include <unordered_map>

#include "repo_internal.hpp"
#include "sandbox.hpp"

namespace sbx::policy {
namespace {

using detail::LuaFailure;
using detail::Sandbox;

constexpr std::size_t kMaxReasonBytes = 1024;

struct SetRow {
  const SetInfo* info;
  std::string started_iso;
  std::string completed_iso;
};

struct ExpireCall {
  const std::vector<SetRow>* rows;  // oldest first
  const std::string* series;
  const std::string* tenant;
  std::int64_t now;
  const std::string* now_iso;
  const std::string* file;
};

lua_Integer clamp_unsigned(std::uint64_t v) {
  return v > static_cast<std::uint64_t>(LUA_MAXINTEGER) ? LUA_MAXINTEGER : static_cast<lua_Integer>(v);
}

void push_set(lua_State* L, const SetRow& row) {
  const SetInfo& s = *row.info;
  lua_createtable(L, 0, 11);
  lua_pushinteger(L, s.id);
  lua_setfield(L, -2, "id");
  lua_pushlstring(L, s.level.data(), s.level.size());
  lua_setfield(L, -2, "level");
  if (s.base) {
    lua_pushinteger(L, *s.base);
    lua_setfield(L, -2, "base");
  }
  lua_pushinteger(L, s.started_s);
  lua_setfield(L, -2, "started");
  lua_pushinteger(L, s.completed_s);
  lua_setfield(L, -2, "completed");
  lua_pushlstring(L, row.started_iso.data(), row.started_iso.size());
  lua_setfield(L, -2, "started_iso");
  lua_pushlstring(L, row.completed_iso.data(), row.completed_iso.size());
  lua_setfield(L, -2, "completed_iso");
  lua_pushinteger(L, clamp_unsigned(s.files));
  lua_setfield(L, -2, "files");
  lua_pushinteger(L, clamp_unsigned(s.bytes));
  lua_setfield(L, -2, "bytes");
  lua_pushboolean(L, s.legal_hold);
  lua_setfield(L, -2, "legal_hold");
}

int call_expire_protected(lua_State* L) {
  const auto* call = static_cast<const ExpireCall*>(lua_touserdata(L, 1));
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushliteral(L, "expire");
  if (lua_rawget(L, -2) != LUA_TFUNCTION) {
    return luaL_error(
        L, "%s: required hook 'expire' is not defined (expected a global function expire(series, ctx))",
        call->file->c_str());
  }
  lua_createtable(L, static_cast<int>(call->rows->size()), 0);
  lua_Integer n = 0;
  for (const SetRow& row : *call->rows) {
    push_set(L, row);
    lua_rawseti(L, -2, ++n);
  }
  detail::freeze_top(L);
  lua_createtable(L, 0, 4);
  lua_pushinteger(L, call->now);
  lua_setfield(L, -2, "now");
  lua_pushlstring(L, call->now_iso->data(), call->now_iso->size());
  lua_setfield(L, -2, "now_iso");
  lua_pushlstring(L, call->series->data(), call->series->size());
  lua_setfield(L, -2, "series");
  if (!call->tenant->empty()) {
    lua_pushlstring(L, call->tenant->data(), call->tenant->size());
    lua_setfield(L, -2, "tenant");
  }
  detail::freeze_top(L);
  lua_call(L, 2, 1);
  return 1;
}

// --- Reading the policy's answer with the non-raising part of the Lua API
// -----------------------------------

struct PolicyDecision {
  bool present = false;
  bool keep = true;
  std::vector<std::string> reasons;
};

std::string describe_key(lua_State* L, int idx) {
  switch (lua_type(L, idx)) {
    case LUA_TSTRING: {
      std::size_t len = 0;
      const char* s = lua_tolstring(L, idx, &len);
      return "'" + std::string(s, std::min<std::size_t>(len, 64)) + "'";
    }
    case LUA_TNUMBER: {
      char buf[40];
      std::snprintf(buf, sizeof buf, "%.17g", lua_tonumberx(L, idx, nullptr));
      return buf;
    }
    default:
      return std::string("of type ") + lua_typename(L, lua_type(L, idx));
  }
}

// Reads a list of strings at idx into out; false if it is anything else.
bool read_reasons(lua_State* L, int idx, std::vector<std::string>& out) {
  if (lua_type(L, idx) != LUA_TTABLE) return false;
  const bool proxied = detail::push_frozen_target(L, idx);
  const int table = proxied ? lua_gettop(L) : lua_absindex(L, idx);
  const lua_Unsigned length = lua_rawlen(L, table);
  bool ok = true;
  std::size_t count = 0;
  lua_pushnil(L);
  while (lua_next(L, table) != 0) {
    int is_int = 0;
    const lua_Integer key = lua_tointegerx(L, -2, &is_int);
    ++count;
    ok = lua_type(L, -2) == LUA_TNUMBER && is_int != 0 && key >= 1 &&
         static_cast<lua_Unsigned>(key) <= length && lua_type(L, -1) == LUA_TSTRING;
    lua_pop(L, 1);
    if (!ok) {
      lua_pop(L, 1);
      break;
    }
  }
  if (ok && count == length) {
    for (lua_Unsigned i = 1; i <= length; ++i) {
      lua_rawgeti(L, table, static_cast<lua_Integer>(i));
      std::size_t len = 0;
      const char* s = lua_tolstring(L, -1, &len);
      std::string reason(s, std::min(len, kMaxReasonBytes));
      if (len > kMaxReasonBytes) reason += "...";
      out.push_back(std::move(reason));
      lua_pop(L, 1);
    }
  } else {
    ok = false;
  }
  if (proxied) lua_pop(L, 1);
  return ok;
}

std::optional<std::string> read_decision(lua_State* L, int idx, std::int64_t id, PolicyDecision& out) {
  if (lua_type(L, idx) != LUA_TTABLE) {
    return "decision for set " + std::to_string(id) +
           " must be a table {keep = true|false, reasons = {...}}, got " + lua_typename(L, lua_type(L, idx));
  }
  const bool proxied = detail::push_frozen_target(L, idx);
  const int table = proxied ? lua_gettop(L) : lua_absindex(L, idx);
  std::optional<std::string> error;
  bool has_keep = false;
  lua_pushnil(L);
  while (!error && lua_next(L, table) != 0) {
    std::string_view field;
    if (lua_type(L, -2) == LUA_TSTRING) {
      std::size_t len = 0;
      const char* s = lua_tolstring(L, -2, &len);
      field = std::string_view(s, len);
    }
    if (field == "keep") {
      if (lua_type(L, -1) != LUA_TBOOLEAN) {
        error = "decision for set " + std::to_string(id) + ": keep must be true or false, got " +
                lua_typename(L, lua_type(L, -1));
      } else {
        has_keep = true;
        out.keep = lua_toboolean(L, -1) != 0;
      }
    } else if (field == "reasons") {
      if (!read_reasons(L, -1, out.reasons)) {
        error = "decision for set " + std::to_string(id) + ": reasons must be a list of strings";
      }
    } else {
      error = "decision for set " + std::to_string(id) + " has unknown field " + describe_key(L, -2) +
              " (expected keep and reasons)";
    }
    lua_pop(L, error ? 2 : 1);
  }
  if (proxied) lua_pop(L, 1);
  if (!error && !has_keep) {
    error = "decision for set " + std::to_string(id) + " has no keep field (true or false)";
  }
  out.present = !error;
  return error;
}

std::optional<std::string> read_decisions(lua_State* L, const std::string& series,
                                          const std::unordered_map<std::int64_t, std::size_t>& index_of,
                                          std::vector<PolicyDecision>& decisions) {
  if (!lua_checkstack(L, 12)) return "Lua stack exhausted while reading the decisions";
  const int result = lua_gettop(L);
  if (lua_type(L, result) != LUA_TTABLE) {
    return std::string("expire(series, ctx) must return a table of decisions keyed by set id, got ") +
           lua_typename(L, lua_type(L, result));
  }
  const bool proxied = detail::push_frozen_target(L, result);
  const int table = proxied ? lua_gettop(L) : result;
  std::optional<std::string> error;
  lua_pushnil(L);
  while (!error && lua_next(L, table) != 0) {
    int is_int = 0;
    const lua_Integer id = lua_tointegerx(L, -2, &is_int);
    if (lua_type(L, -2) != LUA_TNUMBER || is_int == 0) {
      error =
          "expire returned a decision under key " + describe_key(L, -2) + "; keys must be set ids (integers)";
    } else if (auto it = index_of.find(id); it == index_of.end()) {
      error = "expire returned a decision for set " + std::to_string(id) + ", which is not in series '" +
              series + "'";
    } else {
      error = read_decision(L, -1, id, decisions[it->second]);
    }
    lua_pop(L, error ? 2 : 1);
  }
  if (proxied) lua_pop(L, 1);
  return error;
}

// --- Invariants --------------------------------------------------------------------------------------------

void apply_invariants(const std::vector<SetInfo>& sets, const std::vector<std::size_t>& oldest_first,
                      const std::unordered_map<std::int64_t, std::size_t>& index_of,
                      std::vector<ExpireDecision>& out) {
  auto engine_keep = [&](std::size_t i, const std::string& why) {
    if (out[i].keep) return false;
    out[i].keep = true;
    out[i].overridden = true;
    out[i].reasons.push_back("kept by engine: " + why);
    return true;
  };
  for (std::size_t i = 0; i < sets.size(); ++i) {
    if (sets[i].legal_hold) engine_keep(i, "on legal hold");
  }
  // The last recovery chain: the newest full and every set after it. Without any full nothing is known to be
  // restorable from something else, so everything counts as the chain.
  std::size_t chain_start = 0;
  std::string chain_reason = "part of the last recovery chain (the series has no full backup)";
  for (std::size_t k = oldest_first.size(); k-- > 0;) {
    if (sets[oldest_first[k]].level == "full") {
      chain_start = k;
      chain_reason = "part of the last recovery chain (newest full " +
                     std::to_string(sets[oldest_first[k]].id) + " and the sets after it)";
      break;
    }
  }
  for (std::size_t k = chain_start; k < oldest_first.size(); ++k) engine_keep(oldest_first[k], chain_reason);
  // Every kept set keeps what it was taken against, transitively.
  std::vector<std::size_t> pending;
  for (std::size_t k = oldest_first.size(); k-- > 0;) {
    if (out[oldest_first[k]].keep) pending.push_back(oldest_first[k]);
  }
  std::reverse(pending.begin(), pending.end());
  while (!pending.empty()) {
    const std::size_t i = pending.back();
    pending.pop_back();
    if (!sets[i].base) continue;
    auto base = index_of.find(*sets[i].base);
    if (base == index_of.end()) continue;
    if (engine_keep(base->second, "set " + std::to_string(sets[i].id) + " depends on it")) {
      pending.push_back(base->second);
    }
  }
}

std::optional<std::string> check_input(const std::vector<SetInfo>& sets,
                                       std::unordered_map<std::int64_t, std::size_t>& index_of) {
  for (std::size_t i = 0; i < sets.size(); ++i) {
    const SetInfo& s = sets[i];
    if (!index_of.emplace(s.id, i).second)
      return "set " + std::to_string(s.id) + " appears twice in the series";
    if (s.level != "full" && s.level != "incremental" && s.level != "differential") {
      return "set " + std::to_string(s.id) + " has level '" + s.level +
             "'; expected full, incremental or differential";
    }
  }
  return std::nullopt;
}

void fail_closed(ExpireResult& result, const std::vector<SetInfo>& sets, std::string error,
                 std::string traceback) {
  result.failed = true;
  result.decisions.clear();
  for (const SetInfo& s : sets) {
    result.decisions.push_back({s.id, true, {"policy failed, everything kept: " + error}, false});
  }
  result.error = std::move(error);
  result.traceback = std::move(traceback);
}

}  // namespace

ExpireResult evaluate_expire(const PolicyRepo& repo, const std::string& series,
                             const std::vector<SetInfo>& sets, std::int64_t now_s, const std::string& tenant,
                             const SandboxLimits& limits) {
  ExpireResult result;
  result.revision = repo.revision();
  const PolicyFile* file = repo.policy("retention.lua", tenant);
  result.policy_file = file != nullptr ? file->relative_path : "default/retention.lua";

  std::unordered_map<std::int64_t, std::size_t> index_of;
  if (auto bad = check_input(sets, index_of)) {
    fail_closed(result, sets, "invalid input for series '" + series + "': " + *bad, {});
  } else if (file == nullptr) {
    fail_closed(result, sets, result.policy_file + ": required policy file is missing", {});
  } else {
    std::vector<std::size_t> oldest_first(sets.size());
    std::iota(oldest_first.begin(), oldest_first.end(), std::size_t{0});
    std::stable_sort(oldest_first.begin(), oldest_first.end(), [&](std::size_t a, std::size_t b) {
      if (sets[a].started_s != sets[b].started_s) return sets[a].started_s < sets[b].started_s;
      return sets[a].id < sets[b].id;
    });
    std::vector<SetRow> rows;
    rows.reserve(sets.size());
    for (std::size_t i : oldest_first) {
      rows.push_back({&sets[i], detail::iso8601(sets[i].started_s), detail::iso8601(sets[i].completed_s)});
    }
    const std::string now_iso = detail::iso8601(now_s);

    std::vector<PolicyDecision> decisions(sets.size());
    std::optional<std::string> error;
    std::string traceback;
    try {
      Sandbox sandbox(limits, file->relative_path);
      sandbox.set_modules(&repo.modules());
      std::optional<LuaFailure> failure = sandbox.run_file(*file);
      if (!failure) {
        ExpireCall call{&rows, &series, &tenant, now_s, &now_iso, &file->relative_path};
        failure = sandbox.call(&call_expire_protected, &call, 1);
      }
      if (failure) {
        error = detail::failure_line(*failure, file->relative_path);
        traceback = failure->traceback;
      } else {
        if (auto bad = read_decisions(sandbox.state(), series, index_of, decisions)) {
          error = file->relative_path + ": " + *bad;
        }
        lua_settop(sandbox.state(), 0);
      }
    } catch (const std::exception& e) {
      error = e.what();
    }

    if (error) {
      fail_closed(result, sets, *error, std::move(traceback));
    } else {
      for (std::size_t i = 0; i < sets.size(); ++i) {
        PolicyDecision& d = decisions[i];
        ExpireDecision out{sets[i].id, true, {}, false};
        if (!d.present) {
          out.reasons.push_back("policy gave no decision");
        } else {
          out.keep = d.keep;
          out.reasons = std::move(d.reasons);
          if (out.reasons.empty()) out.reasons.push_back("policy gave no reason");
        }
        result.decisions.push_back(std::move(out));
      }
      apply_invariants(sets, oldest_first, index_of, result.decisions);
    }
  }

  if (result.failed) {
    spdlog::error("retention of series '{}': policy {} (revision {}) failed, all {} sets kept: {}", series,
                  result.policy_file, result.revision, sets.size(), result.error.value_or(""));
  } else {
    const auto expired = std::count_if(result.decisions.begin(), result.decisions.end(),
                                       [](const ExpireDecision& d) { return !d.keep; });
    spdlog::info("retention of series '{}': policy {} (revision {}) keeps {} and expires {} sets", series,
                 result.policy_file, result.revision, sets.size() - static_cast<std::size_t>(expired),
                 expired);
  }
  return result;
}

}  // namespace sbx::policy
