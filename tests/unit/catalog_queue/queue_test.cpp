#include "catalog_test_util.hpp"

using namespace sbx::catalog;
using namespace sbx::catalog::testing;

namespace {

std::unique_ptr<Catalog> fresh(const TempDir& dir) {
  return Catalog::open(dir.path() / "catalog.db", Catalog::Mode::create);
}

JobRequest request(const std::string& kind, int64_t priority, int64_t not_before = 0) {
  JobRequest r;
  r.kind = kind;
  r.priority = priority;
  r.not_before_ns = not_before;
  r.definition = "web";
  r.target = "pool:fast";
  r.max_attempts = 3;
  return r;
}

}  // namespace

TEST(CatalogQueue, RunnableJobsComeByPriorityThenAgeAndRespectNotBeforeAndPause) {
  TempDir dir;
  auto c = fresh(dir);
  int64_t low = c->enqueue_job(request("backup", 10));
  int64_t high = c->enqueue_job(request("backup", 90));
  int64_t later = c->enqueue_job(request("backup", 99, 5000));
  int64_t paused = c->enqueue_job(request("verify", 95));
  c->settle_job_control(paused, true);
  auto runnable = c->runnable_jobs(1000);
  ASSERT_EQ(runnable.size(), 2u);
  EXPECT_EQ(runnable[0].id, high);
  EXPECT_EQ(runnable[1].id, low);
  runnable = c->runnable_jobs(5000);
  ASSERT_EQ(runnable.size(), 3u);
  EXPECT_EQ(runnable[0].id, later);
  auto job = *c->find_job(high);
  EXPECT_EQ(job.state, "queued");
  EXPECT_EQ(job.started_ns, 0);
  EXPECT_EQ(job.definition, "web");
  EXPECT_EQ(job.target, "pool:fast");
  EXPECT_EQ(job.max_attempts, 3);
}

TEST(CatalogQueue, StartIsRefusedUnlessQueuedAndRecordsTheProcess) {
  TempDir dir;
  auto c = fresh(dir);
  int64_t id = c->enqueue_job(request("backup", 50));
  c->start_job(id, 0);
  c->set_job_pid(id, 4242);
  auto job = *c->find_job(id);
  EXPECT_EQ(job.state, "running");
  EXPECT_EQ(job.pid, 4242);
  EXPECT_GT(job.started_ns, 0);
  EXPECT_CATALOG_ERROR(c->start_job(id, 1), "is running, not queued");
  c->finish_job(id, "succeeded", "ok", nlohmann::json::object());
  EXPECT_CATALOG_ERROR(c->start_job(id, 1), "is succeeded, not queued");
  EXPECT_CATALOG_ERROR(c->start_job(999, 1), "no job with id 999");
}

TEST(CatalogQueue, ControlRequestsAreCheckedAndSettled) {
  TempDir dir;
  auto c = fresh(dir);
  int64_t id = c->enqueue_job(request("backup", 50));
  EXPECT_CATALOG_ERROR(c->request_job_control(id, "resume"), "is not paused");
  EXPECT_CATALOG_ERROR(c->request_job_control(id, "explode"), "invalid job action");
  c->request_job_control(id, "pause");
  EXPECT_EQ(c->find_job(id)->control, "pause");
  c->settle_job_control(id, true);
  EXPECT_TRUE(c->find_job(id)->paused);
  EXPECT_EQ(c->find_job(id)->control, "");
  EXPECT_CATALOG_ERROR(c->request_job_control(id, "pause"), "is already paused");
  c->request_job_control(id, "cancel");
  c->finish_job(id, "cancelled", "by test", nlohmann::json::object());
  EXPECT_CATALOG_ERROR(c->request_job_control(id, "resume"), "already finished (cancelled)");
}

TEST(CatalogQueue, RetriesLinkToTheirFirstAttemptAndAttemptsAreChecked) {
  TempDir dir;
  auto c = fresh(dir);
  int64_t first = c->enqueue_job(request("backup", 50));
  JobRequest retry = request("backup", 50);
  retry.attempt = 2;
  retry.retry_of = first;
  int64_t second = c->enqueue_job(retry);
  EXPECT_EQ(c->find_job(second)->retry_of, first);
  retry.attempt = 4;
  EXPECT_CATALOG_ERROR(c->enqueue_job(retry), "is not a valid attempt count");
  retry.attempt = 2;
  retry.retry_of = 12345;
  EXPECT_CATALOG_ERROR(c->enqueue_job(retry), "no job with id 12345");
}

TEST(CatalogQueue, QueryFiltersByStateDefinitionKindAndTime) {
  TempDir dir;
  auto c = fresh(dir);
  int64_t a = c->enqueue_job(request("backup", 50));
  JobRequest other = request("verify", 50);
  other.definition = "db";
  int64_t b = c->enqueue_job(other);
  c->finish_job(b, "missed", "window closed", nlohmann::json::object());
  JobQuery q;
  q.states = {"missed"};
  auto found = c->query_jobs(q);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].id, b);
  q = {};
  q.definition = "web";
  ASSERT_EQ(c->query_jobs(q).size(), 1u);
  EXPECT_EQ(c->query_jobs(q)[0].id, a);
  q = {};
  q.kind = "verify";
  EXPECT_EQ(c->query_jobs(q).size(), 1u);
  q = {};
  q.oldest_first = true;
  EXPECT_EQ(c->query_jobs(q)[0].id, a);
  q.since_ns = c->find_job(b)->created_ns + 1;
  EXPECT_TRUE(c->query_jobs(q).empty());
  q = {};
  q.states = {"bogus"};
  EXPECT_CATALOG_ERROR(c->query_jobs(q), "invalid job state");
}

TEST(CatalogQueue, DeviceLimitsAndServiceState) {
  TempDir dir;
  auto c = fresh(dir);
  c->add_device("disk1", "disk", {{"path", "/x"}});
  EXPECT_EQ(c->find_device("disk1")->max_jobs, 1);
  EXPECT_TRUE(c->find_device("disk1")->enabled);
  c->set_device_max_jobs("disk1", 3);
  c->set_device_enabled("disk1", false);
  EXPECT_EQ(c->find_device("disk1")->max_jobs, 3);
  EXPECT_FALSE(c->find_device("disk1")->enabled);
  EXPECT_CATALOG_ERROR(c->set_device_max_jobs("disk1", 0), "must be 1 to 1024");
  EXPECT_CATALOG_ERROR(c->set_device_enabled("nope", true), "no device named 'nope'");
}
