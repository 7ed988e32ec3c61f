#include "set_writer.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "archive_support.hpp"
#include "common_names.hpp"
#include "set_format.hpp"

namespace sbx::disk {
namespace {

// archive_write_data takes a size_t but returns a signed count; stay far below the limit.
constexpr size_t kMaxArchiveWrite = size_t{1} << 30;

// Moves the finished file to its final name without ever replacing an existing set.
void publish(const std::string& from, const std::string& to, const std::string& set_name) {
  const int err = rename_without_replacing(from, to);
  if (err == 0) return;
  if (err == EEXIST)
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "set " + set_name + " already exists at " + to);
  throw_errno(err, "cannot rename " + from + " to " + to);
}

}  // namespace

SetWriter::SetWriter(const DeviceSettings& settings, std::string set_name)
    : settings_(settings),
      set_name_(std::move(set_name)),
      partial_path_(settings.partial_path(set_name_)),
      final_path_(settings.final_path(set_name_)) {
  int fd = ::open(partial_path_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    int err = errno;
    partial_path_.clear();  // not ours: never remove it
    if (err == EEXIST)
      throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                       "set " + set_name_ + ": " + settings.partial_path(set_name_) +
                           " exists (another write of this set is running, or one was "
                           "interrupted; delete_set removes it)");
    throw_errno(err, "cannot create " + settings.partial_path(set_name_));
  }
  try {
    frames_ = std::make_unique<FrameWriter>(UniqueFd(fd), partial_path_, set_name_, settings_.compression,
                                            settings_.key.get());
    archive_ = archive_write_new();
    entry_ = archive_entry_new();
    if (!archive_ || !entry_) throw sdk::Error(SBX_ERR_INTERNAL, "out of memory creating a tar writer");
    if (archive_write_set_format_pax(archive_) != ARCHIVE_OK ||
        (!Utf8LocaleScope::available() &&
         archive_write_set_format_option(archive_, "pax", "hdrcharset", "BINARY") != ARCHIVE_OK) ||
        // No blocking: every header and data byte reaches on_archive_write at once, so locators are exact.
        archive_write_set_bytes_per_block(archive_, 0) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(archive_, 1) != ARCHIVE_OK ||
        archive_write_open2(archive_, this, nullptr, &SetWriter::on_archive_write, nullptr, nullptr) !=
            ARCHIVE_OK)
      throw sdk::Error(SBX_ERR_INTERNAL, std::string("cannot set up the tar writer: ") +
                                             (archive_error_string(archive_) ? archive_error_string(archive_)
                                                                             : "unknown libarchive error"));
  } catch (...) {
    discard();
    throw;
  }
}

SetWriter::~SetWriter() {
  if (state_ != State::kCommitted && state_ != State::kAborted) discard();
  if (archive_) archive_write_free(archive_);
  if (entry_) archive_entry_free(entry_);
}

void SetWriter::discard() noexcept {
  if (archive_) {
    // Closing frees libarchive's client state, which libarchive 3.6 leaks when a failed archive is freed.
    // What it writes goes nowhere; the rest of an open entry is fed in large pieces first, because the
    // close itself would pad it 1 KiB per call. Only an archive that already failed must leak.
    discarding_ = true;
    try {
      if (entry_open_) feed_rest_of_entry();
      archive_write_close(archive_);
    } catch (...) {
      archive_write_fail(archive_);
    }
    archive_write_free(archive_);
    archive_ = nullptr;
  }
  frames_.reset();
  if (!partial_path_.empty()) ::unlink(partial_path_.c_str());
}

la_ssize_t SetWriter::on_archive_write(archive* a, void* self, const void* buffer, size_t length) {
  auto* writer = static_cast<SetWriter*>(self);
  if (writer->discarding_) return static_cast<la_ssize_t>(length);
  try {
    writer->frames_->append(static_cast<const uint8_t*>(buffer), length);
    return static_cast<la_ssize_t>(length);
  } catch (...) {
    // Exceptions must not unwind through libarchive's C frames.
    writer->callback_error_ = std::current_exception();
    archive_set_error(a, EIO, "writing the set file failed");
    return -1;
  }
}

void SetWriter::check_usable(const char* call) {
  switch (state_) {
    case State::kBetweenEntries:
    case State::kInEntry:
      return;
    case State::kFailed:
      throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                       std::string(call) + " on set " + set_name_ + " after an earlier failure: " + failure_);
    case State::kCommitted:
    case State::kAborted:
      throw sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                       std::string(call) + " on set " + set_name_ + " after it ended");
  }
}

void SetWriter::fail(const sdk::Error& error) {
  state_ = State::kFailed;
  failure_ = error.what();
  throw sdk::Error(error.status(), failure_);
}

void SetWriter::fail_archive(const std::string& what) {
  if (callback_error_) {
    std::exception_ptr error = std::exchange(callback_error_, nullptr);
    try {
      std::rethrow_exception(error);
    } catch (const sdk::Error& e) {
      fail(e);
    } catch (const std::exception& e) {
      fail(sdk::Error(SBX_ERR_IO, what + ": " + e.what()));
    }
  }
  const char* why = archive_error_string(archive_);
  fail(sdk::Error(SBX_ERR_IO, what + ": " + (why ? why : "libarchive reported an unknown error")));
}

void SetWriter::feed(const uint8_t* data, size_t len) {
  while (len > 0) {
    la_ssize_t n = archive_write_data(archive_, data, std::min(len, kMaxArchiveWrite));
    if (n < 0)
      fail_archive("set " + set_name_ + ": cannot write the data of '" + printable_path(entry_path_) + "'");
    if (n == 0)
      fail(sdk::Error(SBX_ERR_INTERNAL, "set " + set_name_ + ": libarchive took no data for '" +
                                            printable_path(entry_path_) + "'"));
    data += n;
    len -= static_cast<size_t>(n);
    logical_fed_ += static_cast<uint64_t>(n);
  }
}

