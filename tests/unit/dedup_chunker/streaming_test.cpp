#include "test_support.hpp"

namespace sbx::dedup {
namespace {

using testing::chunk_streamed;
using testing::chunk_whole;
using testing::random_bytes;

TEST(DedupChunkerStreaming, FixedPiecesGiveTheSameCuts) {
  const Chunker chunker({2048, 8192, 32768});
  const auto data = random_bytes(1'500'000, 21);
  const auto expected = chunk_whole(chunker, data);
  ASSERT_GT(expected.size(), 100u);
  for (size_t piece : {size_t{100}, size_t{2047}, size_t{2048}, size_t{8191}, size_t{32768}, size_t{65536},
                       size_t{1'000'000}, data.size()}) {
    EXPECT_EQ(chunk_streamed(chunker, data, [&](size_t) { return piece; }), expected) << "piece " << piece;
  }
}

TEST(DedupChunkerStreaming, ByteByByteGivesTheSameCuts) {
  const Chunker chunker({64, 256, 1024});
  const auto data = random_bytes(40'000, 22);
  EXPECT_EQ(chunk_streamed(chunker, data, [](size_t) { return size_t{1}; }), chunk_whole(chunker, data));
}

TEST(DedupChunkerStreaming, IrregularPiecesGiveTheSameCuts) {
  const Chunker chunker({1024, 4096, 16384});
  const auto data = random_bytes(2'000'000, 23);
  const auto expected = chunk_whole(chunker, data);
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    // Read sizes from 1 byte to 40 KiB, drawn from their own reproducible stream.
    const auto sizes = random_bytes(16 * 1024, seed);
    auto piece = [&](size_t read) {
      const size_t at = (2 * read) % (sizes.size() - 1);
      return size_t{1} + ((size_t{sizes[at]} << 8 | sizes[at + 1]) * 40'000 >> 16);
    };
    EXPECT_EQ(chunk_streamed(chunker, data, piece), expected) << "seed " << seed;
  }
}

TEST(DedupChunkerStreaming, StreamShorterThanMinIsOneChunk) {
  const Chunker chunker({1024, 4096, 16384});
  const auto data = random_bytes(1000, 24);
  const std::vector<size_t> expected{1000};
  EXPECT_EQ(chunk_streamed(chunker, data, [](size_t) { return size_t{300}; }), expected);
}

}  // namespace
}  // namespace sbx::dedup
