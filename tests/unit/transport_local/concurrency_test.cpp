// Many connections at once, each with its own sender and receiver threads, and the name registry under
// concurrent listen/close.
#include <atomic>
#include <strongbox/sdk/testkit/support.hpp>
#include <thread>
#include <vector>

#include "local_fixture.hpp"

namespace sbx::local_test {
namespace {

class LocalTransportConcurrency : public LocalTransportTest {};

// Echoes everything it receives until the peer shuts down, then shuts down itself.
void echo(const TransportConnection& c) {
  std::vector<uint8_t> buffer(64 * 1024);
  for (;;) {
    size_t got = 0;
    sbx_status s = c.recv(buffer.data(), buffer.size(), &got, 30000);
    if (s != SBX_OK) break;
    if (c.send({reinterpret_cast<const char*>(buffer.data()), got}) != SBX_OK) break;
  }
  c.shutdown();
}

TEST_F(LocalTransportConcurrency, ManyConnectionsEchoTheirOwnStreams) {
  // A small pipe forces every connection through many block/wake cycles at once.
  TransportInstance t = open(R"({"buffer_bytes": 16384})");
  std::string address = name("echo");
  TransportListener listener = listen(t, address);
  constexpr int kConnections = 32;
  constexpr size_t kBytes = 256 * 1024;

  std::vector<TransportConnection> server_ends(kConnections);
  std::thread acceptor([&] {
    for (auto& c : server_ends) ASSERT_EQ(listener.accept(30000, &c), SBX_OK);
  });
  std::vector<TransportConnection> clients(kConnections);
  std::vector<std::thread> connectors;
  for (int i = 0; i < kConnections; ++i)
    connectors.emplace_back([&, i] { EXPECT_EQ(t.connect(address, 30000, &clients[i]), SBX_OK); });
  for (auto& th : connectors) th.join();
  acceptor.join();
  ASSERT_FALSE(HasFatalFailure());

  std::vector<std::thread> threads;
  for (auto& s : server_ends) threads.emplace_back([&s] { echo(s); });
  std::vector<testkit::ReceiveResult> results(kConnections);
  for (int i = 0; i < kConnections; ++i) {
    threads.emplace_back([&, i] {
      EXPECT_EQ(testkit::send_pattern(clients[i], 100 + i, kBytes, {1000, 17, 65536}), SBX_OK);
      clients[i].shutdown();
    });
    threads.emplace_back([&, i] { results[i] = testkit::receive_pattern(clients[i], 100 + i); });
  }
  for (auto& th : threads) th.join();
  for (int i = 0; i < kConnections; ++i) {
    EXPECT_EQ(results[i].final_status, SBX_END) << "connection " << i;
    EXPECT_EQ(results[i].received, kBytes) << "connection " << i;
    EXPECT_EQ(results[i].problem, "") << "connection " << i;
  }
}

TEST_F(LocalTransportConcurrency, ListenersComeAndGoFromManyThreads) {
  constexpr int kThreads = 8;
  constexpr int kRounds = 200;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      std::string address = "churn-" + std::to_string(i);
      for (int round = 0; round < kRounds; ++round) {
        TransportListener l;
        if (transport_.listen(address, &l) != SBX_OK) ++failures;
        TransportConnection client, server;
        if (transport_.connect(address, 1000, &client) != SBX_OK) ++failures;
        if (l.accept(1000, &server) != SBX_OK) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(LocalTransportConcurrency, OnlyOneOfManyRacingListenersGetsAName) {
  constexpr int kThreads = 8;
  std::string address = name("race");
  std::vector<TransportListener> listeners(kThreads);
  std::atomic<int> won{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      if (transport_.listen(address, &listeners[i]) == SBX_OK) ++won;
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(won.load(), 1);
}

TEST_F(LocalTransportConcurrency, NamesAreSharedAcrossTransportInstances) {
  TransportInstance other = open("{}");
  std::string address = name("shared");
  TransportListener listener = listen(transport_, address);
  TransportListener clash;
  EXPECT_LT(other.listen(address, &clash), 0) << "a second transport instance took a name already in use";
  ConnectedPair p = testkit::connect_pair(other, listener, address);
  EXPECT_TRUE(p.ok());
}

}  // namespace
}  // namespace sbx::local_test
