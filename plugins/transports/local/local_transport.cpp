// The local transport: connections between listeners and connectors in one process, by name.
//
// connect does not wait for accept (like TCP's backlog): embedded mode listens, connects and accepts on one
// thread. A connection waits in its listener's backlog until accepted; connect blocks only while the
// backlog is full. Closing a listener fails the connections still waiting in its backlog.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <strongbox/sdk/plugin.hpp>
#include <utility>

#include "byte_pipe.hpp"

namespace sbx::local {
namespace {

constexpr size_t kDefaultBufferBytes = 4u << 20;
constexpr size_t kMaxBufferBytes = 1u << 30;
constexpr size_t kDefaultBacklog = 128;
constexpr size_t kMaxBacklog = 65536;
constexpr size_t kMaxAddressBytes = 1024;

struct Settings {
  size_t buffer_bytes = kDefaultBufferBytes;
  size_t backlog = kDefaultBacklog;
};

size_t read_size_setting(const nlohmann::json& config, const char* key, size_t low, size_t high,
                         size_t fallback) {
  auto it = config.find(key);
  if (it == config.end()) return fallback;
  if (!it->is_number_unsigned() || it->get<uint64_t>() < low || it->get<uint64_t>() > high)
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, std::string("local transport config: \"") + key +
                                                   "\" must be an integer from " + std::to_string(low) +
                                                   " to " + std::to_string(high) + ", got " + it->dump());
  return static_cast<size_t>(it->get<uint64_t>());
}

Settings parse_settings(std::string_view config_json) {
  Settings settings;
  if (config_json.find_first_not_of(" \t\r\n") == std::string_view::npos) return settings;
  nlohmann::json config = nlohmann::json::parse(config_json, nullptr, /*allow_exceptions=*/false);
  if (config.is_discarded() || !config.is_object())
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "local transport config: wanted a JSON object, got '" +
                                                   std::string(config_json.substr(0, 200)) + "'");
  for (const auto& [key, value] : config.items())
    if (key != "buffer_bytes" && key != "backlog")
      throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                       "local transport config: unknown key \"" + key + "\" (known: buffer_bytes, backlog)");
  settings.buffer_bytes = read_size_setting(config, "buffer_bytes", 1, kMaxBufferBytes, kDefaultBufferBytes);
  settings.backlog = read_size_setting(config, "backlog", 1, kMaxBacklog, kDefaultBacklog);
  return settings;
}

std::string checked_address(std::string_view address) {
  if (address.empty())
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "local transport: the address (a name) is empty");
  if (address.size() > kMaxAddressBytes)
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                     "local transport: address of " + std::to_string(address.size()) +
                         " bytes is longer than the limit of " + std::to_string(kMaxAddressBytes));
  return std::string(address);
}

class LocalConnection final : public sdk::Connection {
 public:
  LocalConnection(std::shared_ptr<BytePipe> outgoing, std::shared_ptr<BytePipe> incoming)
      : outgoing_(std::move(outgoing)), incoming_(std::move(incoming)) {}
  ~LocalConnection() override {
    if (!refusal_.empty()) {
      outgoing_->fail_writer(refusal_);
    } else {
      outgoing_->end_writer();
    }
    incoming_->close_reader();
  }

  void send(std::string_view data) override { outgoing_->write(data); }
  sbx_status recv(uint8_t* buffer, size_t capacity, size_t* received, int32_t timeout_ms) override {
    return incoming_->read(buffer, capacity, received, timeout_ms);
  }
  void shutdown() noexcept override { outgoing_->end_writer(); }

  // Makes destruction tell the peer why it never got a working connection.
  void refuse(std::string reason) { refusal_ = std::move(reason); }

 private:
  std::shared_ptr<BytePipe> outgoing_;
  std::shared_ptr<BytePipe> incoming_;
  std::string refusal_;
};

// What a listener, the registry and connectors share. Connectors hold it only while queueing.
struct ListenPoint {
  explicit ListenPoint(std::string point_name, size_t point_backlog)
      : name(std::move(point_name)), backlog(point_backlog) {}
  const std::string name;
  const size_t backlog;
  std::mutex mutex;
  std::condition_variable arrived;  // a connection joined the backlog
  std::condition_variable room;     // a connection left the backlog, or the listener closed
  std::deque<std::unique_ptr<LocalConnection>> waiting;
  bool closed = false;
};

