// What the site module's sources share: the configuration a spec is checked against (which may be the state a
// document is about to produce rather than the catalog's), and the one-line error helpers.
#pragma once

#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <strongbox/site.hpp>
#include <vector>

namespace sbx::site::detail {

using Json = nlohmann::json;

struct PoolState {
  std::string type;
  std::vector<std::string> members;
  bool operator==(const PoolState&) const = default;
};

// Devices and pools as a spec sees them.
struct World {
  std::map<std::string, catalog::Device> devices;  // live devices
  std::map<std::string, PoolState> pools;
  static World load(catalog::Catalog& catalog);
};

// 'value' for messages: control characters escaped, long values cut, so a hostile file cannot break the line
// or flood the terminal.
std::string in_quotes(std::string_view value);
// "a.b" / "a[3]" paths for messages.
std::string member_path(const std::string& base, std::string_view key);
std::string index_path(const std::string& base, size_t index);

// Raises DefinitionError "<subject>: <path>: <problem>" (empty parts left out).
class Problems {
 public:
  explicit Problems(std::string subject) : subject_(std::move(subject)) {}
  [[noreturn]] void fail(const std::string& path, const std::string& problem) const;

  const Json& object(const Json& value, const std::string& path) const;
  // Refuses keys outside `allowed`, naming the first unknown one and the known ones.
  void only_keys(const Json& object, const std::string& path,
                 std::initializer_list<std::string_view> allowed) const;
  // A non-empty string member, or nullopt when absent.
  std::optional<std::string> string(const Json& object, std::string_view key, const std::string& path) const;
  std::optional<std::string> one_of(const Json& object, std::string_view key, const std::string& path,
                                    std::initializer_list<std::string_view> options) const;
  std::optional<int64_t> integer(const Json& object, std::string_view key, const std::string& path,
                                 int64_t low, int64_t high) const;
  std::optional<bool> boolean(const Json& object, std::string_view key, const std::string& path) const;
  // A list of non-empty strings, or nullopt when absent.
  std::optional<std::vector<std::string>> strings(const Json& object, std::string_view key,
                                                  const std::string& path) const;
  // The names devices, pools and definitions share with the catalog (letters, digits, '.', '_', '-').
  void name(const std::string& value, const std::string& path, std::string_view what) const;

 private:
  std::string subject_;
};

// A DefinitionError for a bad name of a definition, pool or device (the subject itself, before any field).
void check_name(std::string_view what, const std::string& value);

Json check_definition(const std::string& name, const Json& spec, const World& world,
                      plugins::Registry& registry, const std::filesystem::path& policy_dir);
PoolState check_pool(const std::string& name, const Json& spec, const World& world);
Json pool_json(const PoolState& pool);

// The pools and devices a canonical spec sends data to (target and stage targets).
std::vector<std::string> pools_used(const Json& canonical_spec);
std::vector<std::string> devices_used(const Json& canonical_spec);

}  // namespace sbx::site::detail
