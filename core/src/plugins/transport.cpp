// Transport, Listener and Connection: C++ calls through a transport plugin's vtable.
#include "internal.hpp"

namespace sbx::plugins {

using detail::call_plugin;
using detail::call_plugin_void;
using detail::check;
using detail::fail;
using detail::in_quotes;
using detail::to_str;

detail::TransportHandle::~TransportHandle() {
  if (transport) call_plugin_void([&] { plugin->transport.close(transport); });
}

detail::ListenerHandle::~ListenerHandle() {
  if (listener) call_plugin_void([&] { transport->plugin->transport.close_listener(listener); });
}

namespace {
std::string timed_out(int32_t timeout_ms) {
  return "timed out after " + std::to_string(timeout_ms) + " ms";
}
}  // namespace

// -------------------------------------------------------------------------------------------- connection
Connection::Connection(std::shared_ptr<detail::TransportHandle> transport,
                       std::shared_ptr<detail::ListenerHandle> listener, sbx_connection* connection,
                       std::string peer)
    : transport_(std::move(transport)),
      listener_(std::move(listener)),
      connection_(connection),
      peer_(std::move(peer)) {}

Connection::~Connection() {
  call_plugin_void([&] { transport_->plugin->transport.close_connection(connection_); });
}

void Connection::send(std::string_view data) {
  if (data.empty()) return;
  const detail::LoadedPlugin& plugin = *transport_->plugin;
  const auto result = call_plugin([&] { return plugin.transport.send(connection_, detail::to_bytes(data)); });
  if (result.status != SBX_OK) check(plugin, "send on connection " + peer_, result);
}

size_t Connection::recv(uint8_t* buf, size_t cap, int32_t timeout_ms) {
  const detail::LoadedPlugin& plugin = *transport_->plugin;
  if (!buf || cap == 0) {
    fail(plugin, SBX_ERR_INVALID_ARGUMENT, "recv on connection " + peer_, "the host passed no buffer space");
  }
  size_t received = 0;
  const auto result =
      call_plugin([&] { return plugin.transport.recv(connection_, buf, cap, &received, timeout_ms); });
  if (result.status == SBX_END) return 0;
  const std::string what = "recv on connection " + peer_;
  if (result.status == SBX_TIMEOUT) fail(plugin, SBX_TIMEOUT, what, timed_out(timeout_ms));
  check(plugin, what, result);
  // 0 bytes with SBX_OK would read as "peer shut down" to the caller, so it is the plugin's bug.
  if (received == 0 || received > cap) {
    fail(plugin, SBX_ERR_INTERNAL, what,
         "reported " + std::to_string(received) + " bytes received into a " + std::to_string(cap) +
             "-byte buffer, wanted 1.." + std::to_string(cap));
  }
  return received;
}

void Connection::shutdown() {
  call_plugin_void([&] { transport_->plugin->transport.shutdown(connection_); });
}

// ---------------------------------------------------------------------------------------------- listener
Listener::Listener(std::shared_ptr<detail::ListenerHandle> listener) : listener_(std::move(listener)) {}
Listener::~Listener() = default;

std::unique_ptr<Connection> Listener::accept(int32_t timeout_ms) {
  const detail::LoadedPlugin& plugin = *listener_->transport->plugin;
  const std::string what = "accept on " + in_quotes(listener_->address);
  sbx_connection* connection = nullptr;
  const auto result =
      call_plugin([&] { return plugin.transport.accept(listener_->listener, timeout_ms, &connection); });
  if (result.status == SBX_TIMEOUT) return nullptr;
  check(plugin, what, result);
  if (!connection) fail(plugin, SBX_ERR_INTERNAL, what, "returned success but no connection");
  try {
    return std::unique_ptr<Connection>(new Connection(listener_->transport, listener_, connection,
                                                      "accepted on " + in_quotes(listener_->address)));
  } catch (...) {
    call_plugin_void([&] { plugin.transport.close_connection(connection); });
    throw;
  }
}

// --------------------------------------------------------------------------------------------- transport
Transport::Transport(std::shared_ptr<detail::TransportHandle> transport) : transport_(std::move(transport)) {}
Transport::~Transport() = default;

const PluginInfo& Transport::plugin() const {
  return transport_->plugin->info;
}

std::unique_ptr<Listener> Transport::listen(std::string_view address) {
  const detail::LoadedPlugin& plugin = *transport_->plugin;
  const std::string what = "listen on " + in_quotes(address);
  if (!plugin.has(SBX_CAP_LISTEN)) fail(plugin, SBX_ERR_UNSUPPORTED, what, "this transport cannot listen");
  auto handle = std::make_shared<detail::ListenerHandle>(transport_, std::string(address));
  sbx_listener* listener = nullptr;
  check(plugin, what, call_plugin([&] {
          return plugin.transport.listen(transport_->transport, to_str(address), &listener);
        }));
  if (!listener) fail(plugin, SBX_ERR_INTERNAL, what, "returned success but no listener");
  handle->listener = listener;
  return std::unique_ptr<Listener>(new Listener(std::move(handle)));
}

std::unique_ptr<Connection> Transport::connect(std::string_view address, int32_t timeout_ms) {
  const detail::LoadedPlugin& plugin = *transport_->plugin;
  const std::string what = "connect to " + in_quotes(address);
  sbx_connection* connection = nullptr;
  const auto result = call_plugin([&] {
    return plugin.transport.connect(transport_->transport, to_str(address), timeout_ms, &connection);
  });
  if (result.status == SBX_TIMEOUT) fail(plugin, SBX_TIMEOUT, what, timed_out(timeout_ms));
  check(plugin, what, result);
  if (!connection) fail(plugin, SBX_ERR_INTERNAL, what, "returned success but no connection");
  try {
    return std::unique_ptr<Connection>(
        new Connection(transport_, nullptr, connection, "to " + in_quotes(address)));
  } catch (...) {
    call_plugin_void([&] { plugin.transport.close_connection(connection); });
    throw;
  }
}

// ---------------------------------------------------------------------------------------------- registry
std::unique_ptr<Transport> Registry::open_transport(std::string_view name,
                                                    const nlohmann::json& config) const {
  auto handle = std::make_shared<detail::TransportHandle>(require(SBX_KIND_TRANSPORT, name));
  const detail::LoadedPlugin& plugin = *handle->plugin;
  const std::string text = detail::config_text(plugin, config, "open transport");
  // Taken only on success: a failing plugin may have written anything to *out.
  sbx_transport* transport = nullptr;
  check(plugin, "open transport",
        call_plugin([&] { return plugin.transport.open(to_str(text), &transport); }));
  if (!transport) fail(plugin, SBX_ERR_INTERNAL, "open transport", "returned success but no transport");
  handle->transport = transport;
  return std::unique_ptr<Transport>(new Transport(std::move(handle)));
}

}  // namespace sbx::plugins
