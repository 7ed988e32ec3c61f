#include "set_reader.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "archive_support.hpp"
#include "entry_codec.hpp"

namespace sbx::disk {
namespace {

// Frames a session remembers the stream position of; locators further back start a new session.
constexpr size_t kFedFramesKept = 8;

std::string at_frame(uint64_t offset) {
  return "frame at offset " + std::to_string(offset) + ": ";
}

}  // namespace

// ------------------------------------------------------------------------------------------ TarSession

TarSession::TarSession(FrameReader& frames, const FrameReader::Frame& first, uint32_t skip)
    : frames_(frames), first_(first), skip_(skip) {}

TarSession::~TarSession() {
  if (archive_) archive_read_free(archive_);
}

bool TarSession::open(std::string* why) {
  archive_ = archive_read_new();
  if (!archive_) {
    *why = "out of memory creating a tar reader";
    return false;
  }
  if (archive_read_support_format_tar(archive_) != ARCHIVE_OK ||
      archive_read_open(archive_, this, nullptr, &TarSession::on_read, nullptr) != ARCHIVE_OK) {
    *why = failure(first_.offset);
    return false;
  }
  return true;
}

la_ssize_t TarSession::on_read(archive* a, void* self, const void** buffer) {
  auto* session = static_cast<TarSession*>(self);
  try {
    if (session->first_pending_) {
      session->first_pending_ = false;
      // Asking again returns the cached frame; its bytes stay valid until the next load.
      FrameReader::Frame f = session->frames_.load(session->first_.offset, session->first_.index);
      session->fed_.push_back(
          {f.offset, f.index, f.next_offset, -static_cast<int64_t>(session->skip_), f.size});
      *buffer = f.data + session->skip_;
      return static_cast<la_ssize_t>(f.size - session->skip_);
    }
    for (;;) {
      const Fed last = session->fed_.back();
      if (last.next_offset >= session->frames_.file_size()) return 0;
      FrameReader::Frame f = session->frames_.load(last.next_offset, last.index + 1);
      session->fed_.push_back(
          {f.offset, f.index, f.next_offset, last.stream_start + static_cast<int64_t>(last.size), f.size});
      if (session->fed_.size() > kFedFramesKept) session->fed_.pop_front();
      if (f.size == 0) continue;  // returning 0 would mean end of stream
      *buffer = f.data;
      return static_cast<la_ssize_t>(f.size);
    }
  } catch (const FrameDamage& e) {
    session->frame_error_ = e;
  } catch (const std::exception& e) {
    session->frame_error_ = FrameDamage(e.what(), SBX_ERR_INTERNAL);
  }
  // Exceptions must not unwind through libarchive's C frames; it reports -1 as ARCHIVE_FATAL.
  archive_set_error(a, EIO, "%s", session->frame_error_->what());
  return -1;
}

std::optional<int64_t> TarSession::position_of(const Locator& locator) const {
  if (!archive_ || fed_.empty()) return std::nullopt;
  std::optional<int64_t> position;
  for (const Fed& f : fed_) {
    if (f.offset != locator.frame_offset) continue;
    if (f.index != locator.frame_index || locator.offset_in_frame >= f.size) return std::nullopt;
    position = f.stream_start + locator.offset_in_frame;
  }
  const Fed& last = fed_.back();
  if (!position && locator.frame_offset == last.next_offset && locator.frame_index == last.index + 1)
    position = last.stream_start + static_cast<int64_t>(last.size) + locator.offset_in_frame;
  if (!position || *position <= last_header_ || *position < 0) return std::nullopt;
  return position;
}

archive_entry* TarSession::read_header_at(int64_t position, uint64_t frame_offset, std::string* why) {
  for (;;) {
    archive_entry* entry = nullptr;
    int r = archive_read_next_header(archive_, &entry);
    if (r == ARCHIVE_EOF) {
      *why = at_frame(frame_offset) + "the tar stream ends before the entry's header";
      return nullptr;
    }
    // ARCHIVE_RETRY is what a bad header checksum gives; libarchive would resync past it, we do not.
    if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
      *why = failure(frame_offset);
      return nullptr;
    }
    int64_t header = archive_read_header_position(archive_);
    last_header_ = header;
    if (header < position) continue;  // an entry the caller did not ask for: libarchive skips its data
    if (header > position) {
      *why = at_frame(frame_offset) + "no entry header where the locator points (the next one is " +
             std::to_string(header - position) + " bytes further)";
      return nullptr;
    }
    if (r == ARCHIVE_WARN) {
      const char* warning = archive_error_string(archive_);
      sdk::log(SBX_LOG_WARN, at_frame(frame_offset) + "tar: " + (warning ? warning : "warning"));
    }
    return entry;
  }
}

