// Reads entries of one set by locator. A tar session (libarchive reading the verified frames of
// FrameReader) is kept between locators, so a run of locators in file order reads the set once, front to
// back; a locator elsewhere starts a new session at its own frame.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <strongbox/sdk/plugin.hpp>

#include "common_names.hpp"
#include "device_settings.hpp"
#include "frame_reader.hpp"
#include "locator.hpp"

namespace sbx::disk {

// libarchive reading a tar stream that starts at some byte of some frame and runs on through the frames
// that follow it.
class TarSession {
 public:
  TarSession(FrameReader& frames, const FrameReader::Frame& first, uint32_t skip);
  ~TarSession();
  TarSession(const TarSession&) = delete;
  TarSession& operator=(const TarSession&) = delete;

  // Opens libarchive on the stream; false with `why` set when it does not start with a tar header.
  bool open(std::string* why);
  archive* get() const { return archive_; }
  // This session's stream position of the locator's header, if the session has reached or will next reach
  // its frame and has not passed it yet.
  std::optional<int64_t> position_of(const Locator& locator) const;
  // Reads headers until the one at stream position `position`. Returns it, or nullptr with `why` set.
  archive_entry* read_header_at(int64_t position, uint64_t frame_offset, std::string* why);
  // Why the last libarchive call failed, preferring the frame failure that caused it.
  std::string failure(uint64_t frame_offset) const;
  sbx_status failure_status() const;

 private:
  struct Fed {
    uint64_t offset;
    uint64_t index;
    uint64_t next_offset;
    int64_t stream_start;  // stream position of the frame's byte 0 (negative for a skipped prefix)
    size_t size;
  };
  static la_ssize_t on_read(archive* a, void* self, const void** buffer);

  FrameReader& frames_;
  archive* archive_ = nullptr;
  std::deque<Fed> fed_;
  FrameReader::Frame first_;
  uint32_t skip_;
  bool first_pending_ = true;
  int64_t last_header_ = -1;
  std::optional<FrameDamage> frame_error_;
};

class SetReader : public sdk::StorageReader {
 public:
  SetReader(const DeviceSettings& settings, std::string set_name);
  ~SetReader() override;

  void read_entries(std::span<const sbx_bytes> locators, const sbx_entry_sink& sink) override;

 private:
  void read_one(size_t index, const Locator& locator, const sbx_entry_sink& sink);
  bool start_session(size_t index, const Locator& locator, const sbx_entry_sink& sink);
  void deliver(size_t index, const Locator& locator, archive_entry* entry, const sbx_entry_sink& sink);
  void report(size_t index, sbx_status status, const std::string& message, const sbx_entry_sink& sink);

  std::string set_name_;
  std::string path_;
  UniqueFd fd_;
  std::unique_ptr<FrameReader> frames_;
  std::unique_ptr<TarSession> session_;
};

}  // namespace sbx::disk
