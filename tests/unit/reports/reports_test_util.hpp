// Helpers shared by the report tests: a catalog in a temp folder whose clock the test sets (through
// $STRONGBOX_CLOCK_FILE, the clock every catalog write reads), and short ways to record jobs and sets.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "strongbox/catalog.hpp"
#include "strongbox/reports.hpp"

namespace sbx::reports::testing {

inline constexpr int64_t kSecond = 1'000'000'000;
inline constexpr int64_t kHour = 3600 * kSecond;
inline constexpr int64_t kDay = 24 * kHour;

// "2026-11-22 10:00" in UTC -> ns.
inline int64_t utc(const std::string& text) {
  std::tm tm{};
  int fields = std::sscanf(text.c_str(), "%d-%d-%d %d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                           &tm.tm_min);
  EXPECT_EQ(fields, 5) << text;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return int64_t(timegm(&tm)) * kSecond;
}

class TestCatalog {
 public:
  TestCatalog() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sbx-reports-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    dir_ = pattern;
    clock_file_ = dir_ / "clock";
    set_time(utc("2026-11-01 00:00"));
    ::setenv("STRONGBOX_CLOCK_FILE", clock_file_.c_str(), 1);
    catalog_ = catalog::Catalog::open(dir_ / "catalog.db", catalog::Catalog::Mode::create);
  }
  ~TestCatalog() {
    catalog_.reset();
    ::unsetenv("STRONGBOX_CLOCK_FILE");
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  TestCatalog(const TestCatalog&) = delete;
  TestCatalog& operator=(const TestCatalog&) = delete;

  catalog::Catalog& operator*() { return *catalog_; }
  catalog::Catalog* operator->() { return catalog_.get(); }

  // Every catalog write from now on happens at `ns`.
  void set_time(int64_t ns) {
    auto temp = clock_file_;
    temp += ".new";
    std::ofstream(temp) << ns;
    std::filesystem::rename(temp, clock_file_);
  }

  // A finished job (created and started at `start`, finished `seconds` later) for a definition ("" for none).
  int64_t job(const std::string& kind, const std::string& state, const std::string& definition, int64_t start,
              int64_t seconds, const std::string& message = "",
              const nlohmann::json& details = nlohmann::json::object()) {
    set_time(start);
    catalog::JobRequest request;
    request.kind = kind;
    request.definition = definition;
    request.details = details;
    int64_t id = catalog_->enqueue_job(request);
    if (state == "queued") return id;
    if (state == "missed") {
      set_time(start + seconds * kSecond);
      catalog_->finish_job(id, state, message, nullptr);
      return id;
    }
    catalog_->start_job(id, 0);
    if (state == "running") return id;
    set_time(start + seconds * kSecond);
    catalog_->finish_job(id, state, message, nullptr);
    return id;
  }

  // A backup job and the complete full set it wrote, started at `start`; returns the set id.
  int64_t backup(const std::string& definition, const std::vector<std::string>& sources, int64_t device_id,
                 int64_t start, const std::string& state = "succeeded", uint64_t warnings = 0,
                 uint64_t bytes = 1000, uint64_t stored = 600, uint64_t files = 10) {
    nlohmann::json details = {{"sources", sources}, {"level", "full"}};
    int64_t job_id = job("backup", "running", definition, start, 0, "", details);
    catalog::BackupSet set;
    set.job_id = job_id;
    set.device_id = device_id;
    set.store_name = "set-" + std::to_string(++store_counter_);
    set.level = "full";
    set.series = series(sources);
    set.sources = sources;
    set.definition = definition;
    set.started_ns = start;
    int64_t set_id = catalog_->begin_set(set);
    catalog_->set_job_set(job_id, set_id);
    catalog_->set_job_device(job_id, device_id);
    set_time(start + 60 * kSecond);
    catalog_->complete_set(set_id, files, bytes, stored, warnings);
    catalog_->finish_job(job_id, state, state == "partial" ? "some files unreadable" : "", nullptr);
    return set_id;
  }

  static std::string series(const std::vector<std::string>& sources) {
    std::string key = "files:";
    for (size_t i = 0; i < sources.size(); ++i) key += (i ? "," : "") + sources[i];
    return key;
  }

  int64_t next_store() { return ++store_counter_; }

 private:
  std::filesystem::path dir_;
  std::filesystem::path clock_file_;
  std::unique_ptr<catalog::Catalog> catalog_;
  int64_t store_counter_ = 0;
};

// Row `row` of a table as an object keyed by column.
inline nlohmann::json row_object(const Table& table, size_t row) {
  nlohmann::json object = nlohmann::json::object();
  for (size_t c = 0; c < table.columns.size(); ++c) object[table.columns[c]] = table.rows.at(row).at(c);
  return object;
}

// The row whose `column` equals `value`.
inline nlohmann::json find_row(const Table& table, const std::string& column, const nlohmann::json& value) {
  for (size_t r = 0; r < table.rows.size(); ++r) {
    auto object = row_object(table, r);
    if (object[column] == value) return object;
  }
  ADD_FAILURE() << "no row with " << column << " = " << value.dump();
  return nlohmann::json::object();
}

}  // namespace sbx::reports::testing
