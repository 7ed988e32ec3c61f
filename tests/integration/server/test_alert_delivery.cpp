// Alerts the server raises reach the configured command and webhook.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "server_harness.hpp"

using namespace sbx::test;
using nlohmann::json;

namespace {

// A loopback HTTP endpoint that records request bodies and answers 200.
class Hook {
 public:
  Hook() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 8);
    thread_ = std::thread([this] { serve(); });
  }
  ~Hook() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/alerts"; }
  std::string bodies() {
    std::lock_guard<std::mutex> lock(mutex_);
    return bodies_;
  }

 private:
  void serve() {
    while (!stop_) {
      int client = ::accept(fd_, nullptr, nullptr);
      if (client < 0) return;
      std::string request;
      char buf[4096];
      for (;;) {
        ssize_t n = ::read(client, buf, sizeof buf);
        if (n <= 0) break;
        request.append(buf, size_t(n));
        auto head = request.find("\r\n\r\n");
        if (head == std::string::npos) continue;
        auto cl = request.find("Content-Length: ");
        size_t length = cl == std::string::npos ? 0 : std::stoul(request.substr(cl + 16));
        if (request.size() >= head + 4 + length) break;
      }
      {
        std::lock_guard<std::mutex> lock(mutex_);
        bodies_ += request.substr(request.find("\r\n\r\n") + 4) + "\n";
      }
      const char* reply = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
      (void)!::write(client, reply, strlen(reply));
      ::close(client);
    }
  }
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mutex_;
  std::string bodies_;
};

}  // namespace

TEST(ServerAlerts, AMissedJobIsDeliveredToTheCommandAndTheWebhook) {
  TempDir dir;
  auto site = init_site(dir);
  SimulatedClock clock(dir / "clock");
  clock.set("2026-11-22T12:00:00Z");
  auto data = dir / "data";
  write_file(data / "a", "a");
  apply_document(dir, site,
                 {{"definitions",
                   {{"nightly",
                     {{"sources", {data.string()}},
                      {"device", "disk1"},
                      {"schedules", {{{"when", "daily 22:00"}, {"window", "1h"}}}}}}}}},
                 {clock.env()});
  auto received = dir / "received.jsonl";
  write_file(dir / "on-alert.sh", "#!/bin/sh\ncat >> '" + received.string() + "'\necho >> '" +
                                      received.string() + "'\necho \"$STRONGBOX_ALERT_SEVERITY\" >> '" +
                                      received.string() + "'\n");
  std::filesystem::permissions(dir / "on-alert.sh", std::filesystem::perms::owner_all);
  Hook hook;
  ServerProcess server(
      site,
      write_server_config(
          dir, site, {{"alerts", {{"command", {(dir / "on-alert.sh").string()}}, {"webhook", hook.url()}}}}),
      {clock.env()});
  server.start();
  server.stop();
  clock.set("2026-11-23T00:00:00Z");  // the server was down over the whole window
  server.start();
  ASSERT_TRUE(wait_until([&] { return read_file(received).find("missed") != std::string::npos; }))
      << server.log();
  ASSERT_TRUE(wait_until([&] { return hook.bodies().find("missed") != std::string::npos; })) << server.log();
  server.stop();
  EXPECT_NE(read_file(received).find("error"), std::string::npos);  // the severity reached the environment
  auto first_line = hook.bodies().substr(0, hook.bodies().find('\n'));
  auto alert = json::parse(first_line);
  EXPECT_EQ(alert["source"], "scheduler");
  EXPECT_NE(alert["message"].get<std::string>().find("nightly"), std::string::npos);
  EXPECT_NE(server.log().find("missed"), std::string::npos);  // and the server's log
}