std::string TarSession::failure(uint64_t frame_offset) const {
  if (frame_error_) return frame_error_->what();
  const char* why = archive_ ? archive_error_string(archive_) : nullptr;
  return at_frame(frame_offset) + "tar: " + (why ? why : "unreadable tar stream");
}

sbx_status TarSession::failure_status() const {
  return frame_error_ ? frame_error_->status() : SBX_ERR_CORRUPT;
}

// ------------------------------------------------------------------------------------------- SetReader

SetReader::SetReader(const DeviceSettings& settings, std::string set_name)
    : set_name_(std::move(set_name)), path_(settings.final_path(set_name_)) {
  int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int err = errno;
    if (err == ENOENT) {
      struct stat st;
      bool partial = ::stat(settings.partial_path(set_name_).c_str(), &st) == 0;
      throw sdk::Error(SBX_ERR_NOT_FOUND, "set " + set_name_ + " not found on disk device " + settings.root +
                                              (partial ? " (only an unfinished write of it exists)" : ""));
    }
    throw_errno(err, "cannot open " + path_);
  }
  fd_ = UniqueFd(fd);
  frames_ = std::make_unique<FrameReader>(fd_.get(), path_, set_name_, file_size(fd_.get(), path_),
                                          settings.key.get());
}

SetReader::~SetReader() = default;

void SetReader::report(size_t index, sbx_status status, const std::string& message,
                       const sbx_entry_sink& sink) {
  sdk::check_sink(sink.on_entry_error(sink.ctx, index, status, sdk::make_str(message)), "on_entry_error");
}

void SetReader::read_entries(std::span<const sbx_bytes> locators, const sbx_entry_sink& sink) {
  if (sink.struct_size < sizeof(sbx_entry_sink) || !sink.on_entry || !sink.on_data || !sink.on_entry_end ||
      !sink.on_entry_error)
    throw sdk::Error(SBX_ERR_INVALID_ARGUMENT, "read_entries: the entry sink is incomplete");
  Utf8LocaleScope locale;
  for (size_t i = 0; i < locators.size(); ++i) {
    std::string why;
    std::optional<Locator> locator = decode_locator(locators[i], set_name_, &why);
    if (!locator) {
      report(i, SBX_ERR_INVALID_ARGUMENT, "set " + set_name_ + ": " + why, sink);
      continue;
    }
    if (frames_->header_problem()) {
      report(i, SBX_ERR_CORRUPT, *frames_->header_problem(), sink);
      continue;
    }
    read_one(i, *locator, sink);
  }
}

bool SetReader::start_session(size_t index, const Locator& locator, const sbx_entry_sink& sink) {
  session_.reset();  // it may point into the frame buffer the load below replaces
  FrameReader::Frame frame;
  try {
    frame = frames_->load(locator.frame_offset, locator.frame_index);
  } catch (const FrameDamage& e) {
    report(index, e.status(), e.what(), sink);
    return false;
  }
  if (locator.offset_in_frame >= frame.size) {
    report(index, SBX_ERR_CORRUPT,
           at_frame(locator.frame_offset) + "the locator points at byte " +
               std::to_string(locator.offset_in_frame) + " of a frame holding " + std::to_string(frame.size) +
               " bytes",
           sink);
    return false;
  }
  session_ = std::make_unique<TarSession>(*frames_, frame, locator.offset_in_frame);
  std::string why;
  if (!session_->open(&why)) {
    sbx_status status = session_->failure_status();
    session_.reset();
    report(index, status, why, sink);
    return false;
  }
  return true;
}

