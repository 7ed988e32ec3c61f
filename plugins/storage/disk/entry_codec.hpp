// Conversions between the ABI's sbx_entry and libarchive's archive_entry, in both directions.
//
// What tar cannot hold is dropped on write and comes back as 0: device, inode and nlink (the catalog keeps
// them). Everything else round-trips exactly, with these normalisations: sparse extents that touch are
// merged and zero-length ones dropped (a file that is all hole keeps one (size, 0) extent so it stays
// sparse); an extent that does not end the file is stretched with zeros to a multiple of 512 bytes (GNU
// tar reads each data region of a sparse file as whole tar blocks; extents from SEEK_DATA/SEEK_HOLE are
// block-aligned already); a sparse file whose one extent is the whole file comes back dense (libarchive
// stores it so); a directory path loses trailing slashes; xattrs come back sorted by name.
#pragma once

#include <archive.h>
#include <archive_entry.h>

#include <cstdint>
#include <string>
#include <strongbox/sdk/entry.hpp>
#include <vector>

namespace sbx::disk {

// How the data of an entry travels into libarchive.
struct DataPlan {
  // A stretch of the logical file: bytes from the host, or zeros. Runs split wherever the host's extents
  // or libarchive's sparse map change, so no archive_write_data call crosses a boundary of either.
  struct Run {
    uint64_t length;
    bool from_host;
  };
  uint64_t data_bytes = 0;     // bytes the host sends with write_data
  uint64_t logical_bytes = 0;  // bytes libarchive takes for the entry: the file size, holes included
  bool sparse = false;
  std::vector<Run> runs;  // sparse files only: the whole logical file, holes included
};

// Validates `in` and fills `out` (which must be fresh or cleared). Throws sdk::Error(INVALID_ARGUMENT)
// naming the path when the entry cannot be stored; nothing has been written then.
DataPlan encode_entry(const sbx_entry& in, archive_entry* out);

// The entry libarchive parsed, as the ABI wants it. Throws sdk::Error(CORRUPT) if it makes no sense.
sdk::Entry decode_entry(archive_entry* in);

// The printable form of a raw path for messages: bytes outside printable ASCII become \xNN.
std::string printable_path(std::string_view path);

}  // namespace sbx::disk
