// strongbox definitions|apply|export|pools and `devices set`: the site's configuration. Every change goes
// through site::apply (validation, one transaction, audit entry), so a verb and the same change written in a
// definitions file behave alike.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <strongbox/site.hpp>

#include "verbs.hpp"

namespace fs = std::filesystem;
using nlohmann::json;
using sbx::service::ServiceError;

namespace sbx::cli {
namespace {

constexpr const char* kMethods[] = {"full", "incremental", "differential", "synthetic"};

// A bad file or spec is the admin's input: exit 2, with the one line validation wrote.
template <typename F>
auto checked(F&& body) {
  try {
    return body();
  } catch (const site::DefinitionError& e) {
    throw ServiceError(e.what(), service::kExitUsage);
  }
}

void say(const Globals& g, const std::string& line) {
  if (!g.out.json && !g.out.quiet) std::printf("%s\n", line.c_str());
}

std::string joined(const std::vector<std::string>& items, const char* separator) {
  std::string text;
  for (const auto& item : items) text += (text.empty() ? "" : separator) + item;
  return text;
}

std::vector<site::ApplyChange> apply_one(service::Site& site, const json& document,
                                         const std::string& action) {
  return checked([&] {
    return site::apply(site.catalog(), site.registry(), site.policy_dir(), document, false, false, "cli",
                       action);
  });
}

// Written so that a crash leaves either the old file or the whole new one: temp file, fsync, rename, fsync
// dir.
void write_durably(const fs::path& file, const std::string& content) {
  fs::path dir = file.parent_path().empty() ? fs::path(".") : file.parent_path();
  std::string temp = (dir / ("." + file.filename().string() + ".tmp-XXXXXX")).string();
  int fd = mkstemp(temp.data());
  if (fd < 0)
    throw ServiceError("cannot create a temporary file next to " + file.string() + ": " +
                       std::strerror(errno));
  auto fail = [&](const std::string& what) {
    int saved = errno;
    ::close(fd);
    ::unlink(temp.c_str());
    throw ServiceError("cannot " + what + " " + file.string() + ": " + std::strerror(saved));
  };
  size_t done = 0;
  while (done < content.size()) {
    ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write");
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) fail("sync");
  if (::close(fd) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    throw ServiceError("cannot write " + file.string() + ": " + std::strerror(saved));
  }
  if (::rename(temp.c_str(), file.c_str()) != 0) {
    int saved = errno;
    ::unlink(temp.c_str());
    throw ServiceError("cannot replace " + file.string() + ": " + std::strerror(saved));
  }
  int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
}

// ------------------------------------------------------------------------------------------- definitions

struct DefinitionOptions {
  std::string name;
  std::string spec_file;
  std::vector<std::string> sources, includes, excludes, schedules;
  std::string device, pool, window, time_zone, retention, encryption, agent;
  int64_t priority = 50;
  CLI::Option* priority_given = nullptr;
  bool replace = false;
};

json spec_from_flags(const DefinitionOptions& o) {
  if (o.sources.empty())
    throw ServiceError("definitions add needs --source PATH (or --spec FILE)", service::kExitUsage);
  json spec = json::object();
  std::vector<std::string> sources;
  // On the command line a relative path means the current directory, as it does for `strongbox backup`.
  for (const auto& source : o.sources) {
    if (source.empty()) throw ServiceError("--source must not be empty", service::kExitUsage);
    sources.push_back(fs::absolute(source).lexically_normal().string());
  }
  spec["sources"] = sources;
  if (!o.includes.empty()) spec["includes"] = o.includes;
  if (!o.excludes.empty()) spec["excludes"] = o.excludes;
  if (!o.device.empty()) spec["device"] = o.device;
  if (!o.pool.empty()) spec["pool"] = o.pool;
  if (o.device.empty() && o.pool.empty()) spec["device"] = "disk1";
  if (!o.window.empty() && o.schedules.empty())
    throw ServiceError("--window applies to --schedule; give a schedule too", service::kExitUsage);
  json schedules = json::array();
  for (const auto& text : o.schedules) {
    json schedule;
    size_t eq = text.rfind('=');
    if (eq == std::string::npos) {
      schedule["when"] = text;
    } else {
      std::string method = text.substr(eq + 1);
      if (std::find(std::begin(kMethods), std::end(kMethods), method) == std::end(kMethods))
        throw ServiceError("--schedule '" + text + "': method '" + method +
                               "' is not one of full, incremental, differential, synthetic",
                           service::kExitUsage);
      schedule["when"] = text.substr(0, eq);
      schedule["method"] = method;
    }
    if (!o.window.empty()) schedule["window"] = o.window;
    schedules.push_back(schedule);
  }
  spec["schedules"] = schedules;
  if (!o.time_zone.empty()) spec["time_zone"] = o.time_zone;
  if (o.priority_given->count() > 0) spec["priority"] = o.priority;
  if (!o.retention.empty()) spec["retention"] = o.retention;
  if (!o.encryption.empty()) spec["encryption"] = o.encryption;
  if (!o.agent.empty()) spec["agent"] = o.agent;
  return spec;
}

bool has_spec_flags(const DefinitionOptions& o) {
  return !o.sources.empty() || !o.includes.empty() || !o.excludes.empty() || !o.schedules.empty() ||
         !o.device.empty() || !o.pool.empty() || !o.window.empty() || !o.time_zone.empty() ||
         !o.retention.empty() || !o.encryption.empty() || !o.agent.empty() || o.priority_given->count() > 0;
}

std::string target_text(const json& spec) {
  if (spec.contains("pool")) return "pool:" + spec["pool"].get<std::string>();
  if (spec.contains("device")) return spec["device"].get<std::string>();
  return spec.value("all", false) ? "(all devices)" : "-";
}

std::string schedules_text(const json& spec) {
  std::vector<std::string> parts;
  for (const auto& s : spec.value("schedules", json::array())) {
    std::string part = s.value("when", "");
    if (s.contains("method")) part += " (" + s["method"].get<std::string>() + ")";
    parts.push_back(part);
  }
  return parts.empty() ? "(by hand only)" : joined(parts, "; ");
}

json definition_json(const catalog::Definition& d) {
  return {{"type", "definition"},
          {"name", d.name},
          {"spec", d.spec},
          {"created", service::format_time(d.created_ns)},
          {"updated", service::format_time(d.updated_ns)}};
}

catalog::Definition require_definition(service::Site& site, const std::string& name) {
  auto definition = site.catalog().find_definition(name);
  if (!definition)
    throw ServiceError("no definition named '" + name + "' (see `strongbox definitions list`)",
                       service::kExitUsage);
  return *definition;
}

void add_definitions(CLI::App& app, Globals& g) {
  auto* definitions = app.add_subcommand("definitions", "backup definitions: what to protect, when, where");
  definitions->require_subcommand(1);

  auto* add = definitions->add_subcommand("add", "add a backup definition (from flags or a JSON spec)");
  auto o = std::make_shared<DefinitionOptions>();
  add->add_option("NAME", o->name, "definition name")->required();
  add->add_option("--spec", o->spec_file, "JSON file holding the whole spec (instead of the flags below)");
  add->add_option("--source", o->sources, "path to back up (repeatable; relative to the current directory)");
  add->add_option("--include", o->includes, "glob to back up only what matches (repeatable)");
  add->add_option("--exclude", o->excludes, "glob to leave out (repeatable)");
  add->add_option("--device", o->device, "target device (default: disk1)");
  add->add_option("--pool", o->pool, "target device pool (instead of --device)");
  add->add_option("--schedule", o->schedules, "WHEN[=METHOD], e.g. \"daily 22:00=incremental\" (repeatable)");
  add->add_option("--window", o->window, "a scheduled job must start within this long, e.g. 2h");
  add->add_option("--time-zone", o->time_zone, "IANA time zone of the schedules (default: the server's)");
  o->priority_given = add->add_option("--priority", o->priority, "0..100, higher runs first (default 50)");
  add->add_option("--retention", o->retention, "retention policy: default or tenants/NAME");
  add->add_option("--encryption", o->encryption, "none or required (the target must encrypt at rest)");
  add->add_option("--agent", o->agent, "agent plugin (default: files)");
  add->add_flag("--replace", o->replace, "replace the definition if it exists");
  add->callback([&g, o] {
    auto site = open_site(g);
    json spec;
    if (!o->spec_file.empty()) {
      if (has_spec_flags(*o))
        throw ServiceError("--spec FILE holds the whole spec; leave out the other spec flags",
                           service::kExitUsage);
      spec = checked([&] { return site::read_json_file(o->spec_file); });
    } else {
      spec = spec_from_flags(*o);
    }
    bool exists = site->catalog().find_definition(o->name).has_value();
    if (exists && !o->replace)
      throw ServiceError("definition '" + o->name + "' already exists (use --replace, or `strongbox apply`)",
                         service::kExitUsage);
    auto changes = apply_one(*site, {{"definitions", {{o->name, spec}}}}, "definition.put");
    auto stored = require_definition(*site, o->name);
    const std::string action = changes.empty() ? "unchanged" : changes.front().action;
    if (g.out.json) {
      json line = definition_json(stored);
      line["action"] = action;
      print_json(line);
    } else {
      const std::string done = action == "add" ? "added" : action == "change" ? "replaced" : "unchanged";
      say(g, "definition " + o->name + " " + done + ": " + target_text(stored.spec) + ", " +
                 schedules_text(stored.spec));
    }
  });

  definitions->add_subcommand("list", "list backup definitions")->callback([&g] {
    auto site = open_site(g);
    auto all = site->catalog().list_definitions();
    if (!g.out.json && !g.out.quiet)
      std::printf("%-20s %-7s %-20s %-8s  %s\n", "NAME", "KIND", "TARGET", "PRIORITY", "SCHEDULES");
    for (const auto& d : all) {
      if (g.out.json) {
        print_json(definition_json(d));
      } else if (!g.out.quiet) {
        std::string priority = d.spec.contains("priority") ? d.spec["priority"].dump() : "-";
        std::printf("%-20s %-7s %-20s %-8s  %s\n", d.name.c_str(), d.spec.value("kind", "backup").c_str(),
                    target_text(d.spec).c_str(), priority.c_str(), schedules_text(d.spec).c_str());
      }
    }
  });

  auto* show = definitions->add_subcommand("show", "print a definition's spec (canonical JSON)");
  auto show_name = std::make_shared<std::string>();
  show->add_option("NAME", *show_name, "definition name")->required();
  show->callback([&g, show_name] {
    auto site = open_site(g);
    auto d = require_definition(*site, *show_name);
    if (g.out.json)
      print_json(definition_json(d));
    else if (!g.out.quiet)
      std::printf("%s\n", d.spec.dump(2).c_str());
  });

  auto* remove =
      definitions->add_subcommand("remove", "remove a definition (its jobs and sets keep their history)");
  auto remove_name = std::make_shared<std::string>();
  remove->add_option("NAME", *remove_name, "definition name")->required();
  remove->callback([&g, remove_name] {
    auto site = open_site(g);
    auto& catalog = site->catalog();
    catalog.transaction([&] {
      auto d = require_definition(*site, *remove_name);
      catalog.remove_definition(d.name);
      catalog.audit("cli", "definition.remove", {{"name", d.name}, {"spec", d.spec}});
    });
    if (g.out.json)
      print_json({{"type", "definition_removed"}, {"name", *remove_name}});
    else
      say(g, "definition " + *remove_name + " removed");
  });
}

// ------------------------------------------------------------------------------------------- apply, export

struct ApplyOptions {
  std::string file;
  bool dry_run = false;
  bool prune = false;
};

void add_apply(CLI::App& app, Globals& g) {
  auto* apply = app.add_subcommand("apply", "make definitions, pools and device limits match a JSON file");
  auto o = std::make_shared<ApplyOptions>();
  apply->add_option("FILE", o->file, "definitions document (see `strongbox export`)")->required();
  apply->add_flag("--dry-run", o->dry_run, "print what would change, change nothing");
  apply->add_flag("--prune", o->prune, "also remove definitions and pools the file's sections do not list");
  apply->callback([&g, o] {
    auto site = open_site(g);
    json document = checked([&] { return site::read_json_file(o->file); });
    std::vector<site::ApplyChange> changes;
    try {
      changes =
          site::apply(site->catalog(), site->registry(), site->policy_dir(), document, o->dry_run, o->prune);
    } catch (const site::DefinitionError& e) {
      throw ServiceError(o->file + ": " + e.what(), service::kExitUsage);
    }
    size_t added = 0, changed = 0, removed = 0, unchanged = 0;
    for (const auto& c : changes) {
      if (c.action == "add") ++added;
      if (c.action == "change") ++changed;
      if (c.action == "remove") ++removed;
      if (c.action == "unchanged") ++unchanged;
      if (g.out.json) {
        json line = c.to_json();
        line["dry_run"] = o->dry_run;
        print_json(line);
        continue;
      }
      if (c.action == "unchanged" && g.verbosity == 0) continue;
      const char* mark = c.action == "add"      ? "+"
                         : c.action == "change" ? "~"
                         : c.action == "remove" ? "-"
                                                : "=";
      say(g, std::string(mark) + " " + c.kind + " " + c.name + (c.detail.empty() ? "" : ": " + c.detail));
    }
    if (g.out.json) {
      print_json({{"type", "apply_summary"},
                  {"added", added},
                  {"changed", changed},
                  {"removed", removed},
                  {"unchanged", unchanged},
                  {"dry_run", o->dry_run}});
    } else {
      const std::string counts = std::to_string(added) + " added, " + std::to_string(changed) + " changed, " +
                                 std::to_string(removed) + " removed, " + std::to_string(unchanged) +
                                 " unchanged";
      say(g, o->dry_run ? "dry run, nothing changed; it would be: " + counts : "applied: " + counts);
    }
  });

  auto* export_cmd =
      app.add_subcommand("export", "print definitions, pools and device limits as one JSON document");
  auto output = std::make_shared<std::string>();
  export_cmd->add_option("--output,-o", *output, "write to FILE (atomically) instead of standard output");
  export_cmd->callback([&g, output] {
    auto site = open_site(g);
    json document = site::export_document(site->catalog());
    if (output->empty()) {
      std::printf("%s\n", g.out.json ? document.dump().c_str() : document.dump(2).c_str());
      return;
    }
    write_durably(*output, document.dump(2) + "\n");
    if (g.out.json)
      print_json({{"type", "export"},
                  {"file", *output},
                  {"definitions", document["definitions"].size()},
                  {"pools", document["pools"].size()},
                  {"devices", document["devices"].size()}});
    else
      say(g, "exported " + std::to_string(document["definitions"].size()) + " definitions, " +
                 std::to_string(document["pools"].size()) + " pools, " +
                 std::to_string(document["devices"].size()) + " devices to " + *output);
  });
}

// ------------------------------------------------------------------------------------------- pools

json pool_json(const catalog::Pool& p, const std::vector<std::string>& used_by) {
  return {{"type", "pool"},
          {"name", p.name},
          {"device_type", p.type},
          {"devices", p.members},
          {"used_by", used_by}};
}

catalog::Pool require_pool(service::Site& site, const std::string& name) {
  auto pool = site.catalog().find_pool(name);
  if (!pool)
    throw ServiceError("no pool named '" + name + "' (see `strongbox pools list`)", service::kExitUsage);
  return *pool;
}

void print_pool(const Globals& g, service::Site& site, const std::string& name) {
  auto pool = require_pool(site, name);
  auto used_by = site::definitions_using_pool(site.catalog(), name);
  if (g.out.json)
    print_json(pool_json(pool, used_by));
  else
    say(g, "pool " + pool.name + " (" + pool.type +
               "): " + (pool.members.empty() ? "(no devices)" : joined(pool.members, ", ")) +
               (used_by.empty() ? "" : "; used by " + joined(used_by, ", ")));
}

struct PoolOptions {
  std::string name, type, device;
  std::vector<std::string> devices;
};

void add_pools(CLI::App& app, Globals& g) {
  auto* pools = app.add_subcommand("pools", "device pools: jobs aimed at a pool take a free member");
  pools->require_subcommand(1);

  auto* add = pools->add_subcommand("add", "add a pool of devices of one type");
  auto o = std::make_shared<PoolOptions>();
  add->add_option("NAME", o->name, "pool name")->required();
  add->add_option("--type", o->type, "storage type of its devices, e.g. disk")->required();
  add->add_option("--device", o->devices, "member device, in the order jobs try them (repeatable)");
  add->callback([&g, o] {
    auto site = open_site(g);
    if (site->catalog().find_pool(o->name))
      throw ServiceError("pool '" + o->name + "' already exists (see `strongbox pools show " + o->name + "`)",
                         service::kExitUsage);
    apply_one(*site, {{"pools", {{o->name, {{"type", o->type}, {"devices", o->devices}}}}}}, "pool.add");
    print_pool(g, *site, o->name);
  });

  pools->add_subcommand("list", "list pools with their devices")->callback([&g] {
    auto site = open_site(g);
    if (!g.out.json && !g.out.quiet) std::printf("%-20s %-8s %s\n", "NAME", "TYPE", "DEVICES");
    for (const auto& p : site->catalog().list_pools()) {
      if (g.out.json)
        print_json(pool_json(p, site::definitions_using_pool(site->catalog(), p.name)));
      else if (!g.out.quiet)
        std::printf("%-20s %-8s %s\n", p.name.c_str(), p.type.c_str(),
                    p.members.empty() ? "(none)" : joined(p.members, ",").c_str());
    }
  });

  auto* show = pools->add_subcommand("show", "show a pool, its devices and the definitions using it");
  show->add_option("NAME", o->name, "pool name")->required();
  show->callback([&g, o] {
    auto site = open_site(g);
    print_pool(g, *site, o->name);
  });

  auto* remove = pools->add_subcommand("remove", "remove a pool no definition uses (its devices stay)");
  remove->add_option("NAME", o->name, "pool name")->required();
  remove->callback([&g, o] {
    auto site = open_site(g);
    auto& catalog = site->catalog();
    catalog.transaction([&] {
      auto pool = require_pool(*site, o->name);
      checked([&] { site::remove_pool(catalog, o->name); });
      catalog.audit("cli", "pool.remove",
                    {{"name", pool.name}, {"type", pool.type}, {"devices", pool.members}});
    });
    if (g.out.json)
      print_json({{"type", "pool_removed"}, {"name", o->name}});
    else
      say(g, "pool " + o->name + " removed");
  });

  auto* add_device = pools->add_subcommand("add-device", "append a device to a pool");
  add_device->add_option("NAME", o->name, "pool name")->required();
  add_device->add_option("DEVICE", o->device, "device name")->required();
  add_device->callback([&g, o] {
    auto site = open_site(g);
    auto pool = require_pool(*site, o->name);
    if (std::find(pool.members.begin(), pool.members.end(), o->device) != pool.members.end())
      throw ServiceError("device '" + o->device + "' is already in pool '" + pool.name + "'",
                         service::kExitUsage);
    pool.members.push_back(o->device);
    apply_one(*site, {{"pools", {{pool.name, {{"type", pool.type}, {"devices", pool.members}}}}}},
              "pool.add-device");
    print_pool(g, *site, o->name);
  });

  auto* remove_device =
      pools->add_subcommand("remove-device", "take a device out of a pool (the device stays)");
  remove_device->add_option("NAME", o->name, "pool name")->required();
  remove_device->add_option("DEVICE", o->device, "device name")->required();
  remove_device->callback([&g, o] {
    auto site = open_site(g);
    auto pool = require_pool(*site, o->name);
    auto found = std::find(pool.members.begin(), pool.members.end(), o->device);
    if (found == pool.members.end())
      throw ServiceError("device '" + o->device + "' is not in pool '" + pool.name + "'",
                         service::kExitUsage);
    pool.members.erase(found);
    apply_one(*site, {{"pools", {{pool.name, {{"type", pool.type}, {"devices", pool.members}}}}}},
              "pool.remove-device");
    print_pool(g, *site, o->name);
  });
}

// ------------------------------------------------------------------------------------------- devices set

struct DeviceSetOptions {
  std::string name;
  int64_t max_jobs = 1;
  CLI::Option* max_jobs_given = nullptr;
  bool enable = false, disable = false;
};

void add_device_set(CLI::App& app, Globals& g) {
  auto* devices = app.get_subcommand("devices");
  auto* set = devices->add_subcommand("set", "set a device's job limit or take it in or out of service");
  auto o = std::make_shared<DeviceSetOptions>();
  set->add_option("NAME", o->name, "device name")->required();
  o->max_jobs_given =
      set->add_option("--max-jobs", o->max_jobs, "jobs the server runs on it at once (1..1024)");
  auto* enable = set->add_flag("--enable", o->enable, "put the device (back) in service");
  set->add_flag("--disable", o->disable, "take the device out of service: pools and the scheduler skip it")
      ->excludes(enable);
  set->callback([&g, o] {
    const bool max_jobs = o->max_jobs_given->count() > 0;
    if (!max_jobs && !o->enable && !o->disable)
      throw ServiceError("devices set needs --max-jobs N, --enable or --disable", service::kExitUsage);
    auto site = open_site(g);
    json limits = json::object();
    if (max_jobs) limits["max_jobs"] = o->max_jobs;
    if (o->enable || o->disable) limits["enabled"] = o->enable;
    auto changes = apply_one(*site, {{"devices", {{o->name, limits}}}}, "device.set");
    auto device = site->catalog().find_device(o->name);
    if (!device) throw ServiceError("device '" + o->name + "' was removed meanwhile");
    if (g.out.json) {
      print_json({{"type", "device_limits"},
                  {"name", device->name},
                  {"max_jobs", device->max_jobs},
                  {"enabled", device->enabled},
                  {"changed", !changes.empty() && changes.front().action == "change"}});
    } else {
      say(g, "device " + device->name + ": max_jobs " + std::to_string(device->max_jobs) + ", " +
                 (device->enabled ? "enabled" : "disabled"));
    }
  });
}

// Global flags may follow the verb (`strongbox pools list --json`), as main.cpp allows for its own verbs.
void allow_trailing_globals(CLI::App* command) {
  for (auto* sub : command->get_subcommands([](CLI::App*) { return true; })) {
    sub->fallthrough();
    allow_trailing_globals(sub);
  }
}

}  // namespace

void add_definition_verbs(CLI::App& app, Globals& g) {
  add_definitions(app, g);
  add_apply(app, g);
  add_pools(app, g);
  add_device_set(app, g);
  for (const char* verb : {"definitions", "apply", "export", "pools", "devices"}) {
    auto* command = app.get_subcommand(verb);
    command->fallthrough();
    allow_trailing_globals(command);
  }
}

}  // namespace sbx::cli
