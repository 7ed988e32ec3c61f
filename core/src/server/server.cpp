// The standalone server loop. One thread: every tick it reads the clock, turns due schedule firings into
// queued jobs, marks jobs whose window closed as missed, carries out control requests, reaps finished
// children (retries, staging), starts what may start on a free device, watches devices and delivers alerts.
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <strongbox/alerts.hpp>
#include <strongbox/clock.hpp>
#include <strongbox/policy.hpp>
#include <strongbox/scheduler.hpp>
#include <strongbox/server.hpp>
#include <thread>

namespace fs = std::filesystem;
using nlohmann::json;

namespace sbx::server {
namespace {

std::atomic<bool> stop_requested{false};
void on_stop_signal(int) {
  stop_requested = true;
}

constexpr int64_t kSecond = 1'000'000'000;

std::string when_text(int64_t ns, const std::string& time_zone) {
  return scheduler::format_local_time(ns, time_zone);
}

// The last line a job's process wrote: its error message when it died before recording one.
std::string last_line_of(const fs::path& file) {
  std::ifstream in(file);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty()) last = line;
  const std::string prefix = "strongbox: ";
  if (last.compare(0, prefix.size(), prefix) == 0) last = last.substr(prefix.size());
  return last;
}

std::string exit_description(int status) {
  if (WIFEXITED(status)) return "exit status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("killed by signal ") + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

struct Child {
  int64_t job_id = 0;
  pid_t pid = 0;
  std::optional<int64_t> device_id;
  bool cancel_requested = false;
};

struct DeviceState {
  bool usable = false;
  std::string why_not;  // offline, disabled, full ...
};

class Server {
 public:
  explicit Server(ServerConfig config) : config_(std::move(config)) {}

  int run() {
    site_ = service::Site::open(config_.site);
    take_server_lock();
    // Without channels the deliverer still writes every alert to the server's log.
    deliverer_.emplace(alerts::parse_delivery_config(config_.alerts));
    recover_at_start();
    shared_hold_ = site_->hold(false);
    spdlog::info("server for site {} started (role {}, {} jobs at once{})", config_.site.string(),
                 config_.role, config_.max_jobs, clock::simulated() ? ", simulated clock" : "");
    site_->catalog().audit("server", "server.start", {{"pid", ::getpid()}, {"role", config_.role}});
    while (!stop_requested) {
      tick();
      sleep_tick();
    }
    shutdown();
    return service::kExitOk;
  }

 private:
  // ---------------------------------------------------------------------------------------------- start/stop

  void take_server_lock() {
    fs::path file = config_.site / "server.lock";
    lock_fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (lock_fd_ < 0)
      throw service::ServiceError("cannot open " + file.string() + ": " + std::strerror(errno));
    if (::flock(lock_fd_, LOCK_EX | LOCK_NB) != 0) {
      std::string pid = last_line_of(file);
      throw service::ServiceError("a server already runs for site " + config_.site.string() +
                                      (pid.empty() ? "" : " (pid " + pid + ")"),
                                  service::kExitLocked);
    }
    if (::ftruncate(lock_fd_, 0) == 0) {
      std::string pid = std::to_string(::getpid()) + "\n";
      if (::write(lock_fd_, pid.data(), pid.size()) < 0)
        spdlog::warn("cannot record the server pid in {}", file.string());
    }
  }

  // Jobs that were running when the server (and with it its children) died are failed with that cause; their
  // unacknowledged sets go; retries follow the usual rules. Waits for manual jobs to finish first.
  void recover_at_start() {
    std::unique_ptr<service::SiteHold> exclusive;
    for (int attempt = 0; !exclusive; ++attempt) {
      try {
        exclusive = site_->hold(true);
      } catch (const service::ServiceError& e) {
        if (e.exit_code() != service::kExitLocked || attempt == 300 || stop_requested) throw;
        if (attempt == 0) spdlog::warn("waiting for jobs run outside the server to finish");
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
    auto& catalog = site_->catalog();
    const std::string cause = "interrupted: the server stopped while it ran (found at restart, " +
                              service::format_time(clock::now_ns()) + ")";
    for (int64_t id : site_->recover_interrupted(cause)) {
      spdlog::warn("job {} {}", id, cause);
      if (auto job = catalog.find_job(id)) after_job(*job);
    }
  }

  void shutdown() {
    spdlog::info("server stopping: {} running jobs are interrupted", children_.size());
    for (auto& [pid, child] : children_) {
      ::kill(-pid, SIGCONT);
      ::kill(-pid, SIGTERM);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (!children_.empty() && std::chrono::steady_clock::now() < deadline) {
      reap("interrupted: the server was stopped");
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    for (auto& [pid, child] : children_) ::kill(-pid, SIGKILL);
    while (!children_.empty()) {
      reap("interrupted: the server was stopped");
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    site_->catalog().audit("server", "server.stop", {{"pid", ::getpid()}});
  }

  void sleep_tick() {
    // A simulated clock moves in jumps the test makes: poll often so a jump is seen promptly.
    int64_t pause = clock::simulated() ? std::min<int64_t>(config_.tick_ns, 100'000'000) : config_.tick_ns;
    struct timespec ts {
      time_t(pause / kSecond), long(pause % kSecond)
    };
    nanosleep(&ts, nullptr);
  }

  // ---------------------------------------------------------------------------------------------- the tick

  void tick() {
    const int64_t now = clock::now_ns();
    device_states_.clear();
    step("reaping finished jobs", [&] { reap("the job process ended without recording a result"); });
    step("reading schedules", [&] { schedule(now); });
    step("applying job controls", [&] { apply_controls(); });
    step("closing windows", [&] { enforce_deadlines(now); });
    step("queueing due copies", [&] { queue_due_copies(now); });
    step("queueing retention", [&] { maybe_queue_expire(now); });
    step("starting jobs", [&] { dispatch(now); });
    step("checking devices", [&] { check_devices(now); });
    step("delivering alerts", [&] { deliverer_->deliver_pending(site_->catalog()); });
  }

  // One failing step (a catalog busy for too long, a plugin error) must not stop the others or the server.
  template <typename F>
  void step(const char* what, F&& body) {
    try {
      body();
    } catch (const std::exception& e) {
      spdlog::error("server: {}: {}", what, e.what());
    }
  }

  // ---------------------------------------------------------------------------------------------- schedules

  void schedule(int64_t now) {
    auto& catalog = site_->catalog();
    for (const auto& def : catalog.list_definitions()) {
      const json schedules = def.spec.value("schedules", json::array());
      for (size_t i = 0; i < schedules.size(); ++i) {
        try {
          schedule_one(def, schedules[i], now);
        } catch (const std::exception& e) {
          const std::string subject = "definition:" + def.name + ":schedule:" + std::to_string(i);
          catalog.raise_alert(
              "error", "scheduler",
              "definition '" + def.name + "' schedules[" + std::to_string(i) + "]: " + e.what(), subject);
        }
      }
    }
  }

  void schedule_one(const catalog::Definition& def, const json& sched, int64_t now) {
    auto& catalog = site_->catalog();
    const std::string key = sched.dump();
    std::string zone = sched.value("time_zone", def.spec.value("time_zone", config_.time_zone));
    auto& cached = schedules_[key + "|" + zone];
    if (!cached)
      cached = std::make_shared<scheduler::Schedule>(
          scheduler::Schedule::parse(sched.at("when").get<std::string>(), zone,
                                     sched.value("exclude_dates", std::vector<std::string>{})));
    const scheduler::Schedule& schedule = *cached;
    // A schedule starts counting when its definition last changed: firings before that were never promised.
    const int64_t mark = catalog.schedule_mark(def.name, key).value_or(def.updated_ns);
    if (now <= mark) return;
    const std::vector<int64_t> firings = schedule.firings_between(mark, now, 1000);
    if (firings.empty()) {
      catalog.set_schedule_mark(def.name, key, now);
      return;
    }
    const int64_t window =
        sched.contains("window") ? scheduler::parse_duration(sched["window"].get<std::string>()) : 0;
    const std::string catch_up = sched.value("catch_up", std::string("last"));
    int newest_late = -1;
    bool any_on_time = false;
    for (size_t i = 0; i < firings.size(); ++i) {
      if (now - firings[i] > config_.late_grace_ns)
        newest_late = int(i);
      else
        any_on_time = true;
    }
    if (any_on_time) newest_late = -1;  // a firing on time supersedes the ones passed over
    const catalog::JobRequest plan = request_for(def, sched.value("method", std::string("incremental")));
    const bool complete = firings.size() < 1000;
    catalog.transaction([&] {
      for (size_t i = 0; i < firings.size(); ++i) {
        const int64_t fired = firings[i];
        const int64_t deadline = window ? fired + window : 0;
        const bool late = now - fired > config_.late_grace_ns;
        std::string missed_because;
        if (late) {
          const std::string at = when_text(fired, schedule.time_zone());
          if (deadline && now >= deadline)
            missed_because = "the server was not running at " + at + " and the window closed at " +
                             when_text(deadline, schedule.time_zone());
          else if (!deadline && catch_up == "none")
            missed_because = "the server was not running at " + at + " (catch_up none)";
          else if (!deadline && catch_up == "last" && int(i) != newest_late)
            missed_because =
                "the server was not running at " + at + "; a later firing runs instead (catch_up last)";
        }
        catalog::JobRequest request = plan;
        request.details["schedule"] = sched.at("when");
        request.scheduled_ns = fired;
        request.deadline_ns = deadline;
        int64_t id = catalog.enqueue_job(request);
        if (!missed_because.empty()) {
          mark_missed(id, def.name, missed_because);
        } else {
          catalog.append_job_log(
              id, "info",
              "queued for " + when_text(fired, schedule.time_zone()) + " (" + schedule.text() + ")");
          spdlog::info("job {} queued: {} of {} for {}", id, plan.kind, def.name,
                       when_text(fired, schedule.time_zone()));
        }
      }
      catalog.set_schedule_mark(def.name, key, complete ? now : firings.back());
    });
  }

  void mark_missed(int64_t job_id, const std::string& definition, const std::string& because) {
    auto& catalog = site_->catalog();
    const std::string message = "missed: " + because;
    catalog.append_job_log(job_id, "error", message);
    catalog.finish_job(job_id, "missed", message, json::object());
    catalog.raise_alert("error", "scheduler",
                        "job " + std::to_string(job_id) + " of definition '" + definition + "' " + message);
    spdlog::warn("job {} of {} {}", job_id, definition, message);
  }

  // Queued jobs whose window has closed: missed, not run late.
  void enforce_deadlines(int64_t now) {
    for (const auto& job : site_->catalog().jobs_in_state("queued")) {
      if (!job.deadline_ns || now < job.deadline_ns) continue;
      std::string reason = waiting_reason_.count(job.id) ? waiting_reason_[job.id] : "it was not started";
      mark_missed(job.id, job.definition,
                  "its window closed at " + when_text(job.deadline_ns, config_.time_zone) +
                      " before it could start (" + reason + ")");
      waiting_reason_.erase(job.id);
    }
  }

  // ---------------------------------------------------------------------------------------------- controls

  Child* child_of(int64_t job_id) {
    for (auto& [pid, child] : children_)
      if (child.job_id == job_id) return &child;
    return nullptr;
  }

  void apply_controls() {
    auto& catalog = site_->catalog();
    catalog::JobQuery query;
    query.states = {"queued", "running"};
    for (const auto& job : catalog.query_jobs(query)) {
      if (job.control.empty()) continue;
      const std::string id = std::to_string(job.id);
      if (job.state == "queued") {
        if (job.control == "cancel") {
          catalog.finish_job(job.id, "cancelled", "cancelled by an administrator before it started",
                             json::object());
        } else {
          catalog.settle_job_control(job.id, job.control == "pause");
          catalog.append_job_log(job.id, "info", job.control == "pause" ? "paused while queued" : "resumed");
        }
        continue;
      }
      Child* child = child_of(job.id);
      if (!child) {
        catalog.settle_job_control(job.id, job.paused);
        catalog.append_job_log(job.id, "warning",
                               job.control + " ignored: the job does not run under this server");
        continue;
      }
      if (job.control == "cancel") {
        child->cancel_requested = true;
        ::kill(-child->pid, SIGTERM);
        ::kill(-child->pid, SIGCONT);  // a paused job must run to receive the signal
        catalog.append_job_log(job.id, "info", "cancel requested: stopping the job process");
        catalog.settle_job_control(job.id, false);
      } else if (job.control == "pause") {
        ::kill(-child->pid, SIGSTOP);
        catalog.settle_job_control(job.id, true);
        catalog.append_job_log(job.id, "info", "paused");
      } else {
        ::kill(-child->pid, SIGCONT);
        catalog.settle_job_control(job.id, false);
        catalog.append_job_log(job.id, "info", "resumed");
      }
      spdlog::info("job {}: {} carried out", id, job.control);
    }
  }

  // ---------------------------------------------------------------------------------------------- finished
  // jobs

  void reap(const std::string& died_cause) {
    auto& catalog = site_->catalog();
    for (;;) {
      int status = 0;
      pid_t pid = ::waitpid(-1, &status, WNOHANG);
      if (pid <= 0) return;
      auto it = children_.find(pid);
      if (it == children_.end()) continue;
      Child child = it->second;
      children_.erase(it);
      auto job = catalog.find_job(child.job_id);
      if (!job) continue;
      if (job->finished_ns == 0) {
        std::string last = last_line_of(job_log_file(job->id));
        try {
          site_->discard_sets_of_job(job->id);
        } catch (const std::exception& e) {
          spdlog::warn("job {}: could not discard its unfinished set: {}", job->id, e.what());
        }
        if (child.cancel_requested) {
          catalog.append_job_log(job->id, "info", "cancelled by an administrator");
          catalog.finish_job(job->id, "cancelled", "cancelled by an administrator", json::object());
        } else {
          std::string message = died_cause + " (" + exit_description(status) + ")";
          if (!last.empty()) message += ": " + last;
          catalog.append_job_log(job->id, "error", message);
          catalog.finish_job(job->id, "failed", message, json::object());
          catalog.raise_alert("error", job->kind,
                              job->kind + " job " + std::to_string(job->id) + " failed: " + message);
        }
        job = catalog.find_job(child.job_id);
      }
      spdlog::info("job {} {}: {}", job->id, job->state, job->message);
      after_job(*job);
    }
  }

  // Retries, staging and bookkeeping once a job reached a final state.
  void after_job(const catalog::Job& job) {
    auto& catalog = site_->catalog();
    waiting_reason_.erase(job.id);
    if (job.state == "failed" && job.attempt < job.max_attempts) {
      int64_t backoff = 5 * 60 * kSecond;
      if (auto def = catalog.find_definition(job.definition); def && def->spec.contains("retries"))
        backoff = scheduler::parse_duration(def->spec["retries"].value("backoff", std::string("5m")));
      for (int64_t i = 1; i < job.attempt && backoff < 86400 * kSecond; ++i) backoff *= 2;
      catalog::JobRequest retry;
      retry.kind = job.kind;
      retry.details = job.details;
      retry.definition = job.definition;
      retry.target = job.target;
      retry.priority = job.priority;
      retry.scheduled_ns = job.scheduled_ns;
      retry.deadline_ns = job.deadline_ns;
      retry.not_before_ns = clock::now_ns() + backoff;
      retry.attempt = job.attempt + 1;
      retry.max_attempts = job.max_attempts;
      retry.retry_of = job.id;
      int64_t id = catalog.enqueue_job(retry);
      catalog.append_job_log(id, "info",
                             "attempt " + std::to_string(retry.attempt) + " of " +
                                 std::to_string(retry.max_attempts) + " after job " + std::to_string(job.id) +
                                 " failed; not before " + service::format_time(retry.not_before_ns));
      catalog.append_job_log(job.id, "info", "retry queued as job " + std::to_string(id));
      if (job.kind == "duplicate" && job.details.contains("planned_copy_id"))
        catalog.update_copy(job.details["planned_copy_id"].get<int64_t>(), "queued", id, std::nullopt, "");
      return;
    }
    if (job.kind == "duplicate" && job.state != "succeeded" && job.details.contains("planned_copy_id")) {
      catalog.update_copy(job.details["planned_copy_id"].get<int64_t>(), "failed", job.id, std::nullopt,
                          job.message);
      catalog.raise_alert("error", "staging",
                          "copy for job " + std::to_string(job.id) + " failed: " + job.message);
    }
    if ((job.state == "succeeded" || job.state == "partial") &&
        (job.kind == "backup" || job.kind == "synthesize") && job.set_id)
      plan_stages(job);
  }

  // ---------------------------------------------------------------------------------------------- staging

  json devices_and_pools() {
    json out = {{"devices", json::object()}, {"pools", json::object()}};
    for (const auto& status : site_->list_devices())
      out["devices"][status.device.name] = {{"type", status.device.type}, {"online", status.online}};
    for (const auto& pool : site_->catalog().list_pools())
      out["pools"][pool.name] = {{"type", pool.type}, {"members", pool.members}};
    return out;
  }

  void plan_stages(const catalog::Job& job) {
    auto& catalog = site_->catalog();
    auto set = catalog.find_set(*job.set_id);
    if (!set || set->state != "complete") return;
    auto def = catalog.find_definition(job.definition);
    if (!def) return;
    json set_view = {{"id", set->id},
                     {"level", set->level},
                     {"series", set->series},
                     {"sources", set->sources},
                     {"definition", set->definition},
                     {"device", catalog.device(set->device_id).name},
                     {"started_ns", set->started_ns},
                     {"completed_ns", set->completed_ns},
                     {"bytes", set->bytes},
                     {"file_count", set->file_count},
                     {"synthetic", set->synthetic}};
    policy::PolicyEngine engine(site_->policy_dir());
    policy::StagePlan plan =
        engine.evaluate_stages(set_view, def->spec, devices_and_pools(), clock::now_ns());
    if (!plan.errors.empty()) {
      std::string all;
      for (const auto& e : plan.errors) all += (all.empty() ? "" : "; ") + e;
      catalog.raise_alert(
          "error", "policy",
          "stages policy for set " + std::to_string(set->id) + " failed, no copies planned: " + all);
      return;
    }
    for (const auto& entry : plan.entries) {
      catalog::PlannedCopy copy;
      copy.set_id = set->id;
      copy.stage = entry.name;
      copy.after_stage = entry.from;
      copy.target = entry.to;
      copy.not_before_ns = set->completed_ns + entry.after_ns;
      copy.window = entry.window;
      copy.retention = entry.retention;
      copy.revision = plan.revision;
      int64_t id = catalog.plan_copy(copy);
      catalog.append_job_log(job.id, "info",
                             "stage '" + entry.name + "' planned (copy " + std::to_string(id) + " to " +
                                 entry.to + " not before " + service::format_time(copy.not_before_ns) +
                                 (entry.window.empty() ? "" : ", window " + entry.window) + ")");
    }
  }

  void queue_due_copies(int64_t now) {
    auto& catalog = site_->catalog();
    for (const auto& copy : catalog.copies_in_state("pending")) {
      if (copy.not_before_ns > now) continue;
      if (!copy.window.empty() &&
          !scheduler::DailyWindow::parse(copy.window, config_.time_zone).contains(now))
        continue;
      int64_t source = copy.set_id;
      if (!copy.after_stage.empty()) {
        std::optional<catalog::PlannedCopy> before;
        for (const auto& other : catalog.planned_copies(copy.set_id))
          if (other.stage == copy.after_stage) before = other;
        if (!before) {
          catalog.update_copy(copy.id, "failed", std::nullopt, std::nullopt,
                              "stage '" + copy.after_stage + "' does not exist");
          continue;
        }
        if (before->state == "failed") {
          catalog.update_copy(copy.id, "failed", std::nullopt, std::nullopt,
                              "its source stage '" + copy.after_stage + "' failed");
          continue;
        }
        if (before->state != "done" || !before->copy_set_id) continue;
        source = *before->copy_set_id;
      }
      auto original = catalog.find_set(copy.set_id);
      catalog::JobRequest request;
      request.kind = "duplicate";
      request.details = {{"set_id", source}, {"planned_copy_id", copy.id}, {"stage", copy.stage}};
      if (copy.retention.contains("days"))
        request.details["retain_until_ns"] = now + copy.retention["days"].get<int64_t>() * 86400 * kSecond;
      request.definition = original ? original->definition : "";
      request.target = copy.target;
      if (auto def = catalog.find_definition(request.definition)) {
        request.priority = def->spec.value("priority", int64_t(50));
        if (def->spec.contains("retries"))
          request.max_attempts = def->spec["retries"].value("attempts", int64_t(3));
        else
          request.max_attempts = 3;
      }
      catalog.transaction([&] {
        int64_t id = catalog.enqueue_job(request);
        catalog.update_copy(copy.id, "queued", id, std::nullopt, "");
        catalog.append_job_log(id, "info",
                               "copy of set " + std::to_string(source) + " for stage '" + copy.stage + "'");
      });
    }
  }

  void maybe_queue_expire(int64_t now) {
    if (config_.expire_every_ns <= 0) return;
    auto& catalog = site_->catalog();
    catalog::JobQuery query;
    query.kind = "expire";
    query.limit = 1;
    auto last = catalog.query_jobs(query);
    if (!last.empty() && (last[0].finished_ns == 0 || now - last[0].created_ns < config_.expire_every_ns))
      return;
    catalog::JobRequest request;
    request.kind = "expire";
    request.priority = 10;
    catalog.enqueue_job(request);
  }

  // ---------------------------------------------------------------------------------------------- dispatch

  const DeviceState& device_state(const catalog::Device& device) {
    auto found = device_states_.find(device.id);
    if (found != device_states_.end()) return found->second;
    DeviceState state;
    if (!device.enabled) {
      state.why_not = "device " + device.name + " is disabled";
    } else {
      try {
        auto opened = site_->open_device(device);
        sbx_storage_info info = opened->info();
        if (!info.online) {
          state.why_not = "device " + device.name + " is offline";
        } else if (info.total_bytes > 0 && (info.total_bytes - info.free_bytes) * 100 >=
                                               uint64_t(config_.full_refuse_percent) * info.total_bytes) {
          state.why_not = "device " + device.name + " is full";
        } else {
          state.usable = true;
        }
      } catch (const std::exception& e) {
        state.why_not = "device " + device.name + " is offline: " + e.what();
      }
    }
    return device_states_[device.id] = state;
  }

  int64_t running_on(int64_t device_id) const {
    int64_t n = 0;
    for (const auto& [pid, child] : children_) n += child.device_id == device_id ? 1 : 0;
    return n;
  }

  static bool encrypts(const catalog::Device& device) {
    return device.settings.is_object() && device.settings.contains("key_file");
  }

  // The device the job should run on now, or nullopt with the reason it waits.
  std::optional<catalog::Device> choose_device(const catalog::Job& job, std::string& why) {
    auto& catalog = site_->catalog();
    std::vector<catalog::Device> candidates;
    std::string target = job.target;
    if (target.empty() && job.kind == "verify") return std::nullopt;
    if (target.rfind("pool:", 0) == 0) {
      auto pool = catalog.find_pool(target.substr(5));
      if (!pool) {
        why = "pool " + target.substr(5) + " does not exist";
        return std::nullopt;
      }
      for (const auto& name : pool->members)
        if (auto d = catalog.find_device(name)) candidates.push_back(*d);
    } else if (!target.empty()) {
      auto d = catalog.find_device(target);
      if (!d) {
        why = "device " + target + " does not exist";
        return std::nullopt;
      }
      candidates.push_back(*d);
    }
    bool need_encryption = false;
    if (auto def = catalog.find_definition(job.definition))
      need_encryption =
          def->spec.value("encryption", std::string("none")) == "required" && job.kind != "verify";
    std::optional<int64_t> exclude;  // a copy goes to another device than its source
    if (job.kind == "duplicate")
      if (auto set = catalog.find_set(job.details.at("set_id").get<int64_t>())) exclude = set->device_id;
    std::string reasons;
    for (const auto& device : candidates) {
      std::string no;
      if (exclude && device.id == *exclude) {
        no = "device " + device.name + " holds the source set";
      } else if (need_encryption && !encrypts(device)) {
        no = "device " + device.name + " does not encrypt and the definition requires encryption";
      } else if (running_on(device.id) >= device.max_jobs) {
        no = "device " + device.name + " is busy (" + std::to_string(device.max_jobs) + " jobs at once)";
      } else if (const DeviceState& state = device_state(device); !state.usable) {
        no = state.why_not;
      } else {
        return device;
      }
      reasons += (reasons.empty() ? "" : "; ") + no;
    }
    why = candidates.empty() ? "no device to run on" : reasons;
    return std::nullopt;
  }

  fs::path job_log_file(int64_t job_id) const {
    return config_.site / "logs" / "jobs" / (std::to_string(job_id) + ".log");
  }

  void dispatch(int64_t now) {
    auto& catalog = site_->catalog();
    for (const auto& job : catalog.runnable_jobs(now)) {
      if (int64_t(children_.size()) >= config_.max_jobs) return;
      if (job.deadline_ns && now >= job.deadline_ns) continue;  // enforce_deadlines marks it missed
      std::optional<catalog::Device> device;
      const bool needs_device = job.kind != "expire" && !(job.kind == "verify" && job.target.empty());
      if (needs_device) {
        std::string why;
        device = choose_device(job, why);
        if (!device) {
          if (waiting_reason_[job.id] != why) {
            catalog.append_job_log(job.id, "info", "waiting: " + why);
            waiting_reason_[job.id] = why;
          }
          continue;
        }
      }
      start(job, device);
    }
  }

  void start(const catalog::Job& job, const std::optional<catalog::Device>& device) {
    auto& catalog = site_->catalog();
    catalog.transaction([&] {
      catalog.start_job(job.id, 0);
      if (device) catalog.set_job_device(job.id, device->id);
    });
    if (device) catalog.append_job_log(job.id, "info", "started on device " + device->name);
    fs::create_directories(job_log_file(job.id).parent_path());
    const std::string log = job_log_file(job.id).string();
    const std::string exe = fs::read_symlink("/proc/self/exe").string();
    const std::string site = config_.site.string();
    const std::string id = std::to_string(job.id);
    const pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid < 0) {
      std::string message = std::string("cannot start a job process: ") + std::strerror(errno);
      catalog.finish_job(job.id, "failed", message, json::object());
      return;
    }
    if (pid == 0) {
      // The child: its own process group (pause/cancel signal the group), dies with the server so a killed
      // server leaves no job running unsupervised, output to the job's log file.
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      int null = ::open("/dev/null", O_RDONLY);
      if (null >= 0) ::dup2(null, 0);
      ::execl(exe.c_str(), exe.c_str(), "--site", site.c_str(), "job", "run", id.c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(pid, pid);  // also from the parent, so a signal sent at once finds the group
    children_[pid] = Child{job.id, pid, device ? std::optional<int64_t>(device->id) : std::nullopt, false};
    catalog.set_job_pid(job.id, pid);
    waiting_reason_.erase(job.id);
    spdlog::info("job {} ({} {}) started as process {}{}", job.id, job.kind, job.definition, pid,
                 device ? " on device " + device->name : "");
  }

  // ---------------------------------------------------------------------------------------------- devices

  void check_devices(int64_t now) {
    if (last_device_check_ && now - last_device_check_ < config_.device_check_ns && now >= last_device_check_)
      return;
    last_device_check_ = now;
    auto& catalog = site_->catalog();
    for (const auto& status : site_->list_devices()) {
      const std::string& name = status.device.name;
      const std::string offline = "device:" + name + ":offline", full = "device:" + name + ":full";
      if (!status.online || !status.problem.empty()) {
        catalog.raise_alert(
            "error", "device",
            "device " + name + " is offline" + (status.problem.empty() ? "" : ": " + status.problem),
            offline);
        continue;
      }
      catalog.clear_alert_subject(offline);
      if (status.total_bytes == 0) continue;
      const uint64_t used_percent = (status.total_bytes - status.free_bytes) * 100 / status.total_bytes;
      if (used_percent >= uint64_t(config_.full_warning_percent))
        catalog.raise_alert(used_percent >= uint64_t(config_.full_refuse_percent) ? "error" : "warning",
                            "device", "device " + name + " is " + std::to_string(used_percent) + "% full",
                            full);
      else
        catalog.clear_alert_subject(full);
    }
  }

  ServerConfig config_;
  std::unique_ptr<service::Site> site_;
  std::unique_ptr<service::SiteHold> shared_hold_;
  int lock_fd_ = -1;
  std::optional<alerts::Deliverer> deliverer_;
  std::map<pid_t, Child> children_;
  std::map<std::string, std::shared_ptr<scheduler::Schedule>> schedules_;
  std::map<int64_t, DeviceState> device_states_;
  std::map<int64_t, std::string> waiting_reason_;
  int64_t last_device_check_ = 0;
};

}  // namespace

catalog::JobRequest request_for(const catalog::Definition& def, const std::string& method) {
  const json& spec = def.spec;
  catalog::JobRequest request;
  request.definition = def.name;
  request.priority = spec.value("priority", int64_t(50));
  request.max_attempts =
      std::max<int64_t>(1, spec.contains("retries") ? spec["retries"].value("attempts", int64_t(3)) : 3);
  if (spec.contains("device")) request.target = spec["device"].get<std::string>();
  if (spec.contains("pool")) request.target = "pool:" + spec["pool"].get<std::string>();
  if (spec.value("kind", std::string("backup")) == "verify") {
    request.kind = "verify";
    return request;
  }
  if (method == "synthetic") {
    request.kind = "synthesize";
    return request;
  }
  request.kind = "backup";
  request.details = {{"sources", spec.value("sources", json::array())},
                     {"excludes", spec.value("excludes", json::array())},
                     {"includes", spec.value("includes", json::array())},
                     {"level", method},
                     {"agent", spec.value("agent", std::string("files"))}};
  return request;
}

int run(const ServerConfig& config) {
  if (config.role != "standalone")
    throw service::ServiceError(
        "server role '" + config.role +
            "' is not available in this release; only 'standalone' runs (central, managed and "
            "offsite come with multi-server support)",
        service::kExitUsage);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
  signal(SIGPIPE, SIG_IGN);
  Server server(config);
  return server.run();
}

}  // namespace sbx::server