void SetWriter::feed_zeros(uint64_t len) {
  while (len > 0) {
    size_t n = static_cast<size_t>(std::min<uint64_t>(len, kZeroBytes));
    feed(zero_bytes(), n);
    len -= n;
  }
}

void SetWriter::feed_rest_of_entry() {
  if (!plan_.sparse) {
    feed_zeros(plan_.logical_bytes - logical_fed_);
    return;
  }
  for (; run_ < plan_.runs.size(); ++run_, run_done_ = 0) feed_zeros(plan_.runs[run_].length - run_done_);
}

void SetWriter::write_entry(const sbx_entry& entry) {
  Utf8LocaleScope locale;
  check_usable("write_entry");
  if (state_ == State::kInEntry)
    fail(sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                    "write_entry called before end_entry of '" + printable_path(entry_path_) + "'"));
  archive_entry_clear(entry_);
  // Validation errors leave the writer usable: nothing has been written for this entry yet.
  DataPlan plan = encode_entry(entry, entry_);
  try {
    frames_->end_frame_if_full();
  } catch (const sdk::Error& e) {
    fail(e);
  } catch (...) {
    state_ = State::kFailed;
    throw;
  }
  entry_path_.assign(sdk::view(entry.path));
  locator_ =
      Locator{frames_->frame_offset(), frames_->frame_index(), static_cast<uint32_t>(frames_->frame_fill())};
  if (archive_write_header(archive_, entry_) < ARCHIVE_WARN)
    fail_archive("set " + set_name_ + ": cannot write the tar header of '" + printable_path(entry_path_) +
                 "'");
  plan_ = std::move(plan);
  entry_open_ = true;
  logical_fed_ = 0;
  received_ = 0;
  run_ = 0;
  run_done_ = 0;
  state_ = State::kInEntry;
}

void SetWriter::write_data(std::string_view data) {
  check_usable("write_data");
  if (state_ != State::kInEntry)
    fail(sdk::Error(SBX_ERR_INVALID_ARGUMENT, "write_data called outside an entry"));
  if (data.size() > plan_.data_bytes - received_)
    fail(sdk::Error(SBX_ERR_INVALID_ARGUMENT, "entry '" + printable_path(entry_path_) +
                                                  "': more data than its " +
                                                  std::to_string(plan_.data_bytes) + " bytes (" +
                                                  std::to_string(received_ + data.size()) + " so far)"));
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t left = data.size();
  try {
    if (!plan_.sparse) {
      feed(p, left);
    } else {
      // libarchive's pax writer wants the logical file, holes included; holes come from zero_bytes().
      while (left > 0) {
        const DataPlan::Run& run = plan_.runs[run_];
        uint64_t rest = run.length - run_done_;
        if (run.from_host) {
          size_t n = static_cast<size_t>(std::min<uint64_t>(left, rest));
          feed(p, n);
          p += n;
          left -= n;
          run_done_ += n;
        } else {
          feed_zeros(rest);
          run_done_ = run.length;
        }
        if (run_done_ == run.length) {
          ++run_;
          run_done_ = 0;
        }
      }
    }
  } catch (const sdk::Error& e) {
    if (state_ != State::kFailed) fail(e);
    throw;
  } catch (...) {
    state_ = State::kFailed;
    throw;
  }
  received_ += data.size();
}

sdk::Locator SetWriter::end_entry() {
  Utf8LocaleScope locale;
  check_usable("end_entry");
  if (state_ != State::kInEntry)
    fail(sdk::Error(SBX_ERR_INVALID_ARGUMENT, "end_entry called outside an entry"));
  if (received_ != plan_.data_bytes)
    fail(sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                    "entry '" + printable_path(entry_path_) + "': " + std::to_string(plan_.data_bytes) +
                        " bytes of data expected, " + std::to_string(received_) + " received"));
  try {
    if (plan_.sparse) feed_rest_of_entry();  // only holes are left: all host data has come
  } catch (const sdk::Error& e) {
    if (state_ != State::kFailed) fail(e);
    throw;
  }
  if (archive_write_finish_entry(archive_) < ARCHIVE_WARN)
    fail_archive("set " + set_name_ + ": cannot finish '" + printable_path(entry_path_) + "'");
  entry_open_ = false;
  state_ = State::kBetweenEntries;
  ++entries_;
  return encode_locator(locator_, set_name_);
}

sbx_set_stats SetWriter::commit() {
  Utf8LocaleScope locale;
  check_usable("commit_set");
  if (state_ == State::kInEntry)
    fail(sdk::Error(SBX_ERR_INVALID_ARGUMENT,
                    "commit_set called before end_entry of '" + printable_path(entry_path_) + "'"));
  if (archive_write_close(archive_) != ARCHIVE_OK)
    fail_archive("set " + set_name_ + ": cannot write the end of the tar stream");
  try {
    frames_->finish();
    publish(partial_path_, final_path_, set_name_);
    fsync_directory(settings_.sets_dir);
  } catch (const sdk::Error& e) {
    fail(e);
  }
  state_ = State::kCommitted;
  sbx_set_stats stats{};
  stats.struct_size = sizeof stats;
  stats.stored_bytes = frames_->file_bytes();
  stats.entries = entries_;
  return stats;
}

void SetWriter::abort() noexcept {
  if (state_ == State::kCommitted || state_ == State::kAborted) return;
  discard();
  state_ = State::kAborted;
}

}  // namespace sbx::disk
