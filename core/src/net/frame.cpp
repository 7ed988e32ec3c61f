#include <algorithm>
#include <cstring>
#include <strongbox/net.hpp>

namespace sbx::net {
namespace {

void put_u32(std::string& out, uint32_t v) {
  char b[4] = {char(v & 0xff), char((v >> 8) & 0xff), char((v >> 16) & 0xff), char((v >> 24) & 0xff)};
  out.append(b, 4);
}

uint32_t get_u32(const char* p) {
  const auto* u = reinterpret_cast<const unsigned char*>(p);
  return uint32_t(u[0]) | uint32_t(u[1]) << 8 | uint32_t(u[2]) << 16 | uint32_t(u[3]) << 24;
}

}  // namespace

FrameWriter::FrameWriter(plugins::Connection& connection, size_t buffer_bytes)
    : connection_(connection), buffer_bytes_(buffer_bytes) {
  buffer_.reserve(buffer_bytes_ + 64);
}

void FrameWriter::write(FrameType type, std::string_view payload) {
  if (payload.size() + 1 > kMaxFrameBytes)
    throw ProtocolError("frame of " + std::to_string(payload.size()) + " bytes is too large");
  // Large payloads go straight out after the buffered header, avoiding a copy into the buffer.
  put_u32(buffer_, uint32_t(payload.size() + 1));
  buffer_.push_back(char(type));
  if (payload.size() >= buffer_bytes_ / 2) {
    connection_.send(buffer_);
    buffer_.clear();
    connection_.send(payload);
    return;
  }
  buffer_.append(payload);
  if (buffer_.size() >= buffer_bytes_) flush();
}

void FrameWriter::flush() {
  if (buffer_.empty()) return;
  connection_.send(buffer_);
  buffer_.clear();
}

void FrameWriter::finish() {
  flush();
  connection_.shutdown();
}

FrameReader::FrameReader(plugins::Connection& connection, int32_t timeout_ms)
    : connection_(connection), timeout_ms_(timeout_ms) {}

bool FrameReader::fill(size_t needed) {
  constexpr size_t kMinRecv = 256u << 10;
  while (end_ - start_ < needed) {
    const size_t live = end_ - start_;
    const size_t room = std::max(needed - live, kMinRecv);
    if (capacity_ - end_ < room) {
      if (start_ > 0 && capacity_ - live >= room) {
        std::memmove(buffer_.get(), buffer_.get() + start_, live);
      } else {
        const size_t capacity = std::max(capacity_ * 2, live + room);
        auto bigger = std::make_unique_for_overwrite<char[]>(capacity);
        if (live > 0) std::memcpy(bigger.get(), buffer_.get() + start_, live);
        buffer_ = std::move(bigger);
        capacity_ = capacity;
      }
      start_ = 0;
      end_ = live;
    }
    const size_t got =
        connection_.recv(reinterpret_cast<uint8_t*>(buffer_.get() + end_), capacity_ - end_, timeout_ms_);
    if (got == 0) return false;
    end_ += got;
  }
  return true;
}

bool FrameReader::next(FrameType& type, std::string_view& payload) {
  if (!fill(5)) {
    if (end_ == start_) return false;
    throw ProtocolError("stream ended inside a frame header");
  }
  uint32_t length = get_u32(buffer_.get() + start_);
  if (length == 0) throw ProtocolError("frame with zero length");
  if (length > kMaxFrameBytes)
    throw ProtocolError("frame of " + std::to_string(length) + " bytes exceeds the limit");
  if (!fill(4 + size_t(length))) throw ProtocolError("stream ended inside a frame");
  auto raw_type = static_cast<uint8_t>(buffer_[start_ + 4]);
  if (raw_type < uint8_t(FrameType::hello) || raw_type > uint8_t(FrameType::set_commit))
    throw ProtocolError("unknown frame type " + std::to_string(raw_type));
  type = FrameType(raw_type);
  payload = std::string_view(buffer_.get() + start_ + 5, length - 1);
  start_ += 4 + length;
  return true;
}

bool FrameReader::read(Frame& frame) {
  std::string_view payload;
  if (!next(frame.type, payload)) return false;
  frame.payload.assign(payload);
  return true;
}

bool FrameReader::read(FrameView& frame) {
  return next(frame.type, frame.payload);
}

void send_json(FrameWriter& writer, FrameType type, const nlohmann::json& body) {
  writer.write(type, body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

nlohmann::json parse_json(std::string_view payload) {
  try {
    return nlohmann::json::parse(payload);
  } catch (const nlohmann::json::exception& e) {
    throw ProtocolError(std::string("malformed JSON in frame: ") + e.what());
  }
}

}  // namespace sbx::net
