// What a site is configured to do: backup definitions, device pools and device limits, validated against the
// catalog and the loaded plugins, and applied from (or exported to) one declarative JSON document, so a site
// can keep its configuration in git. The spec format is described in docs/admin-guide.md ("Definitions and
// apply").
//
// Every bad input throws DefinitionError with one line naming the thing, the field and the problem, e.g.
// "definition 'web': schedules[1].when: hour 25 is out of range 0-23" (list indexes count from 0).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <strongbox/catalog.hpp>
#include <strongbox/plugins.hpp>
#include <vector>

namespace sbx::site {

class DefinitionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The canonical form of a definition spec: defaults filled in, sources normalized (absolute, no trailing
// '/', sorted, unique), durations in their shortest form ("120m" -> "2h"); keys are sorted by nlohmann::json.
// Checks that the agent plugin is loaded, that target devices and pools exist, that the retention policy
// directory exists under policy_dir (the site's policies/), that schedules, windows, time zones and dates
// parse, that stages copy to existing targets from earlier stages, and that encryption "required" holds for
// every device the definition writes to. Validating a canonical spec returns it unchanged.
nlohmann::json validate_definition(const std::string& name, const nlohmann::json& spec,
                                   catalog::Catalog& catalog, plugins::Registry& registry,
                                   const std::filesystem::path& policy_dir);

// A pool {"type": T, "devices": [NAME, ...]} in canonical form: every device exists, is of type T and is
// listed once.
nlohmann::json validate_pool(const std::string& name, const nlohmann::json& spec, catalog::Catalog& catalog);

// Removes a pool, refused while a definition targets it (as "pool" or as a stage's "to": "pool:NAME").
void remove_pool(catalog::Catalog& catalog, const std::string& name);
// The definitions that send data to a pool or a device, by name.
std::vector<std::string> definitions_using_pool(catalog::Catalog& catalog, const std::string& pool);
std::vector<std::string> definitions_using_device(catalog::Catalog& catalog, const std::string& device);

struct ApplyChange {
  std::string action;  // add | change | remove | unchanged
  std::string kind;    // definition | pool | device
  std::string name;
  std::string detail;  // what changes, e.g. "members disk1,disk2 -> disk2,disk1"; "" when unchanged
  nlohmann::json to_json() const;
};

// Makes the catalog match `document` ({"definitions": {...}, "pools": {...}, "devices": {...}}, every section
// optional). Everything is validated first, against the state the catalog will have afterwards; then all
// changes are made in one catalog transaction, recorded in the audit log as `audit_action` by `actor`. On any
// error nothing changes. Items the document does not list are left alone, unless `prune`: then definitions
// and pools missing from a section the document has are removed (a section it leaves out is never pruned).
// Devices are never added or removed here, only their max_jobs/enabled set. A stored definition the document
// leaves alone is checked again when a pool it uses changes, so apply cannot break it. With dry_run the
// changes are computed and returned but not made. The result lists every item of the document (and every
// pruned one), unchanged ones included: devices, then pools, then definitions, then removals.
std::vector<ApplyChange> apply(catalog::Catalog& catalog, plugins::Registry& registry,
                               const std::filesystem::path& policy_dir, const nlohmann::json& document,
                               bool dry_run, bool prune, const std::string& actor = "cli",
                               const std::string& audit_action = "apply");

// The site's configuration as the canonical document apply takes: every definition, pool and live device.
// apply(export_document()) changes nothing.
nlohmann::json export_document(catalog::Catalog& catalog);

// Reads a JSON document (a definitions file, or a single spec for `definitions add --spec`). Refuses, with
// one line starting with the file name, a file that cannot be read, is over 16 MiB, is not JSON ("FILE: line
// 3, column 7: ...") or repeats a key within one object.
nlohmann::json read_json_file(const std::filesystem::path& file);

}  // namespace sbx::site
