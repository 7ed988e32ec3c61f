#include <gtest/gtest.h>

#include <limits>
#include <stdexcept>
#include <string>

#include "chunker.hpp"

namespace sbx::dedup {
namespace {

constexpr uint32_t kMiB = 1024 * 1024;

// Expects the params to be refused with a message that names the broken rule.
void expect_rejected(ChunkerParams params, const std::string& rule) {
  try {
    Chunker chunker(params);
    ADD_FAILURE() << "accepted min=" << params.min_size << " avg=" << params.avg_size
                  << " max=" << params.max_size;
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find(rule), std::string::npos) << error.what();
  }
}

TEST(DedupChunkerParams, AcceptsValidParamsAndKeepsThem) {
  const ChunkerParams params{64, 128, 129};
  const Chunker chunker(params);
  EXPECT_EQ(chunker.params().min_size, 64u);
  EXPECT_EQ(chunker.params().avg_size, 128u);
  EXPECT_EQ(chunker.params().max_size, 129u);
  EXPECT_NO_THROW(Chunker({16 * kMiB, 32 * kMiB, 64 * kMiB}));
}

TEST(DedupChunkerParams, DefaultsAreValidAndSensible) {
  const ChunkerParams params = default_chunker_params();
  EXPECT_NO_THROW(Chunker{params});
  EXPECT_LE(params.min_size, params.avg_size / 2);
  EXPECT_GE(params.max_size, params.avg_size * 2);
}

TEST(DedupChunkerParams, RejectsMinBelowTheHashWindow) {
  expect_rejected({0, 1024, 4096}, "min_size must be at least 64");
  expect_rejected({63, 1024, 4096}, "min_size must be at least 64");
}

TEST(DedupChunkerParams, RejectsSizesOutOfOrder) {
  expect_rejected({1024, 1024, 4096}, "min_size must be smaller than avg_size");
  expect_rejected({2048, 1024, 4096}, "min_size must be smaller than avg_size");
  expect_rejected({256, 1024, 1024}, "avg_size must be smaller than max_size");
  expect_rejected({256, 1024, 512}, "avg_size must be smaller than max_size");
}

TEST(DedupChunkerParams, RejectsAverageNotAPowerOfTwo) {
  expect_rejected({256, 1000, 4096}, "avg_size must be a power of two");
  expect_rejected({256, 1536, 4096}, "avg_size must be a power of two");
}

TEST(DedupChunkerParams, RejectsHugeSizes) {
  expect_rejected({1024, 32 * kMiB, 64 * kMiB + 1}, "max_size must be at most 64 MiB");
  const uint32_t top = std::numeric_limits<uint32_t>::max();
  expect_rejected({top - 2, top - 1, top}, "max_size must be at most 64 MiB");
  expect_rejected({64, 1u << 31, top}, "max_size must be at most 64 MiB");
}

TEST(DedupChunkerParams, MessageShowsTheValuesGiven) {
  try {
    Chunker chunker({100, 300, 1000});
    FAIL() << "accepted a non power of two average";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("min_size=100"), std::string::npos) << message;
    EXPECT_NE(message.find("avg_size=300"), std::string::npos) << message;
    EXPECT_NE(message.find("max_size=1000"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace sbx::dedup
