// Shared by the definitions CLI tests: a site with the devices samples/site/definitions.json expects.
#pragma once

#include "harness.hpp"

namespace sbx::test {

struct DefinitionsSite {
  TempDir dir;
  std::filesystem::path site = init_site(dir);

  DefinitionsSite() {
    for (const char* device : {"disk2", "offsite"}) {
      auto r = run({"devices", "add", device, "--type", "disk", "--path", (dir / device).string()});
      EXPECT_EQ(r.exit_code, 0) << r.err;
    }
  }
  RunResult run(std::vector<std::string> args) const {
    args.insert(args.begin(), {"--site", site.string()});
    return run_strongbox(args);
  }
  // The whole configuration, to show that a refused command changed nothing.
  std::string exported() const {
    auto r = run({"export"});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return r.out;
  }
  std::filesystem::path write(const std::string& name, const std::string& content) const {
    auto file = dir / name;
    write_file(file, content);
    return file;
  }
};

inline std::filesystem::path sample_document() {
  return std::filesystem::path(SBX_SOURCE_DIR) / "samples" / "site" / "definitions.json";
}

inline size_t count_lines(const std::string& text) {
  return std::count(text.begin(), text.end(), '\n');
}

}  // namespace sbx::test
