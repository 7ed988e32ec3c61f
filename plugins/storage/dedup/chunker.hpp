// Content-defined chunking for the dedup device (FastCDC style: gear rolling hash, normalized chunking).
//
// Where a cut falls depends only on the bytes around it and on the distance from the chunk's start, so
// inserting or deleting bytes in a file moves the cuts near the edit and leaves later chunks identical, which
// is what lets them dedup. Chunk boundaries are part of the on-disk format: the same bytes must cut in the
// same places in every release, or a new backup would re-store everything once. The gear table and the
// mask rules below are therefore frozen; the unit tests pin them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace sbx::dedup {

struct ChunkerParams {
  uint32_t min_size;  // no cut before this many bytes (except for the last chunk of a stream)
  uint32_t avg_size;  // a power of two; the mean chunk size lands near it when min_size is about avg/4
  uint32_t max_size;  // a cut is forced here whatever the content
};

// The parameters the dedup device uses unless configured otherwise (picked by bench/chunker).
ChunkerParams default_chunker_params();

// The 256 gear values: splitmix64 seeded with kGearSeed, one output per byte value in order.
inline constexpr uint64_t kGearSeed = 0x7362786765617231;  // "sbxgear1" in ASCII, big-endian
const std::array<uint64_t, 256>& gear_table();

class Chunker {
 public:
  // Throws std::invalid_argument unless 64 <= min < avg < max <= 64 MiB and avg is a power of two.
  explicit Chunker(ChunkerParams params);
  const ChunkerParams& params() const { return params_; }

  // Length of the chunk that starts at data[0]: a cut point in data[0..len). Returns 0 when no cut point was
  // found and more data may follow (only possible when len < max_size and !at_end): the caller then appends
  // more bytes after the same chunk start and asks again. When at_end, never returns 0 for len > 0 (the rest
  // is the last chunk). Never returns more than max_size or len. The answer depends only on data, never on
  // how a stream was split into reads, as long as a caller asks again with at least as many bytes.
  size_t next_cut(const uint8_t* data, size_t len, bool at_end) const;

 private:
  ChunkerParams params_;
  uint64_t strict_mask_;  // before avg_size: cuts are rarer, so few chunks end up much shorter than avg
  uint64_t loose_mask_;   // from avg_size on: cuts are likelier, so few chunks run on to max_size
};

}  // namespace sbx::dedup
