// What each side sees when the other shuts down or closes, including calls blocked at that moment.
#include <chrono>
#include <future>
#include <strongbox/sdk/testkit/support.hpp>
#include <thread>

#include "local_fixture.hpp"

namespace sbx::local_test {
namespace {

using namespace std::chrono_literals;

class LocalTransportClose : public LocalTransportTest {
 protected:
  ConnectedPair pair(const TransportInstance& t, const TransportListener& listener,
                     const std::string& address) {
    ConnectedPair p = testkit::connect_pair(t, listener, address);
    EXPECT_TRUE(p.ok());
    return p;
  }
};

TEST_F(LocalTransportClose, ClosedPeerDrainsThenEndsAndRefusesSends) {
  std::string address = name("a");
  TransportListener listener = listen(transport_, address);
  ConnectedPair p = pair(transport_, listener, address);
  ASSERT_EQ(p.client.send("last words"), SBX_OK);
  p.client.close();

  testkit::ReceiveResult r = testkit::receive_pattern(p.server, 0, 1000, {64});
  EXPECT_EQ(r.final_status, SBX_END);
  EXPECT_EQ(r.received, 10u);

  FakeHost::clear_error();
  EXPECT_EQ(p.server.send("anyone?"), SBX_ERR_CLOSED);
  EXPECT_NE(FakeHost::last_error().find("peer closed"), std::string::npos) << FakeHost::last_error();
}

TEST_F(LocalTransportClose, SendBlockedOnFullPipeFailsWhenPeerCloses) {
  TransportInstance t = open(R"({"buffer_bytes": 1024})");
  std::string address = name("blocked-send");
  TransportListener listener = listen(t, address);
  ConnectedPair p = pair(t, listener, address);
  auto send = std::async(std::launch::async, [&] { return p.client.send(std::string(1 << 20, 'x')); });
  ASSERT_EQ(send.wait_for(200ms), std::future_status::timeout) << "send should be waiting for room";
  p.server.close();
  ASSERT_EQ(send.wait_for(5s), std::future_status::ready) << "peer close did not wake the blocked sender";
  EXPECT_EQ(send.get(), SBX_ERR_CLOSED);
}

TEST_F(LocalTransportClose, RecvWaitingForeverWakesWithEndWhenPeerCloses) {
  std::string address = name("blocked-recv");
  TransportListener listener = listen(transport_, address);
  ConnectedPair p = pair(transport_, listener, address);
  auto recv = std::async(std::launch::async, [&] {
    uint8_t b;
    size_t got = 0;
    return p.server.recv(&b, 1, &got, -1);
  });
  ASSERT_EQ(recv.wait_for(200ms), std::future_status::timeout);
  p.client.close();
  ASSERT_EQ(recv.wait_for(5s), std::future_status::ready) << "peer close did not wake the blocked receiver";
  EXPECT_EQ(recv.get(), SBX_END);
}

TEST_F(LocalTransportClose, RecvWaitingForeverWakesWithEndOnShutdown) {
  std::string address = name("shutdown-recv");
  TransportListener listener = listen(transport_, address);
  ConnectedPair p = pair(transport_, listener, address);
  auto recv = std::async(std::launch::async, [&] {
    uint8_t b;
    size_t got = 0;
    return p.client.recv(&b, 1, &got, -1);
  });
  ASSERT_EQ(recv.wait_for(200ms), std::future_status::timeout);
  p.server.shutdown();
  ASSERT_EQ(recv.wait_for(5s), std::future_status::ready);
  EXPECT_EQ(recv.get(), SBX_END);
}

TEST_F(LocalTransportClose, SendAfterOwnShutdownFails) {
  std::string address = name("own-shutdown");
  TransportListener listener = listen(transport_, address);
  ConnectedPair p = pair(transport_, listener, address);
  p.client.shutdown();
  FakeHost::clear_error();
  EXPECT_EQ(p.client.send("late"), SBX_ERR_CLOSED);
  EXPECT_NE(FakeHost::last_error().find("after shutdown"), std::string::npos) << FakeHost::last_error();
  p.client.shutdown();  // twice is harmless
  uint8_t b;
  size_t got = 0;
  EXPECT_EQ(p.server.recv(&b, 1, &got, 1000), SBX_END);
}

TEST_F(LocalTransportClose, ClosingListenerFailsConnectionsNotYetAccepted) {
  std::string address = name("backlogged");
  TransportListener listener = listen(transport_, address);
  TransportConnection waiting;
  ASSERT_EQ(transport_.connect(address, 1000, &waiting), SBX_OK)
      << "connect queues without waiting for accept";
  listener.close();

  uint8_t b;
  size_t got = 0;
  FakeHost::clear_error();
  EXPECT_EQ(waiting.recv(&b, 1, &got, 1000), SBX_ERR_CLOSED);
  EXPECT_NE(FakeHost::last_error().find("closed before accepting"), std::string::npos)
      << FakeHost::last_error();
  EXPECT_EQ(waiting.send("hello?"), SBX_ERR_CLOSED);
}

TEST_F(LocalTransportClose, AcceptedConnectionsOutliveTheirListener) {
  std::string address = name("outlive");
  TransportListener listener = listen(transport_, address);
  ConnectedPair p = pair(transport_, listener, address);
  listener.close();
  ASSERT_EQ(p.client.send("still here"), SBX_OK);
  uint8_t buf[32];
  size_t got = 0;
  ASSERT_EQ(p.server.recv(buf, sizeof buf, &got, 1000), SBX_OK);
  EXPECT_GT(got, 0u);
}

TEST_F(LocalTransportClose, ConnectAfterListenerClosedIsNotFoundAndNameIsReusable) {
  std::string address = name("reuse");
  TransportListener listener = listen(transport_, address);
  listener.close();
  TransportConnection c;
  FakeHost::clear_error();
  EXPECT_EQ(transport_.connect(address, 100, &c), SBX_ERR_NOT_FOUND);
  EXPECT_NE(FakeHost::last_error().find(address), std::string::npos) << FakeHost::last_error();
  TransportListener again = listen(transport_, address);
  EXPECT_TRUE(again);
}

TEST_F(LocalTransportClose, TransportClosedBeforeItsConnectionsAndListeners) {
  // The host may drop the transport object first; what it made keeps working and closes cleanly later.
  TransportInstance t = open("{}");
  std::string address = name("order");
  TransportListener listener = listen(t, address);
  ConnectedPair p = pair(t, listener, address);
  t.close();
  ASSERT_EQ(p.client.send("x"), SBX_OK);
  uint8_t b;
  size_t got = 0;
  EXPECT_EQ(p.server.recv(&b, 1, &got, 1000), SBX_OK);
  listener.close();
  p.client.close();
  EXPECT_EQ(p.server.recv(&b, 1, &got, 1000), SBX_END);
}

}  // namespace
}  // namespace sbx::local_test
