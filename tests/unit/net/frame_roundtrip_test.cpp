// Frames written by FrameWriter come back from FrameReader unchanged, in order, whatever their type and
// size, as copies or as views into the reader's buffer, and a clean end of stream between frames reads as the
// end, not as an error.
#include <gmock/gmock.h>

#include <future>
#include <thread>
#include <vector>

#include "net_fixture.hpp"

namespace sbx::net::test {
namespace {

constexpr FrameType kAllTypes[] = {FrameType::hello,     FrameType::entry,   FrameType::data,
                                   FrameType::entry_end, FrameType::deleted, FrameType::warning,
                                   FrameType::done,      FrameType::error};

class FrameRoundTrip : public NetPairTest {
 protected:
  // Writes on a thread: the local pipe holds 4 MiB, so a large frame only goes through while someone reads.
  static std::future<void> write_async(plugins::Connection& connection, std::vector<Frame> frames,
                                       size_t buffer_bytes = 1u << 20) {
    return std::async(std::launch::async, [&connection, frames = std::move(frames), buffer_bytes] {
      FrameWriter writer(connection, buffer_bytes);
      for (const auto& f : frames) writer.write(f.type, f.payload);
      writer.finish();
    });
  }

  static void expect_frames(plugins::Connection& connection, const std::vector<Frame>& expected) {
    FrameReader reader(connection, 10000);
    Frame got;
    for (size_t i = 0; i < expected.size(); ++i) {
      ASSERT_TRUE(reader.read(got)) << "stream ended before frame " << i << " of " << expected.size();
      ASSERT_EQ(got.type, expected[i].type) << "frame " << i;
      ASSERT_EQ(got.payload.size(), expected[i].payload.size()) << "frame " << i;
      ASSERT_TRUE(got.payload == expected[i].payload) << "payload of frame " << i << " differs";
    }
    EXPECT_FALSE(reader.read(got)) << "a frame arrived after the last one written";
  }
};

TEST_F(FrameRoundTrip, EveryTypeWithEmptyAndFilledPayloads) {
  std::vector<Frame> frames;
  uint32_t seed = 0;
  for (size_t size : {size_t(0), size_t(1), size_t(5), size_t(4096), size_t(300000)})
    for (FrameType type : kAllTypes) frames.push_back({type, pattern(size, ++seed)});
  Pair p = pair();
  auto writer = write_async(*p.client, frames);
  expect_frames(*p.server, frames);
  writer.get();
}

TEST_F(FrameRoundTrip, ViewsCarryTheSamePayloadsAsCopies) {
  // Small frames between large ones make the reader both move what it holds and grow its buffer.
  std::vector<Frame> frames;
  uint32_t seed = 100;
  for (size_t size : {size_t(3), size_t(700000), size_t(0), size_t(5), size_t(3000000), size_t(4),
                      size_t(262139), size_t(262140), size_t(262141), size_t(1)})
    frames.push_back({FrameType::data, pattern(size, ++seed)});
  Pair p = pair();
  auto writer = write_async(*p.client, frames);
  FrameReader reader(*p.server, 10000);
  FrameView view;
  for (size_t i = 0; i < frames.size(); ++i) {
    ASSERT_TRUE(reader.read(view)) << "stream ended before frame " << i;
    ASSERT_EQ(view.type, frames[i].type) << "frame " << i;
    ASSERT_TRUE(view.payload == frames[i].payload) << "payload of frame " << i << " differs";
  }
  EXPECT_FALSE(reader.read(view));
  writer.get();
}

TEST_F(FrameRoundTrip, LargestPayloadTheLimitAllows) {
  std::vector<Frame> frames = {{FrameType::hello, "{}"},
                               {FrameType::data, pattern(kMaxFrameBytes - 1, 7)},
                               {FrameType::entry_end, std::string(32, '\xab')},
                               {FrameType::data, pattern(kMaxFrameBytes - 1, 8)}};
  Pair p = pair();
  auto writer = write_async(*p.client, frames);
  expect_frames(*p.server, frames);
  writer.get();
}

TEST_F(FrameRoundTrip, WriterRefusesAPayloadOverTheLimitAndStaysUsable) {
  Pair p = pair();
  FrameWriter writer(*p.client);
  const std::string too_big(kMaxFrameBytes, 'x');  // with its type byte one over the limit
  try {
    writer.write(FrameType::data, too_big);
    FAIL() << "a " << too_big.size() << "-byte payload was accepted";
  } catch (const ProtocolError& e) {
    EXPECT_STREQ(e.what(), "frame of 16777216 bytes is too large");
  }
  writer.write(FrameType::done, "{}");
  writer.finish();
  expect_frames(*p.server, {{FrameType::done, "{}"}});
}

TEST_F(FrameRoundTrip, ManyTinyFramesAreCoalesced) {
  Pair p = pair();
  FrameWriter writer(*p.client);
  std::vector<Frame> frames;
  for (uint32_t i = 0; i < 20000; ++i) frames.push_back({kAllTypes[i % 8], pattern(i % 4, i)});
  for (const auto& f : frames) writer.write(f.type, f.payload);

  // Nothing reaches the peer until the buffer fills or flush() is called.
  uint8_t probe;
  try {
    p.server->recv(&probe, 1, 0);
    FAIL() << "tiny frames were sent one by one instead of being buffered";
  } catch (const plugins::PluginError& e) {
    EXPECT_EQ(e.status(), SBX_TIMEOUT) << e.what();
  }
  writer.finish();
  expect_frames(*p.server, frames);
}

TEST_F(FrameRoundTrip, FullBufferIsSentWithoutFlush) {
  Pair p = pair();
  FrameWriter writer(*p.client, /*buffer_bytes=*/1024);
  for (int i = 0; i < 300; ++i) writer.write(FrameType::data, "12345");  // 10 bytes a frame on the wire
  FrameReader reader(*p.server, 1000);
  Frame frame;
  ASSERT_TRUE(reader.read(frame)) << "a full buffer was kept back";
  EXPECT_EQ(frame.payload, "12345");
}

TEST_F(FrameRoundTrip, PayloadsAroundTheDirectSendThresholdKeepTheirOrder) {
  // With a 64-byte buffer, payloads of 32 bytes and more bypass it; small ones queued before them must not
  // be overtaken.
  std::vector<Frame> frames;
  for (uint32_t i = 0; i < 400; ++i) frames.push_back({kAllTypes[i % 8], pattern((i * 7) % 100, i)});
  Pair p = pair();
  auto writer = write_async(*p.client, frames, /*buffer_bytes=*/64);
  expect_frames(*p.server, frames);
  writer.get();
}

TEST_F(FrameRoundTrip, CleanEndBetweenFramesReturnsFalse) {
  Pair p = pair();
  FrameWriter writer(*p.client);
  writer.write(FrameType::hello, "a");
  writer.write(FrameType::done, "");
  writer.finish();
  FrameReader reader(*p.server, 1000);
  Frame frame;
  ASSERT_TRUE(reader.read(frame));
  ASSERT_TRUE(reader.read(frame));
  EXPECT_EQ(frame.type, FrameType::done);
  EXPECT_EQ(frame.payload, "");
  EXPECT_FALSE(reader.read(frame));
  EXPECT_FALSE(reader.read(frame)) << "the end of stream must stay the end";
}

TEST_F(FrameRoundTrip, EmptyStreamIsACleanEnd) {
  Pair p = pair();
  p.client->shutdown();
  FrameReader reader(*p.server, 1000);
  Frame frame;
  EXPECT_FALSE(reader.read(frame));
}

TEST_F(FrameRoundTrip, PeerClosedBetweenFramesIsACleanEnd) {
  Pair p = pair();
  {
    FrameWriter writer(*p.client);
    writer.write(FrameType::error, R"({"message":"bye"})");
    writer.flush();
  }
  p.client.reset();
  FrameReader reader(*p.server, 1000);
  Frame frame;
  ASSERT_TRUE(reader.read(frame));
  EXPECT_EQ(parse_json(frame)["message"], "bye");
  EXPECT_FALSE(reader.read(frame));
}

TEST_F(FrameRoundTrip, ReadAfterATimeoutResumesTheSameFrame) {
  // A reader with a deadline may time out in the middle of a frame; trying again must yield that frame,
  // not bytes the failed wait left behind.
  Pair p = pair();
  const std::string payload = pattern(1000, 3);
  const std::string wire = raw_header(uint32_t(payload.size() + 1), uint8_t(FrameType::data)) + payload;
  FrameReader reader(*p.server, 50);
  Frame frame;
  p.client->send(std::string_view(wire).substr(0, 2));
  try {
    reader.read(frame);
    FAIL() << "read returned without a whole frame";
  } catch (const plugins::PluginError& e) {
    EXPECT_EQ(e.status(), SBX_TIMEOUT) << e.what();
  }
  p.client->send(std::string_view(wire).substr(2, 500));
  EXPECT_THROW(reader.read(frame), plugins::PluginError);
  p.client->send(std::string_view(wire).substr(502));
  p.client->shutdown();
  ASSERT_TRUE(reader.read(frame));
  EXPECT_EQ(frame.type, FrameType::data);
  EXPECT_TRUE(frame.payload == payload) << "payload damaged by the timed-out reads";
  EXPECT_FALSE(reader.read(frame));
}

TEST_F(FrameRoundTrip, TimeoutInsideAPayloadDoesNotDamageIt) {
  Pair p = pair();
  const std::string payload = pattern(1000, 4);
  const std::string wire = raw_header(uint32_t(payload.size() + 1), uint8_t(FrameType::data)) + payload;
  FrameReader reader(*p.server, 50);
  Frame frame;
  p.client->send(std::string_view(wire).substr(0, 500));
  EXPECT_THROW(reader.read(frame), plugins::PluginError);
  p.client->send(std::string_view(wire).substr(500));
  ASSERT_TRUE(reader.read(frame));
  EXPECT_TRUE(frame.payload == payload) << "payload damaged by the timed-out read";
}

TEST_F(FrameRoundTrip, JsonFrames) {
  Pair p = pair();
  FrameWriter writer(*p.client);
  send_json(writer, FrameType::hello, {{"protocol", "strongbox"}, {"version", kProtocolVersion}});
  // Paths are raw bytes; invalid UTF-8 in a JSON body is replaced rather than making dump() throw.
  send_json(writer, FrameType::warning, {{"message", std::string("bad \xff name")}});
  writer.write(FrameType::error, "{not json");
  writer.finish();

  FrameReader reader(*p.server, 1000);
  Frame frame;
  ASSERT_TRUE(reader.read(frame));
  EXPECT_EQ(parse_json(frame)["version"], kProtocolVersion);
  ASSERT_TRUE(reader.read(frame));
  EXPECT_EQ(parse_json(frame)["message"], "bad \xef\xbf\xbd name");
  ASSERT_TRUE(reader.read(frame));
  try {
    parse_json(frame);
    FAIL() << "malformed JSON was accepted";
  } catch (const ProtocolError& e) {
    EXPECT_THAT(std::string(e.what()), ::testing::StartsWith("malformed JSON in frame: "));
  }
}

}  // namespace
}  // namespace sbx::net::test
