// `strongbox apply` and `strongbox export`: the site's configuration as one document. Apply checks the whole
// document against the state the catalog will be in afterwards before it touches anything, then changes the
// catalog in one transaction, so a bad line in the file leaves the site exactly as it was.
#include <algorithm>
#include <set>

#include "internal.hpp"

namespace sbx::site {

namespace fs = std::filesystem;
using detail::in_quotes;
using detail::Json;
using detail::PoolState;
using detail::Problems;
using detail::World;

namespace {

constexpr int64_t kMaxDeviceJobs = 1024;

std::string names_text(const std::vector<std::string>& names) {
  if (names.empty()) return "(none)";
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ",") + name;
  return text;
}

std::string quoted_list(const std::vector<std::string>& names) {
  std::string text;
  for (const auto& name : names) text += (text.empty() ? "" : ", ") + in_quotes(name);
  return text;
}

std::string describe_definition(const Json& spec) {
  if (spec.value("kind", "backup") == "verify") {
    return spec.contains("device") ? "verify of device " + spec["device"].get<std::string>()
                                   : "verify of every device";
  }
  std::string target = spec.contains("pool") ? "pool " + spec["pool"].get<std::string>()
                                             : "device " + spec.value("device", std::string());
  return "backup to " + target + ", " + std::to_string(spec.value("schedules", Json::array()).size()) +
         " schedule(s)";
}

std::string changed_keys(const Json& before, const Json& after) {
  std::set<std::string> keys;
  for (const auto& item : before.items()) keys.insert(item.key());
  for (const auto& item : after.items()) keys.insert(item.key());
  std::string text;
  for (const auto& key : keys) {
    auto old_value = before.find(key);
    auto new_value = after.find(key);
    bool same = old_value != before.end() && new_value != after.end() && *old_value == *new_value;
    if (!same) text += (text.empty() ? "" : ", ") + key;
  }
  return "changed: " + text;
}

const Json* section(const Json& document, const char* key) {
  auto found = document.find(key);
  if (found == document.end()) return nullptr;
  if (!found->is_object()) {
    throw DefinitionError(std::string(key) + ": must be a JSON object mapping names to entries, not " +
                          found->type_name());
  }
  return &*found;
}

struct DeviceUpdate {
  std::string name;
  std::optional<int64_t> max_jobs;
  std::optional<bool> enabled;
};

struct Plan {
  std::vector<ApplyChange> changes;
  std::vector<DeviceUpdate> devices;
  std::vector<std::pair<std::string, PoolState>> pools;   // to create or reset
  std::vector<std::pair<std::string, Json>> definitions;  // to store
  std::vector<std::string> removed_definitions;
  std::vector<std::string> removed_pools;
};

void plan_devices(const Json& devices, const World& world, Plan& plan) {
  for (const auto& [name, spec] : devices.items()) {
    detail::check_name("device name", name);
    const Problems problems("device " + in_quotes(name));
    auto device = world.devices.find(name);
    if (device == world.devices.end()) {
      problems.fail(
          "", "no such device (add devices with `strongbox devices add`; apply only sets their limits)");
    }
    problems.object(spec, "");
    problems.only_keys(spec, "", {"max_jobs", "enabled"});
    DeviceUpdate update{name, problems.integer(spec, "max_jobs", "", 1, kMaxDeviceJobs),
                        problems.boolean(spec, "enabled", "")};
    std::string detail;
    if (update.max_jobs && *update.max_jobs != device->second.max_jobs) {
      detail =
          "max_jobs " + std::to_string(device->second.max_jobs) + " -> " + std::to_string(*update.max_jobs);
    } else {
      update.max_jobs.reset();
    }
    if (update.enabled && *update.enabled != device->second.enabled) {
      detail += std::string(detail.empty() ? "" : ", ") + "enabled " +
                (device->second.enabled ? "true" : "false") + " -> " + (*update.enabled ? "true" : "false");
    } else {
      update.enabled.reset();
    }
    if (detail.empty()) {
      plan.changes.push_back({"unchanged", "device", name, ""});
    } else {
      plan.changes.push_back({"change", "device", name, detail});
      plan.devices.push_back(std::move(update));
    }
  }
}

// Returns the pools whose type or members change or that go away: definitions aimed at them need a new look.
std::set<std::string> plan_pools(const Json* pools, bool prune, World& world, Plan& plan) {
  std::set<std::string> touched;
  if (!pools) return touched;
  std::map<std::string, PoolState> wanted;
  for (const auto& [name, spec] : pools->items()) wanted[name] = detail::check_pool(name, spec, world);
  for (const auto& [name, pool] : wanted) {
    auto current = world.pools.find(name);
    if (current == world.pools.end()) {
      plan.changes.push_back(
          {"add", "pool", name, "type " + pool.type + ", members " + names_text(pool.members)});
    } else if (current->second == pool) {
      plan.changes.push_back({"unchanged", "pool", name, ""});
      continue;
    } else {
      std::string detail;
      if (current->second.type != pool.type)
        detail = "type " + current->second.type + " -> " + pool.type + ", ";
      detail += "members " + names_text(current->second.members) + " -> " + names_text(pool.members);
      plan.changes.push_back({"change", "pool", name, detail});
    }
    touched.insert(name);
    plan.pools.emplace_back(name, pool);
  }
  if (prune) {
    for (const auto& [name, pool] : world.pools) {
      if (wanted.count(name)) continue;
      touched.insert(name);
      plan.removed_pools.push_back(name);
    }
  }
  for (const auto& name : plan.removed_pools) world.pools.erase(name);
  for (auto& [name, pool] : wanted) world.pools[name] = std::move(pool);
  return touched;
}

void plan_definitions(const Json* definitions, bool prune, const std::set<std::string>& touched_pools,
                      const World& world, catalog::Catalog& catalog, plugins::Registry& registry,
                      const fs::path& policy_dir, Plan& plan) {
  std::map<std::string, Json> stored;
  for (auto& definition : catalog.list_definitions())
    stored.emplace(definition.name, std::move(definition.spec));

  std::set<std::string> listed;
  if (definitions) {
    for (const auto& [name, spec] : definitions->items()) {
      listed.insert(name);
      Json canonical = detail::check_definition(name, spec, world, registry, policy_dir);
      auto current = stored.find(name);
      if (current == stored.end()) {
        plan.changes.push_back({"add", "definition", name, describe_definition(canonical)});
      } else if (current->second == canonical) {
        plan.changes.push_back({"unchanged", "definition", name, ""});
        continue;
      } else {
        plan.changes.push_back({"change", "definition", name, changed_keys(current->second, canonical)});
      }
      plan.definitions.emplace_back(name, std::move(canonical));
    }
  }

  for (const auto& [name, spec] : stored) {
    if (listed.count(name)) continue;
    if (prune && definitions) {
      plan.removed_definitions.push_back(name);
      continue;
    }
    // Left alone by the document, but its pools may be changing under it: it must still hold afterwards.
    auto pools = detail::pools_used(spec);
    bool affected = std::any_of(pools.begin(), pools.end(),
                                [&](const std::string& pool) { return touched_pools.count(pool) > 0; });
    if (!affected) continue;
    try {
      detail::check_definition(name, spec, world, registry, policy_dir);
    } catch (const DefinitionError& e) {
      throw DefinitionError(
          std::string(e.what()) +
          " (this definition is in the catalog, not in the document: the document's pool changes "
          "would break it)");
    }
  }
}

void carry_out(catalog::Catalog& catalog, const Plan& plan, const std::string& actor,
               const std::string& action) {
  catalog.transaction([&] {
    for (const auto& update : plan.devices) {
      if (update.max_jobs) catalog.set_device_max_jobs(update.name, *update.max_jobs);
      if (update.enabled) catalog.set_device_enabled(update.name, *update.enabled);
    }
    for (const auto& [name, pool] : plan.pools) {
      auto current = catalog.find_pool(name);
      if (current && current->type != pool.type) {
        catalog.remove_pool(name);
        current.reset();
      }
      if (!current) {
        catalog.add_pool(name, pool.type);
      } else {
        for (const auto& member : current->members) catalog.remove_pool_member(name, member);
      }
      for (const auto& member : pool.members) catalog.add_pool_member(name, member);
    }
    for (const auto& [name, spec] : plan.definitions) catalog.put_definition(name, spec);
    for (const auto& name : plan.removed_definitions) catalog.remove_definition(name);
    for (const auto& name : plan.removed_pools) catalog.remove_pool(name);
    Json changes = Json::array();
    for (const auto& change : plan.changes) {
      if (change.action != "unchanged") changes.push_back(change.to_json());
    }
    catalog.audit(actor, action, {{"changes", changes}});
  });
}

}  // namespace

