// A corrupt or hostile peer: every malformed stream ends in one ProtocolError with a clear message, never a
// crash, a hang or an allocation sized by the peer's claims.
#include <gmock/gmock.h>

#include <random>

#include "net_fixture.hpp"

namespace sbx::net::test {
namespace {

using ::testing::HasSubstr;

class FrameHostile : public NetPairTest {
 protected:
  // The ProtocolError message of reading what `bytes` the peer sent; `end` says whether it then ends its
  // side. Frames before the bad one must read normally; their count is returned through `good_frames`.
  std::string read_error(std::string_view bytes, bool end = true, int* good_frames = nullptr) {
    Pair p = pair();
    p.client->send(bytes);
    if (end) p.client->shutdown();
    FrameReader reader(*p.server, 2000);
    Frame frame;
    int good = 0;
    try {
      while (reader.read(frame)) ++good;
      ADD_FAILURE() << "the stream read as " << good << " good frames and a clean end";
    } catch (const ProtocolError& e) {
      if (good_frames) *good_frames = good;
      return e.what();
    }
    return {};
  }
};

TEST_F(FrameHostile, TruncatedHeader) {
  const std::string header = raw_header(3, uint8_t(FrameType::data));
  for (size_t cut = 1; cut < header.size(); ++cut) {
    SCOPED_TRACE("header cut to " + std::to_string(cut) + " bytes");
    EXPECT_EQ(read_error(header.substr(0, cut)), "stream ended inside a frame header");
  }
}

TEST_F(FrameHostile, TruncatedHeaderAfterAGoodFrame) {
  int good = -1;
  EXPECT_EQ(
      read_error(raw_header(3, uint8_t(FrameType::data)) + "ab" + std::string("\x05\x00", 2), true, &good),
      "stream ended inside a frame header");
  EXPECT_EQ(good, 1);
}

TEST_F(FrameHostile, TruncatedPayload) {
  const std::string payload = pattern(100000, 1);
  const std::string wire = raw_header(uint32_t(payload.size() + 1), uint8_t(FrameType::data)) + payload;
  for (size_t cut : {size_t(5), size_t(6), size_t(4096), wire.size() - 1}) {
    SCOPED_TRACE("frame cut to " + std::to_string(cut) + " bytes");
    EXPECT_EQ(read_error(wire.substr(0, cut)), "stream ended inside a frame");
  }
}

TEST_F(FrameHostile, ZeroLength) {
  EXPECT_EQ(read_error(raw_header(0, uint8_t(FrameType::data)) + "more"), "frame with zero length");
}

TEST_F(FrameHostile, LengthOverTheLimitIsRefusedFromTheHeaderAlone) {
  // The peer keeps its side open and sends nothing more: had the reader tried to allocate or wait for the
  // claimed payload, it would time out with a PluginError instead of refusing the header.
  for (uint32_t length : {uint32_t(kMaxFrameBytes + 1), uint32_t(1u << 31), uint32_t(0xffffffff)}) {
    SCOPED_TRACE("length " + std::to_string(length));
    const std::string message = read_error(raw_header(length, uint8_t(FrameType::data)), /*end=*/false);
    EXPECT_EQ(message, "frame of " + std::to_string(length) + " bytes exceeds the limit");
  }
}

TEST_F(FrameHostile, UnknownTypeByte) {
  for (int type : {0, 15, 0x7f, 0xff}) {
    SCOPED_TRACE("type " + std::to_string(type));
    EXPECT_EQ(read_error(raw_header(4, uint8_t(type)) + "abc"), "unknown frame type " + std::to_string(type));
  }
}

TEST_F(FrameHostile, UnknownTypeAfterGoodFrames) {
  int good = -1;
  std::string wire = raw_header(1, uint8_t(FrameType::done)) + raw_header(2, uint8_t(FrameType::error)) + "x";
  wire += raw_header(1, 42);
  EXPECT_EQ(read_error(wire, true, &good), "unknown frame type 42");
  EXPECT_EQ(good, 2);
}

TEST_F(FrameHostile, DamagedStreamsOnlyEverThrowProtocolError) {
  // Valid streams with random bytes overwritten, cut short or both: each must read as frames followed by
  // a clean end or one ProtocolError. Anything else (a crash, another exception, a hang) fails the test.
  std::mt19937 random(20240607);
  for (int round = 0; round < 200; ++round) {
    std::string wire;
    for (int f = 0; f < 6; ++f) {
      const std::string payload = pattern(random() % 40, uint32_t(round * 8 + f));
      wire += raw_header(uint32_t(payload.size() + 1), uint8_t(1 + random() % 8)) + payload;
    }
    for (int hits = 1 + random() % 3; hits > 0; --hits) wire[random() % wire.size()] = char(random());
    if (random() % 2) wire.resize(random() % wire.size());

    SCOPED_TRACE("round " + std::to_string(round));
    Pair p = pair();
    p.client->send(wire);
    p.client->shutdown();
    FrameReader reader(*p.server, 2000);
    Frame frame;
    try {
      while (reader.read(frame)) {
        ASSERT_LE(frame.payload.size(), wire.size());
      }
    } catch (const ProtocolError& e) {
      EXPECT_THAT(std::string(e.what()), ::testing::AnyOf(HasSubstr("frame"), HasSubstr("stream ended")));
    }
  }
}

}  // namespace
}  // namespace sbx::net::test
