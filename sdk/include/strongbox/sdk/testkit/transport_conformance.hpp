// strongbox SDK test kit: the conformance suite every transport plugin must pass. Header-only, GoogleTest.
//
// Mechanism: a value-parameterized fixture. Include this header in exactly ONE .cpp of a test binary (it
// defines the tests), link GTest::gtest_main and strongbox::testkit, and instantiate it with your plugin:
//
//   #include <strongbox/sdk/testkit/transport_conformance.hpp>
//   INSTANTIATE_TEST_SUITE_P(Local, TransportConformance, ::testing::Values(sbx::testkit::TransportTarget{
//       "/path/to/sbx_transport_local.so",
//       [](const std::filesystem::path&) { return std::string("{}"); },
//       [](int n) { return "conformance-" + std::to_string(n); },
//       "no-such-listener"}));
//
// Everything goes through the plugin's C vtable, loaded with dlopen and the fake host. The suite needs
// SBX_CAP_LISTEN (it talks to itself); a connect-only transport is reported as skipped.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

#include "fake_host.hpp"
#include "support.hpp"
#include "transport_handles.hpp"

namespace sbx::testkit {

struct TransportTarget {
  std::string plugin_path;
  // The config_json given to open; temp_dir is a fresh directory the suite removes afterwards.
  std::function<std::string(const std::filesystem::path& temp_dir)> config_json;
  // An address to listen on that nothing else uses; distinct n give distinct addresses within one test.
  std::function<std::string(int n)> listen_address;
  // An address no listener has: connect to it must fail cleanly.
  std::string unreachable_address;
};

inline void PrintTo(const TransportTarget& target, std::ostream* os) {
  *os << target.plugin_path;
}

class TransportConformance : public ::testing::TestWithParam<TransportTarget> {
 protected:
  static constexpr size_t kBulkBytes = 10u << 20;

  void SetUp() override {
    FakeHost::clear_error();
    try {
      plugin_.emplace(load_plugin_file(GetParam().plugin_path));
      vt_ = plugin_->transport();
    } catch (const std::exception& e) {
      FAIL() << e.what();
    }
    ASSERT_GE(plugin_->descriptor().struct_size, sizeof(sbx_plugin_descriptor));
    auto problems = descriptor_problems(plugin_->descriptor(), SBX_KIND_TRANSPORT);
    ASSERT_TRUE(problems.empty()) << plugin_->path() << ": " << problems.front();
    temp_.emplace("sbx-transport-conformance");
    std::string config = GetParam().config_json(temp_->path());
    sbx_status s = TransportInstance::open(vt_, config, &transport_);
    ASSERT_EQ(s, SBX_OK) << "open(" << config << ") failed: " << status_name(s) << ": "
                         << FakeHost::last_error();
  }

  void TearDown() override {
    transport_.close();
    plugin_.reset();
    temp_.reset();
  }

  bool can_listen() const { return plugin_->descriptor().capabilities & SBX_CAP_LISTEN; }

  // Listens on listen_address(n); fails the test when that is refused.
  TransportListener listen(int n = 0) {
    TransportListener listener;
    std::string address = GetParam().listen_address(n);
    sbx_status s = transport_.listen(address, &listener);
    EXPECT_EQ(s, SBX_OK) << "listen(" << address << "): " << status_name(s) << ": " << FakeHost::last_error();
    return listener;
  }

  ConnectedPair connect(const TransportListener& listener, int n = 0) {
    ConnectedPair pair = connect_pair(transport_, listener, GetParam().listen_address(n));
    EXPECT_EQ(pair.connect_status, SBX_OK) << "connect: " << status_name(pair.connect_status);
    EXPECT_EQ(pair.accept_status, SBX_OK) << "accept: " << status_name(pair.accept_status);
    return pair;
  }