nlohmann::json ApplyChange::to_json() const {
  return {{"type", "apply_change"}, {"action", action}, {"kind", kind}, {"name", name}, {"detail", detail}};
}

std::vector<ApplyChange> apply(catalog::Catalog& catalog, plugins::Registry& registry,
                               const fs::path& policy_dir, const nlohmann::json& document, bool dry_run,
                               bool prune, const std::string& actor, const std::string& audit_action) {
  const Problems problems("");
  problems.object(document, "the document");
  problems.only_keys(document, "", {"definitions", "pools", "devices"});
  const Json* devices = section(document, "devices");
  const Json* pools = section(document, "pools");
  const Json* definitions = section(document, "definitions");

  Plan plan;
  // Read and checked in one snapshot, so nothing another process changes meanwhile slips between the checks
  // and the changes.
  catalog.transaction([&] {
    World world = World::load(catalog);
    if (devices) plan_devices(*devices, world, plan);
    std::set<std::string> touched_pools = plan_pools(pools, prune, world, plan);
    plan_definitions(definitions, prune, touched_pools, world, catalog, registry, policy_dir, plan);
    for (const auto& name : plan.removed_definitions)
      plan.changes.push_back({"remove", "definition", name, ""});
    for (const auto& name : plan.removed_pools) plan.changes.push_back({"remove", "pool", name, ""});
    bool any = std::any_of(plan.changes.begin(), plan.changes.end(),
                           [](const ApplyChange& change) { return change.action != "unchanged"; });
    if (!dry_run && any) carry_out(catalog, plan, actor, audit_action);
  });
  return plan.changes;
}

