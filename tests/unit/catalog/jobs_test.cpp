// Jobs and job history: create (running), log lines, finish with merged details, listing and links.
#include <gtest/gtest.h>

#include "catalog_test_util.hpp"

namespace sbx::catalog {
namespace {

using testing::CatalogTest;
using Json = nlohmann::json;

using CatalogJobs = CatalogTest;

TEST_F(CatalogJobs, CreateLogAndFinish) {
  int64_t id = catalog->create_job("backup", {{"sources", {"/home"}}, {"level", "full"}});
  auto job = catalog->find_job(id);
  ASSERT_TRUE(job.has_value());
  EXPECT_EQ(job->kind, "backup");
  EXPECT_EQ(job->state, "running");
  EXPECT_GT(job->started_ns, 0);
  EXPECT_EQ(job->created_ns, job->started_ns);
  EXPECT_EQ(job->finished_ns, 0);
  EXPECT_FALSE(job->set_id.has_value());
  EXPECT_FALSE(job->device_id.has_value());

  catalog->append_job_log(id, "info", "starting");
  catalog->append_job_log(id, "warning", std::string("cannot read home/\xff\nsecret: Permission denied"));
  catalog->append_job_log(id, "error", "");
  auto log = catalog->job_log(id);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].level, "info");
  EXPECT_EQ(log[0].message, "starting");
  EXPECT_EQ(log[0].job_id, id);
  EXPECT_GT(log[0].time_ns, 0);
  EXPECT_EQ(log[1].message, std::string("cannot read home/\xff\nsecret: Permission denied"));
  EXPECT_LE(log[1].time_ns, log[2].time_ns);

  catalog->finish_job(id, "partial", "1 file unreadable", {{"files", 41}, {"warnings", 1}});
  job = catalog->find_job(id);
  EXPECT_EQ(job->state, "partial");
  EXPECT_EQ(job->message, "1 file unreadable");
  EXPECT_GE(job->finished_ns, job->started_ns);
  EXPECT_EQ(job->details, (Json{{"sources", {"/home"}}, {"level", "full"}, {"files", 41}, {"warnings", 1}}));
  EXPECT_CATALOG_ERROR(catalog->finish_job(id, "failed", "again", nullptr),
                       "job " + std::to_string(id) + " already finished (partial)");
}

TEST_F(CatalogJobs, FinishValidatesStateAndJob) {
  int64_t id = catalog->create_job("verify", Json::object());
  EXPECT_CATALOG_ERROR(catalog->finish_job(id, "running", "", nullptr), "invalid final job state 'running'");
  EXPECT_CATALOG_ERROR(catalog->finish_job(id, "done", "", nullptr), "expected one of: succeeded, partial");
  EXPECT_CATALOG_ERROR(catalog->finish_job(5555, "failed", "", nullptr), "no job with id 5555");
  catalog->finish_job(id, "failed", "device offline", nullptr);
  EXPECT_EQ(catalog->find_job(id)->details, Json::object());
  EXPECT_CATALOG_ERROR(catalog->create_job("back up", Json::object()), "invalid job kind");
  EXPECT_FALSE(catalog->find_job(5555).has_value());
}

TEST_F(CatalogJobs, LogRefusesUnknownJobsAndLevels) {
  int64_t id = catalog->create_job("backup", Json::object());
  EXPECT_CATALOG_ERROR(catalog->append_job_log(9999, "info", "x"), "no job with id 9999");
  EXPECT_CATALOG_ERROR(catalog->append_job_log(id, "loud", "x"), "invalid log level 'loud'");
  EXPECT_TRUE(catalog->job_log(id).empty());
}

TEST_F(CatalogJobs, ListNewestFirstAndByState) {
  std::vector<int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(catalog->create_job("backup", {{"n", i}}));
  catalog->finish_job(ids[1], "succeeded", "", nullptr);
  catalog->finish_job(ids[3], "cancelled", "", nullptr);

  auto recent = catalog->list_jobs(2);
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0].id, ids[4]);
  EXPECT_EQ(recent[1].id, ids[3]);
  EXPECT_EQ(catalog->list_jobs(0).size(), 5u);

  auto running = catalog->jobs_in_state("running");
  ASSERT_EQ(running.size(), 3u);
  EXPECT_EQ(running[0].id, ids[0]);
  EXPECT_EQ(running[2].id, ids[4]);
  EXPECT_CATALOG_ERROR(catalog->jobs_in_state("sleeping"), "invalid job state 'sleeping'");
}

TEST_F(CatalogJobs, LinksToSetAndDevice) {
  int64_t id = catalog->create_job("backup", Json::object());
  int64_t set = begin("full");
  catalog->set_job_set(id, set);
  catalog->set_job_device(id, disk);
  auto job = catalog->find_job(id);
  EXPECT_EQ(job->set_id, set);
  EXPECT_EQ(job->device_id, disk);
  EXPECT_CATALOG_ERROR(catalog->set_job_set(id, 8888), "no backup set with id 8888");
  EXPECT_CATALOG_ERROR(catalog->set_job_device(id, 8888), "no device with id 8888");
  EXPECT_CATALOG_ERROR(catalog->set_job_set(8888, set), "no job with id 8888");
}

TEST_F(CatalogJobs, DetailsWithInvalidUtf8AreKeptReadable) {
  int64_t id = catalog->create_job("restore", {{"target", "/restore/\xff"}});
  auto details = catalog->find_job(id)->details;
  ASSERT_TRUE(details["target"].is_string());
  EXPECT_EQ(details["target"].get<std::string>().rfind("/restore/", 0), 0u);
}

}  // namespace
}  // namespace sbx::catalog
