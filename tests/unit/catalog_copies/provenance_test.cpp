// Provenance and copies as instances of their original: synthetic/agent/definition round trip, a copy's own
// retention, bases that survive through a copy, expiry that keeps the last readable instance, and series
// listings with one entry per logical set.
#include <gtest/gtest.h>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using testing::CatalogTest;

class CopyProvenance : public CatalogTest {
 protected:
  int64_t disk2 = catalog->add_device("disk2", "disk", {{"path", "/srv/backup2"}});

  int64_t begin_copy(int64_t original_id) {
    BackupSet copy = *catalog->find_set(original_id);
    copy.device_id = disk2;
    copy.store_name = "";
    copy.copy_of = original_id;
    return catalog->begin_set(copy);
  }
  int64_t copy_of(int64_t original_id) {
    int64_t id = begin_copy(original_id);
    catalog->complete_set(id, 0, 0, 0, 0);
    return id;
  }
  std::vector<int64_t> series_ids(const std::string& series = "/home") {
    std::vector<int64_t> ids;
    for (const auto& s : catalog->series_sets(series)) ids.push_back(s.id);
    return ids;
  }
};

TEST_F(CopyProvenance, NewFieldsRoundTrip) {
  BackupSet set;
  set.device_id = disk;
  set.level = "full";
  set.series = "/home";
  set.sources = {"/home"};
  set.agent = "vm-image";
  set.definition = "nightly";
  set.synthetic = true;
  set.retain_until_ns = 77;
  set.started_ns = 123456789;
  int64_t id = catalog->begin_set(set);
  auto read = catalog->find_set(id);
  EXPECT_EQ(read->agent, "vm-image");
  EXPECT_EQ(read->definition, "nightly");
  EXPECT_TRUE(read->synthetic);
  EXPECT_EQ(read->retain_until_ns, 77);
  EXPECT_EQ(read->started_ns, 123456789) << "a synthetic full stands for the moment it represents";
  EXPECT_FALSE(read->copy_of.has_value());
}

TEST_F(CopyProvenance, CopiesOfASetOldestFirst) {
  int64_t full = complete("full");
  EXPECT_TRUE(catalog->copies_of_set(full).empty());
  int64_t first = copy_of(full);
  int64_t second = begin_copy(full);
  auto copies = catalog->copies_of_set(full);
  ASSERT_EQ(copies.size(), 2u);
  EXPECT_EQ(copies[0].id, first);
  EXPECT_EQ(copies[1].id, second);
  EXPECT_EQ(copies[1].state, "writing");
  EXPECT_EQ(copies[0].copy_of, full);
  EXPECT_EQ(copies[0].device_id, disk2);
  EXPECT_CATALOG_ERROR(catalog->copies_of_set(full + 100), "no backup set with id");
}

TEST_F(CopyProvenance, ACopyKeepsItsOriginalsShape) {
  int64_t full = complete("full");
  int64_t incremental = complete("incremental", full);
  int64_t copy = copy_of(incremental);
  EXPECT_EQ(catalog->find_set(copy)->base_set_id, full);
  BackupSet bad = *catalog->find_set(incremental);
  bad.device_id = disk2;
  bad.copy_of = copy;
  EXPECT_CATALOG_ERROR(catalog->begin_set(bad), "a new copy names the original");
  bad.copy_of = incremental;
  bad.series = "/elsewhere";
  EXPECT_CATALOG_ERROR(catalog->begin_set(bad), "must keep its series, level and base set");
  bad.copy_of = full + 100;
  EXPECT_CATALOG_ERROR(catalog->begin_set(bad), "no backup set with id");
}

