// Backup sets: writing -> complete, discard, expire, legal hold, bases, series and sources as raw bytes.
#include <gtest/gtest.h>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using testing::CatalogTest;
using testing::query_int;
using testing::regular_file;

using CatalogSets = CatalogTest;

int64_t file_rows(const std::filesystem::path& file, int64_t set_id) {
  return query_int(file, "SELECT count(*) FROM file_versions WHERE set_id = " + std::to_string(set_id));
}

TEST_F(CatalogSets, WritingThenComplete) {
  int64_t job = catalog->create_job("backup", nlohmann::json::object());
  BackupSet request;
  request.job_id = job;
  request.device_id = disk;
  request.store_name = "set-0001";
  request.level = "full";
  request.series = "/home;/etc";
  request.sources = {"/home", "/etc"};
  int64_t id = catalog->begin_set(request);

  auto set = catalog->find_set(id);
  ASSERT_TRUE(set.has_value());
  EXPECT_EQ(set->state, "writing");
  EXPECT_EQ(set->job_id, job);
  EXPECT_EQ(set->store_name, "set-0001");
  EXPECT_EQ(set->series, "/home;/etc");
  EXPECT_EQ(set->sources, (std::vector<std::string>{"/home", "/etc"}));
  EXPECT_GT(set->started_ns, 0);
  EXPECT_EQ(set->completed_ns, 0);
  EXPECT_EQ(catalog->sets_in_state("writing").size(), 1u);

  catalog->complete_set(id, 10, 1u << 20, 4096, 2);
  set = catalog->find_set(id);
  EXPECT_EQ(set->state, "complete");
  EXPECT_GE(set->completed_ns, set->started_ns);
  EXPECT_EQ(set->file_count, 10u);
  EXPECT_EQ(set->bytes, 1u << 20);
  EXPECT_EQ(set->stored_bytes, 4096u);
  EXPECT_EQ(set->warnings, 2u);
  EXPECT_CATALOG_ERROR(catalog->complete_set(id, 0, 0, 0, 0),
                       "is complete, only a set being written can complete");
  EXPECT_CATALOG_ERROR(catalog->add_file_versions(id, {regular_file("late")}), "is complete");
  EXPECT_FALSE(catalog->find_set(12345).has_value());
}

TEST_F(CatalogSets, DiscardDeletesTheSetAndWhatHangsOnIt) {
  int64_t job = catalog->create_job("backup", nlohmann::json::object());
  int64_t id = begin("full");
  catalog->set_job_set(job, id);
  catalog->add_file_versions(id, {regular_file("a"), regular_file("b")});
  catalog->record_decision(id, "keep", {{"why", "test"}}, "rev1");
  ASSERT_EQ(file_rows(file, id), 2);

  catalog->discard_set(id);
  EXPECT_FALSE(catalog->find_set(id).has_value());
  // Cascades only happen with foreign keys on: this also shows the connection enforces them.
  EXPECT_EQ(file_rows(file, id), 0);
  EXPECT_TRUE(catalog->list_decisions(id).empty());
  EXPECT_FALSE(catalog->find_job(job)->set_id.has_value());
  EXPECT_CATALOG_ERROR(catalog->discard_set(id), "no backup set with id " + std::to_string(id));
}

// A discarded set's number is not given to the next set: job logs and alerts that named it keep meaning it.
TEST_F(CatalogSets, TheIdOfADiscardedSetIsNeverGivenAgain) {
  int64_t kept = complete("full");
  int64_t interrupted = begin("full");
  catalog->discard_set(interrupted);
  int64_t next = begin("full");
  EXPECT_GT(next, interrupted);
  EXPECT_GT(interrupted, kept);
  catalog->discard_set(next);
  catalog.reset();
  catalog = Catalog::open(file, Catalog::Mode::open_or_create);
  EXPECT_GT(begin("full"), next) << "the highest id given survives reopening";
}

TEST_F(CatalogSets, DiscardRefusedForTheBaseOfAnotherSet) {
  int64_t full = complete("full");
  int64_t incremental = begin("incremental", full);
  EXPECT_CATALOG_ERROR(catalog->discard_set(full),
                       "set " + std::to_string(full) + " is the base of set " + std::to_string(incremental));
  catalog->discard_set(incremental);
  EXPECT_NO_THROW(catalog->discard_set(full));
}

TEST_F(CatalogSets, ExpireDropsFileVersionsButKeepsTheRecord) {
  int64_t id = begin("full");
  catalog->add_file_versions(id, {regular_file("a"), regular_file("b")});
  EXPECT_CATALOG_ERROR(catalog->expire_set(id), "is still being written; discard it instead");
  catalog->complete_set(id, 2, 0, 0, 0);
  catalog->record_decision(id, "expire", {{"rule", "keep 0 days"}}, "rev1");
  catalog->expire_set(id);

  auto set = catalog->find_set(id);
  EXPECT_EQ(set->state, "expired");
  EXPECT_GE(set->expired_ns, set->completed_ns);
  EXPECT_EQ(set->file_count, 2u);
  EXPECT_EQ(file_rows(file, id), 0);
  EXPECT_EQ(catalog->list_decisions(id).size(), 1u);
  EXPECT_CATALOG_ERROR(catalog->for_each_file(id, [](const FileVersion&) {}), "is expired");
  EXPECT_CATALOG_ERROR(catalog->expire_set(id), "is already expired");
  EXPECT_CATALOG_ERROR(catalog->set_legal_hold(id, true), "is expired");
}

