// The staging hook: stages(set, ctx) returns the copy graph of a completed backup set; the engine checks
// every entry and refuses the whole plan when one is wrong, so a typo never silently drops a copy.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <map>

#include "repo_internal.hpp"
#include "sandbox.hpp"

namespace sbx::policy {

const std::vector<RequiredHook>& optional_hooks() {
  static const std::vector<RequiredHook> kHooks = {{"stages.lua", "stages", "set, ctx"}};
  return kHooks;
}

namespace {

using detail::LuaFailure;
using detail::Sandbox;
using Json = nlohmann::json;

constexpr std::size_t kMaxStages = 32;
constexpr std::size_t kMaxNameBytes = 64;
constexpr std::int64_t kSecondsPerDay = 86'400;
constexpr std::int64_t kMaxAfterSeconds = 366 * kSecondsPerDay;
// Keeps days * 86400 * 1e9 far inside int64 for callers that compute an expiry time in nanoseconds.
constexpr std::int64_t kMaxRetentionDays = 36'500;
constexpr std::int64_t kNsPerSecond = 1'000'000'000;
constexpr int kMaxDepth = 32;
constexpr std::size_t kMaxAnswerValues = 100'000;
constexpr std::size_t kMaxAnswerStringBytes = 4096;
constexpr std::size_t kMaxQuotedBytes = 64;

// A string for a one-line message: quoted, control and non-ASCII bytes escaped, long text cut.
std::string shown(std::string_view text) {
  std::string out = "\"";
  for (std::size_t i = 0; i < text.size() && i < kMaxQuotedBytes; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > kMaxQuotedBytes) out += "...";
  return out + "\"";
}

std::int64_t floor_seconds(std::int64_t ns) {
  return ns / kNsPerSecond - (ns % kNsPerSecond < 0 ? 1 : 0);
}

// --- Inputs to Lua (protected code: only trivially destructible C++ objects live across Lua calls) -------

void push_json(lua_State* L, const Json& value, int depth) {
  if (depth > kMaxDepth) luaL_error(L, "stages input is nested deeper than %d levels", kMaxDepth);
  luaL_checkstack(L, 4, "stages input");
  switch (value.type()) {
    case Json::value_t::boolean:
      lua_pushboolean(L, value.get<bool>() ? 1 : 0);
      break;
    case Json::value_t::number_integer:
      lua_pushinteger(L, value.get<std::int64_t>());
      break;
    case Json::value_t::number_unsigned: {
      const auto u = value.get<std::uint64_t>();
      if (u <= static_cast<std::uint64_t>(LUA_MAXINTEGER)) {
        lua_pushinteger(L, static_cast<lua_Integer>(u));
      } else {
        lua_pushnumber(L, static_cast<lua_Number>(u));
      }
      break;
    }
    case Json::value_t::number_float:
      lua_pushnumber(L, value.get<double>());
      break;
    case Json::value_t::string: {
      const std::string& s = value.get_ref<const std::string&>();
      lua_pushlstring(L, s.data(), s.size());
      break;
    }
    case Json::value_t::array: {
      lua_createtable(L, static_cast<int>(std::min<std::size_t>(value.size(), 1 << 20)), 0);
      lua_Integer index = 0;
      for (const Json& item : value) {
        ++index;
        // JSON null is Lua nil: the list keeps its other indexes, as a Lua list with a hole would.
        if (item.is_null()) continue;
        push_json(L, item, depth + 1);
        lua_rawseti(L, -2, index);
      }
      break;
    }
    case Json::value_t::object:
      lua_createtable(L, 0, static_cast<int>(std::min<std::size_t>(value.size(), 1 << 20)));
      for (auto it = value.begin(); it != value.end(); ++it) {
        if (it->is_null()) continue;
        const std::string& key = it.key();
        lua_pushlstring(L, key.data(), key.size());
        push_json(L, *it, depth + 1);
        lua_rawset(L, -3);
      }
      break;
    default:
      lua_pushnil(L);
      break;
  }
}

struct StagesCall {
  const Json* set;
  const Json* definition;  // null for a manual backup
  const Json* devices;
  const Json* pools;
  std::int64_t now_s;
  std::int64_t now_ns;
  const std::string* now_iso;
  const std::string* tenant;
  const std::string* file;
};

int call_stages_protected(lua_State* L) {
  const auto* call = static_cast<const StagesCall*>(lua_touserdata(L, 1));
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_GLOBALS);
  lua_pushliteral(L, "stages");
  if (lua_rawget(L, -2) != LUA_TFUNCTION) {
    return luaL_error(L, "%s: hook 'stages' is not defined (expected a global function stages(set, ctx))",
                      call->file->c_str());
  }
  push_json(L, *call->set, 0);
  detail::freeze_top(L);
  lua_createtable(L, 0, 7);
  lua_pushinteger(L, call->now_s);
  lua_setfield(L, -2, "now");
  lua_pushinteger(L, call->now_ns);
  lua_setfield(L, -2, "now_ns");
  lua_pushlstring(L, call->now_iso->data(), call->now_iso->size());
  lua_setfield(L, -2, "now_iso");
  if (!call->tenant->empty()) {
    lua_pushlstring(L, call->tenant->data(), call->tenant->size());
    lua_setfield(L, -2, "tenant");
  }
  if (!call->definition->is_null()) {
    push_json(L, *call->definition, 1);
    lua_setfield(L, -2, "definition");
  }
  push_json(L, *call->devices, 1);
  lua_setfield(L, -2, "devices");
  push_json(L, *call->pools, 1);
  lua_setfield(L, -2, "pools");
  detail::freeze_top(L);
  lua_call(L, 2, 1);
  return 1;
}

// --- The script's answer to JSON, with the non-raising part of the Lua API ------------------------------

class AnswerReader {
 public:
  explicit AnswerReader(lua_State* L) : L_(L) {}

