// Catalog::transaction: commit, rollback on exception (the exception passes through), nesting as savepoints,
// and reentrancy of queries whose row callbacks query again.
#include <gtest/gtest.h>

#include <stdexcept>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using testing::CatalogTest;
using testing::regular_file;
using Json = nlohmann::json;

using CatalogTransaction = CatalogTest;

TEST_F(CatalogTransaction, CommitsEverything) {
  catalog->transaction([&] {
    catalog->add_device("disk2", "disk", Json::object());
    catalog->audit("root", "device.add", Json::object());
  });
  EXPECT_TRUE(catalog->find_device("disk2").has_value());
  EXPECT_EQ(catalog->list_audit(0).size(), 1u);
}

TEST_F(CatalogTransaction, RollsBackOnExceptionAndRethrowsIt) {
  int64_t set = begin("full");
  EXPECT_THROW(catalog->transaction([&] {
    catalog->add_device("disk2", "disk", Json::object());
    catalog->add_file_versions(set, {regular_file("a"), regular_file("b")});
    throw std::logic_error("caller gave up");
  }),
               std::logic_error);
  EXPECT_FALSE(catalog->find_device("disk2").has_value());
  size_t files = 0;
  catalog->for_each_file(set, [&](const FileVersion&) { ++files; });
  EXPECT_EQ(files, 0u);
  // The catalog is usable afterwards.
  catalog->add_device("disk2", "disk", Json::object());
  EXPECT_TRUE(catalog->find_device("disk2").has_value());
}

TEST_F(CatalogTransaction, InnerFailureRollsBackOnlyTheInnerPart) {
  catalog->transaction([&] {
    catalog->add_device("outer", "disk", Json::object());
    try {
      catalog->transaction([&] {
        catalog->add_device("inner", "disk", Json::object());
        catalog->add_device("outer", "disk", Json::object());  // duplicate: throws
      });
      ADD_FAILURE() << "the duplicate device was accepted";
    } catch (const CatalogError&) {
    }
  });
  EXPECT_TRUE(catalog->find_device("outer").has_value());
  EXPECT_FALSE(catalog->find_device("inner").has_value());
}

TEST_F(CatalogTransaction, RowCallbacksMayQueryTheCatalog) {
  int64_t first = begin("full");
  catalog->add_file_versions(first, {regular_file("a"), regular_file("b")});
  catalog->complete_set(first, 2, 0, 0, 0);
  int64_t second = begin("incremental", first);
  // The callback runs the same query (for_each_file) and writes to another set while the outer one iterates.
  std::vector<std::string> seen;
  catalog->for_each_file(first, [&](const FileVersion& file) {
    size_t inner = 0;
    catalog->for_each_file(first, [&](const FileVersion&) { ++inner; });
    EXPECT_EQ(inner, 2u);
    catalog->add_file_versions(second, {regular_file(file.path + ".copy")});
    seen.push_back(file.path);
  });
  EXPECT_EQ(seen, (std::vector<std::string>{"a", "b"}));
  std::vector<std::string> copies;
  catalog->for_each_file(second, [&](const FileVersion& file) { copies.push_back(file.path); });
  EXPECT_EQ(copies, (std::vector<std::string>{"a.copy", "b.copy"}));
}

}  // namespace
}  // namespace sbx::catalog
