#include "chunker.hpp"

#include <bit>
#include <stdexcept>
#include <string>

namespace sbx::dedup {
namespace {

// The gear hash shifts left once per byte, so after 64 bytes a byte has left the 64-bit state entirely: the
// hash at a position is a function of the 64 bytes ending there and nothing older.
constexpr size_t kWindow = 64;
constexpr uint32_t kMinOfMin = kWindow;  // so the window before the first possible cut lies inside the chunk
constexpr uint32_t kMaxOfMax = uint32_t{64} << 20;

// Normalization level 2 of the FastCDC paper: before avg a cut needs 2 more matching bits than log2(avg),
// after it 2 fewer. That narrows the spread of chunk sizes around avg, and its mean lands near avg when
// min is about avg/4 (about 1.14 * avg on random data).
constexpr int kNormalizationBits = 2;

constexpr uint64_t splitmix64_next(uint64_t& state) {
  state += 0x9e3779b97f4a7c15;
  uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
  z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
  return z ^ (z >> 31);
}

// Frozen forever: changing the seed or the generator moves every cut point of every stored backup.
constexpr std::array<uint64_t, 256> make_gear_table() {
  std::array<uint64_t, 256> table{};
  uint64_t state = kGearSeed;
  for (auto& value : table) value = splitmix64_next(state);
  return table;
}

constexpr std::array<uint64_t, 256> kGear = make_gear_table();

// The mask takes the top bits: in a shift-left hash those depend on the most bytes (bit k on the last k+1),
// while the low bits would only see the last few bytes and cut on short repeated patterns.
constexpr uint64_t top_bits_mask(int bits) {
  return ~uint64_t{0} << (64 - bits);
}

std::string describe(const ChunkerParams& p) {
  return "min_size=" + std::to_string(p.min_size) + " avg_size=" + std::to_string(p.avg_size) +
         " max_size=" + std::to_string(p.max_size);
}

void validate(const ChunkerParams& p) {
  auto reject = [&](const std::string& why) {
    throw std::invalid_argument("invalid chunker parameters (" + describe(p) + "): " + why);
  };
  if (p.min_size < kMinOfMin) reject("min_size must be at least " + std::to_string(kMinOfMin) + " bytes");
  if (p.max_size > kMaxOfMax) reject("max_size must be at most 64 MiB");
  if (!(p.min_size < p.avg_size)) reject("min_size must be smaller than avg_size");
  if (!(p.avg_size < p.max_size)) reject("avg_size must be smaller than max_size");
  if (!std::has_single_bit(p.avg_size)) reject("avg_size must be a power of two");
}

// Feeds data[from..to) into the hash without looking for a cut.
inline void warm_up(const uint8_t* data, size_t from, size_t to, uint64_t& hash) {
  for (size_t i = from; i < to; ++i) hash = (hash << 1) + kGear[data[i]];
}

// Feeds data[from..to) into the hash and returns the index of the first byte after which the hash has all
// mask bits clear, or `to`. Kept to one load, shift, add and test per byte: this loop is the chunker's cost.
inline size_t scan(const uint8_t* data, size_t from, size_t to, uint64_t& hash, uint64_t mask) {
  uint64_t h = hash;
  for (size_t i = from; i < to; ++i) {
    h = (h << 1) + kGear[data[i]];
    if ((h & mask) == 0) {
      hash = h;
      return i;
    }
  }
  hash = h;
  return to;
}

}  // namespace

ChunkerParams default_chunker_params() {
  return {64 * 1024, 256 * 1024, 1024 * 1024};
}

const std::array<uint64_t, 256>& gear_table() {
  return kGear;
}

Chunker::Chunker(ChunkerParams params) : params_(params) {
  validate(params_);
  const int avg_bits = std::countr_zero(params_.avg_size);
  strict_mask_ = top_bits_mask(avg_bits + kNormalizationBits);
  loose_mask_ = top_bits_mask(avg_bits - kNormalizationBits);
}

size_t Chunker::next_cut(const uint8_t* data, size_t len, bool at_end) const {
  const size_t min_size = params_.min_size;
  const size_t avg_size = params_.avg_size;
  const size_t max_size = params_.max_size;
  const size_t limit = len < max_size ? len : max_size;
  if (limit < min_size) return at_end ? len : 0;

  // Cut-point skipping: nothing before min_size is hashed except the window that decides a cut at min_size,
  // so the first candidate sees a full window just like every later one.
  uint64_t hash = 0;
  const size_t first_candidate = min_size - 1;  // a match after byte i gives a chunk of i + 1 bytes
  warm_up(data, first_candidate + 1 - kWindow, first_candidate, hash);
  const size_t strict_end = limit < avg_size - 1 ? limit : avg_size - 1;
  size_t cut = scan(data, first_candidate, strict_end, hash, strict_mask_);
  if (cut == strict_end) cut = scan(data, strict_end, limit, hash, loose_mask_);
  if (cut < limit) return cut + 1;

  if (limit == max_size) return max_size;
  return at_end ? len : 0;
}

}  // namespace sbx::dedup