  // Converts the value at idx; false with error() naming the path ("[2].retention") when it cannot.
  bool read(int idx, Json& out, const std::string& path, int depth = 0) {
    idx = lua_absindex(L_, idx);
    if (++values_ > kMaxAnswerValues) return fail(path, "the answer holds more values than the engine reads");
    switch (lua_type(L_, idx)) {
      case LUA_TNIL:
        out = nullptr;
        return true;
      case LUA_TBOOLEAN:
        out = lua_toboolean(L_, idx) != 0;
        return true;
      case LUA_TNUMBER: {
        if (lua_isinteger(L_, idx)) {
          out = static_cast<std::int64_t>(lua_tointegerx(L_, idx, nullptr));
          return true;
        }
        const lua_Number n = lua_tonumberx(L_, idx, nullptr);
        if (!std::isfinite(n)) return fail(path, "is not a finite number");
        out = static_cast<double>(n);
        return true;
      }
      case LUA_TSTRING: {
        std::size_t len = 0;
        const char* s = lua_tolstring(L_, idx, &len);
        if (len > kMaxAnswerStringBytes) {
          return fail(path, "is a " + std::to_string(len) + "-byte string; at most " +
                                std::to_string(kMaxAnswerStringBytes) + " are read");
        }
        out = std::string(s, len);
        return true;
      }
      case LUA_TTABLE:
        return read_table(idx, out, path, depth);
      default:
        return fail(path, std::string("is a ") + lua_typename(L_, lua_type(L_, idx)) +
                              "; stages must be plain tables, strings, numbers and booleans");
    }
  }

  const std::string& error() const { return error_; }

 private:
  bool fail(const std::string& path, const std::string& what) {
    error_ = (path.empty() ? std::string("the returned value") : path) + " " + what;
    return false;
  }

  bool read_table(int idx, Json& out, const std::string& path, int depth) {
    if (depth >= kMaxDepth)
      return fail(path, "is nested deeper than " + std::to_string(kMaxDepth) + " levels");
    if (!lua_checkstack(L_, 6)) return fail(path, "is too deep for the Lua stack");
    const bool proxied = detail::push_frozen_target(L_, idx);
    const int table = proxied ? lua_gettop(L_) : idx;
    const bool ok = read_table_contents(table, out, path, depth);
    if (proxied) lua_pop(L_, 1);
    return ok;
  }

