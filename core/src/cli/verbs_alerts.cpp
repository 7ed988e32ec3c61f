// strongbox alerts list|ack|clear and strongbox report jobs|protection|storage.
#include <cstdio>
#include <strongbox/clock.hpp>
#include <strongbox/reports.hpp>
#include <strongbox/scheduler.hpp>

#include "verbs.hpp"

using nlohmann::json;
using sbx::service::ServiceError;

namespace sbx::cli {
namespace {

constexpr int64_t kDefaultReportPeriod = 7LL * 24 * 3600 * 1000000000;

struct AlertOptions {
  bool all = false;
  std::vector<std::string> ack_ids;
  std::vector<std::string> clear_ids;
};

struct ReportOptions {
  std::string since;
  std::string until;
  bool csv = false;
};

std::string alert_state(const catalog::Alert& a) {
  if (a.cleared) return "cleared";
  return a.acknowledged ? "acknowledged" : "active";
}

json alert_json(const catalog::Alert& a) {
  return {{"type", "alert"},
          {"id", a.id},
          {"time", service::format_time(a.time_ns)},
          {"severity", a.severity},
          {"source", a.source},
          {"subject", a.subject},
          {"message", a.message},
          {"state", alert_state(a)},
          {"acknowledged", a.acknowledged},
          {"cleared", a.cleared},
          {"delivered", a.delivered_ns ? json(service::format_time(a.delivered_ns)) : json(nullptr)},
          {"delivery_error", a.delivery_error}};
}

void list_alerts(const Globals& g, bool include_cleared) {
  auto site = open_site(g);
  auto alerts = site->catalog().list_alerts(include_cleared);
  if (g.out.json) {
    for (const auto& a : alerts) print_json(alert_json(a));
    return;
  }
  reports::Table table;
  table.columns = {"id", "time", "severity", "source", "subject", "state", "message"};
  for (const auto& a : alerts)
    table.rows.push_back({a.id, service::format_time(a.time_ns), a.severity, a.source,
                          a.subject.empty() ? json(nullptr) : json(a.subject), alert_state(a), a.message});
  if (alerts.empty()) {
    if (!g.out.quiet) std::printf(include_cleared ? "no alerts\n" : "no active alerts\n");
    return;
  }
  std::fputs(reports::render_text(table).c_str(), stdout);
}

// All ids are checked before any alert changes, and the changes commit together: `ack 3 99` with no alert 99
// leaves alert 3 as it was.
void change_alerts(const Globals& g, const std::vector<std::string>& id_texts, bool clear) {
  std::vector<int64_t> ids;
  for (const auto& text : id_texts) ids.push_back(parse_id(text, "alert id"));
  auto site = open_site(g);
  const char* done = clear ? "cleared" : "acknowledged";
  try {
    site->catalog().transaction([&] {
      for (int64_t id : ids) clear ? site->catalog().clear_alert(id) : site->catalog().acknowledge_alert(id);
      site->catalog().audit("cli", clear ? "alert.clear" : "alert.acknowledge", {{"alerts", ids}});
    });
  } catch (const catalog::CatalogError& e) {
    throw ServiceError(e.what(), service::kExitUsage);
  }
  for (int64_t id : ids) {
    if (g.out.json)
      print_json({{"type", clear ? "alert_cleared" : "alert_acknowledged"}, {"id", id}});
    else if (!g.out.quiet)
      std::printf("alert %lld %s\n", (long long)id, done);
  }
}

// An ISO 8601 time, or a duration back from now ("7d", "12h").
int64_t parse_report_time(const std::string& text, const char* flag, int64_t now) {
  if (!text.empty() && std::isdigit(static_cast<unsigned char>(text[0])) &&
      std::isalpha(static_cast<unsigned char>(text.back()))) {
    try {
      return now - scheduler::parse_duration(text);
    } catch (const scheduler::ScheduleError&) {
      // Not a duration; perhaps a date. Fall through to the time parser and its message.
    }
  }
  if (auto t = service::parse_time(text)) return *t;
  throw ServiceError(std::string(flag) +
                         " wants an ISO 8601 time (2026-11-22T10:00:00Z) or a duration back from now "
                         "(7d, 12h), not '" +
                         text + "'",
                     service::kExitUsage);
}

void print_report(const Globals& g, const ReportOptions& options, const reports::Table& table) {
  if (options.csv && g.out.json)
    throw ServiceError("--csv and --json exclude each other", service::kExitUsage);
  std::string text = options.csv  ? reports::render_csv(table)
                     : g.out.json ? reports::render_json(table)
                                  : reports::render_text(table);
  std::fwrite(text.data(), 1, text.size(), stdout);
}

// Global flags (--json, --site) and report's --csv may follow the verb, as they do for every other verb.
void allow_trailing_flags(CLI::App* command) {
  command->fallthrough();
  for (auto* sub : command->get_subcommands([](CLI::App*) { return true; })) allow_trailing_flags(sub);
}

}  // namespace

void add_alert_verbs(CLI::App& app, Globals& g) {
  auto alert_options = std::make_shared<AlertOptions>();
  auto* alerts = app.add_subcommand("alerts", "active alerts: list, acknowledge, clear");
  alerts->require_subcommand(1);
  auto* list = alerts->add_subcommand("list", "list active alerts (not cleared), newest first");
  list->add_flag("--all", alert_options->all, "include cleared alerts");
  list->callback([&g, alert_options] { list_alerts(g, alert_options->all); });
  auto* ack = alerts->add_subcommand("ack", "acknowledge alerts: seen and being handled; they stay active");
  ack->add_option("ID", alert_options->ack_ids, "alert ids")->required();
  ack->callback([&g, alert_options] { change_alerts(g, alert_options->ack_ids, false); });
  auto* clear =
      alerts->add_subcommand("clear", "clear alerts: the problem is gone; they leave the active list");
  clear->add_option("ID", alert_options->clear_ids, "alert ids")->required();
  clear->callback([&g, alert_options] { change_alerts(g, alert_options->clear_ids, true); });
  allow_trailing_flags(alerts);

  auto report_options = std::make_shared<ReportOptions>();
  auto* report = app.add_subcommand("report", "reports: job history, protection status, storage use");
  report->require_subcommand(1);
  report->add_flag("--csv", report_options->csv, "print CSV (RFC 4180) with a header line");
  auto* jobs = report->add_subcommand("jobs", "job history over a period (default: the last 7 days)");
  jobs->add_option("--since", report_options->since, "start: ISO 8601 time or a duration back from now (7d)");
  jobs->add_option("--until", report_options->until,
                   "end (exclusive): ISO 8601 time or a duration back from now");
  jobs->callback([&g, report_options] {
    auto site = open_site(g);
    const int64_t now = clock::now_ns();
    int64_t since = report_options->since.empty() ? now - kDefaultReportPeriod
                                                  : parse_report_time(report_options->since, "--since", now);
    int64_t until =
        report_options->until.empty() ? 0 : parse_report_time(report_options->until, "--until", now);
    if (until != 0 && since >= until)
      throw ServiceError(
          "--since " + service::format_time(since) + " is not before --until " + service::format_time(until),
          service::kExitUsage);
    print_report(g, *report_options, reports::jobs_report(site->catalog(), since, until, now));
  });
  report->add_subcommand("protection", "protection status per definition and manual series")
      ->callback([&g, report_options] {
        auto site = open_site(g);
        print_report(g, *report_options, reports::protection_report(site->catalog(), clock::now_ns()));
      });
  report->add_subcommand("storage", "storage use per device")->callback([&g, report_options] {
    auto site = open_site(g);
    std::vector<reports::DeviceUsage> devices;
    for (const auto& d : site->list_devices())
      devices.push_back(
          {d.device.name, d.device.type, d.online, d.total_bytes, d.free_bytes, d.used_bytes, d.problem});
    print_report(g, *report_options, reports::storage_report(site->catalog(), devices, clock::now_ns()));
  });
  allow_trailing_flags(report);
}

}  // namespace sbx::cli