void SetReader::read_one(size_t index, const Locator& locator, const sbx_entry_sink& sink) {
  std::string why;
  archive_entry* entry = nullptr;
  if (session_) {
    if (std::optional<int64_t> position = session_->position_of(locator)) {
      entry = session_->read_header_at(*position, locator.frame_offset, &why);
      // The failure may lie behind this entry (in the tail of an earlier one), so try again from the
      // entry's own frame before calling it damaged.
      if (!entry) session_.reset();
    }
  }
  if (!entry) {
    if (!start_session(index, locator, sink)) return;
    entry = session_->read_header_at(0, locator.frame_offset, &why);
    if (!entry) {
      sbx_status status = session_->failure_status();
      session_.reset();
      report(index, status, why, sink);
      return;
    }
  }
  deliver(index, locator, entry, sink);
}

void SetReader::deliver(size_t index, const Locator& locator, archive_entry* entry,
                        const sbx_entry_sink& sink) {
  sdk::Entry e;
  try {
    e = decode_entry(entry);
  } catch (const sdk::Error& error) {
    session_.reset();
    report(index, SBX_ERR_CORRUPT, at_frame(locator.frame_offset) + error.what(), sink);
    return;
  }
  auto broken = [&](sbx_status status, const std::string& message) {
    session_.reset();
    report(index, status, message, sink);
  };

  const uint64_t expected = e.data_length();
  sbx_status accepted = sdk::check_sink(sink.on_entry(sink.ctx, &e.as_c()), "on_entry");
  if (accepted != SBX_SKIP) {
    archive* a = session_->get();
    uint64_t delivered = 0;
    size_t extent = 0;
    int empty_blocks = 0;
    while (delivered < expected) {
      const void* block = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      int r = archive_read_data_block(a, &block, &size, &offset);
      if (r == ARCHIVE_EOF)
        return broken(SBX_ERR_CORRUPT, at_frame(locator.frame_offset) + "the data of '" +
                                           printable_path(e.path) + "' ends after " +
                                           std::to_string(delivered) + " of " + std::to_string(expected) +
                                           " bytes");
      if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
        return broken(session_->failure_status(), session_->failure(locator.frame_offset));
      if (size == 0) {
        if (++empty_blocks > 1000)
          return broken(SBX_ERR_CORRUPT, at_frame(locator.frame_offset) +
                                             "no progress reading the data of '" + printable_path(e.path) +
                                             "'");
        continue;
      }
      empty_blocks = 0;
      bool in_place = size <= expected - delivered && offset >= 0;
      if (in_place && e.sparse()) {
        while (extent < e.extents.size() &&
               e.extents[extent].offset + e.extents[extent].length <= uint64_t(offset))
          ++extent;
        in_place = extent < e.extents.size() && uint64_t(offset) >= e.extents[extent].offset &&
                   uint64_t(offset) + size <= e.extents[extent].offset + e.extents[extent].length;
      } else if (in_place) {
        in_place = uint64_t(offset) == delivered;
      }
      if (!in_place)
        return broken(SBX_ERR_CORRUPT, at_frame(locator.frame_offset) + "data of '" + printable_path(e.path) +
                                           "' at file offset " + std::to_string(offset) +
                                           " does not match its size or sparse map");
      sdk::check_sink(sink.on_data(sink.ctx, sbx_bytes{static_cast<const uint8_t*>(block), size}), "on_data");
      delivered += size;
    }
  }
  sdk::check_sink(sink.on_entry_end(sink.ctx), "on_entry_end");
}

}  // namespace sbx::disk