  bool read_table_contents(int table, Json& out, const std::string& path, int depth) {
    const lua_Unsigned length = lua_rawlen(L_, table);
    std::size_t count = 0;
    bool list_keys = true;
    bool named_keys = true;
    lua_pushnil(L_);
    while (lua_next(L_, table) != 0) {
      ++count;
      int is_int = 0;
      const lua_Integer key = lua_tointegerx(L_, -2, &is_int);
      const int key_type = lua_type(L_, -2);
      if (key_type != LUA_TNUMBER || is_int == 0 || key < 1 || static_cast<lua_Unsigned>(key) > length) {
        list_keys = false;
      }
      if (key_type != LUA_TSTRING) named_keys = false;
      lua_pop(L_, 1);
      if (count > kMaxAnswerValues) {
        lua_pop(L_, 1);
        return fail(path, "holds more values than the engine reads");
      }
    }
    if (count == 0) {
      // Lua cannot tell an empty list from an empty record; readers accept an empty array as either.
      out = Json::array();
      return true;
    }
    if (list_keys && count == length) {
      out = Json::array();
      for (lua_Unsigned i = 1; i <= length; ++i) {
        lua_rawgeti(L_, table, static_cast<lua_Integer>(i));
        Json item;
        const bool ok = read(-1, item, path + "[" + std::to_string(i) + "]", depth + 1);
        lua_pop(L_, 1);
        if (!ok) return false;
        out.push_back(std::move(item));
      }
      return true;
    }
    if (!named_keys) {
      return fail(path, "mixes list items with named fields, or has keys that are neither");
    }
    out = Json::object();
    lua_pushnil(L_);
    while (lua_next(L_, table) != 0) {
      std::size_t len = 0;
      const char* key = lua_tolstring(L_, -2, &len);
      std::string name(key, std::min(len, kMaxAnswerStringBytes));
      Json item;
      const bool ok = read(-1, item, path + "." + name, depth + 1);
      lua_pop(L_, 1);
      if (!ok) {
        lua_pop(L_, 1);
        return false;
      }
      out[std::move(name)] = std::move(item);
    }
    return true;
  }

  lua_State* L_;
  std::size_t values_ = 0;
  std::string error_;
};

// --- Validation of one plan --------------------------------------------------------------------------------

const char* type_name(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "nil";
    case Json::value_t::boolean:
      return "a boolean";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "a number";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "a list";
    case Json::value_t::object:
      return "a table with named fields";
    default:
      return "an unsupported value";
  }
}

bool is_record(const Json& v) {
  return v.is_object() || (v.is_array() && v.empty());
}

// A number that is a whole value (Lua may hand 3600.0 for 3600).
std::optional<std::int64_t> whole_number(const Json& v) {
  if (v.is_number_integer()) return v.get<std::int64_t>();
  if (v.is_number_unsigned()) return std::nullopt;  // beyond int64: out of every range checked here
  if (v.is_number_float()) {
    const double d = v.get<double>();
    if (std::isfinite(d) && std::trunc(d) == d && std::fabs(d) < 9.0e15) return static_cast<std::int64_t>(d);
  }
  return std::nullopt;
}

// "45s" "90m" "4h" "1d" "2w" "1h30m": whole units, each at most once, largest first (the definition spec's
// DURATION, without the sub-second units, which mean nothing for a copy delay).
std::optional<std::string> parse_duration_seconds(const std::string& text, std::int64_t& seconds) {
  struct Unit {
    char name;
    std::int64_t seconds;
  };
  static constexpr Unit kUnits[] = {
      {'w', 7 * kSecondsPerDay}, {'d', kSecondsPerDay}, {'h', 3600}, {'m', 60}, {'s', 1}};
  if (text.empty()) return "is an empty duration; write e.g. \"4h\" or \"1h30m\"";
  if (text[0] == '-') return "must not be negative";
  std::int64_t total = 0;
  std::size_t next_unit = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const std::size_t digits = pos;
    std::int64_t value = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (value > kMaxAfterSeconds) return "is more than 366 days";
      value = value * 10 + (text[pos] - '0');
      ++pos;
    }
    if (pos == digits) return "is not a duration: expected a number at " + shown(text.substr(digits));
    if (pos == text.size())
      return "is not a duration: number " + std::to_string(value) + " has no unit (w, d, h, m or s)";
    std::size_t index = 0;
    while (index < std::size(kUnits) && kUnits[index].name != text[pos]) ++index;
    if (index == std::size(kUnits)) {
      return "is not a duration: unknown unit at " + shown(text.substr(pos)) + " (use w, d, h, m or s)";
    }
    if (index < next_unit)
      return "is not a duration: units must each appear once, largest first (e.g. 1h30m)";
    next_unit = index + 1;
    ++pos;
    if (value > kMaxAfterSeconds) return "is more than 366 days";
    total += value * kUnits[index].seconds;
    if (total > kMaxAfterSeconds) return "is more than 366 days";
  }
  seconds = total;
  return std::nullopt;
}