  std::optional<LoadedPlugin> plugin_;
  const sbx_transport_vtable* vt_ = nullptr;
  std::optional<TempDir> temp_;
  TransportInstance transport_;
};

#define SBX_TESTKIT_NEED_LISTEN() \
  if (!can_listen()) GTEST_SKIP() << "plugin lacks SBX_CAP_LISTEN; the suite needs a listener to talk to"

TEST_P(TransportConformance, DescriptorIsSane) {
  const sbx_plugin_descriptor& d = plugin_->descriptor();
  EXPECT_EQ(d.abi_major, SBX_ABI_MAJOR);
  EXPECT_LE(d.min_host_minor, SBX_ABI_MINOR);
  EXPECT_EQ(d.kind, static_cast<uint32_t>(SBX_KIND_TRANSPORT));
  for (const std::string& problem : descriptor_problems(d, SBX_KIND_TRANSPORT)) ADD_FAILURE() << problem;
}

TEST_P(TransportConformance, ConnectAndAcceptGiveAConnectionPair) {
  SBX_TESTKIT_NEED_LISTEN();
  TransportListener listener = listen();
  ASSERT_TRUE(listener);
  ConnectedPair pair = connect(listener);
  ASSERT_TRUE(pair.ok());
  ASSERT_EQ(pair.client.send("ping"), SBX_OK);
  char buf[16];
  size_t got = 0;
  ASSERT_EQ(pair.server.recv(reinterpret_cast<uint8_t*>(buf), sizeof buf, &got, 10000), SBX_OK);
  EXPECT_EQ(std::string(buf, got), std::string("ping").substr(0, got));
}

// 10 MB each way at once: one sender and one receiver thread per side, as the host drives a connection.
TEST_P(TransportConformance, TenMegabytesBothWaysArriveIntact) {
  SBX_TESTKIT_NEED_LISTEN();
  TransportListener listener = listen();
  ASSERT_TRUE(listener);
  ConnectedPair pair = connect(listener);
  ASSERT_TRUE(pair.ok());

  sbx_status client_sent = SBX_ERR_INTERNAL, server_sent = SBX_ERR_INTERNAL;
  ReceiveResult at_server, at_client;
  std::thread client_sender([&] {
    client_sent = send_pattern(pair.client, 1, kBulkBytes);
    pair.client.shutdown();
  });
  std::thread server_sender([&] {
    server_sent = send_pattern(pair.server, 2, kBulkBytes, {65536, 3, 1 << 20, 8191});
    pair.server.shutdown();
  });
  std::thread server_receiver([&] { at_server = receive_pattern(pair.server, 1); });
  std::thread client_receiver([&] { at_client = receive_pattern(pair.client, 2); });
  client_sender.join();
  server_sender.join();
  server_receiver.join();
  client_receiver.join();

  EXPECT_EQ(client_sent, SBX_OK) << status_name(client_sent);
  EXPECT_EQ(server_sent, SBX_OK) << status_name(server_sent);
  EXPECT_EQ(at_server.final_status, SBX_END) << status_name(at_server.final_status);
  EXPECT_EQ(at_client.final_status, SBX_END) << status_name(at_client.final_status);
  EXPECT_EQ(at_server.received, kBulkBytes);
  EXPECT_EQ(at_client.received, kBulkBytes);
  EXPECT_EQ(at_server.problem, "");
  EXPECT_EQ(at_client.problem, "");
}

TEST_P(TransportConformance, ShutdownDeliversPendingDataThenEndAndKeepsTheOtherDirection) {
  SBX_TESTKIT_NEED_LISTEN();
  TransportListener listener = listen();
  ASSERT_TRUE(listener);
  ConnectedPair pair = connect(listener);
  ASSERT_TRUE(pair.ok());

  // Senders run on their own threads throughout: a network transport's buffers may hold less than we send.
  sbx_status sent = SBX_ERR_INTERNAL;
  std::thread sender([&] {
    sent = send_pattern(pair.client, 7, 100000);
    pair.client.shutdown();
  });
  ReceiveResult r = receive_pattern(pair.server, 7);
  sender.join();
  EXPECT_EQ(sent, SBX_OK) << status_name(sent);
  EXPECT_EQ(r.final_status, SBX_END) << status_name(r.final_status);
  EXPECT_EQ(r.received, 100000u);
  EXPECT_EQ(r.problem, "");
  uint8_t byte;
  size_t got = 0;
  EXPECT_EQ(pair.server.recv(&byte, 1, &got, 1000), SBX_END) << "SBX_END must repeat once reached";

  // A shut-down sender still receives: the host sends a request, shuts down, then reads the reply.
  std::thread replier([&] {
    sent = send_pattern(pair.server, 8, 5000);
    pair.server.shutdown();
  });
  ReceiveResult reply = receive_pattern(pair.client, 8);
  replier.join();
  EXPECT_EQ(sent, SBX_OK) << status_name(sent);
  EXPECT_EQ(reply.final_status, SBX_END) << status_name(reply.final_status);
  EXPECT_EQ(reply.received, 5000u);
  EXPECT_EQ(reply.problem, "");
}

TEST_P(TransportConformance, RecvReturnsWhatHasArrivedWithoutWaitingToFillTheBuffer) {
  SBX_TESTKIT_NEED_LISTEN();
  TransportListener listener = listen();
  ASSERT_TRUE(listener);
  ConnectedPair pair = connect(listener);
  ASSERT_TRUE(pair.ok());
  ASSERT_EQ(pair.client.send("0123456789"), SBX_OK);
  std::vector<uint8_t> buffer(1 << 20);
  std::string received;
  auto start = std::chrono::steady_clock::now();
  while (received.size() < 10) {
    size_t got = 0;
    sbx_status s = pair.server.recv(buffer.data(), buffer.size(), &got, 10000);
    ASSERT_EQ(s, SBX_OK) << status_name(s);
    ASSERT_GE(got, 1u);
    received.append(reinterpret_cast<const char*>(buffer.data()), got);
  }
  EXPECT_EQ(received, "0123456789");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_P(TransportConformance, RecvTimesOutWhenNothingArrivesAndStaysUsable) {
  SBX_TESTKIT_NEED_LISTEN();
  TransportListener listener = listen();
  ASSERT_TRUE(listener);
  ConnectedPair pair = connect(listener);
  ASSERT_TRUE(pair.ok());
  uint8_t buf[64];
  size_t got = 0;

  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(pair.server.recv(buf, sizeof buf, &got, 0), SBX_TIMEOUT) << "timeout 0 polls";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));

