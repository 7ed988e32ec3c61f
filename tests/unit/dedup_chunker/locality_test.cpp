#include <set>
#include <utility>

#include "test_support.hpp"

namespace sbx::dedup {
namespace {

using testing::chunk_offsets;
using testing::chunk_whole;
using testing::random_bytes;

using Span = std::pair<size_t, size_t>;  // start, length

// Chunks of `edited` that are not a chunk of `original`, where edited = original with original[at, at +
// removed) replaced by `inserted` bytes. Chunks after the edit are compared at their position in original.
size_t new_chunks(const Chunker& chunker, const std::vector<uint8_t>& original,
                  const std::vector<uint8_t>& edited, size_t at, size_t removed, size_t inserted) {
  std::set<Span> before;
  const auto original_lengths = chunk_whole(chunker, original);
  const auto original_offsets = chunk_offsets(original_lengths);
  for (size_t i = 0; i < original_lengths.size(); ++i)
    before.insert({original_offsets[i], original_lengths[i]});

  const auto lengths = chunk_whole(chunker, edited);
  const auto offsets = chunk_offsets(lengths);
  size_t fresh = 0;
  for (size_t i = 0; i < lengths.size(); ++i) {
    const size_t start = offsets[i];
    const size_t end = start + lengths[i];
    bool kept = false;
    if (end <= at) kept = before.count({start, lengths[i]}) > 0;
    if (start >= at + inserted) kept = before.count({start - inserted + removed, lengths[i]}) > 0;
    if (!kept) ++fresh;
  }
  return fresh;
}

// When an edit lands in the 64-byte window before a cut, that cut is lost and the next chunk starts
// elsewhere; cuts that the old start skipped (below min, or missed by the stricter mask) can then hit, so a
// few chunks pass before the cut sequences meet again. On random data it is about one new chunk per edit on
// average and rarely more than 6.
constexpr size_t kWorstResync = 8;

class DedupChunkerLocality : public ::testing::Test {
 protected:
  const Chunker chunker_{{1024, 4096, 16384}};
  const std::vector<uint8_t> original_ = random_bytes(8 << 20, 31);  // about 1800 chunks
};

TEST_F(DedupChunkerLocality, InsertionNearTheStartOnlyChangesChunksNearIt) {
  for (size_t inserted : {size_t{1}, size_t{7}, size_t{100}, size_t{10'000}}) {
    auto edited = original_;
    const auto extra = random_bytes(inserted, 99);
    edited.insert(edited.begin() + 5000, extra.begin(), extra.end());
    EXPECT_LE(new_chunks(chunker_, original_, edited, 5000, 0, inserted), kWorstResync + inserted / 1024)
        << inserted << " bytes inserted";
  }
}

TEST_F(DedupChunkerLocality, InsertionAtTheVeryStartResynchronizes) {
  auto edited = original_;
  edited.insert(edited.begin(), 1, uint8_t{0x5a});
  EXPECT_LE(new_chunks(chunker_, original_, edited, 0, 0, 1), kWorstResync);
}

TEST_F(DedupChunkerLocality, DeletionOnlyChangesChunksNearIt) {
  for (size_t removed : {size_t{1}, size_t{500}, size_t{20'000}}) {
    auto edited = original_;
    edited.erase(edited.begin() + 3'000'000, edited.begin() + 3'000'000 + removed);
    EXPECT_LE(new_chunks(chunker_, original_, edited, 3'000'000, removed, 0), kWorstResync)
        << removed << " removed";
  }
}

TEST_F(DedupChunkerLocality, OverwriteInTheMiddleOnlyChangesChunksNearIt) {
  auto edited = original_;
  for (size_t i = 4'000'000; i < 4'000'016; ++i) edited[i] ^= 0xa5;
  EXPECT_LE(new_chunks(chunker_, original_, edited, 4'000'000, 16, 16), kWorstResync);
}

TEST_F(DedupChunkerLocality, MostLaterBoundariesSurviveAnInsertion) {
  auto edited = original_;
  const auto extra = random_bytes(333, 98);
  edited.insert(edited.begin() + 2000, extra.begin(), extra.end());
  const auto original_lengths = chunk_whole(chunker_, original_);
  const auto original_offsets = chunk_offsets(original_lengths);
  const auto lengths = chunk_whole(chunker_, edited);
  std::set<size_t> shifted_back;
  for (size_t offset : chunk_offsets(lengths)) {
    if (offset >= 2000 + extra.size()) shifted_back.insert(offset - extra.size());
  }
  size_t survived = 0;
  for (size_t offset : original_offsets) survived += shifted_back.count(offset);
  EXPECT_GE(survived + kWorstResync, original_offsets.size());
}

TEST_F(DedupChunkerLocality, OneByteEditsCostAboutOneChunkOnAverage) {
  const auto positions = random_bytes(3 * 40, 77);
  size_t total = 0;
  for (size_t edit = 0; edit < 40; ++edit) {
    const size_t at = 1000 + (size_t{positions[3 * edit]} << 16 | size_t{positions[3 * edit + 1]} << 8 |
                              positions[3 * edit + 2]) %
                                 (original_.size() - 2000);
    auto edited = original_;
    edited.erase(edited.begin() + at);
    total += new_chunks(chunker_, original_, edited, at, 1, 0);
  }
  EXPECT_LE(total, 40u * 2) << "mean new chunks per edit: " << total / 40.0;
}

}  // namespace
}  // namespace sbx::dedup