TEST_F(CopyProvenance, RetainUntil) {
  int64_t full = complete("full");
  int64_t copy = copy_of(full);
  catalog->set_retain_until(copy, 5'000'000'000);
  EXPECT_EQ(catalog->find_set(copy)->retain_until_ns, 5'000'000'000);
  catalog->set_retain_until(copy, 0);
  EXPECT_EQ(catalog->find_set(copy)->retain_until_ns, 0);
  EXPECT_CATALOG_ERROR(catalog->set_retain_until(copy, -1), "cannot end before 1970");
  EXPECT_CATALOG_ERROR(catalog->set_retain_until(copy + 100, 1), "no backup set with id");
  catalog->expire_set(copy);
  EXPECT_CATALOG_ERROR(catalog->set_retain_until(copy, 1), "is expired");
}

TEST_F(CopyProvenance, OriginalWithDependentsExpiresWhenACompleteCopySurvives) {
  int64_t full = complete("full");
  int64_t incremental = complete("incremental", full);
  EXPECT_CATALOG_ERROR(catalog->expire_set(full), "is the base of set " + std::to_string(incremental));
  int64_t writing_copy = begin_copy(full);
  // A copy being written is no copy yet.
  EXPECT_CATALOG_ERROR(catalog->expire_set(full), "is the base of set");
  catalog->complete_set(writing_copy, 0, 0, 0, 0);
  EXPECT_NO_THROW(catalog->expire_set(full));
  EXPECT_EQ(catalog->find_set(full)->state, "expired");
  // The copy is now the last readable instance of the incremental's base.
  EXPECT_CATALOG_ERROR(catalog->expire_set(writing_copy), "is the last complete copy of set " +
                                                              std::to_string(full) + ", the base of set " +
                                                              std::to_string(incremental));
  catalog->expire_set(incremental);
  EXPECT_NO_THROW(catalog->expire_set(writing_copy));
}

TEST_F(CopyProvenance, OneOfTwoCopiesMayGo) {
  int64_t full = complete("full");
  complete("incremental", full);
  int64_t first = copy_of(full);
  int64_t second = copy_of(full);
  catalog->expire_set(full);
  EXPECT_NO_THROW(catalog->expire_set(first));
  EXPECT_CATALOG_ERROR(catalog->expire_set(second), "is the last complete copy");
}

TEST_F(CopyProvenance, LegalHoldStillWins) {
  int64_t full = complete("full");
  int64_t copy = copy_of(full);
  catalog->set_legal_hold(copy, true);
  EXPECT_CATALOG_ERROR(catalog->expire_set(copy), "is on legal hold");
}

TEST_F(CopyProvenance, BaseMayBeAnExpiredOriginalWithACompleteCopy) {
  int64_t full = complete("full");
  int64_t copy = copy_of(full);
  catalog->expire_set(full);
  int64_t incremental = begin("incremental", full);
  EXPECT_EQ(catalog->find_set(incremental)->base_set_id, full);
  // A copy given as base stands for its original.
  int64_t via_copy = begin("incremental", copy);
  EXPECT_EQ(catalog->find_set(via_copy)->base_set_id, full) << "base_set_id always names the original";
  catalog->discard_set(incremental);
  catalog->discard_set(via_copy);
  catalog->expire_set(copy);
  EXPECT_CATALOG_ERROR(begin("incremental", full), "no complete copy of it survives");
}

TEST_F(CopyProvenance, SeriesListsEachLogicalSetOnce) {
  int64_t full = complete("full", std::nullopt, "/home", 100);
  int64_t incremental = complete("incremental", full, "/home", 200);
  int64_t full_copy = copy_of(full);
  int64_t incremental_copy = copy_of(incremental);
  EXPECT_EQ(series_ids(), (std::vector<int64_t>{full, incremental}))
      << "copies of complete originals never appear";
  catalog->expire_set(full);
  EXPECT_EQ(series_ids(), (std::vector<int64_t>{full_copy, incremental}));
  int64_t newer_copy = copy_of(full);
  EXPECT_EQ(series_ids(), (std::vector<int64_t>{newer_copy, incremental}))
      << "the newest complete copy stands in";
  catalog->expire_set(incremental);
  EXPECT_EQ(series_ids(), (std::vector<int64_t>{newer_copy, incremental_copy}));
  EXPECT_TRUE(series_ids("/other").empty());
}

}  // namespace
}  // namespace sbx::catalog
