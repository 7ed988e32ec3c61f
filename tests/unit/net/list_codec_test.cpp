// The xattr and extent lists as the catalog stores them: no list is the empty string, lists round trip,
// and damaged bytes are one ProtocolError naming the kind of record.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "strongbox/net.hpp"

namespace sbx::net {
namespace {

std::string le32(uint32_t v) {
  std::string out;
  for (int shift = 0; shift < 32; shift += 8) out.push_back(char((v >> shift) & 0xff));
  return out;
}

std::vector<sdk::Xattr> sample_xattrs() {
  return {{"user.a", "1"},
          {"user.empty", ""},
          {std::string("user.\xff\n\0", 8), std::string("\0\0\xff", 3)},
          {"user.a", "duplicate names keep their order"}};
}

std::string encode(const std::vector<sdk::Xattr>& xattrs) {
  std::vector<sbx_xattr> views;
  for (const auto& x : xattrs) views.push_back({sdk::make_bytes(x.name), sdk::make_bytes(x.value)});
  return encode_xattrs(views.data(), views.size());
}

std::vector<sbx_extent> sample_extents() {
  return {
      {0, 1}, {4096, 65536}, {std::numeric_limits<uint64_t>::max(), std::numeric_limits<uint64_t>::max()}};
}

template <class Decode>
std::string decode_error(Decode decode, std::string_view bytes) {
  try {
    decode(bytes);
  } catch (const ProtocolError& e) {
    return e.what();
  }
  ADD_FAILURE() << "malformed " << bytes.size() << "-byte list decoded";
  return {};
}

TEST(XattrCodec, NoXattrsIsTheEmptyString) {
  EXPECT_EQ(encode_xattrs(nullptr, 0), "");
  EXPECT_TRUE(decode_xattrs("").empty());
  EXPECT_TRUE(decode_xattrs(le32(0)).empty());
}

TEST(XattrCodec, RoundTrip) {
  const auto want = sample_xattrs();
  EXPECT_EQ(decode_xattrs(encode(want)), want);
}

TEST(XattrCodec, EveryTruncationIsRefused) {
  const std::string bytes = encode(sample_xattrs());
  for (size_t cut = 1; cut < bytes.size(); ++cut) {  // 0 bytes is the valid empty list
    SCOPED_TRACE("cut to " + std::to_string(cut) + " of " + std::to_string(bytes.size()) + " bytes");
    EXPECT_EQ(decode_error(decode_xattrs, std::string_view(bytes).substr(0, cut)), "truncated xattr record");
  }
}

TEST(XattrCodec, TrailingBytesAreRefused) {
  EXPECT_EQ(decode_error(decode_xattrs, encode(sample_xattrs()) + 'x'), "xattr record has trailing bytes");
}

TEST(XattrCodec, HugeCountOrLengthWithLittleDataIsRefused) {
  EXPECT_EQ(decode_error(decode_xattrs, le32(0xffffffff)), "truncated xattr record");
  EXPECT_EQ(decode_error(decode_xattrs, le32(0xffffffff) + std::string(8000, '\0')),
            "truncated xattr record");
  EXPECT_EQ(decode_error(decode_xattrs, le32(1) + le32(0xffffffff) + "name"), "truncated xattr record");
}

TEST(ExtentCodec, NoExtentsIsTheEmptyString) {
  EXPECT_EQ(encode_extents(nullptr, 0), "");
  EXPECT_TRUE(decode_extents("").empty());
  EXPECT_TRUE(decode_extents(le32(0)).empty());
}

TEST(ExtentCodec, RoundTrip) {
  const auto want = sample_extents();
  const auto got = decode_extents(encode_extents(want.data(), want.size()));
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].offset, want[i].offset) << "extent " << i;
    EXPECT_EQ(got[i].length, want[i].length) << "extent " << i;
  }
}

TEST(ExtentCodec, EveryTruncationIsRefused) {
  const auto extents = sample_extents();
  const std::string bytes = encode_extents(extents.data(), extents.size());
  for (size_t cut = 1; cut < bytes.size(); ++cut) {
    SCOPED_TRACE("cut to " + std::to_string(cut) + " of " + std::to_string(bytes.size()) + " bytes");
    EXPECT_EQ(decode_error(decode_extents, std::string_view(bytes).substr(0, cut)),
              "truncated extent record");
  }
}

TEST(ExtentCodec, TrailingBytesAreRefused) {
  const auto extents = sample_extents();
  EXPECT_EQ(decode_error(decode_extents, encode_extents(extents.data(), extents.size()) + 'x'),
            "extent record has trailing bytes");
}

TEST(ExtentCodec, HugeCountWithLittleDataIsRefused) {
  EXPECT_EQ(decode_error(decode_extents, le32(0xffffffff)), "truncated extent record");
  EXPECT_EQ(decode_error(decode_extents, le32(0xffffffff) + std::string(16000, '\x01')),
            "truncated extent record");
}

}  // namespace
}  // namespace sbx::net