nlohmann::json export_document(catalog::Catalog& catalog) {
  Json document = {{"definitions", Json::object()}, {"pools", Json::object()}, {"devices", Json::object()}};
  catalog.transaction([&] {
    for (const auto& definition : catalog.list_definitions())
      document["definitions"][definition.name] = definition.spec;
    for (const auto& pool : catalog.list_pools()) {
      document["pools"][pool.name] = detail::pool_json(PoolState{pool.type, pool.members});
    }
    for (const auto& device : catalog.list_devices()) {
      document["devices"][device.name] = {{"max_jobs", device.max_jobs}, {"enabled", device.enabled}};
    }
  });
  return document;
}

std::vector<std::string> definitions_using_pool(catalog::Catalog& catalog, const std::string& pool) {
  std::vector<std::string> users;
  for (const auto& definition : catalog.list_definitions()) {
    auto pools = detail::pools_used(definition.spec);
    if (std::find(pools.begin(), pools.end(), pool) != pools.end()) users.push_back(definition.name);
  }
  return users;
}

std::vector<std::string> definitions_using_device(catalog::Catalog& catalog, const std::string& device) {
  std::vector<std::string> users;
  for (const auto& definition : catalog.list_definitions()) {
    auto devices = detail::devices_used(definition.spec);
    if (std::find(devices.begin(), devices.end(), device) != devices.end()) users.push_back(definition.name);
  }
  return users;
}

void remove_pool(catalog::Catalog& catalog, const std::string& name) {
  catalog.transaction([&] {
    if (!catalog.find_pool(name)) throw DefinitionError("no pool named " + in_quotes(name));
    auto users = definitions_using_pool(catalog, name);
    if (!users.empty()) {
      throw DefinitionError("pool " + in_quotes(name) + " is a target of definition " + quoted_list(users) +
                            "; change or remove " + (users.size() == 1 ? "it" : "them") + " first");
    }
    catalog.remove_pool(name);
  });
}

}  // namespace sbx::site