std::optional<std::string> check_after(const Json& v, std::int64_t& seconds) {
  if (v.is_string()) {
    const std::string& text = v.get_ref<const std::string&>();
    if (auto bad = parse_duration_seconds(text, seconds)) return shown(text) + " " + *bad;
    return std::nullopt;
  }
  if (!v.is_number()) {
    return std::string("must be a number of seconds or a duration such as \"4h\", got ") + type_name(v);
  }
  const auto whole = whole_number(v);
  if (!whole) {
    if (v.is_number_float() && std::isfinite(v.get<double>()) && std::fabs(v.get<double>()) < 9.0e15) {
      return "must be whole seconds, got " + v.dump();
    }
    return "is more than 366 days";
  }
  if (*whole < 0) return "must not be negative, got " + std::to_string(*whole);
  if (*whole > kMaxAfterSeconds) {
    return "is " + std::to_string(*whole) + " seconds, more than 366 days (" +
           std::to_string(kMaxAfterSeconds) + ")";
  }
  seconds = *whole;
  return std::nullopt;
}

// Minutes since midnight of "HH:MM"; allow_24 lets "24:00" mean the end of the day.
std::optional<int> clock_minutes(std::string_view text, bool allow_24) {
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (text.size() != 5 || text[2] != ':' || !digit(text[0]) || !digit(text[1]) || !digit(text[3]) ||
      !digit(text[4])) {
    return std::nullopt;
  }
  const int hour = (text[0] - '0') * 10 + (text[1] - '0');
  const int minute = (text[3] - '0') * 10 + (text[4] - '0');
  if (minute > 59) return std::nullopt;
  if (hour == 24 && minute == 0 && allow_24) return 24 * 60;
  if (hour > 23) return std::nullopt;
  return hour * 60 + minute;
}

// Same reading as the scheduler's daily windows: may cross midnight, "xx:xx-00:00" ends at midnight and
// "00:00-24:00" is always open.
std::optional<std::string> check_window(const std::string& text) {
  const std::string_view view = text;
  const auto start =
      view.size() == 11 && view[5] == '-' ? clock_minutes(view.substr(0, 5), false) : std::nullopt;
  const auto end = view.size() == 11 && view[5] == '-' ? clock_minutes(view.substr(6), true) : std::nullopt;
  if (!start || !end) return shown(text) + " is not HH:MM-HH:MM (24-hour clock, e.g. \"22:00-06:00\")";
  const int end_minute = *end == 0 ? 24 * 60 : *end;
  if (*start == end_minute % (24 * 60) && end_minute != 24 * 60) {
    return shown(text) + " starts and ends at the same time; use \"00:00-24:00\" for any time";
  }
  return std::nullopt;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

std::string known_names(const Json& table) {
  if (!table.is_object() || table.empty()) return "none";
  std::string out;
  std::size_t listed = 0;
  for (auto it = table.begin(); it != table.end(); ++it) {
    if (listed == 8) {
      out += ", ...";
      break;
    }
    out += (listed++ == 0 ? "" : ", ") + shown(it.key());
  }
  return out;
}

std::optional<std::string> check_target(const std::string& to, const Json& devices, const Json& pools) {
  static constexpr std::string_view kPoolPrefix = "pool:";
  if (to.starts_with(kPoolPrefix)) {
    const std::string pool = to.substr(kPoolPrefix.size());
    if (pool.empty()) return shown(to) + " names no pool; write \"pool:NAME\"";
    if (pools.contains(pool)) return std::nullopt;
    return shown(to) + " names no pool of this site (pools: " + known_names(pools) + ")";
  }
  if (to.empty()) return std::string("must name a device or \"pool:NAME\", got \"\"");
  if (devices.contains(to)) return std::nullopt;
  return shown(to) + " names no device of this site (devices: " + known_names(devices) +
         "; write \"pool:NAME\" for a pool)";
}

std::optional<std::string> check_retention(const Json& v, Json& normalized) {
  if (!is_record(v)) {
    return std::string("must be {days = N} or {until_copied = true}, got ") + type_name(v);
  }
  const bool has_days = v.is_object() && v.contains("days");
  const bool has_until = v.is_object() && v.contains("until_copied");
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      if (it.key() != "days" && it.key() != "until_copied") {
        return "has unknown field " + shown(it.key()) + " (expected days or until_copied)";
      }
    }
  }
  if (has_days == has_until) {
    return has_days ? std::string("gives both days and until_copied; choose one")
                    : std::string("must give days = N or until_copied = true");
  }
  if (has_until) {
    const Json& until = v.at("until_copied");
    if (!until.is_boolean() || !until.get<bool>()) {
      return std::string("until_copied must be true (give days = N for a fixed retention), got ") +
             (until.is_boolean() ? "false" : type_name(until));
    }
    normalized = Json{{"until_copied", true}};
    return std::nullopt;
  }
  const Json& days = v.at("days");
  const auto whole = whole_number(days);
  if (!whole) {
    return std::string("days must be a whole number of days, got ") +
           (days.is_number() ? days.dump() : std::string(type_name(days)));
  }
  if (*whole < 1 || *whole > kMaxRetentionDays) {
    return "days must be 1 to " + std::to_string(kMaxRetentionDays) + ", got " + std::to_string(*whole);
  }
  normalized = Json{{"days", *whole}};
  return std::nullopt;
}

