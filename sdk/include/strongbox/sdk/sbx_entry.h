/* strongbox plugin ABI: a file-system entry as agents produce it, storage devices keep it and agents
 * restore it. Paths are raw bytes ('/'-separated, relative, no leading '/'), never re-encoded: names with
 * newlines or invalid UTF-8 survive a round trip. */
#ifndef STRONGBOX_SDK_SBX_ENTRY_H
#define STRONGBOX_SDK_SBX_ENTRY_H

#include "sbx_common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sbx_entry_type {
  SBX_ENTRY_FILE = 1,
  SBX_ENTRY_DIRECTORY = 2,
  SBX_ENTRY_SYMLINK = 3,
  SBX_ENTRY_HARDLINK = 4, /* link_target names an earlier path of the same set or restore */
  SBX_ENTRY_FIFO = 5,
  SBX_ENTRY_CHAR_DEVICE = 6,
  SBX_ENTRY_BLOCK_DEVICE = 7
} sbx_entry_type;

typedef struct sbx_xattr {
  sbx_bytes name;
  sbx_bytes value;
} sbx_xattr;

/* A data region of a sparse file. Data of a sparse file travels as the concatenation of its extents. */
typedef struct sbx_extent {
  uint64_t offset;
  uint64_t length;
} sbx_extent;

typedef struct sbx_entry {
  uint32_t struct_size;
  uint32_t type; /* sbx_entry_type */
  sbx_bytes path;
  sbx_bytes link_target; /* symlink contents, or the hard link's earlier path */
  uint64_t size;         /* logical size of a regular file */
  uint32_t mode;         /* permission bits, 07777 */
  uint32_t uid;
  uint32_t gid;
  sbx_bytes user_name;
  sbx_bytes group_name;
  int64_t mtime_ns;
  int64_t ctime_ns;
  int64_t atime_ns;
  uint64_t device; /* st_dev, for change detection and hard-link grouping; 0 when unknown */
  uint64_t inode;
  uint64_t nlink;
  uint64_t rdev; /* for device nodes */
  const sbx_xattr* xattrs;
  size_t xattr_count;
  const sbx_extent* extents; /* NULL/0: dense file, data length == size */
  size_t extent_count;
} sbx_entry;

/* Receives a stream of entries: on_entry, then on_data zero or more times (the data in order), then
 * on_entry_end. A negative return stops the producer, which returns that status. */
typedef struct sbx_entry_sink {
  uint32_t struct_size;
  void* ctx;
  sbx_status (*on_entry)(void* ctx, const sbx_entry* entry);
  sbx_status (*on_data)(void* ctx, sbx_bytes data);
  sbx_status (*on_entry_end)(void* ctx);
  /* A reader could not deliver the entry at locator `index`; it goes on with the next one. */
  sbx_status (*on_entry_error)(void* ctx, size_t index, sbx_status status, sbx_str message);
} sbx_entry_sink;

#ifdef __cplusplus
}
#endif
#endif
