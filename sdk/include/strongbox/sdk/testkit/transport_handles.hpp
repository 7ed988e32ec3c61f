// strongbox SDK test kit: owning wrappers around a transport plugin's C handles, and helpers that move
// checked pattern data through them. They call the C vtable only, exactly as the host does. Header-only.
#pragma once

#include <algorithm>
#include <future>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "../sbx_plugin.h"
#include "support.hpp"

namespace sbx::testkit {

class TransportConnection {
 public:
  TransportConnection() = default;
  TransportConnection(const sbx_transport_vtable* vt, sbx_connection* c) : vt_(vt), c_(c) {}
  TransportConnection(TransportConnection&& o) noexcept : vt_(o.vt_), c_(std::exchange(o.c_, nullptr)) {}
  TransportConnection& operator=(TransportConnection&& o) noexcept {
    if (this != &o) {
      close();
      vt_ = o.vt_;
      c_ = std::exchange(o.c_, nullptr);
    }
    return *this;
  }
  TransportConnection(const TransportConnection&) = delete;
  TransportConnection& operator=(const TransportConnection&) = delete;
  ~TransportConnection() { close(); }

  explicit operator bool() const { return c_ != nullptr; }
  sbx_connection* get() const { return c_; }

  sbx_status send(std::string_view data) const {
    return vt_->send(c_, {reinterpret_cast<const uint8_t*>(data.data()), data.size()});
  }
  sbx_status recv(uint8_t* buffer, size_t capacity, size_t* received, int32_t timeout_ms) const {
    return vt_->recv(c_, buffer, capacity, received, timeout_ms);
  }
  void shutdown() const { vt_->shutdown(c_); }
  void close() {
    if (c_) vt_->close_connection(c_);
    c_ = nullptr;
  }

 private:
  const sbx_transport_vtable* vt_ = nullptr;
  sbx_connection* c_ = nullptr;
};

class TransportListener {
 public:
  TransportListener() = default;
  TransportListener(const sbx_transport_vtable* vt, sbx_listener* l) : vt_(vt), l_(l) {}
  TransportListener(TransportListener&& o) noexcept : vt_(o.vt_), l_(std::exchange(o.l_, nullptr)) {}
  TransportListener& operator=(TransportListener&& o) noexcept {
    if (this != &o) {
      close();
      vt_ = o.vt_;
      l_ = std::exchange(o.l_, nullptr);
    }
    return *this;
  }
  TransportListener(const TransportListener&) = delete;
  TransportListener& operator=(const TransportListener&) = delete;
  ~TransportListener() { close(); }

  explicit operator bool() const { return l_ != nullptr; }

  sbx_status accept(int32_t timeout_ms, TransportConnection* out) const {
    sbx_connection* c = nullptr;
    sbx_status s = vt_->accept(l_, timeout_ms, &c);
    if (s == SBX_OK) *out = TransportConnection(vt_, c);
    return s;
  }
  void close() {
    if (l_) vt_->close_listener(l_);
    l_ = nullptr;
  }

 private:
  const sbx_transport_vtable* vt_ = nullptr;
  sbx_listener* l_ = nullptr;
};

class TransportInstance {
 public:
  TransportInstance() = default;
  TransportInstance(TransportInstance&& o) noexcept : vt_(o.vt_), t_(std::exchange(o.t_, nullptr)) {}
  TransportInstance& operator=(TransportInstance&& o) noexcept {
    if (this != &o) {
      close();
      vt_ = o.vt_;
      t_ = std::exchange(o.t_, nullptr);
    }
    return *this;
  }
  TransportInstance(const TransportInstance&) = delete;
  TransportInstance& operator=(const TransportInstance&) = delete;
  ~TransportInstance() { close(); }

  // Calls vt->open; on failure the returned status is negative and *out stays empty.
  static sbx_status open(const sbx_transport_vtable* vt, std::string_view config_json,
                         TransportInstance* out) {
    sbx_transport* t = nullptr;
    sbx_status s = vt->open({config_json.data(), config_json.size()}, &t);
    if (s == SBX_OK) {
      out->close();
      out->vt_ = vt;
      out->t_ = t;
    }
    return s;
  }

  explicit operator bool() const { return t_ != nullptr; }
  const sbx_transport_vtable* vtable() const { return vt_; }

