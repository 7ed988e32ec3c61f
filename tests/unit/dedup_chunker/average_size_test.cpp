#include <numeric>

#include "test_support.hpp"

namespace sbx::dedup {
namespace {

using testing::chunk_whole;
using testing::random_bytes;

// On random bytes the mean chunk size should land within 25% of avg_size when min is about avg/4 and max
// about 4 * avg (normalized chunking puts it near 1.14 * avg).
void expect_mean_near_avg(const ChunkerParams& params, size_t bytes) {
  const Chunker chunker(params);
  const auto data = random_bytes(bytes, params.avg_size ^ 0x1234);
  auto lengths = chunk_whole(chunker, data);
  lengths.pop_back();  // the last chunk is cut by the end of the input, not by the content
  ASSERT_GE(lengths.size(), 200u) << "too few chunks to judge the mean";
  const double mean =
      static_cast<double>(std::accumulate(lengths.begin(), lengths.end(), size_t{0})) / lengths.size();
  EXPECT_GT(mean, 0.75 * params.avg_size) << "mean " << mean;
  EXPECT_LT(mean, 1.25 * params.avg_size) << "mean " << mean;
}

TEST(DedupChunkerAverageSize, SmallChunks) {
  expect_mean_near_avg({64, 256, 1024}, 1 << 20);
}

TEST(DedupChunkerAverageSize, MediumChunks) {
  expect_mean_near_avg({2048, 8192, 32768}, 16 << 20);
}

TEST(DedupChunkerAverageSize, LargeChunks) {
  expect_mean_near_avg({65536, 262144, 1048576}, 64 << 20);
}

TEST(DedupChunkerAverageSize, FewChunksRunToMax) {
  const Chunker chunker({2048, 8192, 32768});
  const auto data = random_bytes(32 << 20, 41);
  const auto lengths = chunk_whole(chunker, data);
  size_t at_max = 0;
  for (size_t length : lengths) at_max += length == 32768;
  // The loose mask after avg makes reaching max (24 KiB of misses at 1/2048) a ~1e-5 event per chunk.
  EXPECT_LE(at_max, lengths.size() / 1000 + 1);
}

}  // namespace
}  // namespace sbx::dedup