// Checks the stage list; returns the entries, or fills errors (each naming the entry and field).
std::vector<StagePlanEntry> validate_plan(const Json& list, const Json& devices, const Json& pools,
                                          const std::string& prefix, std::vector<std::string>& errors) {
  std::vector<StagePlanEntry> entries;
  if (!list.is_array() && !is_record(list)) {
    errors.push_back(prefix + "stages must be a list of stage tables, got " + type_name(list));
    return entries;
  }
  if (list.is_object()) {
    errors.push_back(prefix + "stages must be a list of stage tables, got a table with named fields");
    return entries;
  }
  if (list.size() > kMaxStages) {
    errors.push_back(prefix + std::to_string(list.size()) + " stages; a plan may hold at most " +
                     std::to_string(kMaxStages));
    return entries;
  }
  std::map<std::string, std::size_t, std::less<>> index_of_name;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const Json& item = list[i];
    std::string label = "stage " + std::to_string(i + 1);
    auto error = [&](const std::string& field, const std::string& what) {
      errors.push_back(prefix + label + ": " + field + (field.empty() ? "" : " ") + what);
    };
    if (!is_record(item)) {
      error("", std::string("must be a table {name = , to = , ...}, got ") + type_name(item));
      continue;
    }
    const std::size_t errors_before = errors.size();
    StagePlanEntry entry;
    auto field = [&](const char* name) -> const Json* {
      if (!item.is_object()) return nullptr;
      auto it = item.find(name);
      return it == item.end() || it->is_null() ? nullptr : &*it;
    };

    if (const Json* name = field("name"); name == nullptr) {
      error("name", "is missing");
    } else if (!name->is_string()) {
      error("name", std::string("must be a string, got ") + type_name(*name));
    } else if (!valid_name(name->get_ref<const std::string&>())) {
      error("name",
            shown(name->get_ref<const std::string&>()) + " must be 1 to 64 letters, digits, '_', '-' or '.'");
    } else {
      entry.name = name->get<std::string>();
      label += " (" + shown(entry.name) + ")";
      if (auto seen = index_of_name.find(entry.name); seen != index_of_name.end()) {
        error("name", shown(entry.name) + " is already used by stage " + std::to_string(seen->second + 1));
      } else {
        index_of_name.emplace(entry.name, i);
      }
    }

    if (item.is_object()) {
      for (auto it = item.begin(); it != item.end(); ++it) {
        static constexpr std::string_view kFields[] = {"name", "to", "after", "window", "from", "retention"};
        if (std::find(std::begin(kFields), std::end(kFields), it.key()) == std::end(kFields)) {
          error("", "has unknown field " + shown(it.key()) +
                        " (expected name, to, after, window, from, retention)");
        }
      }
    }
    if (const Json* to = field("to"); to == nullptr) {
      error("to", "is missing (a device name or \"pool:NAME\")");
    } else if (!to->is_string()) {
      error("to", std::string("must be a device name or \"pool:NAME\", got ") + type_name(*to));
    } else if (auto bad = check_target(to->get_ref<const std::string&>(), devices, pools)) {
      error("to", *bad);
    } else {
      entry.to = to->get<std::string>();
    }

    if (const Json* after = field("after"); after != nullptr) {
      std::int64_t seconds = 0;
      if (auto bad = check_after(*after, seconds)) {
        error("after", *bad);
      } else {
        entry.after_ns = seconds * kNsPerSecond;
      }
    }

    if (const Json* window = field("window"); window != nullptr) {
      if (!window->is_string()) {
        error("window", std::string("must be \"HH:MM-HH:MM\", got ") + type_name(*window));
      } else if (!window->get_ref<const std::string&>().empty()) {
        if (auto bad = check_window(window->get_ref<const std::string&>())) {
          error("window", *bad);
        } else {
          entry.window = window->get<std::string>();
        }
      }
    }

    if (const Json* from = field("from"); from != nullptr) {
      if (!from->is_string()) {
        error("from", std::string("must name an earlier stage, got ") + type_name(*from));
      } else if (const std::string& source = from->get_ref<const std::string&>(); !source.empty()) {
        auto earlier = index_of_name.find(source);
        const bool names_itself = source == entry.name;
        if (names_itself) {
          error("from", shown(source) +
                            " names the stage itself; a stage copies the original set or an "
                            "earlier stage");
        } else if (earlier == index_of_name.end() || earlier->second >= i) {
          bool later = false;
          for (std::size_t k = i + 1; k < list.size() && !later; ++k) {
            const Json& other = list[k];
            later = other.is_object() && other.contains("name") && other["name"] == source;
          }
          error("from", shown(source) + (later ? " names a later stage" : " names no stage of this plan") +
                            "; a stage copies the original set or an earlier stage");
        } else {
          entry.from = source;
        }
      }
    }

    if (const Json* retention = field("retention"); retention == nullptr) {
      error("retention", "is missing ({days = N} or {until_copied = true})");
    } else if (auto bad = check_retention(*retention, entry.retention)) {
      error("retention", *bad);
    }

    if (errors.size() == errors_before) entries.push_back(std::move(entry));
  }
  if (!errors.empty()) return {};

  // Expire-after-copy needs a copy made from it, or it would go the moment it exists.
  for (const StagePlanEntry& entry : entries) {
    if (!entry.retention.contains("until_copied")) continue;
    const bool copied = std::any_of(entries.begin(), entries.end(),
                                    [&](const StagePlanEntry& other) { return other.from == entry.name; });
    if (!copied) {
      std::size_t index = 0;
      while (entries[index].name != entry.name) ++index;
      errors.push_back(prefix + "stage " + std::to_string(index + 1) + " (" + shown(entry.name) +
                       "): retention until_copied needs a later stage with from = " + shown(entry.name) +
                       "; none copies from it, so its copy would expire as soon as it is made");
    }
  }
  if (!errors.empty()) return {};
  return entries;
}

