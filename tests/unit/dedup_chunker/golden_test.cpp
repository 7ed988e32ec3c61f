// Cut points are part of the dedup device's disk format: if these values change, every existing store stops
// deduplicating against new backups. Change them only together with a format version bump.
#include "test_support.hpp"

namespace sbx::dedup {
namespace {

using testing::chunk_whole;
using testing::random_bytes;

TEST(DedupChunkerGolden, GearTableIsSplitmix64OfTheDocumentedSeed) {
  EXPECT_EQ(kGearSeed, 0x7362786765617231u);
  const auto& gear = gear_table();
  EXPECT_EQ(gear[0], 0x824d94262bcec9b3u);
  EXPECT_EQ(gear[1], 0xe08e7ce4a148c450u);
  EXPECT_EQ(gear[127], 0xb98aee507aa58ad2u);
  EXPECT_EQ(gear[255], 0xde7589c10f3a4963u);
}

// These cut points were also reproduced by an independent re-statement of the rules (a short Python script),
// so they check the rules as documented, not merely this code's past output.
TEST(DedupChunkerGolden, SmallParamsCutPoints) {
  const Chunker chunker({256, 1024, 4096});
  const std::vector<size_t> expected{1265, 1203, 1087, 1076, 1142, 1056, 1363, 1290, 1347, 1408, 1319,
                                     1952, 1078, 1146, 1181, 1046, 1625, 358,  1172, 1638, 1027, 1553,
                                     1230, 1035, 1158, 1161, 1284, 1345, 1096, 569,  851,  1218, 1721};
  EXPECT_EQ(chunk_whole(chunker, random_bytes(40'000, 0x676f6c64656e)), expected);
}

TEST(DedupChunkerGolden, DefaultParamsCutPoints) {
  const ChunkerParams params = default_chunker_params();
  EXPECT_EQ(params.min_size, 64u * 1024);
  EXPECT_EQ(params.avg_size, 256u * 1024);
  EXPECT_EQ(params.max_size, 1024u * 1024);
  const Chunker chunker(params);
  const std::vector<size_t> expected{151896, 267304, 213417, 290090, 297983, 306551, 285397, 81634,
                                     277186, 475709, 272415, 313064, 118747, 73719,  332576, 84760,
                                     166070, 351047, 302469, 311597, 104037, 438368, 331087, 380485,
                                     294944, 213792, 299000, 313081, 382626, 288537, 367969, 1051};
  EXPECT_EQ(chunk_whole(chunker, random_bytes(8 << 20, 0x676f6c64656e)), expected);
}

}  // namespace
}  // namespace sbx::dedup