  sbx_status listen(std::string_view address, TransportListener* out) const {
    sbx_listener* l = nullptr;
    sbx_status s = vt_->listen(t_, {address.data(), address.size()}, &l);
    if (s == SBX_OK) *out = TransportListener(vt_, l);
    return s;
  }
  sbx_status connect(std::string_view address, int32_t timeout_ms, TransportConnection* out) const {
    sbx_connection* c = nullptr;
    sbx_status s = vt_->connect(t_, {address.data(), address.size()}, timeout_ms, &c);
    if (s == SBX_OK) *out = TransportConnection(vt_, c);
    return s;
  }
  void close() {
    if (t_) vt_->close(t_);
    t_ = nullptr;
  }

 private:
  const sbx_transport_vtable* vt_ = nullptr;
  sbx_transport* t_ = nullptr;
};

struct ConnectedPair {
  sbx_status connect_status = SBX_ERR_INTERNAL;
  sbx_status accept_status = SBX_ERR_INTERNAL;
  TransportConnection client;
  TransportConnection server;
  bool ok() const { return connect_status == SBX_OK && accept_status == SBX_OK && client && server; }
};

// Connects on a helper thread while this thread accepts: a transport may finish connect only once the
// listener has accepted (a TLS handshake does), so the two must not run one after the other.
inline ConnectedPair connect_pair(const TransportInstance& transport, const TransportListener& listener,
                                  std::string_view address, int32_t timeout_ms = 10000) {
  ConnectedPair pair;
  auto client = std::async(std::launch::async, [&] {
    TransportConnection c;
    sbx_status s = transport.connect(address, timeout_ms, &c);
    return std::make_pair(s, std::move(c));
  });
  pair.accept_status = listener.accept(timeout_ms, &pair.server);
  auto [status, connection] = client.get();
  pair.connect_status = status;
  pair.client = std::move(connection);
  return pair;
}

// Sends `total` pattern bytes of stream `seed` in chunks that cycle through odd sizes, so a transport that
// only works for aligned or equal-sized writes shows it. Returns the first non-OK status.
inline sbx_status send_pattern(const TransportConnection& c, uint64_t seed, size_t total,
                               std::vector<size_t> chunk_sizes = {1, 7, 4096, 65536, 1 << 20, 333333}) {
  std::string buffer;
  size_t offset = 0;
  for (size_t turn = 0; offset < total; ++turn) {
    size_t n = std::min(chunk_sizes[turn % chunk_sizes.size()], total - offset);
    buffer.resize(n);
    fill_pattern(seed, offset, reinterpret_cast<uint8_t*>(buffer.data()), n);
    sbx_status s = c.send(buffer);
    if (s != SBX_OK) return s;
    offset += n;
  }
  return SBX_OK;
}

struct ReceiveResult {
  sbx_status final_status = SBX_OK;  // the status that ended the loop: SBX_END when the peer shut down
  size_t received = 0;
  std::string problem;  // "" when every byte matched the pattern and no call broke the recv contract
};

// Receives pattern stream `seed` until recv returns something other than SBX_OK (normally SBX_END),
// checking every byte and the 1..capacity contract of recv.
inline ReceiveResult receive_pattern(const TransportConnection& c, uint64_t seed, int32_t timeout_ms = 30000,
                                     std::vector<size_t> capacities = {1, 13, 65536, 1 << 20, 4099}) {
  ReceiveResult r;
  std::vector<uint8_t> buffer(*std::max_element(capacities.begin(), capacities.end()));
  for (size_t turn = 0;; ++turn) {
    size_t capacity = capacities[turn % capacities.size()];
    size_t got = 0;
    sbx_status s = c.recv(buffer.data(), capacity, &got, timeout_ms);
    if (s != SBX_OK) {
      r.final_status = s;
      return r;
    }
    if (got == 0 || got > capacity) {
      r.problem = "recv returned SBX_OK with " + std::to_string(got) + " bytes for capacity " +
                  std::to_string(capacity) + " (wanted 1.." + std::to_string(capacity) + ")";
      r.final_status = s;
      return r;
    }
    std::string_view chunk(reinterpret_cast<const char*>(buffer.data()), got);
    size_t bad = first_pattern_mismatch(seed, r.received, chunk);
    if (bad != got && r.problem.empty())
      r.problem = "byte " + std::to_string(r.received + bad) + " of the stream differs from what was sent";
    r.received += got;
  }
}

}  // namespace sbx::testkit