// The process-wide names. Lives inside this library, so every transport instance it serves shares it.
class Registry {
 public:
  static Registry& instance() {
    static Registry registry;
    return registry;
  }

  std::shared_ptr<ListenPoint> add(const std::string& name, size_t backlog) {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = points_.try_emplace(name);
    if (!inserted)
      throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                       "local transport: cannot listen on '" + name +
                           "': another listener in this process already has that name");
    it->second = std::make_shared<ListenPoint>(name, backlog);
    return it->second;
  }

  std::shared_ptr<ListenPoint> find(const std::string& name) {
    std::lock_guard lock(mutex_);
    auto it = points_.find(name);
    return it == points_.end() ? nullptr : it->second;
  }

  void remove(const std::shared_ptr<ListenPoint>& point) {
    std::lock_guard lock(mutex_);
    auto it = points_.find(point->name);
    if (it != points_.end() && it->second == point) points_.erase(it);
  }

 private:
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<ListenPoint>> points_;
};

class LocalListener final : public sdk::Listener {
 public:
  explicit LocalListener(std::shared_ptr<ListenPoint> point) : point_(std::move(point)) {}

  ~LocalListener() override {
    // Unregister first so no new connection can join the backlog we are about to fail.
    Registry::instance().remove(point_);
    std::deque<std::unique_ptr<LocalConnection>> refused;
    {
      std::lock_guard lock(point_->mutex);
      point_->closed = true;
      refused.swap(point_->waiting);
      point_->room.notify_all();
    }
    for (auto& server_end : refused)
      server_end->refuse("local transport: listener '" + point_->name +
                         "' closed before accepting this connection");
  }

  std::unique_ptr<sdk::Connection> accept(int32_t timeout_ms) override {
    std::unique_lock lock(point_->mutex);
    auto ready = [&] { return !point_->waiting.empty(); };
    if (timeout_ms < 0) {
      point_->arrived.wait(lock, ready);
    } else if (!point_->arrived.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready)) {
      return nullptr;
    }
    std::unique_ptr<LocalConnection> server_end = std::move(point_->waiting.front());
    point_->waiting.pop_front();
    point_->room.notify_one();
    return server_end;
  }

 private:
  std::shared_ptr<ListenPoint> point_;
};

class LocalTransport final : public sdk::Transport {
 public:
  explicit LocalTransport(std::string_view config_json) : settings_(parse_settings(config_json)) {}

  std::unique_ptr<sdk::Listener> listen(std::string_view address) override {
    return std::make_unique<LocalListener>(
        Registry::instance().add(checked_address(address), settings_.backlog));
  }

  std::unique_ptr<sdk::Connection> connect(std::string_view address, int32_t timeout_ms) override {
    std::string name = checked_address(address);
    std::shared_ptr<ListenPoint> point = Registry::instance().find(name);
    if (!point)
      throw sdk::Error(SBX_ERR_NOT_FOUND, "local transport: cannot connect to '" + name +
                                              "': no listener by that name in this process");
    auto to_server = std::make_shared<BytePipe>(settings_.buffer_bytes);
    auto to_client = std::make_shared<BytePipe>(settings_.buffer_bytes);
    auto client_end = std::make_unique<LocalConnection>(to_server, to_client);
    auto server_end = std::make_unique<LocalConnection>(to_client, to_server);

    std::unique_lock lock(point->mutex);
    auto has_room = [&] { return point->closed || point->waiting.size() < point->backlog; };
    if (timeout_ms < 0) {
      point->room.wait(lock, has_room);
    } else if (!point->room.wait_for(lock, std::chrono::milliseconds(timeout_ms), has_room)) {
      throw sdk::Error(SBX_TIMEOUT, "local transport: cannot connect to '" + name + "': its backlog of " +
                                        std::to_string(point->backlog) + " connections stayed full for " +
                                        std::to_string(timeout_ms) + " ms");
    }
    if (point->closed)
      throw sdk::Error(SBX_ERR_CLOSED,
                       "local transport: cannot connect to '" + name + "': the listener closed");
    point->waiting.push_back(std::move(server_end));
    point->arrived.notify_one();
    return client_end;
  }

 private:
  Settings settings_;
};

}  // namespace
}  // namespace sbx::local

SBX_DEFINE_PLUGIN(SBX_KIND_TRANSPORT, "local", "1.0.0", "in-process byte streams between named endpoints",
                  SBX_CAP_LISTEN, sbx::sdk::transport_vtable<sbx::local::LocalTransport>())
