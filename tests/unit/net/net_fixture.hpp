// Real connected pairs from the in-process `local` transport plugin, loaded through the registry as the
// server loads it, so the frame code meets the byte stream it meets in production.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "strongbox/net.hpp"
#include "strongbox/plugins.hpp"

namespace sbx::net::test {

struct Pair {
  std::unique_ptr<plugins::Listener> listener;
  std::unique_ptr<plugins::Connection> client;
  std::unique_ptr<plugins::Connection> server;
};

class NetPairTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_.load_dir(std::filesystem::path(SBX_BUILD_DIR) / "lib/strongbox/plugins");
    transport_ = registry_.open_transport("local", nlohmann::json::object());
  }

  // A fresh connected pair. Listener names are process-wide in the local transport, so each gets its own.
  Pair pair() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    const std::string address = std::string("net-test/") + info->test_suite_name() + "/" + info->name() +
                                "/" + std::to_string(next_pair_++);
    Pair p;
    p.listener = transport_->listen(address);
    p.client = transport_->connect(address, 1000);
    p.server = p.listener->accept(1000);
    if (!p.server) throw std::runtime_error("accept on '" + address + "' timed out");
    return p;
  }

  plugins::Registry registry_;
  std::unique_ptr<plugins::Transport> transport_;

 private:
  int next_pair_ = 0;
};

// A frame header as the wire carries it: u32 little-endian length of type+payload, then the type byte.
inline std::string raw_header(uint32_t length, uint8_t type) {
  std::string out;
  for (int shift = 0; shift < 32; shift += 8) out.push_back(char((length >> shift) & 0xff));
  out.push_back(char(type));
  return out;
}

// Deterministic, position-dependent bytes: a shifted, dropped or zeroed byte shows up as a mismatch.
inline std::string pattern(size_t size, uint32_t seed) {
  std::string out(size, '\0');
  uint32_t x = seed * 2654435761u + 1;
  for (auto& c : out) {
    x = x * 1103515245u + 12345u;
    c = char(x >> 24);
  }
  return out;
}

}  // namespace sbx::net::test
