// Reading hand-written JSON: one line naming the file (and line/column for syntax errors); repeated keys and
// oversized files refused.
#include <fstream>

#include "site_test_util.hpp"

namespace sbx::site::testing {
namespace {

class Document : public SiteTest {
 protected:
  std::filesystem::path write(const std::string& content) {
    auto file = dir.path() / "defs.json";
    std::ofstream(file, std::ios::binary) << content;
    return file;
  }
};

TEST_F(Document, ReadsJson) {
  auto file = write("{\n  \"definitions\": {\"web\": {\"sources\": [\"/srv\"]}}\n}\n");
  EXPECT_EQ(read_json_file(file)["definitions"]["web"]["sources"][0], "/srv");
}

TEST_F(Document, SyntaxErrorsGiveLineAndColumn) {
  auto file = write("{\n  \"definitions\": {\n    \"web\": {\"sources\": [\"/srv\",]}\n  }\n}\n");
  EXPECT_DEFINITION_ERROR(read_json_file(file), file.string() + ": line 3, column ");
  EXPECT_DEFINITION_ERROR(read_json_file(write("not json")), ": line 1, column 2: syntax error");
  EXPECT_DEFINITION_ERROR(read_json_file(write("")), ": line 1, column 1: ");
  EXPECT_DEFINITION_ERROR(read_json_file(write("{\"a\": \"\xff\"}")), ": line 1, column ");
  EXPECT_DEFINITION_ERROR(read_json_file(write("{} {}")), ": line 1, column 4: ");
}

TEST_F(Document, RepeatedKeyRefused) {
  auto file = write("{\"definitions\": {\"web\": {\"priority\": 1}, \"web\": {\"priority\": 2}}}");
  EXPECT_DEFINITION_ERROR(read_json_file(file), file.string() + ": key 'web' appears twice in 'definitions'");
  EXPECT_DEFINITION_ERROR(read_json_file(write("{\"pools\": {}, \"pools\": {}}")),
                          "key 'pools' appears twice in the top-level object");
  // Equal keys in different objects are fine.
  EXPECT_NO_THROW(
      read_json_file(write("{\"a\": {\"x\": 1}, \"b\": {\"x\": 1}, \"c\": [{\"x\": 1}, {\"x\": 2}]}")));
}

TEST_F(Document, UnreadableFiles) {
  EXPECT_DEFINITION_ERROR(
      read_json_file(dir.path() / "missing.json"),
      (dir.path() / "missing.json").string() + ": cannot open: No such file or directory");
  EXPECT_DEFINITION_ERROR(read_json_file(dir.path()), ": is a directory");
  EXPECT_DEFINITION_ERROR(read_json_file(write("[" + std::string(17u << 20, ' ') + "]")),
                          "is larger than 16 MiB");
}

TEST_F(Document, DeepNestingDoesNotCrash) {
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  Json parsed = read_json_file(write(deep));
  EXPECT_TRUE(parsed.is_array());
  EXPECT_DEFINITION_ERROR(apply_document(parsed), "must be a JSON object, not array");
}

}  // namespace
}  // namespace sbx::site::testing
