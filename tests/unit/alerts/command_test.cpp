// The command channel: the alert arrives as JSON on stdin and in STRONGBOX_ALERT_* variables, arguments pass
// without a shell, failures and hangs are recorded on the alert and do not stop the next one.
#include <signal.h>

#include <chrono>
#include <fstream>

#include "alerts_test_util.hpp"

namespace sbx::alerts {
namespace {

using testing::new_catalog;
using testing::read_text;
using testing::TempDir;
using testing::write_script;

TEST(AlertCommand, ReceivesTheAlertAsJsonOnStdinAndInTheEnvironment) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  auto script = write_script(dir, "notify.sh",
                             "cat > \"$1/stdin.json\"\n"
                             "env | grep '^STRONGBOX_ALERT_' | sort > \"$1/env.txt\"\n"
                             "shift; printf '%s\\n' \"$@\" > \"$(dirname \"$0\")/args.txt\"\n");
  const std::string message = "device disk1 is 97% full; \"quotes\" and $(not a command)";
  int64_t id = catalog->raise_alert("warning", "device", message, "device:disk1:full");

  DeliveryConfig config;
  config.command_argv = {script.string(), dir.path().string(), "two words", "$HOME;rm -rf x"};
  Deliverer deliverer(config);
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 1u);

  auto json = nlohmann::json::parse(read_text(dir / "stdin.json"));
  EXPECT_EQ(json["id"], id);
  EXPECT_EQ(json["severity"], "warning");
  EXPECT_EQ(json["source"], "device");
  EXPECT_EQ(json["subject"], "device:disk1:full");
  EXPECT_EQ(json["message"], message);
  EXPECT_TRUE(json["time"].get<std::string>().ends_with("Z"));

  std::string env = read_text(dir / "env.txt");
  EXPECT_NE(env.find("STRONGBOX_ALERT_ID=" + std::to_string(id) + "\n"), std::string::npos) << env;
  EXPECT_NE(env.find("STRONGBOX_ALERT_SEVERITY=warning\n"), std::string::npos) << env;
  EXPECT_NE(env.find("STRONGBOX_ALERT_SOURCE=device\n"), std::string::npos) << env;
  EXPECT_NE(env.find("STRONGBOX_ALERT_SUBJECT=device:disk1:full\n"), std::string::npos) << env;
  EXPECT_NE(env.find("STRONGBOX_ALERT_MESSAGE=" + message + "\n"), std::string::npos) << env;
  EXPECT_NE(env.find("STRONGBOX_ALERT_TIME=" + json["time"].get<std::string>() + "\n"), std::string::npos)
      << env;
  // No shell: the arguments arrive exactly as configured.
  EXPECT_EQ(read_text(dir / "args.txt"), "two words\n$HOME;rm -rf x\n");

  auto alerts = catalog->list_alerts(true);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_NE(alerts[0].delivered_ns, 0);
  EXPECT_EQ(alerts[0].delivery_error, "");
  EXPECT_TRUE(catalog->undelivered_alerts().empty());
}

TEST(AlertCommand, FailingCommandIsRecordedAndDoesNotBlockTheNextAlert) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  auto script = write_script(dir, "fail.sh",
                             "cat >> \"$1/seen\"\n"
                             "echo 'mail relay refused us' >&2\n"
                             "exit 3\n");
  catalog->raise_alert("error", "backup", "backup job 1 failed: disk gone");
  catalog->raise_alert("error", "backup", "backup job 2 failed: disk gone");

  DeliveryConfig config;
  config.command_argv = {script.string(), dir.path().string()};
  Deliverer deliverer(config);
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 2u);

  std::string seen = read_text(dir / "seen");
  EXPECT_NE(seen.find("job 1 failed"), std::string::npos);
  EXPECT_NE(seen.find("job 2 failed"), std::string::npos);
  for (const auto& alert : catalog->list_alerts(true)) {
    EXPECT_NE(alert.delivered_ns, 0);
    EXPECT_NE(alert.delivery_error.find("exited with status 3"), std::string::npos) << alert.delivery_error;
    EXPECT_NE(alert.delivery_error.find("mail relay refused us"), std::string::npos) << alert.delivery_error;
    EXPECT_NE(alert.delivery_error.find(script.string()), std::string::npos) << alert.delivery_error;
  }
  // Recorded, not retried: a broken channel cannot make the server loop on the same alerts.
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 0u);
}

TEST(AlertCommand, MissingProgramIsRecorded) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  catalog->raise_alert("critical", "policy", "retention policy failed");
  DeliveryConfig config;
  config.command_argv = {(dir / "no-such-program").string()};
  Deliverer deliverer(config);
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 1u);
  auto alerts = catalog->list_alerts(true);
  EXPECT_NE(alerts[0].delivery_error.find("cannot start alert command"), std::string::npos)
      << alerts[0].delivery_error;
  EXPECT_NE(alerts[0].delivery_error.find("No such file"), std::string::npos) << alerts[0].delivery_error;
}

bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  // A killed process nobody reaped yet (no init reaping in some containers) is a zombie: gone all the same.
  std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  auto close = stat.rfind(')');
  return close != std::string::npos && stat.size() > close + 2 && stat[close + 2] == 'Z';
}

TEST(AlertCommand, HangingCommandAndWhatItStartedAreKilledAfterTheTimeout) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  // Ignores its input and stays: a background sleep (which would keep the output pipe open) and a foreground
  // one.
  auto script = write_script(dir, "hang.sh",
                             "sleep 30 &\n"
                             "echo $! > \"$1/background.pid\"\n"
                             "sleep 30\n");
  catalog->raise_alert("error", "device", "device disk2 is offline");
  catalog->raise_alert("info", "server", "server started");

  DeliveryConfig config;
  config.command_argv = {script.string(), dir.path().string()};
  config.timeout_ms = 300;
  Deliverer deliverer(config);
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 2u);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  EXPECT_LT(seconds, 5.0);
  EXPECT_GE(seconds, 0.6);  // two alerts, each waited out its 300 ms

  for (const auto& alert : catalog->list_alerts(true))
    EXPECT_NE(alert.delivery_error.find("did not finish within 300 ms and was killed"), std::string::npos)
        << alert.delivery_error;
  pid_t background = std::stoi(read_text(dir / "background.pid"));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = process_gone(background);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(gone) << "the command's background process " << background << " survived the timeout";
}

TEST(AlertCommand, CommandThatDoesNotReadItsInputStillCounts) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  auto script = write_script(dir, "quick.sh", "exec 0<&-\ntouch \"$1/ran\"\n");
  // A message far larger than a socket buffer: the write side meets a closed reader and must not die of
  // SIGPIPE.
  catalog->raise_alert("info", "test", std::string(4 << 20, 'x'));
  DeliveryConfig config;
  config.command_argv = {script.string(), dir.path().string()};
  Deliverer deliverer(config);
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 1u);
  EXPECT_TRUE(std::filesystem::exists(dir / "ran"));
  EXPECT_EQ(catalog->list_alerts(true)[0].delivery_error, "");
}

TEST(AlertCommand, LogOnlyDeliveryMarksAlerts) {
  TempDir dir;
  auto catalog = new_catalog(dir);
  catalog->raise_alert("warning", "job", "job 7 was missed: window closed");
  Deliverer deliverer(DeliveryConfig{});
  EXPECT_EQ(deliverer.deliver_pending(*catalog), 1u);
  EXPECT_TRUE(catalog->undelivered_alerts().empty());
  EXPECT_EQ(catalog->list_alerts(true)[0].delivery_error, "");
}

}  // namespace
}  // namespace sbx::alerts
