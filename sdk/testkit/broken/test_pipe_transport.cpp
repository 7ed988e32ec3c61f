// test-pipe: a valid transport plugin whose streams are in-process byte queues, so the host's transport
// adapter (listen, accept and recv timeouts, shutdown, peer close) can be tested without sockets.
// Addresses are free-form names, unique among the listeners of the process.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <strongbox/sdk/plugin.hpp>

namespace {

using sbx::sdk::Error;

// One direction of a connection.
struct Pipe {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<char> bytes;
  bool shut = false;  // the writer will send nothing more
};

// Waits until ready() holds; false on timeout. timeout_ms < 0 waits for ever, 0 polls.
template <class Ready>
bool wait_for(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, int32_t timeout_ms,
              Ready ready) {
  if (timeout_ms < 0) {
    cv.wait(lock, ready);
    return true;
  }
  return cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), ready);
}

class PipeConnection : public sbx::sdk::Connection {
 public:
  PipeConnection(std::shared_ptr<Pipe> in, std::shared_ptr<Pipe> out)
      : in_(std::move(in)), out_(std::move(out)) {}
  ~PipeConnection() override { shutdown(); }

  void send(std::string_view data) override {
    std::lock_guard lock(out_->mutex);
    if (out_->shut) throw Error(SBX_ERR_CLOSED, "send after shutdown");
    out_->bytes.insert(out_->bytes.end(), data.begin(), data.end());
    out_->ready.notify_all();
  }

  sbx_status recv(uint8_t* buffer, size_t capacity, size_t* received, int32_t timeout_ms) override {
    std::unique_lock lock(in_->mutex);
    if (!wait_for(in_->ready, lock, timeout_ms, [&] { return !in_->bytes.empty() || in_->shut; }))
      return SBX_TIMEOUT;
    if (in_->bytes.empty()) return SBX_END;
    const size_t count = std::min(capacity, in_->bytes.size());
    std::copy_n(in_->bytes.begin(), count, buffer);
    in_->bytes.erase(in_->bytes.begin(), in_->bytes.begin() + static_cast<std::ptrdiff_t>(count));
    *received = count;
    return SBX_OK;
  }

  void shutdown() noexcept override {
    std::lock_guard lock(out_->mutex);
    out_->shut = true;
    out_->ready.notify_all();
  }

 private:
  std::shared_ptr<Pipe> in_, out_;
};

struct Backlog {
  std::mutex mutex;
  std::condition_variable ready;
  std::deque<std::unique_ptr<PipeConnection>> pending;
};

// Listeners of the process by address.
struct Directory {
  std::mutex mutex;
  std::map<std::string, std::weak_ptr<Backlog>> listeners;
};
Directory& directory() {
  static Directory instance;
  return instance;
}

class PipeListener : public sbx::sdk::Listener {
 public:
  PipeListener(std::string address, std::shared_ptr<Backlog> backlog)
      : address_(std::move(address)), backlog_(std::move(backlog)) {}
  ~PipeListener() override {
    std::lock_guard lock(directory().mutex);
    directory().listeners.erase(address_);
  }

  std::unique_ptr<sbx::sdk::Connection> accept(int32_t timeout_ms) override {
    std::unique_lock lock(backlog_->mutex);
    if (!wait_for(backlog_->ready, lock, timeout_ms, [&] { return !backlog_->pending.empty(); }))
      return nullptr;
    auto connection = std::move(backlog_->pending.front());
    backlog_->pending.pop_front();
    return connection;
  }

 private:
  std::string address_;
  std::shared_ptr<Backlog> backlog_;
};

class PipeTransport : public sbx::sdk::Transport {
 public:
  explicit PipeTransport(std::string_view) {}

  std::unique_ptr<sbx::sdk::Listener> listen(std::string_view address) override {
    std::lock_guard lock(directory().mutex);
    auto& slot = directory().listeners[std::string(address)];
    if (!slot.expired())
      throw Error(SBX_ERR_INVALID_ARGUMENT, "address '" + std::string(address) + "' is in use");
    auto backlog = std::make_shared<Backlog>();
    slot = backlog;
    return std::make_unique<PipeListener>(std::string(address), std::move(backlog));
  }

  std::unique_ptr<sbx::sdk::Connection> connect(std::string_view address, int32_t) override {
    std::shared_ptr<Backlog> backlog;
    {
      std::lock_guard lock(directory().mutex);
      const auto found = directory().listeners.find(std::string(address));
      if (found != directory().listeners.end()) backlog = found->second.lock();
    }
    if (!backlog) throw Error(SBX_ERR_NOT_FOUND, "nobody listens on '" + std::string(address) + "'");
    auto to_server = std::make_shared<Pipe>();
    auto to_client = std::make_shared<Pipe>();
    {
      std::lock_guard lock(backlog->mutex);
      backlog->pending.push_back(std::make_unique<PipeConnection>(to_server, to_client));
      backlog->ready.notify_all();
    }
    return std::make_unique<PipeConnection>(to_client, to_server);
  }
};

}  // namespace

SBX_DEFINE_PLUGIN(SBX_KIND_TRANSPORT, "test-pipe", "1.0.0",
                  "in-process byte pipes, for the plugin host's tests", SBX_CAP_LISTEN,
                  sbx::sdk::transport_vtable<PipeTransport>())
