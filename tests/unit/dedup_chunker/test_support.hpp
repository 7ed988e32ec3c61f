// Helpers shared by the chunker tests: reproducible pseudo-random bytes and the two ways a caller chunks.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <vector>

#include "chunker.hpp"

namespace sbx::dedup::testing {

// Our own generator rather than a <random> engine, so golden cut points never depend on a standard library.
inline std::vector<uint8_t> random_bytes(size_t size, uint64_t seed) {
  std::vector<uint8_t> bytes(size);
  uint64_t state = seed;
  for (size_t i = 0; i < size; i += 8) {
    state += 0x9e3779b97f4a7c15;
    uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9;
    z = (z ^ (z >> 27)) * 0x94d049bb133111eb;
    z ^= z >> 31;
    for (size_t b = 0; b < 8 && i + b < size; ++b) bytes[i + b] = static_cast<uint8_t>(z >> (8 * b));
  }
  return bytes;
}

// Chunk lengths of a buffer held whole in memory.
inline std::vector<size_t> chunk_whole(const Chunker& chunker, const std::vector<uint8_t>& data) {
  std::vector<size_t> lengths;
  size_t offset = 0;
  while (offset < data.size()) {
    const size_t cut = chunker.next_cut(data.data() + offset, data.size() - offset, true);
    if (cut == 0 || cut > data.size() - offset) {
      ADD_FAILURE() << "next_cut returned " << cut << " at offset " << offset << " with at_end";
      break;
    }
    lengths.push_back(cut);
    offset += cut;
  }
  return lengths;
}

// Chunk lengths of the same bytes arriving in pieces, the way the dedup device reads a file: the caller keeps
// the unchunked tail in a buffer and asks again after every read. next_piece(i) says how many bytes read i
// delivers (at least 1).
inline std::vector<size_t> chunk_streamed(const Chunker& chunker, const std::vector<uint8_t>& data,
                                          const std::function<size_t(size_t)>& next_piece) {
  std::vector<size_t> lengths;
  std::vector<uint8_t> buffer;
  size_t consumed = 0;  // bytes of data already appended to buffer
  for (size_t read = 0; consumed < data.size() || !buffer.empty(); ++read) {
    const size_t piece = std::min(next_piece(read), data.size() - consumed);
    buffer.insert(buffer.end(), data.begin() + consumed, data.begin() + consumed + piece);
    consumed += piece;
    const bool at_end = consumed == data.size();
    size_t start = 0;
    while (start < buffer.size()) {
      const size_t cut = chunker.next_cut(buffer.data() + start, buffer.size() - start, at_end);
      if (cut == 0) break;
      lengths.push_back(cut);
      start += cut;
    }
    buffer.erase(buffer.begin(), buffer.begin() + start);
    if (at_end && !buffer.empty()) {
      ADD_FAILURE() << "at_end left " << buffer.size() << " bytes unchunked";
      break;
    }
  }
  return lengths;
}

// Start offsets of chunks, for comparing where cuts fall.
inline std::vector<size_t> chunk_offsets(const std::vector<size_t>& lengths) {
  std::vector<size_t> offsets;
  size_t offset = 0;
  for (size_t length : lengths) {
    offsets.push_back(offset);
    offset += length;
  }
  return offsets;
}

}  // namespace sbx::dedup::testing
