// Frozen (read-only) proxies for policy inputs and the canonical text of Lua values.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "sandbox.hpp"

namespace sbx::policy::detail {
namespace {

// Key, inside a proxy's metatable, of the table the proxy stands for. A light userdata key cannot be
// forged from Lua, so only proxies made here carry it.
const char kFrozenTargetKey = 0;
constexpr int kMaxFreezeDepth = 100;
constexpr int kMaxTextDepth = 100;

int frozen_newindex(lua_State* L) {
  return luaL_error(L, "attempt to modify a read-only table (policy inputs are frozen)");
}

int frozen_len(lua_State* L) {
  if (!push_frozen_target(L, 1)) return luaL_error(L, "frozen table lost its contents");
  lua_pushinteger(L, static_cast<lua_Integer>(lua_rawlen(L, -1)));
  return 1;
}

int frozen_next(lua_State* L) {
  lua_settop(L, 2);
  if (!push_frozen_target(L, 1)) return luaL_error(L, "frozen table lost its contents");
  lua_replace(L, 1);
  if (lua_next(L, 1)) return 2;
  lua_pushnil(L);
  return 1;
}

int frozen_pairs(lua_State* L) {
  lua_pushcfunction(L, frozen_next);
  lua_pushvalue(L, 1);
  lua_pushnil(L);
  return 3;
}

// Pushes a proxy for the table at `target`.
void push_proxy(lua_State* L, int target) {
  lua_newtable(L);
  lua_createtable(L, 0, 5);
  lua_pushvalue(L, target);
  lua_setfield(L, -2, "__index");
  lua_pushcfunction(L, frozen_newindex);
  lua_setfield(L, -2, "__newindex");
  lua_pushcfunction(L, frozen_len);
  lua_setfield(L, -2, "__len");
  lua_pushcfunction(L, frozen_pairs);
  lua_setfield(L, -2, "__pairs");
  lua_pushliteral(L, "frozen");
  lua_setfield(L, -2, "__metatable");
  lua_pushvalue(L, target);
  lua_rawsetp(L, -2, &kFrozenTargetKey);
  lua_setmetatable(L, -2);
}

// Replaces the table on top by its proxy; `seen` maps tables already frozen in this pass to their proxies
// so shared and cyclic tables keep their shape.
void freeze_at(lua_State* L, int seen, int depth) {
  if (depth > kMaxFreezeDepth)
    luaL_error(L, "freeze: tables nested more than %d levels deep", kMaxFreezeDepth);
  luaL_checkstack(L, 8, "freeze");
  const int target = lua_gettop(L);
  if (is_frozen(L, target)) return;
  lua_pushvalue(L, target);
  if (lua_rawget(L, seen) != LUA_TNIL) {
    lua_replace(L, target);
    return;
  }
  lua_pop(L, 1);
  push_proxy(L, target);
  lua_pushvalue(L, target);
  lua_pushvalue(L, -2);
  lua_rawset(L, seen);
  lua_pushnil(L);
  while (lua_next(L, target) != 0) {
    if (lua_type(L, -1) == LUA_TTABLE && !is_frozen(L, -1)) {
      freeze_at(L, seen, depth + 1);
      lua_pushvalue(L, -2);
      lua_insert(L, -2);
      lua_rawset(L, target);  // replacing an existing field keeps the traversal valid
    } else {
      lua_pop(L, 1);
    }
  }
  lua_replace(L, target);
}

bool is_keyword(std::string_view s) {
  static constexpr std::string_view kKeywords[] = {
      "and", "break", "do",  "else", "elseif", "end",    "false",  "for",  "function", "goto",  "if",
      "in",  "local", "nil", "not",  "or",     "repeat", "return", "then", "true",     "until", "while"};
  return std::find(std::begin(kKeywords), std::end(kKeywords), s) != std::end(kKeywords);
}

bool is_identifier(std::string_view s) {
  if (s.empty() || is_keyword(s)) return false;
  auto alpha = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  if (!alpha(s[0])) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alpha(c) || (c >= '0' && c <= '9'); });
}