TEST_F(CatalogSets, ExpireRefusesHeldSetsAndBasesOfLiveSets) {
  int64_t full = complete("full");
  int64_t incremental = complete("incremental", full);
  catalog->set_legal_hold(incremental, true);
  EXPECT_TRUE(catalog->find_set(incremental)->legal_hold);
  EXPECT_CATALOG_ERROR(catalog->expire_set(incremental), "is on legal hold");
  EXPECT_CATALOG_ERROR(catalog->expire_set(full), "is the base of set " + std::to_string(incremental) +
                                                      " which is not expired; expire those first");
  catalog->set_legal_hold(incremental, false);
  catalog->expire_set(incremental);
  EXPECT_NO_THROW(catalog->expire_set(full));
}

TEST_F(CatalogSets, LevelsAndBasesAreChecked) {
  int64_t full = complete("full");
  int64_t writing = begin("full");
  EXPECT_CATALOG_ERROR(begin("full", full), "a full backup set has no base set");
  EXPECT_CATALOG_ERROR(begin("incremental"), "an incremental backup set needs a base set");
  EXPECT_CATALOG_ERROR(begin("differential", writing), "is writing, not complete");
  EXPECT_CATALOG_ERROR(begin("incremental", 999), "no backup set with id 999");
  EXPECT_CATALOG_ERROR(begin("synthetic"), "invalid backup level 'synthetic'");
  EXPECT_CATALOG_ERROR(begin("full", std::nullopt, ""), "series of a backup set must not be empty");
  BackupSet orphan;
  orphan.device_id = 4242;
  orphan.level = "full";
  orphan.series = "x";
  EXPECT_CATALOG_ERROR(catalog->begin_set(orphan), "no device with id 4242");
  orphan.device_id = disk;
  orphan.job_id = 77;
  EXPECT_CATALOG_ERROR(catalog->begin_set(orphan), "no job with id 77");
  EXPECT_NO_THROW(begin("differential", full));
}

TEST_F(CatalogSets, SeriesListsCompleteSetsOldestFirst) {
  int64_t late = complete("full", std::nullopt, "/home", 3000);
  int64_t early = complete("full", std::nullopt, "/home", 1000);
  int64_t tie = complete("full", std::nullopt, "/home", 3000);
  int64_t other_series = complete("full", std::nullopt, "/etc", 2000);
  int64_t still_writing = begin("full", std::nullopt, "/home", 500);
  int64_t expired = complete("full", std::nullopt, "/home", 100);
  catalog->expire_set(expired);

  auto series = catalog->series_sets("/home");
  std::vector<int64_t> ids;
  for (const auto& set : series) ids.push_back(set.id);
  EXPECT_EQ(ids, (std::vector<int64_t>{early, late, tie}));

  std::vector<int64_t> all;
  for (const auto& set : catalog->list_sets()) all.push_back(set.id);
  EXPECT_EQ(all, (std::vector<int64_t>{expired, still_writing, early, other_series, late, tie}));
  EXPECT_EQ(catalog->sets_in_state("expired").at(0).id, expired);
  EXPECT_CATALOG_ERROR(catalog->sets_in_state("gone"), "invalid backup set state 'gone'");
}

TEST_F(CatalogSets, SourcesAndSeriesKeepRawBytes) {
  BackupSet request;
  request.device_id = disk;
  request.level = "full";
  request.series = std::string("/data/\xff\n", 8);
  request.sources = {"/home",        std::string("/data/\xff\xfe", 8), "/x\ny",
                     "/caf\xc3\xa9", std::string("/ed\xed\xa0\x80"),   ""};
  int64_t id = catalog->begin_set(request);
  auto set = catalog->find_set(id);
  EXPECT_EQ(set->sources, request.sources);
  EXPECT_EQ(set->series, request.series);
  catalog->complete_set(id, 0, 0, 0, 0);
  EXPECT_EQ(catalog->series_sets(request.series).size(), 1u);
}

TEST_F(CatalogSets, StoreNamesAreUniquePerDeviceAmongLiveSets) {
  BackupSet request;
  request.device_id = disk;
  request.level = "full";
  request.series = "/home";
  request.store_name = "2024-01-01T00";
  int64_t first = catalog->begin_set(request);
  EXPECT_CATALOG_ERROR(catalog->begin_set(request),
                       "already has set " + std::to_string(first) + " stored as");
  request.store_name.clear();
  int64_t second = catalog->begin_set(request);
  EXPECT_CATALOG_ERROR(catalog->set_store_name(second, "2024-01-01T00"), "stored as '2024-01-01T00'");
  catalog->set_store_name(second, "2024-01-02T00");
  EXPECT_EQ(catalog->find_set(second)->store_name, "2024-01-02T00");
  catalog->complete_set(first, 0, 0, 0, 0);
  catalog->expire_set(first);
  request.store_name = "2024-01-01T00";
  EXPECT_NO_THROW(catalog->begin_set(request));
}

}  // namespace
}  // namespace sbx::catalog