std::optional<std::string> check_inputs(const Json& set, const Json& definition,
                                        const Json& devices_and_pools) {
  if (!set.is_object()) return std::string("set must be a JSON object, got ") + set.type_name();
  if (!definition.is_null() && !definition.is_object()) {
    return std::string("definition spec must be a JSON object or null, got ") + definition.type_name();
  }
  if (!devices_and_pools.is_object() && !devices_and_pools.is_null()) {
    return std::string("devices and pools must be a JSON object, got ") + devices_and_pools.type_name();
  }
  for (const char* key : {"devices", "pools"}) {
    if (devices_and_pools.is_object() && devices_and_pools.contains(key) &&
        !devices_and_pools[key].is_object()) {
      return std::string(key) + " must be a JSON object keyed by name, got " +
             devices_and_pools[key].type_name();
    }
  }
  if (set.contains("tenant") && !set["tenant"].is_string()) return std::string("set tenant must be a string");
  return std::nullopt;
}

std::string set_label(const Json& set) {
  if (set.is_object()) {
    if (auto id = set.find("id"); id != set.end() && id->is_number_integer()) {
      return "set " + std::to_string(id->get<std::int64_t>());
    }
  }
  return "set (no id)";
}

void log_plan(const StagePlan& plan, const Json& set) {
  const std::string policy = !plan.policy_file.empty() ? plan.policy_file
                             : plan.revision.empty()   ? std::string("staging policy")
                                                       : std::string("definition stages");
  if (plan.refused()) {
    spdlog::error("staging of {}: {} (revision {}) refused, no copies planned: {}", set_label(set), policy,
                  plan.revision, plan.errors.front());
  } else {
    spdlog::info("staging of {}: {} (revision {}) planned {} copies", set_label(set), policy, plan.revision,
                 plan.entries.size());
  }
}

const Json& member_or_empty(const Json& object, const char* key) {
  static const Json kEmpty = Json::object();
  if (!object.is_object()) return kEmpty;
  auto it = object.find(key);
  return it == object.end() ? kEmpty : *it;
}

}  // namespace

