// Writes one set: entries go through libarchive's pax writer, whose bytes go straight into FrameWriter.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <exception>
#include <memory>
#include <string>
#include <strongbox/sdk/plugin.hpp>

#include "device_settings.hpp"
#include "entry_codec.hpp"
#include "frame_writer.hpp"
#include "locator.hpp"

namespace sbx::disk {

class SetWriter : public sdk::StorageWriter {
 public:
  // Creates DIR/sets/.<name>.partial (exclusively); the set becomes visible only through commit().
  SetWriter(const DeviceSettings& settings, std::string set_name);
  ~SetWriter() override;

  void write_entry(const sbx_entry& entry) override;
  void write_data(std::string_view data) override;
  sdk::Locator end_entry() override;
  sbx_set_stats commit() override;
  void abort() noexcept override;

 private:
  enum class State { kBetweenEntries, kInEntry, kFailed, kCommitted, kAborted };

  static la_ssize_t on_archive_write(archive* a, void* self, const void* buffer, size_t length);
  void check_usable(const char* call);
  [[noreturn]] void fail(const sdk::Error& error);
  [[noreturn]] void fail_archive(const std::string& what);
  void feed(const uint8_t* data, size_t len);
  void feed_zeros(uint64_t len);
  // Feeds zeros for whatever the open entry still lacks, holes and data alike.
  void feed_rest_of_entry();
  void discard() noexcept;

  DeviceSettings settings_;
  std::string set_name_;
  std::string partial_path_;
  std::string final_path_;
  std::unique_ptr<FrameWriter> frames_;
  archive* archive_ = nullptr;
  archive_entry* entry_ = nullptr;
  State state_ = State::kBetweenEntries;
  std::string failure_;
  std::exception_ptr callback_error_;
  bool discarding_ = false;  // the set is being thrown away: swallow libarchive's output

  // The entry being written.
  std::string entry_path_;
  DataPlan plan_;
  Locator locator_;
  bool entry_open_ = false;   // libarchive has the entry's header but not its end
  uint64_t logical_fed_ = 0;  // bytes of the entry given to libarchive, holes included
  uint64_t received_ = 0;
  size_t run_ = 0;         // sparse files: the run of the logical file being fed
  uint64_t run_done_ = 0;  // bytes of that run fed so far
  uint64_t entries_ = 0;
};

}  // namespace sbx::disk
