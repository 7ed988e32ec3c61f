#include <numeric>

#include "test_support.hpp"

namespace sbx::dedup {
namespace {

using testing::chunk_whole;
using testing::random_bytes;

// Every chunk but the last lies in [min, max]; the last in [1, max]; together they cover the input.
void expect_bounded(const Chunker& chunker, const std::vector<uint8_t>& data) {
  const auto lengths = chunk_whole(chunker, data);
  ASSERT_FALSE(lengths.empty());
  EXPECT_EQ(std::accumulate(lengths.begin(), lengths.end(), size_t{0}), data.size());
  for (size_t i = 0; i + 1 < lengths.size(); ++i) {
    EXPECT_GE(lengths[i], chunker.params().min_size) << "chunk " << i;
    EXPECT_LE(lengths[i], chunker.params().max_size) << "chunk " << i;
  }
  EXPECT_GE(lengths.back(), 1u);
  EXPECT_LE(lengths.back(), chunker.params().max_size);
}

TEST(DedupChunkerBoundaries, RandomDataStaysWithinBounds) {
  for (const ChunkerParams params : {ChunkerParams{64, 128, 256}, ChunkerParams{256, 1024, 4096},
                                     ChunkerParams{2048, 8192, 65536}, ChunkerParams{1000, 4096, 5000}}) {
    const Chunker chunker(params);
    expect_bounded(chunker, random_bytes(3'000'017, params.avg_size));
  }
}

TEST(DedupChunkerBoundaries, UniformDataCutsEvenly) {
  // A run of one byte value gives one hash value once the window is full, so every chunk ends at the same
  // place (min, avg or, most likely, max) and the chunker must neither loop nor overrun.
  const Chunker chunker({256, 1024, 4096});
  for (uint8_t value : {uint8_t{0}, uint8_t{0xff}, uint8_t{'a'}}) {
    const std::vector<uint8_t> data(100'000, value);
    const auto lengths = chunk_whole(chunker, data);
    expect_bounded(chunker, data);
    for (size_t i = 1; i + 1 < lengths.size(); ++i) {
      EXPECT_EQ(lengths[i], lengths[0]) << "value " << int(value) << " chunk " << i;
    }
  }
}

TEST(DedupChunkerBoundaries, ShortInputIsOneChunkAtEnd) {
  const Chunker chunker({256, 1024, 4096});
  const auto data = random_bytes(4096, 7);
  for (size_t len : {size_t{1}, size_t{63}, size_t{64}, size_t{255}, size_t{256}}) {
    EXPECT_EQ(chunker.next_cut(data.data(), len, true), len) << len;
  }
  EXPECT_EQ(chunker.next_cut(data.data(), 0, true), 0u);
  EXPECT_EQ(chunker.next_cut(nullptr, 0, false), 0u);
}

TEST(DedupChunkerBoundaries, AsksForMoreOnlyBelowMax) {
  const Chunker chunker({256, 1024, 4096});
  const auto data = random_bytes(1 << 20, 11);
  for (size_t len = 0; len <= 8192; len += 97) {
    const size_t cut = chunker.next_cut(data.data(), len, false);
    EXPECT_LE(cut, len);
    EXPECT_LE(cut, 4096u);
    if (cut == 0) {
      EXPECT_LT(len, 4096u);
    } else {
      EXPECT_GE(cut, 256u);
    }
    const size_t last = chunker.next_cut(data.data(), len, true);
    if (len > 0) {
      EXPECT_GT(last, 0u);
    }
    EXPECT_LE(last, std::min<size_t>(len, 4096));
    if (cut != 0) {
      EXPECT_EQ(last, cut) << "at_end changed a cut that was already found at len " << len;
    }
  }
}

TEST(DedupChunkerBoundaries, SameInputSameCutsEveryTime) {
  const auto data = random_bytes(2'000'000, 3);
  const Chunker first({512, 2048, 8192});
  const Chunker second({512, 2048, 8192});
  const auto expected = chunk_whole(first, data);
  EXPECT_EQ(chunk_whole(first, data), expected);
  EXPECT_EQ(chunk_whole(second, data), expected);
}

TEST(DedupChunkerBoundaries, CutDependsOnlyOnBytesFromTheChunkStart) {
  // Bytes after the cut and before data[0] must not matter: the chunker reads nothing outside the chunk.
  const Chunker chunker({256, 1024, 4096});
  auto data = random_bytes(16384, 5);
  const size_t cut = chunker.next_cut(data.data(), data.size(), true);
  ASSERT_LT(cut, 4096u);
  for (size_t i = cut; i < data.size(); ++i) data[i] = static_cast<uint8_t>(~data[i]);
  EXPECT_EQ(chunker.next_cut(data.data(), data.size(), true), cut);
  EXPECT_EQ(chunker.next_cut(data.data(), cut, false), cut);
}

}  // namespace
}  // namespace sbx::dedup