void append_quoted(std::string& out, std::string_view s) {
  out += '"';
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char esc[8];
          std::snprintf(esc, sizeof esc, "\\%03u", static_cast<unsigned>(c));
          out += esc;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

// Floats with an integral value print as integers so 1 and 1.0 (equal in Lua) have one text.
void append_number(std::string& out, lua_State* L, int idx) {
  int is_int = 0;
  const lua_Integer i = lua_tointegerx(L, idx, &is_int);
  if (is_int != 0) {
    out += std::to_string(i);
    return;
  }
  const double d = lua_tonumberx(L, idx, nullptr);
  if (std::isnan(d)) {
    out += "0/0";
  } else if (std::isinf(d)) {
    out += d > 0 ? "math.huge" : "-math.huge";
  } else {
    char buf[40];
    for (int precision = 15; precision <= 17; ++precision) {
      std::snprintf(buf, sizeof buf, "%.*g", precision, d);
      if (std::strtod(buf, nullptr) == d) break;
    }
    out += buf;
  }
}

struct Entry {
  int rank = 0;  // numbers, then booleans, then strings
  double number = 0;
  lua_Integer integer = 0;
  bool is_integer = false;
  std::string text_key;  // strings and booleans
  std::string key_text;  // how the key prints, e.g. "name = " or "[3] = "
  std::string value_text;
  bool value_is_table = false;

  bool operator<(const Entry& other) const {
    if (rank != other.rank) return rank < other.rank;
    if (rank == 0) {
      if (is_integer && other.is_integer) return integer < other.integer;
      return number < other.number;
    }
    return text_key < other.text_key;
  }
};

class TextWriter {
 public:
  TextWriter(lua_State* L, std::string& error) : L_(L), error_(error) {}

  bool write(int idx, std::string& out, int depth, const std::string& path) {
    switch (lua_type(L_, idx)) {
      case LUA_TNIL:
        out += "nil";
        return true;
      case LUA_TBOOLEAN:
        out += lua_toboolean(L_, idx) ? "true" : "false";
        return true;
      case LUA_TNUMBER:
        append_number(out, L_, idx);
        return true;
      case LUA_TSTRING: {
        std::size_t len = 0;
        const char* s = lua_tolstring(L_, idx, &len);
        append_quoted(out, std::string_view(s, len));
        return true;
      }
      case LUA_TTABLE:
        return write_table(idx, out, depth, path);
      default:
        error_ =
            std::string("cannot serialize a ") + lua_typename(L_, lua_type(L_, idx)) + " value at " + path;
        return false;
    }
  }

 private:
  bool write_table(int idx, std::string& out, int depth, const std::string& path) {
    if (depth >= kMaxTextDepth) {
      error_ = "tables nested more than " + std::to_string(kMaxTextDepth) + " levels deep at " + path;
      return false;
    }
    if (!lua_checkstack(L_, 6)) {
      error_ = "Lua stack exhausted while serializing " + path;
      return false;
    }
    const bool proxied = push_frozen_target(L_, idx);
    const int table = proxied ? lua_gettop(L_) : idx;
    const void* identity = lua_topointer(L_, table);
    if (std::find(open_.begin(), open_.end(), identity) != open_.end()) {
      error_ = "cannot serialize a cyclic table at " + path;
      if (proxied) lua_pop(L_, 1);
      return false;
    }
    open_.push_back(identity);
    std::vector<Entry> entries;
    bool ok = true;
    lua_pushnil(L_);
    while (ok && lua_next(L_, table) != 0) {
      Entry entry;
      ok = describe_key(lua_gettop(L_) - 1, entry, path);
      if (ok) {
        const std::string child =
            path + (entry.key_text.starts_with('[') ? entry.key_text : "." + entry.key_text);
        entry.value_is_table = lua_type(L_, -1) == LUA_TTABLE;
        ok = write(lua_gettop(L_), entry.value_text, depth + 1, child);
      }
      lua_pop(L_, 1);
      if (ok) entries.push_back(std::move(entry));
    }
    if (!ok) lua_pop(L_, 1);  // the key left by the interrupted traversal
    open_.pop_back();
    if (proxied) lua_pop(L_, 1);
    if (!ok) return false;

    std::sort(entries.begin(), entries.end());
    // Lists of plain values print without keys; records and tables of tables (decisions keyed by set id)
    // keep their keys so a reader sees which entry is which.
    bool is_list = true;
    for (std::size_t i = 0; i < entries.size() && is_list; ++i) {
      is_list = entries[i].rank == 0 && entries[i].is_integer &&
                entries[i].integer == static_cast<lua_Integer>(i + 1) && !entries[i].value_is_table;
    }
    if (entries.empty()) {
      out += "{}";
      return true;
    }
    const std::string indent(static_cast<std::size_t>(depth + 1) * 2, ' ');
    out += "{\n";
    for (const Entry& entry : entries) {
      out += indent;
      if (!is_list) {
        out += entry.key_text;
        out += " = ";
      }
      out += entry.value_text;
      out += ",\n";
    }
    out.append(static_cast<std::size_t>(depth) * 2, ' ');
    out += '}';
    return true;
  }

  bool describe_key(int idx, Entry& entry, const std::string& path) {
    switch (lua_type(L_, idx)) {
      case LUA_TNUMBER: {
        entry.rank = 0;
        int is_int = 0;
        entry.integer = lua_tointegerx(L_, idx, &is_int);
        entry.is_integer = is_int != 0;
        entry.number = lua_tonumberx(L_, idx, nullptr);
        entry.key_text = "[";
        append_number(entry.key_text, L_, idx);
        entry.key_text += "]";
        return true;
      }
      case LUA_TBOOLEAN:
        entry.rank = 1;
        entry.text_key = lua_toboolean(L_, idx) ? "true" : "false";
        entry.key_text = "[" + entry.text_key + "]";
        return true;
      case LUA_TSTRING: {
        entry.rank = 2;
        std::size_t len = 0;
        const char* s = lua_tolstring(L_, idx, &len);
        entry.text_key.assign(s, len);
        if (is_identifier(entry.text_key)) {
          entry.key_text = entry.text_key;
        } else {
          entry.key_text = "[";
          append_quoted(entry.key_text, entry.text_key);
          entry.key_text += "]";
        }
        return true;
      }
      default:
        error_ = std::string("cannot serialize a table key of type ") + lua_typename(L_, lua_type(L_, idx)) +
                 " at " + path;
        return false;
    }
  }

  lua_State* L_;
  std::string& error_;
  std::vector<const void*> open_;
};

}  // namespace

bool is_frozen(lua_State* L, int idx) {
  if (!lua_checkstack(L, 2) || lua_getmetatable(L, idx) == 0) return false;
  const bool frozen = lua_rawgetp(L, -1, &kFrozenTargetKey) == LUA_TTABLE;
  lua_pop(L, 2);
  return frozen;
}

bool push_frozen_target(lua_State* L, int idx) {
  idx = lua_absindex(L, idx);
  if (!lua_checkstack(L, 2) || lua_getmetatable(L, idx) == 0) return false;
  if (lua_rawgetp(L, -1, &kFrozenTargetKey) != LUA_TTABLE) {
    lua_pop(L, 2);
    return false;
  }
  lua_remove(L, -2);
  return true;
}

void freeze_top(lua_State* L) {
  luaL_checktype(L, -1, LUA_TTABLE);
  lua_newtable(L);
  lua_insert(L, -2);
  freeze_at(L, lua_gettop(L) - 1, 0);
  lua_remove(L, -2);
}

bool canonical_text(lua_State* L, int idx, std::string& out, std::string& error) {
  idx = lua_absindex(L, idx);
  TextWriter writer(L, error);
  out.clear();
  return writer.write(idx, out, 0, "value");
}

}  // namespace sbx::policy::detail
