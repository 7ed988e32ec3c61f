// Helpers shared by the alert delivery tests: a temp folder, a fresh catalog, executable scripts and a tiny
// HTTP server on loopback that records what it is sent.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "strongbox/alerts.hpp"
#include "strongbox/catalog.hpp"

namespace sbx::alerts::testing {

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sbx-alerts-test-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed for " + pattern);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline std::unique_ptr<catalog::Catalog> new_catalog(const TempDir& dir) {
  return catalog::Catalog::open(dir / "catalog.db", catalog::Catalog::Mode::create);
}

inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// An executable /bin/sh script in dir.
inline std::filesystem::path write_script(const TempDir& dir, const std::string& name,
                                          const std::string& body) {
  auto path = dir / name;
  std::ofstream(path) << "#!/bin/sh\n" << body;
  std::filesystem::permissions(path, std::filesystem::perms::owner_all);
  return path;
}

// A port on 127.0.0.1 that nothing listens on (bound, then released).
inline int unused_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t length = sizeof address;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

struct HttpRequest {
  std::string head;  // request line and headers
  std::string body;
};

// Answers every request on 127.0.0.1:<port> with `status` (and a Location header for 3xx) until destroyed.
// With delay_ms it waits that long before answering, to let clients time out.
class HttpServer {
 public:
  explicit HttpServer(int status, int delay_ms = 0) : status_(status), delay_ms_(delay_ms) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 16) != 0)
      throw std::runtime_error("test HTTP server cannot listen on 127.0.0.1");
    socklen_t length = sizeof address;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~HttpServer() {
    stop_ = true;
    thread_.join();
    ::close(listener_);
  }
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  std::string url(const std::string& path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::vector<HttpRequest> requests() {
    std::lock_guard lock(mutex_);
    return requests_;
  }

 private:
  void serve() {
    while (!stop_) {
      pollfd fd{listener_, POLLIN, 0};
      if (::poll(&fd, 1, 20) <= 0) continue;
      int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
      if (client < 0) continue;
      handle(client);
      ::close(client);
    }
  }

  void handle(int client) {
    std::string data;
    char buffer[4096];
    size_t header_end = std::string::npos;
    size_t content_length = 0;
    // Reads until the headers and Content-Length bytes of body arrived (or 2 s of silence).
    for (;;) {
      if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length) break;
      pollfd fd{client, POLLIN, 0};
      if (::poll(&fd, 1, 2000) <= 0) return;
      ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      data.append(buffer, size_t(n));
      if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
        std::string head = data.substr(0, header_end);
        std::string lower;
        for (char c : head) lower += char(std::tolower(static_cast<unsigned char>(c)));
        auto at = lower.find("content-length:");
        if (at != std::string::npos) content_length = std::stoul(head.substr(at + 15));
      }
    }
    {
      std::lock_guard lock(mutex_);
      requests_.push_back({data.substr(0, header_end), data.substr(header_end + 4, content_length)});
    }
    if (delay_ms_ > 0) std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms_));
    std::string reply_body = status_ >= 300 ? "hook says no" : "ok";
    std::string reply = "HTTP/1.1 " + std::to_string(status_) +
                        " Test\r\nContent-Length: " + std::to_string(reply_body.size()) +
                        "\r\nConnection: close\r\n";
    if (status_ >= 300 && status_ < 400) reply += "Location: " + url("/elsewhere") + "\r\n";
    reply += "\r\n" + reply_body;
    ::send(client, reply.data(), reply.size(), MSG_NOSIGNAL);
  }

  int status_;
  int delay_ms_;
  int listener_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::vector<HttpRequest> requests_;
  std::thread thread_;
};

}  // namespace sbx::alerts::testing
