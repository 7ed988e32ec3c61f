// Messages on transport byte streams: [u32 LE length of type+payload][u8 type][payload].
#pragma once

#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <strongbox/plugins.hpp>
#include <strongbox/sdk/entry.hpp>

namespace sbx::net {

class ProtocolError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class FrameType : uint8_t {
  hello = 1,      // JSON: {"protocol":"strongbox","version":1,"role":"..."}
  entry = 2,      // encoded entry (encode_entry)
  data = 3,       // raw bytes of the current entry
  entry_end = 4,  // backup: 32-byte SHA-256 of the entry's data; restore: empty
  deleted = 5,    // raw path bytes of an entry gone since the base set
  warning = 6,    // JSON: {"path": base64, "message": "..."}
  done = 7,       // JSON: summary
  error = 8,      // JSON: {"message": "..."}
  // Optimized duplication between dedup devices of one domain (jobs/chunk_copier.cpp):
  set_offer = 9,  // name length (4, LE), set name, the set's stored manifest; answered by chunk_missing
  chunk_missing =
      10,            // ids (32 bytes each) of chunks the receiver lacks, in order; an empty one ends the list
  chunk = 11,        // the next missing chunk, as stored (its id is the next one of the list)
  chunk_flush = 12,  // make received chunks durable; answered by chunk_ack
  chunk_ack = 13,    // JSON: {"received": N} chunks received since the previous ack
  set_commit = 14,   // every missing chunk was sent: commit the offered set; answered by done
};

constexpr uint32_t kProtocolVersion = 1;
// Frames above this are refused: a hostile or corrupt peer must not make us allocate without bound.
constexpr size_t kMaxFrameBytes = 16u << 20;

struct Frame {
  FrameType type{};
  std::string payload;
};

// Buffers small frames and sends them in large writes; flush() before waiting for a reply.
class FrameWriter {
 public:
  explicit FrameWriter(plugins::Connection& connection, size_t buffer_bytes = 1u << 20);
  void write(FrameType type, std::string_view payload);
  void flush();
  // Flushes, then ends this side's sending.
  void finish();

 private:
  plugins::Connection& connection_;
  size_t buffer_bytes_;
  std::string buffer_;
};

// A frame whose payload points into the reader's buffer: valid until the reader's next read. Saves a copy of
// every data frame where the bytes are consumed at once (a backup's or a restore's data).
struct FrameView {
  FrameType type{};
  std::string_view payload;
};

class FrameReader {
 public:
  explicit FrameReader(plugins::Connection& connection, int32_t timeout_ms = -1);
  // false at a clean end of stream between frames; ProtocolError on a malformed or truncated frame.
  bool read(Frame& frame);
  bool read(FrameView& frame);

 private:
  bool next(FrameType& type, std::string_view& payload);
  bool fill(size_t needed);
  plugins::Connection& connection_;
  int32_t timeout_ms_;
  // Not a std::string: growing one writes zeros over every byte that recv is about to overwrite.
  std::unique_ptr<char[]> buffer_;
  size_t capacity_ = 0;
  size_t start_ = 0;  // first unread byte
  size_t end_ = 0;    // end of what was received
};

// Entries travel, and xattr/extent lists are stored in the catalog, in this compact binary form.
std::string encode_entry(const sbx_entry& entry);
void decode_entry(std::string_view bytes, sdk::Entry& out);  // ProtocolError on malformed input
std::string encode_xattrs(const sbx_xattr* xattrs, size_t count);
std::vector<sdk::Xattr> decode_xattrs(std::string_view bytes);
std::string encode_extents(const sbx_extent* extents, size_t count);
std::vector<sbx_extent> decode_extents(std::string_view bytes);

void send_json(FrameWriter& writer, FrameType type, const nlohmann::json& body);
nlohmann::json parse_json(std::string_view payload);
inline nlohmann::json parse_json(const Frame& frame) {
  return parse_json(frame.payload);
}
inline nlohmann::json parse_json(const FrameView& frame) {
  return parse_json(frame.payload);
}

}  // namespace sbx::net
