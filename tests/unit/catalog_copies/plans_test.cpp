// Planned copies: the copy graph the stages hook writes, its states, and what a done copy promises.
#include <gtest/gtest.h>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using testing::CatalogTest;

class CopyPlans : public CatalogTest {
 protected:
  int64_t disk2 = catalog->add_device("disk2", "disk", {{"path", "/srv/backup2"}});

  PlannedCopy plan(int64_t set_id, const std::string& stage, const std::string& after = "") {
    PlannedCopy copy;
    copy.set_id = set_id;
    copy.stage = stage;
    copy.after_stage = after;
    copy.target = "disk2";
    copy.not_before_ns = 1000;
    copy.window = "22:00-06:00";
    copy.retention = {{"days", 30}};
    copy.revision = "rev-abc";
    return copy;
  }
  int64_t plan_copy_or_fail(int64_t set_id) { return catalog->plan_copy(plan(set_id, "tape")); }
  // A complete copy of `original` on disk2.
  int64_t copy_of(int64_t original_id) {
    BackupSet original = *catalog->find_set(original_id);
    BackupSet copy = original;
    copy.device_id = disk2;
    copy.store_name = "";
    copy.copy_of = original_id;
    int64_t id = catalog->begin_set(copy);
    catalog->complete_set(id, 0, 0, 0, 0);
    return id;
  }
};

TEST_F(CopyPlans, PlanIsPendingAndReadsBackAsGiven) {
  int64_t full = complete("full");
  int64_t id = plan_copy_or_fail(full);
  auto all = catalog->planned_copies(std::nullopt);
  ASSERT_EQ(all.size(), 1u);
  const PlannedCopy& p = all[0];
  EXPECT_EQ(p.id, id);
  EXPECT_EQ(p.set_id, full);
  EXPECT_EQ(p.stage, "tape");
  EXPECT_EQ(p.after_stage, "");
  EXPECT_EQ(p.target, "disk2");
  EXPECT_EQ(p.not_before_ns, 1000);
  EXPECT_EQ(p.window, "22:00-06:00");
  EXPECT_EQ(p.retention, (nlohmann::json{{"days", 30}}));
  EXPECT_EQ(p.state, "pending");
  EXPECT_FALSE(p.job_id.has_value());
  EXPECT_FALSE(p.copy_set_id.has_value());
  EXPECT_EQ(p.revision, "rev-abc");
  EXPECT_GT(p.created_ns, 0);
  EXPECT_EQ(catalog->planned_copies(full).size(), 1u);
  EXPECT_TRUE(catalog->planned_copies(full + 100).empty());
  EXPECT_EQ(catalog->copies_in_state("pending").size(), 1u);
  EXPECT_TRUE(catalog->copies_in_state("done").empty());
}

TEST_F(CopyPlans, HostilePlansAreRefused) {
  int64_t full = complete("full");
  plan_copy_or_fail(full);
  EXPECT_CATALOG_ERROR(catalog->plan_copy(plan(full, "tape")), "already has planned copy");
  EXPECT_CATALOG_ERROR(catalog->plan_copy(plan(full + 50, "tape")), "no backup set with id");
  EXPECT_CATALOG_ERROR(catalog->plan_copy(plan(full, "bad name")), "invalid stage name");
  EXPECT_CATALOG_ERROR(catalog->plan_copy(plan(full, "")), "invalid stage name");
  EXPECT_CATALOG_ERROR(catalog->plan_copy(plan(full, "loop", "loop")), "cannot copy from itself");
  PlannedCopy no_target = plan(full, "cloud");
  no_target.target = "";
  EXPECT_CATALOG_ERROR(catalog->plan_copy(no_target), "must not be empty");
  PlannedCopy bad_retention = plan(full, "cloud");
  bad_retention.retention = 30;
  EXPECT_CATALOG_ERROR(catalog->plan_copy(bad_retention), "must be a JSON object");
  int64_t writing = begin("full", std::nullopt, "/srv");
  EXPECT_CATALOG_ERROR(catalog->plan_copy(plan(writing, "tape")), "only a complete set can be copied");
  int64_t copy = copy_of(full);
  EXPECT_CATALOG_ERROR(catalog->plan_copy(plan(copy, "cloud")), "is itself a copy of set");
  EXPECT_CATALOG_ERROR(catalog->copies_in_state("lost"), "invalid planned copy state 'lost'");
  EXPECT_EQ(catalog->planned_copies(std::nullopt).size(), 1u);
}

TEST_F(CopyPlans, StatesAdvanceAndDoneIsFinal) {
  int64_t full = complete("full");
  int64_t id = plan_copy_or_fail(full);
  int64_t job = catalog->create_job("duplicate", nlohmann::json::object());
  catalog->update_copy(id, "queued", job, std::nullopt, "");
  EXPECT_EQ(catalog->copies_in_state("queued").at(0).job_id, job);
  catalog->update_copy(id, "failed", std::nullopt, std::nullopt, "device offline");
  auto failed = catalog->copies_in_state("failed");
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].job_id, job) << "a state change without a job keeps the job";
  EXPECT_EQ(failed[0].message, "device offline");

  EXPECT_CATALOG_ERROR(catalog->update_copy(id, "done", job, std::nullopt, ""), "without the set it made");
  int64_t copy = copy_of(full);
  catalog->update_copy(id, "done", job, copy, "");
  auto done = catalog->copies_in_state("done");
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].copy_set_id, copy);
  EXPECT_CATALOG_ERROR(catalog->update_copy(id, "pending", std::nullopt, std::nullopt, ""),
                       "is done; it cannot become pending");
  EXPECT_CATALOG_ERROR(catalog->update_copy(id + 9, "queued", std::nullopt, std::nullopt, ""),
                       "no planned copy with id");
  EXPECT_CATALOG_ERROR(catalog->update_copy(id, "finished", std::nullopt, std::nullopt, ""),
                       "invalid planned copy state");
}

TEST_F(CopyPlans, DoneNeedsACompleteCopyOfThatSet) {
  int64_t full = complete("full");
  int64_t other = complete("full", std::nullopt, "/srv");
  int64_t id = plan_copy_or_fail(full);
  int64_t wrong = copy_of(other);
  EXPECT_CATALOG_ERROR(catalog->update_copy(id, "done", std::nullopt, wrong, ""),
                       "is not a copy of set " + std::to_string(full));
  EXPECT_CATALOG_ERROR(catalog->update_copy(id, "done", std::nullopt, full, ""), "is not a copy of set");
  BackupSet writing = *catalog->find_set(full);
  writing.device_id = disk2;
  writing.copy_of = full;
  int64_t unfinished = catalog->begin_set(writing);
  EXPECT_CATALOG_ERROR(catalog->update_copy(id, "done", std::nullopt, unfinished, ""),
                       "done only once its copy is complete");
  EXPECT_EQ(catalog->copies_in_state("pending").size(), 1u) << "a refused update changes nothing";
  // In one transaction with the completion, as a duplicate job does it.
  catalog->transaction([&] {
    catalog->complete_set(unfinished, 0, 0, 0, 0);
    catalog->update_copy(id, "done", std::nullopt, unfinished, "");
  });
  EXPECT_EQ(catalog->copies_in_state("done").at(0).copy_set_id, unfinished);
}

}  // namespace
}  // namespace sbx::catalog
