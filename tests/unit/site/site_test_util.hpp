// A site in a temporary directory for the site module's tests: a catalog with devices of two types (one that
// encrypts at rest), a policies directory with default/ and tenants/acme/, and the built plugins loaded.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>

#include "strongbox/catalog.hpp"
#include "strongbox/plugins.hpp"
#include "strongbox/site.hpp"

namespace sbx::site::testing {

using Json = nlohmann::json;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sbx-site-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

inline plugins::Registry& built_plugins() {
  static plugins::Registry registry = [] {
    plugins::Registry loaded;
    loaded.load_dir(std::filesystem::path(SBX_BUILD_DIR) / "lib" / "strongbox" / "plugins");
    return loaded;
  }();
  return registry;
}

class SiteTest : public ::testing::Test {
 protected:
  SiteTest() {
    std::filesystem::create_directories(policies / "default");
    std::filesystem::create_directories(policies / "tenants" / "acme");
    catalog->add_device("disk1", "disk", {{"path", (dir.path() / "disk1").string()}});
    catalog->add_device("disk2", "disk", {{"path", (dir.path() / "disk2").string()}});
    catalog->add_device("vault", "disk", {{"path", (dir.path() / "vault").string()}, {"key_file", "/etc/k"}});
    catalog->add_device("vault2", "disk",
                        {{"path", (dir.path() / "vault2").string()}, {"key_file", "/etc/k2"}});
    catalog->add_device("tape1", "tape", Json::object());
  }

  Json validate(const Json& spec, const std::string& name = "web") {
    return validate_definition(name, spec, *catalog, registry, policies);
  }
  std::vector<ApplyChange> apply_document(const Json& document, bool dry_run = false, bool prune = false) {
    return apply(*catalog, registry, policies, document, dry_run, prune);
  }

  static Json minimal() { return {{"sources", {"/home"}}, {"device", "disk1"}}; }
  static Json with(Json spec, const std::string& key, const Json& value) {
    spec[key] = value;
    return spec;
  }

  TempDir dir;
  std::filesystem::path policies = dir.path() / "policies";
  std::unique_ptr<catalog::Catalog> catalog =
      catalog::Catalog::open(dir.path() / "catalog.db", catalog::Catalog::Mode::create);
  plugins::Registry& registry = built_plugins();
};

inline std::string summary(const std::vector<ApplyChange>& changes) {
  std::string text;
  for (const auto& c : changes) text += c.action + " " + c.kind + " " + c.name + "\n";
  return text;
}

}  // namespace sbx::site::testing

// The statement must throw DefinitionError, on one line, containing `substring`.
#define EXPECT_DEFINITION_ERROR(statement, substring)                                                      \
  do {                                                                                                     \
    std::string sbx_error_message;                                                                         \
    bool sbx_thrown = false;                                                                               \
    try {                                                                                                  \
      statement;                                                                                           \
    } catch (const ::sbx::site::DefinitionError& e) {                                                      \
      sbx_thrown = true;                                                                                   \
      sbx_error_message = e.what();                                                                        \
    }                                                                                                      \
    EXPECT_TRUE(sbx_thrown) << #statement << " did not throw DefinitionError";                             \
    EXPECT_NE(sbx_error_message.find(substring), std::string::npos) << "error was: " << sbx_error_message; \
    EXPECT_EQ(sbx_error_message.find('\n'), std::string::npos)                                             \
        << "error spans lines: " << sbx_error_message;                                                     \
  } while (0)