StagePlan evaluate_stages(const PolicyRepo& repo, const Json& set, const Json& definition_spec,
                          const Json& devices_and_pools, std::int64_t now_ns, const SandboxLimits& limits) {
  StagePlan plan;
  plan.revision = repo.revision();
  try {
    if (auto bad = check_inputs(set, definition_spec, devices_and_pools)) {
      plan.errors.push_back("invalid input for staging " + set_label(set) + ": " + *bad);
      log_plan(plan, set);
      return plan;
    }
    const std::string tenant = set.contains("tenant") ? set["tenant"].get<std::string>() : std::string();
    const Json& devices = member_or_empty(devices_and_pools, "devices");
    const Json& pools = member_or_empty(devices_and_pools, "pools");
    const PolicyFile* file = repo.policy("stages.lua", tenant);

    Json answer;
    std::string prefix;
    if (file == nullptr) {
      // No hook: the definition's own stages are the plan, checked like a script's answer.
      answer = definition_spec.is_object() && definition_spec.contains("stages") ? definition_spec["stages"]
                                                                                 : Json::array();
      const auto name = set.find("definition");
      prefix = name != set.end() && name->is_string() && !name->get_ref<const std::string&>().empty()
                   ? "definition " + shown(name->get_ref<const std::string&>()) + " stages: "
                   : std::string("definition stages: ");
    } else {
      plan.policy_file = file->relative_path;
      prefix = file->relative_path + ": ";
      const std::int64_t now_s = floor_seconds(now_ns);
      const std::string now_iso = detail::iso8601(now_s);
      Sandbox sandbox(limits, file->relative_path);
      sandbox.set_modules(&repo.modules());
      std::optional<LuaFailure> failure = sandbox.run_file(*file);
      if (!failure) {
        StagesCall call{&set,    &definition_spec,    &devices, &pools, now_s, now_ns, &now_iso,
                        &tenant, &file->relative_path};
        failure = sandbox.call(&call_stages_protected, &call, 1);
      }
      if (failure) {
        plan.errors.push_back(detail::failure_line(*failure, file->relative_path));
        plan.traceback = failure->traceback;
        log_plan(plan, set);
        return plan;
      }
      AnswerReader reader(sandbox.state());
      const bool ok = reader.read(-1, answer, "");
      lua_settop(sandbox.state(), 0);
      if (!ok) {
        plan.errors.push_back(prefix +
                              "stages(set, ctx) returned a value the engine cannot read: " + reader.error());
        log_plan(plan, set);
        return plan;
      }
      if (answer.is_null()) {
        plan.errors.push_back(prefix +
                              "stages(set, ctx) returned nil; return a list of stages ({} for none)");
        log_plan(plan, set);
        return plan;
      }
    }
    plan.entries = validate_plan(answer, devices, pools, prefix, plan.errors);
  } catch (const std::exception& e) {
    plan.entries.clear();
    plan.errors.push_back(std::string("staging ") + set_label(set) + ": " + e.what());
  }
  log_plan(plan, set);
  return plan;
}

StagePlan PolicyEngine::evaluate_stages(const Json& set, const Json& definition_spec,
                                        const Json& devices_and_pools, std::int64_t now_ns) const {
  std::shared_ptr<const PolicyRepo> repo;
  std::optional<std::string> load_error;
  {
    std::lock_guard lock(mutex_);
    repo = repo_;
    load_error = last_error_;
  }
  if (repo)
    return policy::evaluate_stages(*repo, set, definition_spec, devices_and_pools, now_ns, options_.limits);
  StagePlan plan;
  plan.errors.push_back("no policy loaded from " + dir_.string() + ": " +
                        load_error.value_or("unknown error"));
  log_plan(plan, set);
  return plan;
}

void to_json(Json& j, const StagePlanEntry& e) {
  j = Json{{"name", e.name},     {"to", e.to},     {"after_ns", e.after_ns},
           {"window", e.window}, {"from", e.from}, {"retention", e.retention}};
}

void to_json(Json& j, const StagePlan& p) {
  j = Json{{"revision", p.revision},
           {"policy", p.policy_file},
           {"refused", p.refused()},
           {"errors", p.errors},
           {"entries", p.entries}};
  if (!p.traceback.empty()) j["traceback"] = p.traceback;
}

}  // namespace sbx::policy
