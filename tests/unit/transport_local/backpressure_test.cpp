// A sender faster than its reader is held back by the pipe's capacity instead of buffering without bound.
#include <atomic>
#include <chrono>
#include <strongbox/sdk/testkit/support.hpp>
#include <thread>
#include <vector>

#include "local_fixture.hpp"

namespace sbx::local_test {
namespace {

using namespace std::chrono_literals;
constexpr uint64_t kSeed = 5;

// Sends `total` pattern bytes in one call on a thread, so the test can watch whether the call returns.
// The data is made before the thread starts, so the only thing the thread can wait for is the pipe.
struct BackgroundSend {
  BackgroundSend(const TransportConnection& c, size_t total)
      : data(testkit::pattern_string(kSeed, total)), thread([this, &c] {
          status = c.send(data);
          done = true;
        }) {}
  ~BackgroundSend() {
    if (thread.joinable()) thread.join();
  }
  const std::string data;
  std::atomic<bool> done{false};
  sbx_status status = SBX_ERR_INTERNAL;
  std::thread thread;
};

// Once the sender has had time to fill the pipe: it must still be blocked, and one read must see at most
// what the pipe may hold. Returns how many bytes that read consumed.
size_t expect_sender_held_back(const TransportConnection& server, const BackgroundSend& sender,
                               size_t capacity) {
  std::this_thread::sleep_for(300ms);
  EXPECT_FALSE(sender.done) << "a send of more than the pipe holds returned before anything was read";
  std::vector<uint8_t> buffer(32u << 20);
  size_t got = 0;
  EXPECT_EQ(server.recv(buffer.data(), buffer.size(), &got, 10000), SBX_OK);
  EXPECT_GT(got, 0u);
  EXPECT_LE(got, capacity) << "more bytes were queued than the pipe's capacity";
  EXPECT_EQ(testkit::first_pattern_mismatch(kSeed, 0, {reinterpret_cast<const char*>(buffer.data()), got}),
            got);
  return got;
}

// Reads pattern bytes [offset, total) and checks each one.
void expect_rest_of_pattern(const TransportConnection& server, size_t offset, size_t total) {
  std::vector<uint8_t> buffer(1 << 20);
  while (offset < total) {
    size_t got = 0;
    ASSERT_EQ(server.recv(buffer.data(), buffer.size(), &got, 10000), SBX_OK) << "at offset " << offset;
    ASSERT_EQ(
        testkit::first_pattern_mismatch(kSeed, offset, {reinterpret_cast<const char*>(buffer.data()), got}),
        got)
        << "at offset " << offset;
    offset += got;
  }
  EXPECT_EQ(offset, total);
}

class LocalTransportBackpressure : public LocalTransportTest {};

TEST_F(LocalTransportBackpressure, SmallPipeHoldsSenderUntilReaderDrains) {
  TransportInstance t = open(R"({"buffer_bytes": 65536})");
  std::string address = name("pipe");
  TransportListener listener = listen(t, address);
  ConnectedPair pair = testkit::connect_pair(t, listener, address);
  ASSERT_TRUE(pair.ok());
  constexpr size_t kTotal = 4u << 20;
  BackgroundSend sender(pair.client, kTotal);
  size_t consumed = expect_sender_held_back(pair.server, sender, 65536);
  expect_rest_of_pattern(pair.server, consumed, kTotal);
  sender.thread.join();
  EXPECT_EQ(sender.status, SBX_OK);
}

TEST_F(LocalTransportBackpressure, DefaultPipeIsBoundedAtFourMebibytes) {
  std::string address = name("default");
  TransportListener listener = listen(transport_, address);
  ConnectedPair pair = testkit::connect_pair(transport_, listener, address);
  ASSERT_TRUE(pair.ok());
  constexpr size_t kTotal = 16u << 20;
  BackgroundSend sender(pair.client, kTotal);
  size_t consumed = expect_sender_held_back(pair.server, sender, 4u << 20);
  expect_rest_of_pattern(pair.server, consumed, kTotal);
  sender.thread.join();
  EXPECT_EQ(sender.status, SBX_OK);
}

TEST_F(LocalTransportBackpressure, EachDirectionHasItsOwnBound) {
  // A full client-to-server pipe must not stop the server's replies: no shared budget, no deadlock.
  TransportInstance t = open(R"({"buffer_bytes": 4096})");
  std::string address = name("directions");
  TransportListener listener = listen(t, address);
  ConnectedPair pair = testkit::connect_pair(t, listener, address);
  ASSERT_TRUE(pair.ok());
  BackgroundSend sender(pair.client, 100000);
  std::this_thread::sleep_for(100ms);
  ASSERT_EQ(pair.server.send("reply"), SBX_OK);
  uint8_t buf[16];
  size_t got = 0;
  ASSERT_EQ(pair.client.recv(buf, sizeof buf, &got, 5000), SBX_OK);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), got), std::string("reply").substr(0, got));
  expect_rest_of_pattern(pair.server, 0, 100000);
}

TEST_F(LocalTransportBackpressure, OneByteSendsArriveInOrder) {
  // Many tiny sends are packed into shared blocks; they must still come out in order and complete.
  TransportInstance t = open(R"({"buffer_bytes": 1000000})");
  std::string address = name("tiny");
  TransportListener listener = listen(t, address);
  ConnectedPair pair = testkit::connect_pair(t, listener, address);
  ASSERT_TRUE(pair.ok());
  constexpr size_t kTotal = 200000;
  std::thread sender([&] {
    EXPECT_EQ(testkit::send_pattern(pair.client, kSeed, kTotal, {1}), SBX_OK);
    pair.client.shutdown();
  });
  testkit::ReceiveResult r = testkit::receive_pattern(pair.server, kSeed);
  sender.join();
  EXPECT_EQ(r.final_status, SBX_END) << testkit::status_name(r.final_status);
  EXPECT_EQ(r.received, kTotal);
  EXPECT_EQ(r.problem, "");
}

}  // namespace
}  // namespace sbx::local_test