  start = std::chrono::steady_clock::now();
  EXPECT_EQ(pair.server.recv(buf, sizeof buf, &got, 200), SBX_TIMEOUT);
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_LT(waited, std::chrono::seconds(5));

  ASSERT_EQ(pair.client.send("x"), SBX_OK);
  ASSERT_EQ(pair.server.recv(buf, sizeof buf, &got, 10000), SBX_OK);
  EXPECT_EQ(got, 1u);
  EXPECT_EQ(buf[0], 'x');
}

TEST_P(TransportConformance, AcceptTimesOutWhenNobodyConnects) {
  SBX_TESTKIT_NEED_LISTEN();
  TransportListener listener = listen();
  ASSERT_TRUE(listener);
  TransportConnection c;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(listener.accept(0, &c), SBX_TIMEOUT);
  EXPECT_EQ(listener.accept(200, &c), SBX_TIMEOUT);
  auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, std::chrono::milliseconds(150));
  EXPECT_LT(waited, std::chrono::seconds(5));
  EXPECT_FALSE(c);
}

TEST_P(TransportConformance, ConnectToUnknownAddressFailsWithAMessage) {
  FakeHost::clear_error();
  TransportConnection c;
  auto start = std::chrono::steady_clock::now();
  sbx_status s = transport_.connect(GetParam().unreachable_address, 2000, &c);
  EXPECT_LT(s, 0) << "connect to " << GetParam().unreachable_address << " gave " << status_name(s);
  EXPECT_FALSE(c);
  EXPECT_FALSE(FakeHost::last_error().empty()) << "a failed connect must say why through set_error";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST_P(TransportConformance, ListenOnTakenAddressFailsUntilItIsFreed) {
  SBX_TESTKIT_NEED_LISTEN();
  TransportListener first = listen();
  ASSERT_TRUE(first);
  TransportListener second;
  FakeHost::clear_error();
  sbx_status s = transport_.listen(GetParam().listen_address(0), &second);
  EXPECT_LT(s, 0) << "second listen on one address gave " << status_name(s);
  EXPECT_FALSE(second);
  EXPECT_FALSE(FakeHost::last_error().empty()) << "a refused listen must say why through set_error";
  first.close();
  TransportListener again = listen();
  EXPECT_TRUE(again) << "closing a listener must free its address";
}

TEST_P(TransportConformance, ConnectAfterListenerClosedFails) {
  SBX_TESTKIT_NEED_LISTEN();
  TransportListener listener = listen();
  ASSERT_TRUE(listener);
  listener.close();
  TransportConnection c;
  FakeHost::clear_error();
  sbx_status s = transport_.connect(GetParam().listen_address(0), 2000, &c);
  EXPECT_LT(s, 0) << status_name(s);
  EXPECT_FALSE(c);
  EXPECT_FALSE(FakeHost::last_error().empty());
}

TEST_P(TransportConformance, PeerCloseEndsTheStreamAndFailsLaterSends) {
  SBX_TESTKIT_NEED_LISTEN();
  TransportListener listener = listen();
  ASSERT_TRUE(listener);
  ConnectedPair pair = connect(listener);
  ASSERT_TRUE(pair.ok());
  ASSERT_EQ(send_pattern(pair.client, 11, 1000), SBX_OK);
  pair.client.close();

  ReceiveResult r = receive_pattern(pair.server, 11);
  EXPECT_EQ(r.final_status, SBX_END) << status_name(r.final_status);
  EXPECT_EQ(r.received, 1000u);
  EXPECT_EQ(r.problem, "");

  // A network transport may accept a few writes before the reset comes back; within 64 MiB it must fail.
  std::string chunk(65536, 'z');
  sbx_status s = SBX_OK;
  for (int i = 0; i < 1024 && s == SBX_OK; ++i) s = pair.server.send(chunk);
  EXPECT_LT(s, 0) << "sending to a closed peer kept succeeding: " << status_name(s);
}

TEST_P(TransportConformance, ConnectionsOnOneListenerAreIndependent) {
  SBX_TESTKIT_NEED_LISTEN();
  TransportListener listener = listen();
  ASSERT_TRUE(listener);
  ConnectedPair a = connect(listener);
  ConnectedPair b = connect(listener);
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(b.ok());
  sbx_status sent_a = SBX_ERR_INTERNAL, sent_b = SBX_ERR_INTERNAL;
  std::thread sender_a([&] {
    sent_a = send_pattern(a.client, 21, 300000);
    a.client.shutdown();
  });
  std::thread sender_b([&] {
    sent_b = send_pattern(b.client, 22, 200000);
    b.client.shutdown();
  });
  // b first: a's sender may be blocked on a full buffer meanwhile, which must not hold up b.
  ReceiveResult rb = receive_pattern(b.server, 22);
  ReceiveResult ra = receive_pattern(a.server, 21);
  sender_a.join();
  sender_b.join();
  EXPECT_EQ(sent_a, SBX_OK);
  EXPECT_EQ(sent_b, SBX_OK);
  EXPECT_EQ(ra.received, 300000u);
  EXPECT_EQ(rb.received, 200000u);
  EXPECT_EQ(ra.problem, "");
  EXPECT_EQ(rb.problem, "");
  EXPECT_EQ(ra.final_status, SBX_END);
  EXPECT_EQ(rb.final_status, SBX_END);
}

TEST_P(TransportConformance, TwoListenersOnDistinctAddressesDoNotMix) {
  SBX_TESTKIT_NEED_LISTEN();
  TransportListener one = listen(0);
  TransportListener two = listen(1);
  ASSERT_TRUE(one);
  ASSERT_TRUE(two);
  ConnectedPair to_two = connect(two, 1);
  ASSERT_TRUE(to_two.ok());
  TransportConnection stray;
  EXPECT_EQ(one.accept(100, &stray), SBX_TIMEOUT)
      << "a connect to address 1 reached the listener on address 0";
}

#undef SBX_TESTKIT_NEED_LISTEN

}  // namespace sbx::testkit

using sbx::testkit::TransportConformance;
