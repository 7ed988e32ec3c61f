// Validation of definition and pool specs, producing their canonical form. The server reads stored specs
// without re-checking them (it keys its schedule marks by the canonical schedule text), so everything it
// relies on is checked here, once, with a message that names the field.
#include <algorithm>
#include <set>
#include <strongbox/scheduler.hpp>

#include "internal.hpp"

namespace sbx::site {

namespace fs = std::filesystem;

namespace detail {

namespace {

constexpr size_t kNameLength = 64;
constexpr size_t kQuotedLimit = 80;
constexpr int64_t kMaxRetentionDays = 36500;
constexpr int64_t kMaxAttempts = 100;

bool is_ascii_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool valid_name(const std::string& value) {
  auto allowed = [](char c) { return is_ascii_alnum(c) || c == '.' || c == '_' || c == '-'; };
  return !value.empty() && value.size() <= kNameLength && is_ascii_alnum(value[0]) &&
         std::all_of(value.begin(), value.end(), allowed);
}

std::string name_rule() {
  return "use 1 to " + std::to_string(kNameLength) +
         " letters, digits, '.', '_' or '-', starting with a letter or digit";
}

const Json* member(const Json& object, std::string_view key) {
  auto found = object.find(key);
  return found == object.end() ? nullptr : &*found;
}

std::string list_text(std::initializer_list<std::string_view> items) {
  std::string text;
  for (auto item : items) text += (text.empty() ? "" : ", ") + std::string(item);
  return text;
}

// The scheduler starts its messages with what it parsed (`schedule "x": `); the field path already says that.
std::string without_context(const std::string& message) {
  for (std::string_view prefix : {"schedule \"", "duration \"", "window \""}) {
    if (message.rfind(prefix, 0) != 0) continue;
    // The quoted text escapes its own quotes as \", so the closing quote is the first unescaped one.
    for (size_t end = message.find("\": ", prefix.size()); end != std::string::npos;
         end = message.find("\": ", end + 1)) {
      size_t backslashes = 0;
      while (end - backslashes > prefix.size() && message[end - backslashes - 1] == '\\') ++backslashes;
      if (backslashes % 2 == 0) return message.substr(end + 3);
    }
  }
  return message;
}

std::string duration(const Problems& problems, const Json& object, std::string_view key,
                     const std::string& path, const std::string& fallback, bool allow_zero) {
  auto text = problems.string(object, key, path);
  if (!text) return fallback;
  const std::string field = member_path(path, key);
  int64_t ns = 0;
  try {
    ns = scheduler::parse_duration(*text);
  } catch (const scheduler::ScheduleError& e) {
    problems.fail(field, without_context(e.what()));
  }
  if (ns == 0 && !allow_zero) problems.fail(field, "must be longer than 0s");
  return scheduler::format_duration(ns);
}

void check_time_zone(const Problems& problems, const std::string& zone, const std::string& path) {
  try {
    scheduler::Schedule::parse("daily 00:00", zone);
  } catch (const scheduler::ScheduleError& e) {
    problems.fail(path, without_context(e.what()));
  }
}

// ------------------------------------------------------------------------------------------- schedules

Json check_schedule(const Problems& problems, const Json& value, const std::string& path, bool backup,
                    const std::string& default_zone) {
  const Json& object = problems.object(value, path);
  if (backup) {
    problems.only_keys(object, path, {"when", "method", "window", "time_zone", "exclude_dates", "catch_up"});
  } else {
    if (member(object, "method")) {
      problems.fail(member_path(path, "method"),
                    "a verify schedule has no method (it always reads every set)");
    }
    problems.only_keys(object, path, {"when", "window", "time_zone", "exclude_dates", "catch_up"});
  }
  auto when = problems.string(object, "when", path);
  if (!when)
    problems.fail(member_path(path, "when"), "is required (e.g. \"daily 22:00\" or \"0 22 * * 1-5\")");
  Json canonical = {{"when", *when}};
  if (backup) {
    canonical["method"] =
        problems.one_of(object, "method", path, {"full", "incremental", "differential", "synthetic"})
            .value_or("incremental");
  }
  if (member(object, "window")) canonical["window"] = duration(problems, object, "window", path, "", false);
  std::string zone = default_zone;
  if (auto own_zone = problems.string(object, "time_zone", path)) {
    check_time_zone(problems, *own_zone, member_path(path, "time_zone"));
    canonical["time_zone"] = *own_zone;
    zone = *own_zone;
  }
  std::vector<std::string> dates =
      problems.strings(object, "exclude_dates", path).value_or(std::vector<std::string>{});
  for (size_t i = 0; i < dates.size(); ++i) {
    try {
      // The zone plays no part in reading a date; UTC keeps this check independent of the machine.
      scheduler::Schedule::parse("daily 00:00", "UTC", {dates[i]});
    } catch (const scheduler::ScheduleError& e) {
      problems.fail(index_path(member_path(path, "exclude_dates"), i), without_context(e.what()));
    }
  }
  canonical["exclude_dates"] = dates;
  canonical["catch_up"] = problems.one_of(object, "catch_up", path, {"last", "all", "none"}).value_or("last");
  try {
    scheduler::Schedule::parse(*when, zone, dates);
  } catch (const scheduler::ScheduleError& e) {
    problems.fail(member_path(path, "when"), without_context(e.what()));
  }
  return canonical;
}

Json check_schedules(const Problems& problems, const Json& spec, bool backup,
                     const std::string& default_zone) {
  const Json* list = member(spec, "schedules");
  Json canonical = Json::array();
  if (!list) return canonical;
  if (!list->is_array()) problems.fail("schedules", "must be a list, not " + std::string(list->type_name()));
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string path = index_path("schedules", i);
    Json schedule = check_schedule(problems, (*list)[i], path, backup, default_zone);
    // The server keeps one mark per distinct schedule: two equal ones would fire as one.
    for (size_t j = 0; j < canonical.size(); ++j) {
      if (canonical[j] == schedule) problems.fail(path, "is the same as " + index_path("schedules", j));
    }
    canonical.push_back(std::move(schedule));
  }
  return canonical;
}

// ------------------------------------------------------------------------------------------- targets

struct TargetDevice {
  std::string device;
  std::string via;  // how the spec reaches it, for messages: "" (named directly), "pool 'x'", ...
};

void require_device(const Problems& problems, const World& world, const std::string& name,
                    const std::string& path) {
  if (!world.devices.count(name)) {
    problems.fail(path, "no device named " + in_quotes(name) + " (see `strongbox devices list`)");
  }
}

void require_pool(const Problems& problems, const World& world, const std::string& name,
                  const std::string& path) {
  if (!world.pools.count(name))
    problems.fail(path, "no pool named " + in_quotes(name) + " (see `strongbox pools list`)");
}

void add_pool_devices(const World& world, const std::string& pool, const std::string& via,
                      std::vector<TargetDevice>& out) {
  for (const auto& device : world.pools.at(pool).members) out.push_back({device, via});
}

// "pool:NAME" or a device name, as stages' "to" and job targets write it.
constexpr std::string_view kPoolPrefix = "pool:";

Json check_stages(const Problems& problems, const Json& spec, const World& world, const std::string& zone,
                  std::vector<TargetDevice>& targets) {
  const Json* list = member(spec, "stages");
  Json canonical = Json::array();
  if (!list) return canonical;
  if (!list->is_array()) problems.fail("stages", "must be a list, not " + std::string(list->type_name()));
  std::vector<std::string> names;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string path = index_path("stages", i);
    const Json& stage = problems.object((*list)[i], path);
    problems.only_keys(stage, path, {"name", "to", "after", "window", "from", "retention"});
    Json out;

    auto name = problems.string(stage, "name", path);
    if (!name) problems.fail(member_path(path, "name"), "is required");
    problems.name(*name, member_path(path, "name"), "stage name");
    if (std::find(names.begin(), names.end(), *name) != names.end()) {
      problems.fail(member_path(path, "name"), "stage " + in_quotes(*name) + " is listed twice");
    }
    out["name"] = *name;

    auto to = problems.string(stage, "to", path);
    if (!to) problems.fail(member_path(path, "to"), "is required (a device name or \"pool:NAME\")");
    const std::string via = "stage " + in_quotes(*name);
    if (to->rfind(kPoolPrefix, 0) == 0) {
      const std::string pool = to->substr(kPoolPrefix.size());
      require_pool(problems, world, pool, member_path(path, "to"));
      add_pool_devices(world, pool, via + ", pool " + in_quotes(pool), targets);
    } else {
      require_device(problems, world, *to, member_path(path, "to"));
      targets.push_back({*to, via});
    }
    out["to"] = *to;

    out["after"] = duration(problems, stage, "after", path, "0s", true);
    if (auto window = problems.string(stage, "window", path)) {
      try {
        out["window"] = scheduler::DailyWindow::parse(*window, zone).text();
      } catch (const scheduler::ScheduleError& e) {
        problems.fail(member_path(path, "window"), without_context(e.what()));
      }
    }
    if (auto from = problems.string(stage, "from", path)) {
      if (std::find(names.begin(), names.end(), *from) == names.end()) {
        problems.fail(member_path(path, "from"),
                      "no earlier stage named " + in_quotes(*from) +
                          " (a stage copies the original set or a stage listed before it)");
      }
      out["from"] = *from;
    }

    const std::string retention_path = member_path(path, "retention");
    const Json* retention = member(stage, "retention");
    if (!retention) {
      problems.fail(retention_path, "is required: {\"days\": N} or {\"until_copied\": true}");
    }
    problems.object(*retention, retention_path);
    problems.only_keys(*retention, retention_path, {"days", "until_copied"});
    if (retention->size() != 1) {
      problems.fail(retention_path, "must be exactly one of {\"days\": N} or {\"until_copied\": true}");
    }
    if (auto days = problems.integer(*retention, "days", retention_path, 1, kMaxRetentionDays)) {
      out["retention"] = {{"days", *days}};
    } else {
      // The one key is until_copied.
      if (!*problems.boolean(*retention, "until_copied", retention_path)) {
        problems.fail(member_path(retention_path, "until_copied"),
                      "must be true (for a fixed retention write {\"days\": N})");
      }
      out["retention"] = {{"until_copied", true}};
    }

    names.push_back(*name);
    canonical.push_back(std::move(out));
  }
  return canonical;
}

void check_encryption(const Problems& problems, const World& world,
                      const std::vector<TargetDevice>& targets) {
  for (const auto& target : targets) {
    const catalog::Device& device = world.devices.at(target.device);
    const Json* key_file = member(device.settings, "key_file");
    if (key_file && key_file->is_string() && !key_file->get<std::string>().empty()) continue;
    problems.fail("encryption", "is \"required\", but device " + in_quotes(device.name) +
                                    (target.via.empty() ? "" : " (" + target.via + ")") +
                                    " has no key_file and does not encrypt at rest");
  }
}

// ------------------------------------------------------------------------------------------- the rest

std::string check_retention(const Problems& problems, const Json& spec, const fs::path& policy_dir) {
  const std::string retention = problems.string(spec, "retention", "").value_or("default");
  const std::string tenants = "tenants/";
  bool well_formed = retention == "default" ||
                     (retention.rfind(tenants, 0) == 0 && valid_name(retention.substr(tenants.size())));
  if (!well_formed) {
    problems.fail("retention", in_quotes(retention) +
                                   " is not a policy directory name (use \"default\" or "
                                   "\"tenants/NAME\")");
  }
  std::error_code ec;
  if (!fs::is_directory(policy_dir / retention, ec)) {
    problems.fail("retention", "no policy directory " + (policy_dir / retention).string());
  }
  return retention;
}

std::vector<std::string> check_sources(const Problems& problems, const Json& spec) {
  auto sources = problems.strings(spec, "sources", "");
  if (!sources || sources->empty()) {
    problems.fail("sources", "is required: a list of absolute paths to back up");
  }
  std::set<std::string> normalized;
  for (size_t i = 0; i < sources->size(); ++i) {
    const std::string& source = (*sources)[i];
    if (source.front() != '/') {
      problems.fail(index_path("sources", i),
                    in_quotes(source) +
                        " is not an absolute path (a definition may run anywhere: there is no current "
                        "directory to resolve it against)");
    }
    std::string path = fs::path(source).lexically_normal().string();
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    normalized.insert(path);
  }
  return {normalized.begin(), normalized.end()};
}

std::string check_agent(const Problems& problems, const Json& spec, plugins::Registry& registry) {
  const std::string agent = problems.string(spec, "agent", "").value_or("files");
  if (registry.find(SBX_KIND_AGENT, agent)) return agent;
  std::string loaded;
  for (const auto& plugin : registry.list()) {
    if (plugin.kind == plugins::kind_name(SBX_KIND_AGENT))
      loaded += (loaded.empty() ? "" : ", ") + plugin.name;
  }
  problems.fail("agent", "no agent plugin named " + in_quotes(agent) + " is loaded (loaded agents: " +
                             (loaded.empty() ? "none" : loaded) + "; see `strongbox plugins list`)");
}

Json check_retries(const Problems& problems, const Json& spec) {
  Json canonical = {{"attempts", 3}, {"backoff", "5m"}};
  const Json* retries = member(spec, "retries");
  if (!retries) return canonical;
  problems.object(*retries, "retries");
  problems.only_keys(*retries, "retries", {"attempts", "backoff"});
  canonical["attempts"] = problems.integer(*retries, "attempts", "retries", 1, kMaxAttempts).value_or(3);
  canonical["backoff"] = duration(problems, *retries, "backoff", "retries", "5m", true);
  return canonical;
}

}  // namespace

