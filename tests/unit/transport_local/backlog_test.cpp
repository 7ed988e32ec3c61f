// connect queues on the listener's backlog without waiting for accept, as embedded mode relies on;
// only a full backlog makes it wait, bounded by its timeout.
#include <chrono>
#include <future>

#include "local_fixture.hpp"

namespace sbx::local_test {
namespace {

using namespace std::chrono_literals;

class LocalTransportBacklog : public LocalTransportTest {};

TEST_F(LocalTransportBacklog, ConnectThenAcceptOnOneThread) {
  std::string address = name("same-thread");
  TransportListener listener = listen(transport_, address);
  TransportConnection client, server;
  ASSERT_EQ(transport_.connect(address, 1000, &client), SBX_OK) << FakeHost::last_error();
  ASSERT_EQ(listener.accept(1000, &server), SBX_OK);
  ASSERT_EQ(client.send("hi"), SBX_OK);
  uint8_t buf[2];
  size_t got = 0, total = 0;
  while (total < 2) {
    ASSERT_EQ(server.recv(buf + total, 2 - total, &got, 1000), SBX_OK);
    total += got;
  }
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), 2), "hi");
}

TEST_F(LocalTransportBacklog, DataSentBeforeAcceptIsDelivered) {
  std::string address = name("early-data");
  TransportListener listener = listen(transport_, address);
  TransportConnection client, server;
  ASSERT_EQ(transport_.connect(address, 1000, &client), SBX_OK);
  ASSERT_EQ(testkit::send_pattern(client, 3, 100000), SBX_OK);
  client.shutdown();
  ASSERT_EQ(listener.accept(1000, &server), SBX_OK);
  testkit::ReceiveResult r = testkit::receive_pattern(server, 3);
  EXPECT_EQ(r.final_status, SBX_END);
  EXPECT_EQ(r.received, 100000u);
  EXPECT_EQ(r.problem, "");
}

TEST_F(LocalTransportBacklog, AcceptTakesConnectionsInArrivalOrder) {
  std::string address = name("order");
  TransportListener listener = listen(transport_, address);
  TransportConnection first, second, a, b;
  ASSERT_EQ(transport_.connect(address, 1000, &first), SBX_OK);
  ASSERT_EQ(transport_.connect(address, 1000, &second), SBX_OK);
  ASSERT_EQ(first.send("1"), SBX_OK);
  ASSERT_EQ(second.send("2"), SBX_OK);
  ASSERT_EQ(listener.accept(0, &a), SBX_OK);
  ASSERT_EQ(listener.accept(0, &b), SBX_OK);
  uint8_t c;
  size_t got = 0;
  ASSERT_EQ(a.recv(&c, 1, &got, 1000), SBX_OK);
  EXPECT_EQ(c, '1');
  ASSERT_EQ(b.recv(&c, 1, &got, 1000), SBX_OK);
  EXPECT_EQ(c, '2');
}

TEST_F(LocalTransportBacklog, FullBacklogTimesOutThenAdmitsAfterAccept) {
  TransportInstance t = open(R"({"backlog": 1})");
  std::string address = name("full");
  TransportListener listener = listen(t, address);
  TransportConnection queued, refused, later, accepted;
  ASSERT_EQ(t.connect(address, 1000, &queued), SBX_OK);

  auto start = std::chrono::steady_clock::now();
  FakeHost::clear_error();
  EXPECT_EQ(t.connect(address, 150, &refused), SBX_TIMEOUT);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 100ms);
  EXPECT_NE(FakeHost::last_error().find("backlog"), std::string::npos) << FakeHost::last_error();
  EXPECT_FALSE(refused);
  EXPECT_EQ(t.connect(address, 0, &refused), SBX_TIMEOUT) << "timeout 0 polls";

  auto waiting = std::async(std::launch::async, [&] { return t.connect(address, 5000, &later); });
  ASSERT_EQ(waiting.wait_for(100ms), std::future_status::timeout);
  ASSERT_EQ(listener.accept(1000, &accepted), SBX_OK);
  EXPECT_EQ(waiting.get(), SBX_OK) << "accept made room but the waiting connect was not admitted";
}

TEST_F(LocalTransportBacklog, ConnectWaitingOnFullBacklogFailsWhenListenerCloses) {
  TransportInstance t = open(R"({"backlog": 1})");
  std::string address = name("closing");
  TransportListener listener = listen(t, address);
  TransportConnection queued, waiter;
  ASSERT_EQ(t.connect(address, 1000, &queued), SBX_OK);
  auto waiting = std::async(std::launch::async, [&] { return t.connect(address, -1, &waiter); });
  ASSERT_EQ(waiting.wait_for(100ms), std::future_status::timeout);
  listener.close();
  ASSERT_EQ(waiting.wait_for(5s), std::future_status::ready) << "closing the listener left connect waiting";
  EXPECT_EQ(waiting.get(), SBX_ERR_CLOSED);
  EXPECT_FALSE(waiter);
}

}  // namespace
}  // namespace sbx::local_test
