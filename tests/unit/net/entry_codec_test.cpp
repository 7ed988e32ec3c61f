// The entry record: every field survives a round trip, raw path bytes included, and every malformed record
// (cut short, padded, wrong version or type, no path, absurd counts) is one ProtocolError.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

#include "strongbox/net.hpp"

namespace sbx::net {
namespace {

using sdk::Entry;

std::string le32(uint32_t v) {
  std::string out;
  for (int shift = 0; shift < 32; shift += 8) out.push_back(char((v >> shift) & 0xff));
  return out;
}

// Every field set, each to a value no other field has, so a swapped or skipped field shows.
Entry full_entry() {
  Entry e;
  e.type = SBX_ENTRY_SYMLINK;
  e.path = std::string("dir with space/new\nline/\xff\xfe-not-utf8/\0nul", 40);
  e.link_target = std::string("../target\n\xff", 12);
  e.size = 0x0102030405060708ull;
  e.mode = 04755;
  e.uid = 1001;
  e.gid = 0xfffffffe;
  e.user_name = "alice";
  e.group_name =
      "st\xc3\xa4"
      "ff";
  e.mtime_ns = -1234567890123456789ll;  // before 1970 is legal
  e.ctime_ns = std::numeric_limits<int64_t>::max();
  e.atime_ns = std::numeric_limits<int64_t>::min();
  e.device = 0xfd01;
  e.inode = std::numeric_limits<uint64_t>::max();
  e.nlink = 3;
  e.rdev = 0x0803;
  e.xattrs = {{"user.comment", "hello"},
              {"user.empty", ""},
              {std::string("user.bin\0ary", 12), std::string("\0\xff\n\r", 4)},
              {"security.selinux", std::string(65536, 'v')}};
  e.extents = {{0, 4096}, {1u << 20, 8192}, {std::numeric_limits<uint64_t>::max() - 1, 1}};
  return e;
}

void expect_same(const Entry& got, const Entry& want) {
  EXPECT_EQ(got.type, want.type);
  EXPECT_EQ(got.path, want.path);
  EXPECT_EQ(got.link_target, want.link_target);
  EXPECT_EQ(got.size, want.size);
  EXPECT_EQ(got.mode, want.mode);
  EXPECT_EQ(got.uid, want.uid);
  EXPECT_EQ(got.gid, want.gid);
  EXPECT_EQ(got.user_name, want.user_name);
  EXPECT_EQ(got.group_name, want.group_name);
  EXPECT_EQ(got.mtime_ns, want.mtime_ns);
  EXPECT_EQ(got.ctime_ns, want.ctime_ns);
  EXPECT_EQ(got.atime_ns, want.atime_ns);
  EXPECT_EQ(got.device, want.device);
  EXPECT_EQ(got.inode, want.inode);
  EXPECT_EQ(got.nlink, want.nlink);
  EXPECT_EQ(got.rdev, want.rdev);
  EXPECT_EQ(got.xattrs, want.xattrs);
  ASSERT_EQ(got.extents.size(), want.extents.size());
  for (size_t i = 0; i < want.extents.size(); ++i) {
    EXPECT_EQ(got.extents[i].offset, want.extents[i].offset) << "extent " << i;
    EXPECT_EQ(got.extents[i].length, want.extents[i].length) << "extent " << i;
  }
}

std::string decode_error(std::string_view record) {
  Entry out;
  try {
    decode_entry(record, out);
  } catch (const ProtocolError& e) {
    return e.what();
  }
  ADD_FAILURE() << "a malformed " << record.size() << "-byte record decoded";
  return {};
}

// A record with path "p" and nothing else, ending in its xattr count and extent count (both 0).
std::string minimal_record() {
  Entry e;
  e.path = "p";
  return encode_entry(e.as_c());
}

TEST(EntryCodec, EveryFieldRoundTrips) {
  const Entry want = full_entry();
  Entry got;
  decode_entry(encode_entry(want.as_c()), got);
  expect_same(got, want);
}

TEST(EntryCodec, EveryTypeRoundTrips) {
  for (uint32_t type = SBX_ENTRY_FILE; type <= SBX_ENTRY_BLOCK_DEVICE; ++type) {
    Entry want;
    want.type = type;
    want.path = "x";
    Entry got;
    decode_entry(encode_entry(want.as_c()), got);
    expect_same(got, want);
  }
}

TEST(EntryCodec, DecodingReplacesWhatTheOutputHeld) {
  Entry got = full_entry();
  Entry want;
  want.path = "only/this";
  decode_entry(encode_entry(want.as_c()), got);
  expect_same(got, want);
}

TEST(EntryCodec, EveryTruncationIsRefused) {
  const std::string record = encode_entry(full_entry().as_c());
  for (size_t cut = 0; cut < record.size(); ++cut) {
    SCOPED_TRACE("record cut to " + std::to_string(cut) + " of " + std::to_string(record.size()) + " bytes");
    EXPECT_EQ(decode_error(std::string_view(record).substr(0, cut)), "truncated entry record");
  }
}

TEST(EntryCodec, TrailingBytesAreRefused) {
  const std::string record = encode_entry(full_entry().as_c());
  EXPECT_EQ(decode_error(record + '\0'), "entry record has trailing bytes");
  EXPECT_EQ(decode_error(record + record), "entry record has trailing bytes");
}

TEST(EntryCodec, WrongVersionIsRefused) {
  std::string record = minimal_record();
  for (int version : {0, 2, 255}) {
    record[0] = char(version);
    EXPECT_EQ(decode_error(record), "entry record version " + std::to_string(version) + " is unknown");
  }
}

TEST(EntryCodec, UnknownTypeIsRefused) {
  const std::string record = minimal_record();
  for (uint32_t type : {0u, 8u, 0x100u, 0xffffffffu}) {
    const std::string bad = record.substr(0, 1) + le32(type) + record.substr(5);
    EXPECT_EQ(decode_error(bad), "entry record has unknown type " + std::to_string(type));
  }
}

TEST(EntryCodec, EmptyPathIsRefused) {
  Entry e = full_entry();
  e.path.clear();
  EXPECT_EQ(decode_error(encode_entry(e.as_c())), "entry record has an empty path");
}

TEST(EntryCodec, HugeByteLengthWithLittleDataIsRefused) {
  const std::string record = minimal_record();
  // The path length sits after the version byte and the type.
  const std::string bad = record.substr(0, 5) + le32(0xffffffff) + record.substr(9);
  EXPECT_EQ(decode_error(bad), "truncated entry record");
}

TEST(EntryCodec, HugeXattrCountWithLittleDataIsRefused) {
  const std::string head = minimal_record().substr(0, minimal_record().size() - 8);
  // Nothing after the count, and then the smallest xattrs there are (two empty strings), a thousand of them:
  // a decoder that sized its output by the claimed count would ask for ~256 GiB before noticing.
  EXPECT_EQ(decode_error(head + le32(0xffffffff)), "truncated entry record");
  EXPECT_EQ(decode_error(head + le32(0xffffffff) + std::string(8000, '\0')), "truncated entry record");
}

TEST(EntryCodec, HugeExtentCountWithLittleDataIsRefused) {
  const std::string head = minimal_record().substr(0, minimal_record().size() - 4);
  EXPECT_EQ(decode_error(head + le32(0xffffffff)), "truncated entry record");
  EXPECT_EQ(decode_error(head + le32(0xffffffff) + std::string(16000, '\x01')), "truncated entry record");
}

}  // namespace
}  // namespace sbx::net