// ------------------------------------------------------------------------------------------- helpers

std::string in_quotes(std::string_view value) {
  static const char* digits = "0123456789abcdef";
  std::string out = "'";
  for (size_t i = 0; i < value.size(); ++i) {
    if (i == kQuotedLimit) {
      out += "...";
      break;
    }
    auto c = static_cast<unsigned char>(value[i]);
    // C1 controls (U+0080..U+009F, UTF-8 C2 80..C2 9F) include the terminal's CSI: escaped like C0 ones.
    bool c1 = c == 0xc2 && i + 1 < value.size() && (static_cast<unsigned char>(value[i + 1]) & 0xe0) == 0x80;
    if (c < 0x20 || c == 0x7f || c1) {
      out += "\\x";
      out += digits[c >> 4];
      out += digits[c & 15];
      if (c1) {
        auto next = static_cast<unsigned char>(value[++i]);
        out += "\\x";
        out += digits[next >> 4];
        out += digits[next & 15];
      }
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "'";
}

std::string member_path(const std::string& base, std::string_view key) {
  // Keys come from the file: shown like any other value when they are not plain names.
  std::string shown = valid_name(std::string(key)) ? std::string(key) : in_quotes(key);
  return base.empty() ? shown : base + "." + shown;
}

std::string index_path(const std::string& base, size_t index) {
  return base + "[" + std::to_string(index) + "]";
}

void Problems::fail(const std::string& path, const std::string& problem) const {
  std::string line;
  for (const std::string* part : {&subject_, &path, &problem}) {
    if (!part->empty()) line += (line.empty() ? "" : ": ") + *part;
  }
  throw DefinitionError(line);
}

const Json& Problems::object(const Json& value, const std::string& path) const {
  if (!value.is_object()) fail(path, "must be a JSON object, not " + std::string(value.type_name()));
  return value;
}

void Problems::only_keys(const Json& object, const std::string& path,
                         std::initializer_list<std::string_view> allowed) const {
  for (const auto& item : object.items()) {
    if (std::find(allowed.begin(), allowed.end(), item.key()) != allowed.end()) continue;
    fail(path, "unknown key " + in_quotes(item.key()) + " (known keys: " + list_text(allowed) + ")");
  }
}

std::optional<std::string> Problems::string(const Json& object, std::string_view key,
                                            const std::string& path) const {
  const Json* value = member(object, key);
  if (!value) return std::nullopt;
  const std::string field = member_path(path, key);
  if (!value->is_string()) fail(field, "must be a string, not " + std::string(value->type_name()));
  const auto& text = value->get_ref<const std::string&>();
  if (text.empty()) fail(field, "must not be empty (leave the key out for the default)");
  if (text.find('\0') != std::string::npos) fail(field, "must not contain a NUL character");
  return text;
}

std::optional<std::string> Problems::one_of(const Json& object, std::string_view key, const std::string& path,
                                            std::initializer_list<std::string_view> options) const {
  auto value = string(object, key, path);
  if (value && std::find(options.begin(), options.end(), *value) == options.end()) {
    fail(member_path(path, key), in_quotes(*value) + " is not one of: " + list_text(options));
  }
  return value;
}

std::optional<int64_t> Problems::integer(const Json& object, std::string_view key, const std::string& path,
                                         int64_t low, int64_t high) const {
  const Json* value = member(object, key);
  if (!value) return std::nullopt;
  auto refuse = [&] {
    fail(member_path(path, key), "must be a whole number from " + std::to_string(low) + " to " +
                                     std::to_string(high) + ", not " +
                                     (value->is_number() ? value->dump() : std::string(value->type_name())));
  };
  if (value->is_number_unsigned()) {
    auto number = value->get<uint64_t>();
    if (number > static_cast<uint64_t>(high) || static_cast<int64_t>(number) < low) refuse();
    return static_cast<int64_t>(number);
  }
  if (!value->is_number_integer()) refuse();
  auto number = value->get<int64_t>();
  if (number < low || number > high) refuse();
  return number;
}

std::optional<bool> Problems::boolean(const Json& object, std::string_view key,
                                      const std::string& path) const {
  const Json* value = member(object, key);
  if (!value) return std::nullopt;
  if (!value->is_boolean()) {
    fail(member_path(path, key), "must be true or false, not " + std::string(value->type_name()));
  }
  return value->get<bool>();
}

std::optional<std::vector<std::string>> Problems::strings(const Json& object, std::string_view key,
                                                          const std::string& path) const {
  const Json* value = member(object, key);
  if (!value) return std::nullopt;
  const std::string field = member_path(path, key);
  if (!value->is_array()) fail(field, "must be a list of strings, not " + std::string(value->type_name()));
  std::vector<std::string> out;
  for (size_t i = 0; i < value->size(); ++i) {
    const Json& item = (*value)[i];
    const std::string item_path = index_path(field, i);
    if (!item.is_string()) fail(item_path, "must be a string, not " + std::string(item.type_name()));
    const auto& text = item.get_ref<const std::string&>();
    if (text.empty()) fail(item_path, "must not be empty");
    if (text.find('\0') != std::string::npos) fail(item_path, "must not contain a NUL character");
    out.push_back(text);
  }
  return out;
}

void Problems::name(const std::string& value, const std::string& path, std::string_view what) const {
  if (!valid_name(value))
    fail(path, "invalid " + std::string(what) + " " + in_quotes(value) + ": " + name_rule());
}

void check_name(std::string_view what, const std::string& value) {
  if (!valid_name(value)) {
    throw DefinitionError("invalid " + std::string(what) + " " + in_quotes(value) + ": " + name_rule());
  }
}

World World::load(catalog::Catalog& catalog) {
  World world;
  for (auto& device : catalog.list_devices()) world.devices.emplace(device.name, std::move(device));
  for (auto& pool : catalog.list_pools())
    world.pools[pool.name] = PoolState{pool.type, std::move(pool.members)};
  return world;
}

// ------------------------------------------------------------------------------------------- specs

Json check_definition(const std::string& name, const Json& spec, const World& world,
                      plugins::Registry& registry, const fs::path& policy_dir) {
  check_name("definition name", name);
  const Problems problems("definition " + in_quotes(name));
  problems.object(spec, "");
  const std::string kind = problems.one_of(spec, "kind", "", {"backup", "verify"}).value_or("backup");
  const bool backup = kind == "backup";
  if (backup) {
    problems.only_keys(spec, "",
                       {"kind", "agent", "sources", "includes", "excludes", "device", "pool", "schedules",
                        "time_zone", "retention", "stages", "expire_after_copy", "encryption", "priority",
                        "retries"});
  } else {
    problems.only_keys(spec, "", {"kind", "device", "all", "schedules", "time_zone", "priority", "retries"});
  }

  Json canonical = {{"kind", kind}};
  std::string zone;
  if (auto own_zone = problems.string(spec, "time_zone", "")) {
    check_time_zone(problems, *own_zone, "time_zone");
    canonical["time_zone"] = zone = *own_zone;
  }
  canonical["priority"] = problems.integer(spec, "priority", "", 0, 100).value_or(50);
  canonical["retries"] = check_retries(problems, spec);

  auto device = problems.string(spec, "device", "");
  if (!backup) {
    const bool all = problems.boolean(spec, "all", "").value_or(false);
    if (member(spec, "all") && !all) problems.fail("all", "must be true (or leave it out and name a device)");
    if (all == device.has_value()) {
      problems.fail("", "a verify definition needs exactly one of \"device\": NAME or \"all\": true");
    }
    if (device) {
      require_device(problems, world, *device, "device");
      canonical["device"] = *device;
    } else {
      canonical["all"] = true;
    }
    canonical["schedules"] = check_schedules(problems, spec, false, zone);
    return canonical;
  }

  canonical["agent"] = check_agent(problems, spec, registry);
  canonical["sources"] = check_sources(problems, spec);
  canonical["includes"] = problems.strings(spec, "includes", "").value_or(std::vector<std::string>{});
  canonical["excludes"] = problems.strings(spec, "excludes", "").value_or(std::vector<std::string>{});

  auto pool = problems.string(spec, "pool", "");
  if (device.has_value() == pool.has_value()) {
    problems.fail("", "needs exactly one target: \"device\": NAME or \"pool\": NAME");
  }
  std::vector<TargetDevice> targets;
  if (device) {
    require_device(problems, world, *device, "device");
    targets.push_back({*device, ""});
    canonical["device"] = *device;
  } else {
    require_pool(problems, world, *pool, "pool");
    add_pool_devices(world, *pool, "in pool " + in_quotes(*pool), targets);
    canonical["pool"] = *pool;
  }

  canonical["schedules"] = check_schedules(problems, spec, true, zone);
  canonical["retention"] = check_retention(problems, spec, policy_dir);
  canonical["stages"] = check_stages(problems, spec, world, zone, targets);
  const bool expire_after_copy = problems.boolean(spec, "expire_after_copy", "").value_or(false);
  if (expire_after_copy) {
    bool copied_from_original = false;
    for (const auto& stage : canonical["stages"]) copied_from_original |= !stage.contains("from");
    if (!copied_from_original)
      problems.fail("expire_after_copy", "needs at least one stage copying the original (a stage without \"from\")");
  }
  canonical["expire_after_copy"] = expire_after_copy;
  canonical["encryption"] = problems.one_of(spec, "encryption", "", {"none", "required"}).value_or("none");
  if (canonical["encryption"] == "required") check_encryption(problems, world, targets);
  return canonical;
}

PoolState check_pool(const std::string& name, const Json& spec, const World& world) {
  check_name("pool name", name);
  const Problems problems("pool " + in_quotes(name));
  problems.object(spec, "");
  problems.only_keys(spec, "", {"type", "devices"});
  auto type = problems.string(spec, "type", "");
  if (!type) problems.fail("type", "is required: the storage type of its devices, e.g. \"disk\"");
  problems.name(*type, "type", "device type");
  PoolState pool{*type, problems.strings(spec, "devices", "").value_or(std::vector<std::string>{})};
  for (size_t i = 0; i < pool.members.size(); ++i) {
    const std::string& device = pool.members[i];
    const std::string path = index_path("devices", i);
    auto found = world.devices.find(device);
    if (found == world.devices.end()) {
      problems.fail(path, "no device named " + in_quotes(device) + " (see `strongbox devices list`)");
    }
    if (found->second.type != pool.type) {
      problems.fail(path, "pool " + in_quotes(name) + " holds " + pool.type + " devices; device " +
                              in_quotes(device) + " is of type " + in_quotes(found->second.type));
    }
    auto first = std::find(pool.members.begin(), pool.members.end(), device);
    if (first - pool.members.begin() < static_cast<std::ptrdiff_t>(i)) {
      problems.fail(path, "device " + in_quotes(device) + " is listed twice");
    }
  }
  return pool;
}

Json pool_json(const PoolState& pool) {
  return {{"type", pool.type}, {"devices", pool.members}};
}

std::vector<std::string> pools_used(const Json& spec) {
  std::vector<std::string> pools;
  if (auto pool = spec.find("pool"); pool != spec.end() && pool->is_string())
    pools.push_back(pool->get<std::string>());
  if (auto stages = spec.find("stages"); stages != spec.end() && stages->is_array()) {
    for (const auto& stage : *stages) {
      auto to = stage.is_object() ? stage.find("to") : stage.end();
      if (to == stage.end() || !to->is_string()) continue;
      const auto& text = to->get_ref<const std::string&>();
      if (text.rfind(kPoolPrefix, 0) == 0) pools.push_back(text.substr(kPoolPrefix.size()));
    }
  }
  return pools;
}

std::vector<std::string> devices_used(const Json& spec) {
  std::vector<std::string> devices;
  if (auto device = spec.find("device"); device != spec.end() && device->is_string()) {
    devices.push_back(device->get<std::string>());
  }
  if (auto stages = spec.find("stages"); stages != spec.end() && stages->is_array()) {
    for (const auto& stage : *stages) {
      auto to = stage.is_object() ? stage.find("to") : stage.end();
      if (to == stage.end() || !to->is_string()) continue;
      const auto& text = to->get_ref<const std::string&>();
      if (text.rfind(kPoolPrefix, 0) != 0) devices.push_back(text);
    }
  }
  return devices;
}

}  // namespace detail

// ------------------------------------------------------------------------------------------- public API

nlohmann::json validate_definition(const std::string& name, const nlohmann::json& spec,
                                   catalog::Catalog& catalog, plugins::Registry& registry,
                                   const fs::path& policy_dir) {
  return detail::check_definition(name, spec, detail::World::load(catalog), registry, policy_dir);
}

nlohmann::json validate_pool(const std::string& name, const nlohmann::json& spec, catalog::Catalog& catalog) {
  return detail::pool_json(detail::check_pool(name, spec, detail::World::load(catalog)));
}

}  // namespace sbx::site
